//! Batching invokes (docs/semantics.md §5, nnsight 0.8.1's `Batcher` and `processing`): each
//! invoke's input becomes rows (text through the tokenizer, token ids and encodings split
//! by row), the rows are collated into one forward input (left padding with the pad
//! token, masks padded with 0, mask-derived `position_ids` for left-padded rows), and each
//! invoke gets its `[start, size)` rows. At hook points a worker sees only its rows
//! (`narrow`, views) and its assignments replace only its rows (`widen`).

use std::rc::Rc;

use tch::{Device, Kind, Tensor};

use crate::model::TextTokenizer;
use crate::value::{Dict, PyErr, PyResult, Record, Value};

/// Fields of an encoding that are per row (and how narrower rows are padded).
const ROW_FIELDS: &[(&str, Option<i64>)] = &[
    ("input_ids", None),
    ("attention_mask", Some(0)),
    ("token_type_ids", Some(0)),
    ("position_ids", Some(0)),
    ("labels", Some(-100)),
];

/// What a row field is padded with: its own value, or the tokenizer's pad id (token ids).
fn pad_value(tok: &TextTokenizer, k: &str) -> i64 {
    match ROW_FIELDS.iter().find(|(f, _)| *f == k) {
        Some((_, Some(p))) => *p,
        _ => tok.pad_id(),
    }
}

fn is_row_field(k: &str) -> bool {
    ROW_FIELDS.iter().any(|(f, _)| *f == k)
}

pub type Group = Option<(i64, i64)>;
type Kwargs = Vec<(Rc<str>, Value)>;

/// One row of model input: field → `[1, S]` tensor.
type Row = Vec<(String, Tensor)>;

#[derive(Default)]
pub struct Batcher {
    /// Whether a padded batch gets mask-derived `position_ids` (nnsight 0.8.x does; the
    /// 0.5–0.7 clients do not).
    pub supply_positions: bool,
    /// Whether each invoke after the first attends to its own padding (nnsight 0.5).
    pub attend_own_padding: bool,
    invokes: Vec<(Vec<Value>, Kwargs)>,
    /// Keyword arguments of invokes that add no rows (`max_new_tokens=`, flags).
    pub extra: Kwargs,
    pub total: i64,
}

/// Whether a value is token ids: integers at any depth of nesting, or an integer tensor.
fn is_token_ids(v: &Value) -> bool {
    let mut leaf = v.clone();
    let mut nested = false;
    loop {
        let next = match &leaf {
            Value::List(l) => l.get(0),
            Value::Tuple(t) => t.first().cloned(),
            _ => None,
        };
        match next {
            Some(n) => {
                leaf = n;
                nested = true;
            }
            None => break,
        }
    }
    match &leaf {
        Value::Int(_) | Value::Bool(_) => nested,
        Value::Tensor(t) => !crate::value::dtype::is_float(t.t.kind()),
        _ => false,
    }
}

fn mapping(v: &Value) -> Option<Vec<(String, Value)>> {
    match v {
        Value::Dict(d) => Some(
            d.items()
                .into_iter()
                .filter_map(|(k, v)| k.as_str().map(|s| (s.to_string(), v)))
                .collect(),
        ),
        Value::Record(r) => Some(r.items().into_iter().map(|(k, v)| (k.to_string(), v)).collect()),
        _ => None,
    }
}

/// An invoke written in model inputs → one encoding (keywords win); `None` otherwise.
fn as_encoding(data: Option<&Value>, kwargs: &Kwargs) -> Option<Vec<(String, Value)>> {
    let kw: Vec<(String, Value)> = kwargs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    if let Some(d) = data
        && is_token_ids(d)
    {
        let mut enc = vec![("input_ids".to_string(), d.clone())];
        for (k, v) in kw {
            set(&mut enc, k, v);
        }
        return Some(enc);
    }
    let mut enc = match data {
        Some(d) => mapping(d)?,
        None => {
            if !kw.iter().any(|(k, _)| k == "input_ids") {
                return None;
            }
            Vec::new()
        }
    };
    for (k, v) in kw {
        set(&mut enc, k, v);
    }
    Some(enc)
}

