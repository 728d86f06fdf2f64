//! `nn.Linear` and transformers' `Conv1D` (GPT-2's transposed linear layer).

use crate::value::tensor::dim_size;
use tch::Tensor;

use crate::value::PyResult;

/// `F.linear(x, weight, bias)`, weight `[out, in]`.
pub fn linear(x: &Tensor, w: &Tensor, b: Option<&Tensor>) -> PyResult<Tensor> {
    Ok(x.f_linear(w, b)?)
}

/// `Conv1D.forward`: `addmm(bias, x.view(-1, nx), weight)` with weight `[nx, nf]`, viewed
/// back to `x`'s leading shape.
pub fn conv1d(x: &Tensor, w: &Tensor, b: &Tensor) -> PyResult<Tensor> {
    let mut size = x.size();
    let nx = size.pop().unwrap_or(0);
    size.push(dim_size(w, 1)?);
    Ok(b.f_addmm(&x.f_view([-1, nx])?, w)?.f_view(size.as_slice())?)
}
