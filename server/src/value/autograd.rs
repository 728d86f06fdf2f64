//! The autograd calls tch does not bind: `Tensor.backward(gradient, retain_graph,
//! create_graph)` with its options, and tensor gradient hooks (`csrc/grad_hook.cpp`),
//! which `with loss.backward():` needs to serve `.grad` requests while the pass runs.

use std::ffi::{CStr, c_char, c_int};

use tch::Tensor;
use torch_sys::C_tensor;

use super::{PyErr, PyResult};

/// What a gradient hook calls: `(session, key, grad, out)`; see `csrc/grad_hook.cpp`.
pub type HookFn = extern "C" fn(u64, u64, *mut C_tensor, *mut *mut C_tensor) -> c_int;

unsafe extern "C" {
    fn lndif_register_grad_hook(t: *mut C_tensor, session: u64, key: u64, f: HookFn, err: *mut *mut c_char) -> i64;
    fn lndif_free_error(err: *mut c_char);
}

/// libtorch's pending error, if the last call left one.
fn last_error() -> Option<String> {
    // SAFETY: torch-sys hands over a malloc'd C string (or null) and forgets it.
    unsafe {
        let p = torch_sys::get_and_reset_last_err();
        if p.is_null() {
            return None;
        }
        let s = CStr::from_ptr(p).to_string_lossy().into_owned();
        libc::free(p.cast());
        Some(s)
    }
}

/// libtorch's message without its C++ backtrace (what PyTorch shows as the error).
fn runtime_error(message: &str) -> PyErr {
    let first = message.lines().next().unwrap_or(message);
    PyErr::runtime_error(first.trim_end().to_string())
}

/// `t.backward(gradient=None, retain_graph=None, create_graph=False)`: gradients
/// accumulate into the leaves that require them.
pub fn backward(t: &Tensor, gradient: Option<&Tensor>, retain_graph: bool, create_graph: bool) -> PyResult<()> {
    let root = match gradient {
        // The vector-Jacobian product with `gradient` is the gradient of `(t * gradient).sum()`.
        Some(g) => t.f_mul(g)?.f_sum(None)?,
        None => t.shallow_clone(),
    };
    let mut root = root;
    // SAFETY: `root` is a live tensor for the whole call.
    unsafe { torch_sys::at_backward(root.as_mut_ptr(), c_int::from(retain_graph), c_int::from(create_graph)) };
    match last_error() {
        Some(e) => Err(runtime_error(&e)),
        None => Ok(()),
    }
}

/// Registers `f` to be called with the gradient flowing into `t` during any later
/// backward pass, with `session` and `key` passed back.
pub fn register_hook(t: &Tensor, session: u64, key: u64, f: HookFn) -> PyResult<()> {
    if !t.requires_grad() {
        return Err(PyErr::runtime_error("cannot register a hook on a tensor that doesn't require gradient"));
    }
    let mut handle = t.shallow_clone();
    let mut err: *mut c_char = std::ptr::null_mut();
    // SAFETY: `handle` is live for the call; `err` is set only with a string we free.
    let r = unsafe { lndif_register_grad_hook(handle.as_mut_ptr(), session, key, f, &mut err) };
    if r < 0 {
        let msg = if err.is_null() {
            "registering a gradient hook failed".to_string()
        } else {
            // SAFETY: a C string from strdup, freed by its allocator's free.
            let s = unsafe { CStr::from_ptr(err) }.to_string_lossy().into_owned();
            unsafe { lndif_free_error(err) };
            s
        };
        return Err(runtime_error(&msg));
    }
    Ok(())
}

/// Takes ownership of a tensor libtorch handed over.
///
/// # Safety
/// `p` must be a tensor allocated with `new` and owned by no one else.
pub unsafe fn adopt(p: *mut C_tensor) -> Tensor {
    unsafe { Tensor::from_ptr(p) }
}

/// Gives a tensor's ownership to libtorch (which `delete`s it).
pub fn release(t: Tensor) -> *mut C_tensor {
    let mut t = t;
    let p = t.as_mut_ptr();
    std::mem::forget(t);
    p
}