fn set(enc: &mut Vec<(String, Value)>, k: String, v: Value) {
    match enc.iter_mut().find(|(n, _)| *n == k) {
        Some(slot) => slot.1 = v,
        None => enc.push((k, v)),
    }
}

fn get<'a>(enc: &'a [(String, Value)], k: &str) -> Option<&'a Value> {
    enc.iter().find(|(n, _)| n == k).map(|(_, v)| v).filter(|v| !v.is_none())
}

/// A field's value as an int64 tensor (token-id lists, tensors).
fn as_tensor(v: &Value) -> PyResult<Tensor> {
    match v {
        Value::Tensor(t) => Ok(t.t.shallow_clone()),
        other => crate::interp::torch::create::tensor_from_value(other, Some(Kind::Int64)),
    }
}

/// `split`: one field → rows of `[1, ...]`, and whether it came as a batch.
fn split(v: &Value, batched: Option<bool>) -> PyResult<(Vec<Tensor>, bool)> {
    if let Value::List(_) | Value::Tuple(_) = v {
        let items = match v {
            Value::List(l) => l.snapshot(),
            Value::Tuple(t) => t.to_vec(),
            _ => unreachable!(),
        };
        if items.first().is_some_and(|x| matches!(x, Value::List(_) | Value::Tuple(_) | Value::Tensor(_))) {
            let mut rows = Vec::new();
            for it in &items {
                rows.extend(split(it, None)?.0);
            }
            return Ok((rows, true));
        }
    }
    let t = as_tensor(v)?;
    let batched = batched.unwrap_or(t.dim() > 1);
    if t.dim() > 0 && (batched || t.dim() > 1) {
        // rank: t.dim() > 0 here.
        let n = t.size()[0];
        return Ok(((0..n).map(|i| t.f_narrow(0, i, 1)).collect::<Result<_, _>>()?, batched));
    }
    Ok((vec![t.f_unsqueeze(0)?], batched))
}

/// Rows contributed by an invoke's input (nnsight's `batch_size`).
pub fn batch_size(args: &[Value], kwargs: &Kwargs) -> PyResult<i64> {
    let data = args.first();
    if let Some(enc) = as_encoding(data, kwargs)
        && let Some(ids) = get(&enc, "input_ids")
    {
        return Ok(split(ids, None)?.0.len() as i64);
    }
    Ok(match data {
        None => 0,
        Some(Value::Tensor(t)) => {
            if t.t.dim() <= 1 {
                1
            } else {
                // rank: dim > 1 here.
                t.t.size()[0]
            }
        }
        Some(Value::List(l)) => l.len() as i64,
        Some(Value::Tuple(t)) => t.len() as i64,
        Some(_) => 1,
    })
}

impl Batcher {
    /// Records one invoke's input; returns its row group (`None`: no rows, whole batch).
    pub fn add(&mut self, args: Vec<Value>, kwargs: Kwargs) -> PyResult<Group> {
        let size = batch_size(&args, &kwargs)?;
        if size == 0 {
            for (k, v) in kwargs {
                match self.extra.iter_mut().find(|(n, _)| *n == k) {
                    Some(slot) => slot.1 = v,
                    None => self.extra.push((k, v)),
                }
            }
            return Ok(None);
        }
        let group = (self.total, size);
        self.total += size;
        self.invokes.push((args, kwargs));
        Ok(Some(group))
    }

    /// Narrowing applies once two or more invokes contribute rows.
    pub fn batching(&self) -> bool {
        self.invokes.len() > 1
    }

    pub fn is_empty(&self) -> bool {
        self.invokes.is_empty()
    }

