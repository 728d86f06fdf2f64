//! Tensors user code holds: a tch handle sharing storage with the model's tensors (so an
//! in-place edit of an activation is the model's edit, docs/semantics.md §2.4), plus the
//! accounting that bounds what user code allocates, and the guard that keeps a job from
//! writing into the served model's weights (they are shared by every job).

use std::rc::Rc;

use tch::Tensor;

use super::ctx;
use super::error::{PyErr, PyResult};

pub struct Tens {
    pub t: Tensor,
    /// Bytes charged to the job's tensor budget (released on drop).
    charged: u64,
    /// What Python type the value is: a torch tensor, or a numpy array or scalar whose
    /// data this tensor holds (`crate::interp::numpy`).
    pub np: Np,
}

/// The Python type of a [`Tens`]: numpy arrays and scalars are CPU tensors underneath, so
/// their math goes through tch, but they follow numpy's semantics and print, pickle and
/// report their type as numpy does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Np {
    /// `torch.Tensor`.
    Torch,
    /// `numpy.ndarray` (any number of dimensions, 0-d included).
    Array,
    /// A numpy scalar (`numpy.float64`, `numpy.int64`, `numpy.bool`, ...): a 0-d tensor
    /// that nothing else aliases.
    Scalar,
}

impl Tens {
    /// A handle to an existing tensor (a hook value, a view): nothing new is charged.
    pub fn new(t: Tensor) -> Rc<Tens> {
        Rc::new(Tens { t, charged: 0, np: Np::Torch })
    }

    /// A tensor a user operation just allocated: checked against the element cap and
    /// charged to the job's memory budget.
    pub fn fresh(t: Tensor) -> PyResult<Rc<Tens>> {
        Tens::fresh_as(t, Np::Torch)
    }

    /// [`Tens::fresh`] with the Python type it has.
    pub fn fresh_as(t: Tensor, np: Np) -> PyResult<Rc<Tens>> {
        let numel = t.numel() as i64;
        check_numel(numel)?;
        let bytes = (numel as u64).saturating_mul(t.kind().elt_size_in_bytes() as u64);
        ctx::charge_tensor(bytes)?;
        Ok(Rc::new(Tens { t, charged: bytes, np }))
    }

    /// [`Tens::new`] (a view of existing storage) with the Python type it has.
    pub fn view_as(t: Tensor, np: Np) -> Rc<Tens> {
        Rc::new(Tens { t, charged: 0, np })
    }

    /// Whether this is a numpy array or scalar.
    pub fn is_numpy(&self) -> bool {
        self.np != Np::Torch
    }

    /// Another handle to the same tensor (shares storage and autograd state).
    pub fn handle(&self) -> Tensor {
        self.t.shallow_clone()
    }
}

impl Drop for Tens {
    fn drop(&mut self) {
        if self.charged > 0 {
            ctx::release_tensor(self.charged);
        }
    }
}

/// Refuses a tensor of `numel` elements past the cap, before it is allocated.
pub fn check_numel(numel: i64) -> PyResult<()> {
    let cap = ctx::caps().max_tensor_numel;
    if numel > cap || numel < 0 {
        return Err(PyErr::memory(format!(
            "a tensor of {numel} elements exceeds localndif's limit of {cap} elements (--max-tensor-elements)"
        )));
    }
    Ok(())
}

/// Elements of a shape, saturating (for checks before allocation).
pub fn shape_numel(shape: &[i64]) -> i64 {
    shape
        .iter()
        .try_fold(1i64, |acc, &d| acc.checked_mul(d.max(0)))
        .unwrap_or(i64::MAX)
}

/// Declares the weights of the model this thread's job runs on (kept by the job context).
pub fn set_weight_ranges(ranges: Vec<(usize, usize)>) {
    ctx::set_weight_ranges(ranges);
}

/// The byte range a tensor's elements span.
pub fn byte_range(t: &Tensor) -> Option<(usize, usize)> {
    if t.numel() == 0 || !t.defined() {
        return None;
    }
    let start = t.data_ptr() as usize;
    let elt = t.kind().elt_size_in_bytes();
    let extent: i64 = t
        .size()
        .iter()
        .zip(t.stride())
        .map(|(&s, st)| (s - 1).max(0) * st.abs())
        .sum();
    Some((start, start + (extent as usize + 1) * elt))
}

/// Refuses an in-place write to a tensor that aliases the model's weights: writes must
/// never change the model for later jobs (copy it first with `.clone()`).
pub fn check_writable(t: &Tensor) -> PyResult<()> {
    let Some((lo, hi)) = byte_range(t) else {
        return Ok(());
    };
    let hit = ctx::overlaps_weights(lo, hi);
    if hit {
        return Err(PyErr::runtime_error(
            "this tensor shares memory with the served model's weights, which localndif never lets a job modify (they are shared by every job); edit a copy (`.clone()`) or use `model.edit()`",
        ));
    }
    Ok(())
}

/// The length of dimension `d` of `t`, or torch's IndexError when `t` has no such
/// dimension (user code can hand any tensor where one of some rank was expected).
pub fn dim_size(t: &tch::Tensor, d: usize) -> crate::value::PyResult<i64> {
    t.size().get(d).copied().ok_or_else(|| {
        let n = t.dim() as i64;
        crate::value::PyErr::index_error(format!("Dimension out of range (expected to be in range of [{}, {}], but got {d})", -n.max(1), n.max(1) - 1))
    })
}

