//! `.source` tables (docs/semantics.md §7.3): for each module class whose forward localndif
//! implements op by op, nnsight 0.8.1's listing of that forward (`print(module.source)`),
//! whose first column names every operation nnsight instruments, in its order. The
//! listings are generated from the pinned nnsight and transformers by
//! `python/source_ops.py`; the build script turns each into typed names (`model::ops`),
//! which the families' forwards perform on the path they take, through
//! [`super::Fwd::op`]. A class is served here once its listing file exists.

use std::collections::HashMap;
use std::sync::OnceLock;

pub struct OpTable {
    pub listing: &'static str,
    pub names: Vec<&'static str>,
    /// The source line of each operation (`+` continues the line above).
    lines: Vec<u32>,
    index: HashMap<&'static str, usize>,
}

impl OpTable {
    fn parse(listing: &'static str) -> OpTable {
        let mut names = Vec::new();
        let mut lines = Vec::new();
        for l in listing.lines() {
            let Some(name) = super::listing::label(l) else { continue };
            let after = l.split_once("->").map_or("", |(_, r)| r).trim_start();
            let num: String = after.chars().take_while(char::is_ascii_digit).collect();
            let line = num.parse().unwrap_or_else(|_| lines.last().copied().unwrap_or(0));
            names.push(name);
            lines.push(line);
        }
        let index = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
        OpTable { listing, names, lines, index }
    }

    /// The source line operation `i` is listed on.
    pub fn line(&self, i: usize) -> u32 {
        self.lines.get(i).copied().unwrap_or(0)
    }

    pub fn index(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }
}

/// Every listing of one client generation, parsed once per process.
fn tables(old: bool) -> &'static HashMap<&'static str, OpTable> {
    static NEW: OnceLock<HashMap<&'static str, OpTable>> = OnceLock::new();
    static OLD: OnceLock<HashMap<&'static str, OpTable>> = OnceLock::new();
    let parse = move || {
        super::ops::LISTINGS
            .iter()
            .filter_map(|&(class, new, old_listing)| Some((class, OpTable::parse(if old { old_listing? } else { new }))))
            .collect()
    };
    if old { OLD.get_or_init(parse) } else { NEW.get_or_init(parse) }
}

/// The table of a module class, if localndif serves its operations.
pub fn table(class: &str) -> Option<&'static OpTable> {
    tables(false).get(class)
}

/// nnsight 0.7.0's listing of a module class (`python/source_ops.py` run with 0.7). 0.7
/// names only a forward's calls, numbering each name among calls alone, so a name can
/// mean another operation than in 0.8.1 (0.7's `attention_interface_0` is the call 0.8.1
/// names `attention_interface_1`, its `attention_interface_0` being the assignment above
/// it): [`op_07`] finds the operation.
pub fn table_07(class: &str) -> Option<&'static OpTable> {
    tables(true).get(class)
}

/// The 0.8.1 operation (index in [`table`]) that 0.7's operation `i` of `class` is: the
/// next operation on the same source line whose name has the same stem (the name less
/// its `_<n>` counter), in order.
pub fn op_07(class: &str, i: usize) -> Option<usize> {
    static MAPS: OnceLock<HashMap<&'static str, Vec<Option<usize>>>> = OnceLock::new();
    let maps = MAPS.get_or_init(|| {
        super::ops::LISTINGS
            .iter()
            .filter_map(|&(c, _, _)| Some((c, map_07(table_07(c)?, table(c)?))))
            .collect()
    });
    maps.get(class)?.get(i).copied().flatten()
}

/// 0.7's name of 0.8.1 operation `op` of `class`, if 0.7 names it (calls only).
pub fn name_07(class: &str, op: usize) -> Option<&'static str> {
    let t = table_07(class)?;
    (0..t.names.len()).find(|&i| op_07(class, i) == Some(op)).map(|i| t.names[i])
}

fn stem(name: &str) -> &str {
    name.rsplit_once('_').filter(|(_, n)| n.chars().all(|c| c.is_ascii_digit())).map_or(name, |(s, _)| s)
}

fn map_07(old: &OpTable, new: &OpTable) -> Vec<Option<usize>> {
    let mut next = 0;
    old.names
        .iter()
        .zip(&old.lines)
        .map(|(name, line)| {
            let found = (next..new.names.len()).find(|&j| new.lines[j] == *line && stem(new.names[j]) == stem(name));
            if let Some(j) = found {
                next = j + 1;
            }
            found
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listings_name_their_operations_in_order() {
        let t = table("GPT2MLP").unwrap();
        assert_eq!(
            t.names,
            ["self_c_fc_0", "hidden_states_0", "self_act_0", "hidden_states_1", "self_c_proj_0", "hidden_states_2", "self_dropout_0", "hidden_states_3"]
        );
        let a = table("GPT2Attention").unwrap();
        assert_eq!(a.names.len(), 50);
        assert!(a.index("split_1").is_some() && a.index("attention_interface_1").is_some());
        // `) -> tuple[...]` of a signature is not an operation.
        assert!(!a.names.iter().any(|n| n.chars().next().unwrap().is_ascii_digit()));
        assert_eq!(table("LlamaMLP").unwrap().names, ["self_gate_proj_0", "self_act_fn_0", "self_up_proj_0", "self_down_proj_0", "down_proj_0"]);
        assert!(table("LayerNorm").is_none());
    }

    #[test]
    fn every_07_operation_is_a_08_call_on_its_line_in_order() {
        for &(class, _, _) in super::super::ops::LISTINGS {
            let (old, new) = (table_07(class).unwrap(), table(class).unwrap());
            assert!(!old.names.is_empty() && old.names.len() < new.names.len(), "{class}");
            let mut last = None;
            for (i, n) in old.names.iter().enumerate() {
                let j = op_07(class, i).unwrap_or_else(|| panic!("{class}: 0.7's {n} has no 0.8.1 operation"));
                assert_eq!(stem(new.names[j]), stem(n), "{class}: {n}");
                assert!(last.is_none_or(|l| j > l), "{class}: {n} out of order");
                last = Some(j);
            }
        }
        // The same name, another operation: 0.7 counts calls only.
        let i = table_07("GPT2Attention").unwrap().index("attention_interface_0").unwrap();
        assert_eq!(table("GPT2Attention").unwrap().names[op_07("GPT2Attention", i).unwrap()], "attention_interface_1");
        assert_eq!(table_07("GPT2MLP").unwrap().names, ["self_c_fc_0", "self_act_0", "self_c_proj_0", "self_dropout_0"]);
    }
}
