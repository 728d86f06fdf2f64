//! `model.tokenizer` in user code: encoding and decoding with the served tokenizer, as the
//! HF fast tokenizer answers (`tokenizer("text")`, `.encode`, `.decode`, `.batch_decode`,
//! the special token ids).

use std::any::Any;
use std::sync::Arc;

use crate::interp::Interp;
use crate::interp::call::Kwargs;
use crate::interp::host::HostObj;
use crate::model::TextTokenizer;
use crate::value::object::{Aux, Native};
use crate::value::{Dict, PyErr, PyResult, Value};

pub struct TokenizerObj {
    pub tok: Arc<TextTokenizer>,
}

fn ids_of(it: &mut Interp, v: &Value) -> PyResult<Vec<u32>> {
    let items = match v {
        Value::Tensor(t) => {
            let flat = t.t.f_reshape([-1])?.f_to_kind(tch::Kind::Int64)?;
            return Ok(Vec::<i64>::try_from(&flat)?.into_iter().map(|i| i as u32).collect());
        }
        other => it.collect(other)?,
    };
    items
        .iter()
        .map(|x| match x {
            Value::Tensor(t) => Ok(t.t.f_int64_value(&[])? as u32),
            other => other.as_int().map(|i| i as u32).ok_or_else(|| PyErr::type_error("token ids must be integers")),
        })
        .collect()
}

fn tok_of(n: &Native) -> Option<Arc<TextTokenizer>> {
    match &n.recv {
        Some(Value::Host(h)) => h.as_any().downcast_ref::<TokenizerObj>().map(|t| t.tok.clone()),
        _ => None,
    }
}

fn encode_call(it: &mut Interp, n: &Native, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    let tok = tok_of(n).ok_or_else(|| PyErr::internal("tokenizer method without its tokenizer"))?;
    let tensors = kw.iter().any(|(k, v)| k.as_ref() == "return_tensors" && v.as_str() == Some("pt"));
    let text = args.first().cloned().unwrap_or(Value::None);
    let texts: Vec<String> = match &text {
        Value::Str(s) => vec![s.as_str().to_string()],
        other => it.collect(other)?.iter().map(|v| v.as_str().unwrap_or("").to_string()).collect(),
    };
    let single = matches!(text, Value::Str(_));
    let rows: Vec<Vec<i64>> = texts.iter().map(|t| tok.encode(t).map_err(|e| PyErr::value_error(e.to_string()))).collect::<PyResult<_>>()?;
    if n.name.as_ref() == "encode" {
        let r = rows.into_iter().next().unwrap_or_default();
        return Ok(Value::list(r.into_iter().map(Value::Int).collect()));
    }
    let d = Dict::new();
    if tensors {
        let enc = tok.batch(&rows, tch::Device::Cpu).map_err(|e| PyErr::value_error(e.to_string()))?;
        d.insert(Value::str("input_ids"), Value::tensor(enc.input_ids))?;
        d.insert(Value::str("attention_mask"), Value::tensor(enc.attention_mask))?;
    } else {
        let as_list = |r: &Vec<i64>, f: &dyn Fn(i64) -> i64| Value::list(r.iter().map(|&i| Value::Int(f(i))).collect());
        let ids = if single { as_list(&rows[0], &|i| i) } else { Value::list(rows.iter().map(|r| as_list(r, &|i| i)).collect()) };
        let mask = if single { as_list(&rows[0], &|_| 1) } else { Value::list(rows.iter().map(|r| as_list(r, &|_| 1)).collect()) };
        d.insert(Value::str("input_ids"), ids)?;
        d.insert(Value::str("attention_mask"), mask)?;
    }
    Ok(Value::Dict(d))
}

impl HostObj for TokenizerObj {
    fn type_name(&self) -> &str {
        "PreTrainedTokenizerFast"
    }
    fn call(&self, it: &mut Interp, this: &Value, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
        let n = Native { name: "__call__".into(), recv: Some(this.clone()), f: encode_call, aux: Aux::None };
        encode_call(it, &n, args, kw)
    }
    fn getattr(&self, _it: &mut Interp, this: &Value, name: &str) -> PyResult<Value> {
        Ok(match name {
            "encode" => Native::bound("encode", this.clone(), encode_call),
            "decode" => Native::bound("decode", this.clone(), |it, n, args, kw| {
                let tok = tok_of(n).ok_or_else(|| PyErr::internal("tokenizer"))?;
                let skip = kw.iter().any(|(k, v)| k.as_ref() == "skip_special_tokens" && matches!(v, Value::Bool(true)));
                let ids = ids_of(it, args.first().unwrap_or(&Value::None))?;
                Ok(Value::string(tok.decode(&ids, skip).map_err(|e| PyErr::value_error(e.to_string()))?))
            }),
            "batch_decode" => Native::bound("batch_decode", this.clone(), |it, n, args, kw| {
                let tok = tok_of(n).ok_or_else(|| PyErr::internal("tokenizer"))?;
                let skip = kw.iter().any(|(k, v)| k.as_ref() == "skip_special_tokens" && matches!(v, Value::Bool(true)));
                let rows = it.collect(args.first().unwrap_or(&Value::None))?;
                let mut out = Vec::new();
                for r in rows {
                    let ids = ids_of(it, &r)?;
                    out.push(Value::string(tok.decode(&ids, skip).map_err(|e| PyErr::value_error(e.to_string()))?));
                }
                Ok(Value::list(out))
            }),
            "convert_ids_to_tokens" => Native::bound("convert_ids_to_tokens", this.clone(), |it, n, args, _| {
                let tok = tok_of(n).ok_or_else(|| PyErr::internal("tokenizer"))?;
                match args.first() {
                    Some(Value::Int(i)) => Ok(tok.id_to_token(*i as u32).map_or(Value::None, |s| Value::string(s))),
                    Some(v) => {
                        let ids = ids_of(it, v)?;
                        Ok(Value::list(ids.iter().map(|&i| tok.id_to_token(i).map_or(Value::None, Value::string)).collect()))
                    }
                    None => Err(PyErr::type_error("convert_ids_to_tokens() missing 1 required positional argument: 'ids'")),
                }
            }),
            "pad_token_id" => Value::Int(self.tok.pad_id()),
            "eos_token_id" => self.tok.eos_id().map_or(Value::None, Value::Int),
            "bos_token_id" => self.tok.bos_id().map_or(Value::None, Value::Int),
            "padding_side" => Value::str("left"),
            "vocab_size" => Value::Int(self.tok.vocab_size() as i64),
            other => return Err(PyErr::attribute_error(format!("'PreTrainedTokenizerFast' object has no attribute '{other}'"))),
        })
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
