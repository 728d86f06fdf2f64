//! transformers' `DynamicCache` as the model fills it: one layer of keys and values per
//! attention layer, concatenated along the sequence as tokens are added; a sliding-window
//! layer (`DynamicSlidingWindowLayer`) keeps only its last `window - 1` tokens. User code sees it
//! in `.inputs` of blocks and in `model.output.cache`, can read `layers[i].keys`, and gets
//! it back as the transformers object when it saves it.

use crate::value::tensor::dim_size;
use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;

use tch::Tensor;

use crate::interp::Interp;
use crate::interp::host::HostObj;
use crate::value::object::Native;
use crate::value::{PyErr, PyResult, Value};

#[derive(Default)]
pub struct CacheLayer {
    pub keys: Option<Value>,
    pub values: Option<Value>,
    /// The sliding window of a `DynamicSlidingWindowLayer`; `None` for a `DynamicLayer`.
    pub window: Option<i64>,
    /// Tokens this layer has been given (its `cumulative_length`).
    pub seen: i64,
}

pub struct DynamicCache {
    pub layers: RefCell<Vec<CacheLayer>>,
}

impl DynamicCache {
    pub fn new(n_layers: usize) -> Rc<DynamicCache> {
        DynamicCache::with_windows(&vec![None; n_layers])
    }

    /// `DynamicCache(config=...)`: one layer per decoder layer, sliding where `windows` says.
    pub fn with_windows(windows: &[Option<i64>]) -> Rc<DynamicCache> {
        Rc::new(DynamicCache {
            layers: RefCell::new(windows.iter().map(|&window| CacheLayer { window, ..CacheLayer::default() }).collect()),
        })
    }

    pub fn value(self: &Rc<Self>) -> Value {
        let h: Rc<dyn HostObj> = self.clone();
        Value::Host(h)
    }

    /// Appends a step's keys/values for `layer`; returns the full keys and values.
    pub fn update(&self, layer: usize, k: &Tensor, v: &Tensor) -> PyResult<(Tensor, Tensor)> {
        let mut layers = self.layers.borrow_mut();
        while layers.len() <= layer {
            layers.push(CacheLayer::default());
        }
        let l = &mut layers[layer];
        let (nk, nv) = match (&l.keys, &l.values) {
            (Some(Value::Tensor(pk)), Some(Value::Tensor(pv))) => (
                Tensor::f_cat(&[&pk.t, k], -2)?,
                Tensor::f_cat(&[&pv.t, v], -2)?,
            ),
            _ => (k.shallow_clone(), v.shallow_clone()),
        };
        l.seen += k.size().get(2).copied().unwrap_or(0);
        // A sliding layer keeps `full[:, :, -window + 1:, :]` and returns the full states.
        let kept = |t: &Tensor| -> PyResult<Tensor> {
            match l.window {
                Some(w) => {
                    let n = dim_size(t, 2)?;
                    let keep = (w - 1).clamp(0, n);
                    Ok(if w > 1 { t.f_narrow(2, n - keep, keep)? } else { t.shallow_clone() })
                }
                None => Ok(t.shallow_clone()),
            }
        };
        l.keys = Some(Value::tensor(kept(&nk)?));
        l.values = Some(Value::tensor(kept(&nv)?));
        Ok((nk, nv))
    }

    /// Tokens already cached (`get_seq_length()`: layer 0's).
    pub fn seq_length(&self) -> i64 {
        self.layer_seq_length(0)
    }

    /// `get_seq_length(layer)`: a sliding layer counts every token it was given.
    pub fn layer_seq_length(&self, layer: usize) -> i64 {
        let layers = self.layers.borrow();
        let Some(l) = layers.get(layer) else { return 0 };
        if l.window.is_some() {
            return l.seen;
        }
        match &l.keys {
            Some(Value::Tensor(t)) => t.t.size().get(2).copied().unwrap_or(0),
            _ => 0,
        }
    }

    /// The sliding window of `layer`, if it slides.
    pub fn window(&self, layer: usize) -> Option<i64> {
        self.layers.borrow().get(layer).and_then(|l| l.window)
    }

    /// The layers' (keys, values), for saving.
    pub fn snapshot(&self) -> Vec<(Option<Value>, Option<Value>)> {
        self.layers.borrow().iter().map(|l| (l.keys.clone(), l.values.clone())).collect()
    }