    /// The root call's keyword arguments for all invokes together.
    pub fn assemble(&self, tok: &TextTokenizer, device: Device) -> PyResult<Kwargs> {
        let mut rows: Vec<Row> = Vec::new();
        let mut forward: Kwargs = Vec::new();
        for (args, kwargs) in &self.invokes {
            let (mut r, f) = preprocess(tok, args.first(), kwargs)?;
            if self.attend_own_padding && !rows.is_empty() {
                attend_own_padding(tok, &mut r)?;
            }
            rows.extend(r);
            for (k, v) in f {
                match forward.iter_mut().find(|(n, _)| *n == k) {
                    Some(slot) => slot.1 = v,
                    None => forward.push((k, v)),
                }
            }
        }
        let mut enc = collate(tok, rows)?;
        if self.supply_positions {
            supply_position_ids(&mut enc)?;
        }
        let mut out: Kwargs = enc
            .into_iter()
            .map(|(k, t)| -> PyResult<(Rc<str>, Value)> { Ok((Rc::from(k.as_str()), Value::tensor(t.f_to_device(device)?))) })
            .collect::<PyResult<_>>()?;
        for (k, v) in forward.into_iter().chain(self.extra.iter().cloned()) {
            match out.iter_mut().find(|(n, _)| *n == k) {
                Some(slot) => slot.1 = v,
                None => out.push((k, v)),
            }
        }
        Ok(out)
    }

    /// Every batched tensor in `v` (leading dim = the batch) narrowed to `group`'s rows.
    pub fn narrow(&self, v: &Value, group: Group) -> PyResult<Value> {
        match group {
            Some((start, size)) if self.batching() => apply(v, &|t: &Tensor| {
                Ok(if t.size().first() == Some(&self.total) {
                    Some(t.f_narrow(0, start, size)?)
                } else {
                    None
                })
            }),
            _ => Ok(v.clone()),
        }
    }

    /// `full` with `group`'s rows replaced by `edited` (a worker's assignment).
    pub fn widen(&self, full: &Value, group: Group, edited: Value) -> PyResult<Value> {
        match group {
            Some((start, size)) if self.batching() => merge(full, &edited, &|f: &Tensor, e: &Tensor| {
                if f.size().first() != Some(&self.total) {
                    return Ok(e.shallow_clone());
                }
                let pre = f.f_narrow(0, 0, start)?;
                let post = f.f_narrow(0, start + size, self.total - start - size)?;
                Ok(Tensor::f_cat(&[pre, e.shallow_clone(), post], 0)?)
            }),
            _ => Ok(edited),
        }
    }

    /// Concatenates the invokes' `.skip()` replacements into the whole batch's output;
    /// every invoke has to skip (nnsight's `assemble_skip`).
    pub fn assemble_skip(&self, mut parts: Vec<((i64, i64), Value)>) -> PyResult<Value> {
        parts.sort_by_key(|((s, _), _)| *s);
        let mut covered = 0;
        for ((start, size), _) in &parts {
            if *start != covered {
                break;
            }
            covered += size;
        }
        if covered != self.total {
            return Err(PyErr::value_error(
                "A batched `.skip()` has to cover every row: skip the module in every invoke, or none — a shared forward can't run for only the rows an invoke left unskipped.",
            ));
        }
        concat(&parts.into_iter().map(|(_, v)| v).collect::<Vec<_>>())
    }
}

/// Rebuilds `v` with each tensor replaced where `f` says so (nnsight's `util.apply`):
/// lists, tuples, dicts and ModelOutput records are traversed, other objects passed whole.
pub fn apply(v: &Value, f: &dyn Fn(&Tensor) -> PyResult<Option<Tensor>>) -> PyResult<Value> {
    crate::value::stack::guard()?;
    Ok(match v {
        Value::Tensor(t) => match f(&t.t)? {
            Some(n) => Value::tensor(n),
            None => v.clone(),
        },
        Value::List(l) => Value::list(l.snapshot().iter().map(|x| apply(x, f)).collect::<PyResult<_>>()?),
        Value::Tuple(t) => Value::tuple(t.iter().map(|x| apply(x, f)).collect::<PyResult<_>>()?),
        Value::Dict(d) => {
            let out = Dict::new();
            for (k, x) in d.items() {
                out.insert(k, apply(&x, f)?)?;
            }
            Value::Dict(out)
        }
        Value::Record(r) => {
            let fields = r
                .fields()
                .into_iter()
                .map(|(k, x)| Ok((k, apply(&x, f)?)))
                .collect::<PyResult<Vec<_>>>()?;
            Value::Record(Record::new(
                r.kind,
                &r.module,
                &r.class,
                fields.iter().map(|(k, x)| (k.as_ref(), x.clone())).collect(),
            ))
        }
        other => other.clone(),
    })
}

