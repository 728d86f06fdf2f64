//! Contiguous tensor values and the strided gather that turns a storage view
//! (`storage_offset`, `size`, `stride` of `_rebuild_tensor_v2`) into them.

use super::DType;
use crate::WireError;

/// Above this a view may not expand beyond its storage's own size (a stride-0
/// broadcast of a tiny storage must not allocate gigabytes).
const MAX_EXPANDED_BYTES: usize = 64 << 20;

/// A dense tensor: `data` holds `numel × dtype.size()` little-endian bytes in row-major
/// order. The fields are private so that every value was checked by its constructor:
/// libtorch copies `data` by the shape without checking it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorData {
    dtype: DType,
    shape: Vec<usize>,
    data: Vec<u8>,
    requires_grad: bool,
}

impl TensorData {
    /// A tensor without grad, checked for `data.len() == numel × element size`.
    pub fn new(dtype: DType, shape: Vec<usize>, data: Vec<u8>) -> Result<Self, WireError> {
        let tensor = Self {
            dtype,
            shape,
            data,
            requires_grad: false,
        };
        tensor.validate()?;
        Ok(tensor)
    }

    /// [`TensorData::new`], requiring grad as `requires_grad` says.
    pub fn with_grad(dtype: DType, shape: Vec<usize>, data: Vec<u8>, requires_grad: bool) -> Result<Self, WireError> {
        let mut t = TensorData::new(dtype, shape, data)?;
        t.requires_grad = requires_grad;
        Ok(t)
    }

    pub fn dtype(&self) -> DType {
        self.dtype
    }

    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The row-major bytes (`numel × dtype.size()` of them).
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    pub fn into_data(self) -> Vec<u8> {
        self.data
    }

    pub fn requires_grad(&self) -> bool {
        self.requires_grad
    }

    pub fn set_requires_grad(&mut self, on: bool) {
        self.requires_grad = on;
    }

    /// Number of elements (product of the shape; 1 for a 0-d tensor), saturating.
    pub fn numel(&self) -> usize {
        self.shape
            .iter()
            .fold(1, |acc: usize, &d| acc.saturating_mul(d))
    }

    /// Row-major strides in elements as torch computes them: last 1, each earlier = next
    /// stride × max(next dim, 1).
    pub fn strides(&self) -> Vec<usize> {
        row_major_strides(&self.shape)
    }

    /// Checks that the byte length matches the shape and dtype.
    pub fn validate(&self) -> Result<(), WireError> {
        let expected = checked_numel(&self.shape).and_then(|n| n.checked_mul(self.dtype.size()));
        match expected {
            Some(len) if len == self.data.len() => Ok(()),
            _ => Err(WireError::Tensor(format!(
                "{} bytes do not fit shape {:?} of {}",
                self.data.len(),
                self.shape,
                self.dtype.python_name()
            ))),
        }
    }
}

fn row_major_strides(shape: &[usize]) -> Vec<usize> {
    let mut strides = vec![1usize; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        strides[d] = strides[d + 1].saturating_mul(shape[d + 1].max(1));
    }
    strides
}

fn checked_numel(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

/// A view into a storage of `dtype` elements, as `_rebuild_tensor_v2` describes it.
pub(crate) struct View<'a> {
    pub storage: &'a [u8],
    pub dtype: DType,
    pub offset: usize,
    pub size: &'a [usize],
    pub stride: &'a [usize],
}