    /// Keeps only `rows` of the batch (beam search would reorder; we only narrow).
    pub fn select_rows(&self, rows: &Tensor) -> PyResult<()> {
        for l in self.layers.borrow_mut().iter_mut() {
            for slot in [&mut l.keys, &mut l.values] {
                if let Some(Value::Tensor(t)) = slot {
                    *slot = Some(Value::tensor(t.t.f_index_select(0, rows)?));
                }
            }
        }
        Ok(())
    }
}

/// One layer as user code sees it (`cache.layers[0].keys`).
struct LayerView {
    /// The cache's own handle (a `Value::Host` holding a `DynamicCache`).
    cache: Value,
    index: usize,
}

impl LayerView {
    fn cache(&self) -> Option<&DynamicCache> {
        let Value::Host(h) = &self.cache else { return None };
        h.as_any().downcast_ref::<DynamicCache>()
    }
}

impl HostObj for LayerView {
    fn type_name(&self) -> &str {
        match self.cache().and_then(|c| c.window(self.index)) {
            Some(_) => "DynamicSlidingWindowLayer",
            None => "DynamicLayer",
        }
    }
    fn getattr(&self, _it: &mut Interp, _this: &Value, name: &str) -> PyResult<Value> {
        let Some(cache) = self.cache() else {
            return Err(PyErr::internal("a cache layer without its cache"));
        };
        let layers = cache.layers.borrow();
        let l = layers.get(self.index);
        Ok(match name {
            "keys" => l.and_then(|l| l.keys.clone()).unwrap_or(Value::None),
            "values" => l.and_then(|l| l.values.clone()).unwrap_or(Value::None),
            "is_initialized" => Value::Bool(l.is_some_and(|l| l.keys.is_some())),
            "sliding_window" if l.is_some_and(|l| l.window.is_some()) => Value::Int(l.and_then(|l| l.window).unwrap_or(0)),
            "cumulative_length" if l.is_some_and(|l| l.window.is_some()) => Value::Int(l.map_or(0, |l| l.seen)),
            other => {
                return Err(PyErr::attribute_error(format!(
                    "'{}' object has no attribute '{other}'",
                    self.type_name()
                )));
            }
        })
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl HostObj for DynamicCache {
    fn type_name(&self) -> &str {
        "DynamicCache"
    }
    fn repr(&self) -> String {
        format!("DynamicCache(layers={})", self.layers.borrow().len())
    }
    fn len(&self) -> Option<usize> {
        Some(self.layers.borrow().len())
    }
    fn getattr(&self, _it: &mut Interp, this: &Value, name: &str) -> PyResult<Value> {
        match name {
            "layers" => {
                let n = self.layers.borrow().len();
                Ok(Value::list(
                    (0..n)
                        .map(|index| {
                            let v: Rc<dyn HostObj> = Rc::new(LayerView { cache: this.clone(), index });
                            Value::Host(v)
                        })
                        .collect(),
                ))
            }
            "get_seq_length" => Ok(Native::bound("get_seq_length", this.clone(), |_, n, _, _| {
                let Some(Value::Host(h)) = &n.recv else { return Ok(Value::Int(0)) };
                let c = h.as_any().downcast_ref::<DynamicCache>().map_or(0, DynamicCache::seq_length);
                Ok(Value::Int(c))
            })),
            other => Err(PyErr::attribute_error(format!(
                "'DynamicCache' object has no attribute '{other}'"
            ))),
        }
    }
    fn getitem(&self, _it: &mut Interp, _this: &Value, key: &Value) -> PyResult<Value> {
        let i = key.as_int().ok_or_else(|| PyErr::type_error("cache indices must be integers"))?;
        let layers = self.layers.borrow();
        let n = layers.len() as i64;
        let j = if i < 0 { i + n } else { i };
        let l = layers
            .get(j as usize)
            .filter(|_| (0..n).contains(&j))
            .ok_or_else(|| PyErr::index_error(format!("Cache only has {n} layers, attempted to access layer with index {i}")))?;
        Ok(Value::tuple(vec![
            l.keys.clone().unwrap_or(Value::None),
            l.values.clone().unwrap_or(Value::None),
        ]))
    }
    fn clear(&self) {
        self.layers.borrow_mut().clear();
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