fn merge(full: &Value, edited: &Value, f: &dyn Fn(&Tensor, &Tensor) -> PyResult<Tensor>) -> PyResult<Value> {
    crate::value::stack::guard()?;
    Ok(match (full, edited) {
        (Value::Tensor(a), Value::Tensor(b)) => Value::tensor(f(&a.t, &b.t)?),
        (Value::List(a), Value::List(b)) => Value::list(
            a.snapshot()
                .iter()
                .zip(b.snapshot().iter())
                .map(|(x, y)| merge(x, y, f))
                .collect::<PyResult<_>>()?,
        ),
        (Value::Tuple(a), Value::Tuple(b)) => {
            Value::tuple(a.iter().zip(b.iter()).map(|(x, y)| merge(x, y, f)).collect::<PyResult<_>>()?)
        }
        (Value::Dict(a), Value::Dict(b)) => {
            let out = Dict::new();
            for (k, x) in a.items() {
                let y = b.get(&k)?.ok_or_else(|| PyErr::key_error(k.clone()))?;
                out.insert(k, merge(&x, &y, f)?)?;
            }
            Value::Dict(out)
        }
        (Value::Record(a), Value::Record(b)) => {
            let fields = a
                .fields()
                .into_iter()
                .map(|(k, x)| {
                    let y = b.get(&k).unwrap_or(Value::None);
                    Ok((k, merge(&x, &y, f)?))
                })
                .collect::<PyResult<Vec<_>>>()?;
            Value::Record(Record::new(a.kind, &a.module, &a.class, fields.iter().map(|(k, x)| (k.as_ref(), x.clone())).collect()))
        }
        (_, e) => e.clone(),
    })
}

fn concat(parts: &[Value]) -> PyResult<Value> {
    let Some(first) = parts.first() else {
        return Ok(Value::None);
    };
    Ok(match first {
        Value::Tensor(_) => {
            let ts = parts
                .iter()
                .map(|p| p.as_tensor().map(Tensor::shallow_clone).ok_or_else(|| PyErr::type_error("skip replacements must have the same structure")))
                .collect::<PyResult<Vec<_>>>()?;
            Value::tensor(Tensor::f_cat(&ts, 0)?)
        }
        Value::Tuple(t) => {
            let mut out = Vec::new();
            for i in 0..t.len() {
                let col: Vec<Value> = parts
                    .iter()
                    .map(|p| match p {
                        Value::Tuple(x) => x.get(i).cloned().unwrap_or(Value::None),
                        _ => Value::None,
                    })
                    .collect();
                out.push(concat(&col)?);
            }
            Value::tuple(out)
        }
        other => other.clone(),
    })
}

/// One invoke → (its rows, forward keyword arguments).
fn preprocess(tok: &TextTokenizer, data: Option<&Value>, kwargs: &Kwargs) -> PyResult<(Vec<Row>, Kwargs)> {
    if let Some(Value::Tensor(t)) = data
        && crate::value::dtype::is_float(t.t.kind())
    {
        return Err(PyErr::unsupported("float tensors (raw features) as trace inputs"));
    }
    if let Some(enc) = as_encoding(data, kwargs) {
        return encode_pretokenized(enc);
    }
    let texts: Vec<String> = match data {
        Some(Value::Str(s)) => vec![s.as_str().to_string()],
        Some(Value::List(_) | Value::Tuple(_)) => {
            let items = match data {
                Some(Value::List(l)) => l.snapshot(),
                Some(Value::Tuple(t)) => t.to_vec(),
                _ => Vec::new(),
            };
            items
                .iter()
                .map(|v| {
                    v.as_str().map(str::to_string).ok_or_else(|| {
                        PyErr::unsupported(format!("inputs of type {} (give text, token ids, a tensor or an encoding)", v.type_name()))
                    })
                })
                .collect::<PyResult<_>>()?
        }
        Some(other) => {
            return Err(PyErr::unsupported(format!(
                "trace inputs of type {} (give text, token ids, a tensor or an encoding)",
                other.type_name()
            )));
        }
        None => Vec::new(),
    };
    let mut rows = Vec::new();
    for t in texts {
        let ids = tok.encode(&t).map_err(|e| PyErr::value_error(e.to_string()))?;
        let n = ids.len() as i64;
        let ids = Tensor::f_from_slice(&ids)?.f_view([1, n])?;
        rows.push(vec![
            ("input_ids".to_string(), ids),
            ("attention_mask".to_string(), Tensor::f_ones([1, n], (Kind::Int64, Device::Cpu))?),
        ]);
    }
    Ok((rows, kwargs.clone()))
}