impl View<'_> {
    /// Copies the viewed elements into row-major order, after checking every index
    /// against the storage.
    pub(crate) fn gather(&self) -> Result<Vec<u8>, WireError> {
        let fail = |what: &str| {
            Err(WireError::Tensor(format!(
                "{what} (size {:?}, stride {:?})",
                self.size, self.stride
            )))
        };
        if self.size.len() != self.stride.len() {
            return fail("size and stride differ in length");
        }
        let item = self.dtype.size();
        let Some(numel) = checked_numel(self.size) else {
            return fail("element count overflows");
        };
        if numel == 0 {
            return Ok(Vec::new());
        }
        // Size-1 dimensions never move the index; zero their stride so it cannot overflow.
        let stride: Vec<usize> = self
            .size
            .iter()
            .zip(self.stride)
            .map(|(&n, &s)| if n == 1 { 0 } else { s })
            .collect();
        let last = self
            .size
            .iter()
            .zip(&stride)
            .try_fold(self.offset, |acc, (&n, &s)| {
                acc.checked_add((n - 1).checked_mul(s)?)
            });
        match last {
            Some(last) if last < self.storage.len() / item => {}
            _ => return fail("view exceeds its storage"),
        }
        let out_len = match numel.checked_mul(item) {
            Some(len) if len <= self.storage.len().max(MAX_EXPANDED_BYTES) => len,
            _ => return fail("view expands its storage too much"),
        };
        let contiguous = self
            .size
            .iter()
            .zip(&stride)
            .zip(row_major_strides(self.size))
            .all(|((&n, &s), r)| n == 1 || s == r);
        if contiguous {
            let start = self.offset * item;
            return Ok(self.storage[start..start + out_len].to_vec());
        }
        Ok(self.gather_strided(numel, &stride))
    }

    /// Odometer walk over the multi-index in row-major order.
    fn gather_strided(&self, numel: usize, stride: &[usize]) -> Vec<u8> {
        let item = self.dtype.size();
        let mut out = Vec::with_capacity(numel * item);
        let mut index = vec![0usize; self.size.len()];
        let mut src = self.offset;
        for _ in 0..numel {
            out.extend_from_slice(&self.storage[src * item..(src + 1) * item]);
            for d in (0..index.len()).rev() {
                index[d] += 1;
                src += stride[d];
                if index[d] < self.size[d] {
                    break;
                }
                src -= stride[d] * self.size[d];
                index[d] = 0;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn storage(values: &[i16]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    fn view(
        storage: &[u8],
        offset: usize,
        size: &[usize],
        stride: &[usize],
    ) -> Result<Vec<u8>, WireError> {
        View {
            storage,
            dtype: DType::I16,
            offset,
            size,
            stride,
        }
        .gather()
    }

    #[test]
    fn transposed_and_offset_views_are_gathered_row_major() {
        let s = storage(&[0, 1, 2, 3, 4, 5]);
        // the 2x3 matrix transposed: shape (3, 2), stride (1, 3)
        assert_eq!(
            view(&s, 0, &[3, 2], &[1, 3]).unwrap(),
            storage(&[0, 3, 1, 4, 2, 5])
        );
        // a[1:, 1:] of the 2x3 matrix: offset 1*3 + 1, shape (1, 2)
        assert_eq!(view(&s, 4, &[1, 2], &[3, 1]).unwrap(), storage(&[4, 5]));
        // column 2 of the 2x3 matrix
        assert_eq!(view(&s, 2, &[2], &[3]).unwrap(), storage(&[2, 5]));
        // broadcast (stride 0) and 0-d
        assert_eq!(view(&s, 1, &[3], &[0]).unwrap(), storage(&[1, 1, 1]));
        assert_eq!(view(&s, 5, &[], &[]).unwrap(), storage(&[5]));
    }

    #[test]
    fn out_of_bounds_views_are_rejected() {
        let s = storage(&[0, 1, 2, 3]);
        assert!(view(&s, 1, &[4], &[1]).is_err());
        assert!(view(&s, 0, &[2, 2], &[3, 1]).is_err());
        assert!(view(&s, 0, &[2], &[1, 1]).is_err());
        assert!(
            view(&s, 0, &[1 << 40], &[0]).is_err(),
            "broadcast blow-up must be refused"
        );
        assert!(view(&s, 0, &[0, 7], &[usize::MAX, 1]).unwrap().is_empty());
    }

    #[test]
    fn new_checks_the_byte_length() {
        assert!(TensorData::new(DType::F32, vec![2, 3], vec![0; 24]).is_ok());
        assert!(TensorData::new(DType::F32, vec![2, 3], vec![0; 20]).is_err());
        assert_eq!(row_major_strides(&[2, 3, 4]), vec![12, 4, 1]);
        assert_eq!(
            row_major_strides(&[4, 0]),
            vec![1, 1],
            "torch.empty(4, 0).stride()"
        );
    }
}
