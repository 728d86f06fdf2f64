//! `.source` tables (docs/semantics.md §7.3): for each module class whose forward localndif
//! implements op by op, nnsight 0.8.1's listing of that forward (`print(module.source)`),
//! whose first column names every operation nnsight instruments, in its order. The
//! listings are generated from the pinned nnsight and transformers by
//! `python/source_ops.py`; the forwards (`gpt2`, `llama`) perform the operations of the
//! path they take under those names, through [`super::Fwd::op`].

use std::collections::HashMap;
use std::sync::OnceLock;

pub struct OpTable {
    pub listing: &'static str,
    pub names: Vec<&'static str>,
    index: HashMap<&'static str, usize>,
}

impl OpTable {
    fn parse(listing: &'static str) -> OpTable {
        let names: Vec<&'static str> = listing.lines().filter_map(label).collect();
        let index = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
        OpTable { listing, names, index }
    }

    pub fn index(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }
}

/// The operation a listing line names: a label, spaces, then `->` (python/source_ops.py
/// checks the same rule against nnsight's `Source.names`).
fn label(line: &'static str) -> Option<&'static str> {
    let s = line.trim_start();
    let end = s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(s.len());
    let (name, rest) = s.split_at(end);
    let first = name.chars().next()?;
    if !(first.is_ascii_alphabetic() || first == '_') {
        return None;
    }
    let rest = rest.trim_start();
    (rest.starts_with("->") && rest[2..].starts_with(char::is_whitespace)).then_some(name)
}

/// The table of a module class, if localndif serves its operations.
pub fn table(class: &str) -> Option<&'static OpTable> {
    static TABLES: OnceLock<HashMap<&'static str, OpTable>> = OnceLock::new();
    TABLES
        .get_or_init(|| {
            HashMap::from([
                ("GPT2Attention", OpTable::parse(include_str!("source/GPT2Attention.txt"))),
                ("GPT2MLP", OpTable::parse(include_str!("source/GPT2MLP.txt"))),
                ("LlamaAttention", OpTable::parse(include_str!("source/LlamaAttention.txt"))),
                ("LlamaMLP", OpTable::parse(include_str!("source/LlamaMLP.txt"))),
            ])
        })
        .get(class)
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
}
