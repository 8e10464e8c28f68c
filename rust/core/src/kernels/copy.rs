//! Strided copies: making views contiguous and writing into strided targets.

use crate::error::Result;
use crate::kernels::elementwise::cast;
use crate::kernels::strided::RowPlan;
use crate::tensor::{Element, Tensor};
use crate::with_dtype;

/// A contiguous copy of any view.
pub fn materialize(t: &Tensor) -> Result<Tensor> {
    with_dtype!(t.dtype(), T => cast::<T, T>(t, |x| x))
}

/// A contiguous tensor with the values of `t`: `t` itself if already contiguous.
pub fn contiguous(t: &Tensor) -> Result<Tensor> {
    if t.is_contiguous() {
        return Ok(t.clone());
    }
    materialize(t)
}

/// `t` reshaped: a view when the layout allows, a contiguous copy otherwise.
pub fn reshape(t: &Tensor, shape: &[usize]) -> Result<Tensor> {
    match t.reshape_view(shape)? {
        Some(v) => Ok(v),
        None => materialize(t)?.reshape_view(shape)?.ok_or_else(|| {
            crate::Error::Value("internal error: a contiguous tensor did not reshape".into())
        }),
    }
}

/// Combine (`combine(old, new)`) `src` into the region of `dst` laid out by
/// `shape`/`strides`/`offset` (a view into `dst`'s own contiguous buffer). The
/// caller guarantees every offset of the layout lies inside `dst`.
pub fn scatter_into<T: Element>(
    src: &Tensor,
    dst: &mut [T],
    strides: &[isize],
    offset: usize,
    combine: impl Fn(T, T) -> T,
) -> Result<()> {
    let data = src.storage_slice::<T>()?;
    let plan = RowPlan::<2>::new(
        src.shape(),
        [src.strides(), strides],
        [src.offset(), offset],
    );
    let [is, id] = plan.inner_strides;
    plan.for_rows(0, plan.rows(), |_, [os, od]| {
        for j in 0..plan.inner_len as isize {
            let v = data[(os as isize + j * is) as usize];
            let d = &mut dst[(od as isize + j * id) as usize];
            *d = combine(*d, v);
        }
    });
    Ok(())
}