/// nnsight's `encode_pretokenized`: an encoding's row fields split into rows (a missing
/// mask is all ones); the rest are forward arguments.
fn encode_pretokenized(enc: Vec<(String, Value)>) -> PyResult<(Vec<Row>, Kwargs)> {
    let ids = get(&enc, "input_ids").cloned().ok_or_else(|| PyErr::unsupported("encodings without input_ids"))?;
    let (id_rows, batched) = split(&ids, None)?;
    let mut rows: Vec<Row> = id_rows.into_iter().map(|r| vec![("input_ids".to_string(), r)]).collect();
    let mut forward: Kwargs = Vec::new();
    let has_mask = get(&enc, "attention_mask").is_some();
    for (k, v) in &enc {
        if k == "input_ids" || v.is_none() {
            continue;
        }
        if !is_row_field(k) {
            forward.push((Rc::from(k.as_str()), v.clone()));
            continue;
        }
        let (mut field_rows, _) = split(v, Some(batched))?;
        if field_rows.len() == 1 && (k == "position_ids" || k == "token_type_ids") {
            field_rows = (0..rows.len()).map(|_| field_rows[0].shallow_clone()).collect();
        }
        if field_rows.len() != rows.len() {
            return Err(PyErr::value_error(format!(
                "`{k}` has {} rows, but `input_ids` has {}.",
                field_rows.len(),
                rows.len()
            )));
        }
        for (row, fr) in rows.iter_mut().zip(field_rows) {
            row.push((k.clone(), fr));
        }
    }
    if !has_mask {
        for row in &mut rows {
            let s = row[0].1.size();
            row.push(("attention_mask".to_string(), Tensor::f_ones(s.as_slice(), (Kind::Int64, Device::Cpu))?));
        }
    }
    Ok((rows, forward))
}

/// Pads rows into one batch (left padding, nnsight's `collate`/`pad`).
fn collate(tok: &TextTokenizer, rows: Vec<Row>) -> PyResult<Vec<(String, Tensor)>> {
    if rows.len() == 1 {
        return Ok(rows.into_iter().next().unwrap_or_default());
    }
    let mut keys: Vec<String> = Vec::new();
    for r in &rows {
        for (k, _) in r {
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
    }
    let mut out = Vec::new();
    for k in keys {
        let mut col = Vec::new();
        for r in &rows {
            match r.iter().find(|(n, _)| *n == k) {
                Some((_, t)) => col.push(t.shallow_clone()),
                None => {
                    let ids = &r[0].1;
                    col.push(match k.as_str() {
                        "token_type_ids" => ids.f_zeros_like()?,
                        "position_ids" => {
                            let m = r.iter().find(|(n, _)| n == "attention_mask").map(|(_, t)| t.shallow_clone());
                            positions(&m.unwrap_or(ids.f_ones_like()?))?
                        }
                        "labels" => ids.f_full_like(-100)?,
                        _ => {
                            return Err(PyErr::value_error(format!(
                                "Can't batch these invokes: some rows have `{k}`, and there is no default to give the others. Pass `{k}` in every invoke or in none."
                            )));
                        }
                    });
                }
            }
        }
        let pad = pad_value(tok, &k);
        // A row's tensors are `[1, length, ...]` (the user may pass other shapes: an error).
        if let Some(t) = col.iter().find(|t| t.dim() < 2) {
            return Err(PyErr::value_error(format!(
                "Can't batch these invokes: `{k}` must be a tensor [1, length, ...] in every invoke, got shape {:?}",
                t.size()
            )));
        }
        // rank: every tensor of col has at least 2 dims (checked above).
        let width = col.iter().map(|t| t.size()[1]).max().unwrap_or(0);
        let col = col
            .into_iter()
            .map(|t| {
                // rank: at least 2 dims (checked above).
                let w = t.size()[1];
                if w == width {
                    Ok(t)
                } else {
                    Ok(t.f_pad([width - w, 0], "constant", Some(pad as f64))?)
                }
            })
            .collect::<PyResult<Vec<_>>>()?;
        out.push((k, Tensor::f_cat(&col, 0)?));
    }
    Ok(out)
}

/// nnsight 0.5's `LanguageModel._batch` re-pads every invoke's token ids with
/// `tokenizer.pad` and copies back only the earlier invokes' masks, so the rows of every
/// invoke after the first that has rows attend to the padding inside their invoke: each
/// is left-padded to its invoke's widest row with an all-ones mask (the batch's own padding
/// beyond that stays masked). NDIF ran the same code, and 0.5's local run does this.
fn attend_own_padding(tok: &TextTokenizer, rows: &mut [Row]) -> PyResult<()> {
    let width_of = |row: &Row| row.iter().find(|(k, _)| k == "input_ids").and_then(|(_, t)| t.size().get(1).copied());
    let Some(width) = rows.iter().filter_map(width_of).max() else { return Ok(()) };
    for row in rows.iter_mut() {
        for (k, t) in row.iter_mut() {
            let (2, Some(&w)) = (t.dim(), t.size().get(1)) else { continue };
            if k == "attention_mask" {
                *t = t.f_new_ones([1, width], (t.kind(), t.device()))?;
            } else if w < width {
                let pad = pad_value(tok, k);
                *t = t.f_pad([width - w, 0], "constant", Some(pad as f64))?;
            }
        }
    }
    Ok(())
}

/// nnsight's `processing.positions`: a row that is padding then tokens counts from its
/// first token; any other row counts from its first position.
pub fn positions(mask: &Tensor) -> PyResult<Tensor> {
    let mask = mask.f_to_kind(Kind::Int64)?;
    let counted = mask.f_cumsum(-1, None::<Kind>)?.f_sub_scalar(1)?.f_clamp_min(0)?;
    let width = *mask.size().last().unwrap_or(&0);
    let plain = Tensor::f_arange(width, (Kind::Int64, mask.device()))?.f_expand_as(&mask)?;
    let left_padded = mask.f_diff(1, -1, None::<Tensor>, None::<Tensor>)?.f_ge(0)?.f_all_dim(-1, true)?;
    Ok(counted.f_where_self(&left_padded, &plain)?)
}

/// Adds `position_ids` for a left-padded batch (nnsight's `supply_position_ids`).
fn supply_position_ids(enc: &mut Vec<(String, Tensor)>) -> PyResult<()> {
    if enc.iter().any(|(k, _)| k == "position_ids") || enc.iter().any(|(k, _)| !is_row_field(k)) {
        return Ok(());
    }
    let (Some(mask), Some(ids)) = (
        enc.iter().find(|(k, _)| k == "attention_mask").map(|(_, t)| t.shallow_clone()),
        enc.iter().find(|(k, _)| k == "input_ids").map(|(_, t)| t.shallow_clone()),
    ) else {
        return Ok(());
    };
    // rank: the range is clamped to ids.dim().
    if mask.size() != ids.size()[..2.min(ids.dim())] || mask.f_all()?.f_int64_value(&[])? != 0 {
        return Ok(());
    }
    let p = positions(&mask)?;
    let w = *mask.size().last().unwrap_or(&0);
    let plain = Tensor::f_arange(w, (Kind::Int64, mask.device()))?;
    if p.f_eq_tensor(&plain)?.f_all()?.f_int64_value(&[])? != 0 {
        return Ok(());
    }
    enc.push(("position_ids".to_string(), p));
    Ok(())
}
