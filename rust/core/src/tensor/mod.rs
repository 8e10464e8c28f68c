//! The concrete n-d array: shared storage plus a strided layout.
//!
//! Transpose, broadcast, slicing and compatible reshapes only change the
//! layout; data is copied only when a kernel needs contiguity.

mod block;
mod deferred;
mod dtype;
pub mod shape;
mod small_blocks;
mod storage;

use std::sync::Arc;

use smallvec::SmallVec;

pub use deferred::{Data, Deferred, Pending};
pub use dtype::DType;
pub use shape::{Shape, Strides};
pub use storage::{requested_cache_mb, AlignedBuf, AnySlice, AnySliceMut, Element, Storage, ALIGN};

use crate::error::{Error, Result};
use crate::{shape_err, type_err};
use shape::{checked_numel, contiguous_strides, fmt_shape, numel};

/// Dispatch on a dtype, binding the element type to `$T` inside `$body`.
#[macro_export]
macro_rules! with_dtype {
    ($dt:expr, $T:ident => $body:expr) => {
        match $dt {
            $crate::DType::Bool => {
                type $T = bool;
                $body
            }
            $crate::DType::I32 => {
                type $T = i32;
                $body
            }
            $crate::DType::I64 => {
                type $T = i64;
                $body
            }
            $crate::DType::F32 => {
                type $T = f32;
                $body
            }
            $crate::DType::F64 => {
                type $T = f64;
                $body
            }
        }
    };
}

/// Dispatch on a float dtype; other dtypes take the `else` arm.
#[macro_export]
macro_rules! with_float {
    ($dt:expr, $T:ident => $body:expr, else $other:expr) => {
        match $dt {
            $crate::DType::F32 => {
                type $T = f32;
                $body
            }
            $crate::DType::F64 => {
                type $T = f64;
                $body
            }
            _ => $other,
        }
    };
}

/// Dispatch on a numeric (non-bool) dtype.
#[macro_export]
macro_rules! with_numeric {
    ($dt:expr, $T:ident => $body:expr, else $other:expr) => {
        match $dt {
            $crate::DType::I32 => {
                type $T = i32;
                $body
            }
            $crate::DType::I64 => {
                type $T = i64;
                $body
            }
            $crate::DType::F32 => {
                type $T = f32;
                $body
            }
            $crate::DType::F64 => {
                type $T = f64;
                $body
            }
            _ => $other,
        }
    };
}

pub struct Tensor {
    data: Arc<Data>,
    shape: Shape,
    strides: Strides,
    offset: usize,
}

impl Clone for Tensor {
    /// Written out because a derived clone copies the shape and strides one
    /// element at a time (`SmallVec`'s `Clone` is generic over the item);
    /// `from_slice` copies them as one block. Every value a trace records
    /// or a rule reads is cloned, so this is on every op's path.
    #[inline]
    fn clone(&self) -> Tensor {
        Tensor {
            data: Arc::clone(&self.data),
            shape: Shape::from_slice(&self.shape),
            strides: Strides::from_slice(&self.strides),
            offset: self.offset,
        }
    }
}

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tensor({}, {})", fmt_shape(&self.shape), self.dtype())
    }
}

impl Tensor {
    // ---- construction -------------------------------------------------------

    /// A contiguous tensor owning `buf`, which must hold exactly `numel(shape)` elements.
    pub fn from_buf<T: Element>(buf: AlignedBuf<T>, shape: &[usize]) -> Tensor {
        debug_assert_eq!(buf.len(), numel(shape));
        Tensor {
            data: Arc::new(Data::Ready(T::wrap(buf))),
            shape: Shape::from_slice(shape),
            strides: contiguous_strides(shape),
            offset: 0,
        }
    }

    /// A view `(shape, strides, offset)` of `storage` (strides in elements,
    /// any sign); an error unless every element it reaches lies inside the
    /// storage. For arrays imported without a copy, whose layout is theirs.
    pub fn from_storage_view(
        storage: Storage,
        shape: &[usize],
        strides: &[isize],
        offset: usize,
    ) -> Result<Tensor> {
        if shape.len() != strides.len() {
            return crate::value_err!(
                "a view needs one stride per axis: shape {shape:?}, strides {strides:?}"
            );
        }
        if let Some((lo, hi)) = shape::reach(shape, strides) {
            let (lo, hi) = (lo + offset as i128, hi + offset as i128);
            if lo < 0 || hi >= storage.len() as i128 {
                return crate::value_err!(
                    "a view (shape {shape:?}, strides {strides:?}, offset {offset}) reaches \
                     outside its {} elements",
                    storage.len()
                );
            }
        }
        Ok(Tensor {
            data: Arc::new(Data::Ready(storage)),
            shape: Shape::from_slice(shape),
            strides: Strides::from_slice(strides),
            offset,
        })
    }

    /// A contiguous tensor of `shape` whose values `deferred` computes when
    /// first read (it holds exactly `numel(shape)` elements).
    pub fn from_deferred(deferred: Deferred, shape: &[usize]) -> Tensor {
        debug_assert_eq!(deferred.len(), numel(shape));
        Tensor {
            data: Arc::new(Data::Deferred(deferred)),
            shape: Shape::from_slice(shape),
            strides: contiguous_strides(shape),
            offset: 0,
        }
    }

    pub fn from_slice<T: Element>(data: &[T], shape: &[usize]) -> Result<Tensor> {
        let n = checked_numel(shape)?;
        if n != data.len() {
            return shape_err!(
                "{} elements do not fill shape {}",
                data.len(),
                fmt_shape(shape)
            );
        }
        Ok(Tensor::from_buf(AlignedBuf::from_slice(data)?, shape))
    }

    pub fn scalar<T: Element>(v: T) -> Tensor {
        Tensor::from_slice(&[v], &[]).expect("one element always fits")
    }

    pub fn zeros(dtype: DType, shape: &[usize]) -> Result<Tensor> {
        let n = checked_numel(shape)?;
        with_dtype!(dtype, T => Ok(Tensor::from_buf(AlignedBuf::<T>::zeroed(n)?, shape)))
    }

    /// A tensor of `shape` filled with `value` (converted to `dtype`), built as a
    /// broadcast view of one element: no memory proportional to the size.
    pub fn full(value: f64, dtype: DType, shape: &[usize]) -> Result<Tensor> {
        checked_numel(shape)?;
        let one = with_dtype!(dtype, T => Tensor::scalar(T::from_f64(value)));
        Ok(one.broadcast_view(shape))
    }

    /// `full` materialised into its own contiguous buffer.
    pub fn full_contiguous(value: f64, dtype: DType, shape: &[usize]) -> Result<Tensor> {
        let n = checked_numel(shape)?;
        with_dtype!(dtype, T => {
            let mut buf = AlignedBuf::<T>::for_overwrite(n)?;
            buf.as_mut_slice().fill(T::from_f64(value));
            Ok(Tensor::from_buf(buf, shape))
        })
    }

    /// Build a contiguous tensor by writing into a fresh zeroed buffer.
    pub fn build<T: Element>(shape: &[usize], fill: impl FnOnce(&mut [T])) -> Result<Tensor> {
        Self::fill_new(shape, true, |o| {
            fill(o);
            Ok(())
        })
    }

    /// Like `build`, for a `fill` that writes every element: the buffer it gets
    /// holds unspecified (valid) values instead of zeros, which saves a pass
    /// over recycled memory. Kernels that accumulate into the output or leave
    /// gaps must use `build`.
    pub fn build_overwrite<T: Element>(
        shape: &[usize],
        fill: impl FnOnce(&mut [T]),
    ) -> Result<Tensor> {
        Self::fill_new(shape, false, |o| {
            fill(o);
            Ok(())
        })
    }

    /// Like `build_overwrite`, for fallible fills (on error the tensor is dropped).
    pub fn try_build_overwrite<T: Element>(
        shape: &[usize],
        fill: impl FnOnce(&mut [T]) -> Result<()>,
    ) -> Result<Tensor> {
        Self::fill_new(shape, false, fill)
    }

    /// Like `build`, for fallible fills.
    pub fn try_build<T: Element>(
        shape: &[usize],
        fill: impl FnOnce(&mut [T]) -> Result<()>,
    ) -> Result<Tensor> {
        Self::fill_new(shape, true, fill)
    }

    /// A fresh buffer for `shape` (zeroed, or with unspecified values), filled by `fill`.
    fn fill_new<T: Element>(
        shape: &[usize],
        zeroed: bool,
        fill: impl FnOnce(&mut [T]) -> Result<()>,
    ) -> Result<Tensor> {
        let n = checked_numel(shape)?;
        let mut buf = if zeroed {
            AlignedBuf::<T>::zeroed(n)?
        } else {
            AlignedBuf::<T>::for_overwrite(n)?
        };
        fill(buf.as_mut_slice())?;
        Ok(Tensor::from_buf(buf, shape))
    }

    // ---- metadata -----------------------------------------------------------

    #[inline]
    pub fn dtype(&self) -> DType {
        self.data.dtype()
    }
    #[inline]
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }
    #[inline]
    pub fn strides(&self) -> &[isize] {
        &self.strides
    }
    #[inline]
    pub fn offset(&self) -> usize {
        self.offset
    }
    #[inline]
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }
    #[inline]
    pub fn size(&self) -> usize {
        numel(&self.shape)
    }
    /// The data, computed or deferred (shared by every view of it).
    pub fn data(&self) -> &Arc<Data> {
        &self.data
    }

    /// The deferred values behind this tensor, if they are not computed yet.
    pub fn deferred(&self) -> Option<&Deferred> {
        match &*self.data {
            Data::Deferred(d) if !d.is_computed() => Some(d),
            _ => None,
        }
    }

    /// The computed values, computing deferred ones first (which may fail,
    /// for example when memory runs out).
    #[inline]
    pub fn storage(&self) -> Result<&Storage> {
        self.data.storage()
    }

    /// Compute the values now if they are deferred; a no-op for computed data.
    pub fn realize(&self) -> Result<()> {
        self.storage().map(|_| ())
    }

    /// Whether the values are computed (false for pending deferred values).
    pub fn is_realized(&self) -> bool {
        match &*self.data {
            Data::Deferred(d) => d.is_computed(),
            Data::Ready(_) => true,
        }
    }

    /// Row-major contiguous (size-1 dims may have any stride).
    pub fn is_contiguous(&self) -> bool {
        if self.shape.contains(&0) {
            return true;
        }
        let mut expected: isize = 1;
        for i in (0..self.shape.len()).rev() {
            if self.shape[i] != 1 {
                if self.strides[i] != expected {
                    return false;
                }
                expected *= self.shape[i] as isize;
            }
        }
        true
    }

    /// The whole storage as a typed slice (for kernels that index with
    /// strides), computing deferred values first.
    #[inline]
    pub fn storage_slice<T: Element>(&self) -> Result<&[T]> {
        T::view(self.storage()?).ok_or_else(|| {
            Error::Type(format!(
                "internal error: a {} tensor read as {}",
                self.dtype(),
                T::DTYPE
            ))
        })
    }

    /// The elements as one slice, if the layout is contiguous and the dtype
    /// is `T` (`None` otherwise).
    #[inline]
    pub fn as_slice<T: Element>(&self) -> Result<Option<&[T]>> {
        if T::DTYPE != self.dtype() || !self.is_contiguous() {
            return Ok(None);
        }
        let data = self.storage_slice::<T>()?;
        Ok(Some(&data[self.offset..self.offset + self.size()]))
    }

    /// The elements as one slice, for a tensor the caller made contiguous.
    #[inline]
    pub fn contiguous_slice<T: Element>(&self) -> Result<&[T]> {
        self.as_slice::<T>()?.ok_or_else(|| {
            Error::Value("internal error: a strided tensor read as contiguous".into())
        })
    }

    /// The elements in row-major order (any layout; a plain walk, for small
    /// tensors and tests, not a kernel).
    pub fn to_vec<T: Element>(&self) -> Result<Vec<T>> {
        if T::DTYPE != self.dtype() {
            return type_err!("expected {}, tensor is {}", T::DTYPE, self.dtype());
        }
        if let Some(s) = self.as_slice::<T>()? {
            return Ok(s.to_vec());
        }
        let data = self.storage_slice::<T>()?;
        let n = self.size();
        let mut out = Vec::new();
        out.try_reserve_exact(n)
            .map_err(|_| Error::OutOfMemory(n as u128 * std::mem::size_of::<T>() as u128))?;
        let mut index: SmallVec<[usize; 6]> = SmallVec::from_elem(0, self.ndim());
        for _ in 0..n {
            let at = index
                .iter()
                .zip(&self.strides)
                .fold(self.offset as isize, |o, (&i, &s)| o + i as isize * s);
            out.push(data[at as usize]);
            for d in (0..self.ndim()).rev() {
                index[d] += 1;
                if index[d] < self.shape[d] {
                    break;
                }
                index[d] = 0;
            }
        }
        Ok(out)
    }

    /// The one element of a size-1 tensor, as f64.
    pub fn item_f64(&self) -> Result<f64> {
        if self.size() != 1 {
            return Err(crate::Error::Value(format!(
                "only tensors with one element can be converted to scalars, got shape {}",
                fmt_shape(&self.shape)
            )));
        }
        Ok(with_dtype!(self.dtype(), T => self.storage_slice::<T>()?[self.offset].to_f64()))
    }

    /// The one element of a size-1 tensor, as i64 (exact for integers).
    pub fn item_i64(&self) -> Result<i64> {
        self.item_f64()?;
        Ok(with_dtype!(self.dtype(), T => self.storage_slice::<T>()?[self.offset].to_i64()))
    }

    // ---- views (no copies) ---------------------------------------------------

    fn with_layout(&self, shape: Shape, strides: Strides, offset: usize) -> Tensor {
        Tensor {
            data: self.data.clone(),
            shape,
            strides,
            offset,
        }
    }

    /// Broadcast to `target` (caller checked compatibility).
    pub fn broadcast_view(&self, target: &[usize]) -> Tensor {
        let strides = shape::broadcast_strides(&self.shape, &self.strides, target);
        self.with_layout(Shape::from_slice(target), strides, self.offset)
    }

    /// The axis order in which the elements lie densely in memory when it is
    /// not the logical order (a transposed matrix, any permutation of a
    /// contiguous array): `self.permute_view(&p)` is then contiguous, and an
    /// elementwise kernel can run over memory in one pass, as NumPy's `K`
    /// order does. `None` for contiguous tensors and for layouts with gaps,
    /// broadcast or reversed axes.
    pub fn dense_order(&self) -> Option<SmallVec<[usize; 6]>> {
        if self.ndim() < 2 || self.is_contiguous() {
            return None;
        }
        let mut perm: SmallVec<[usize; 6]> = (0..self.ndim()).collect();
        // stable: the strides of length-1 axes are arbitrary, and any place
        // for them is dense
        perm.sort_by_key(|&i| std::cmp::Reverse(self.strides[i]));
        self.permute_view(&perm).is_contiguous().then_some(perm)
    }

    /// Permute axes (caller checked `perm` is a permutation).
    pub fn permute_view(&self, perm: &[usize]) -> Tensor {
        let shape = perm.iter().map(|&p| self.shape[p]).collect();
        let strides = perm.iter().map(|&p| self.strides[p]).collect();
        self.with_layout(shape, strides, self.offset)
    }

    /// Reshape as a view, or `None` when the layout does not allow one (the
    /// caller then copies: `kernels::copy::contiguous` and reshape that).
    pub fn reshape_view(&self, new_shape: &[usize]) -> Result<Option<Tensor>> {
        if numel(new_shape) != self.size() {
            return shape_err!(
                "cannot reshape array of shape {} into shape {}",
                fmt_shape(&self.shape),
                fmt_shape(new_shape)
            );
        }
        Ok(
            shape::reshape_strides(&self.shape, &self.strides, new_shape).map(|strides| {
                self.with_layout(Shape::from_slice(new_shape), strides, self.offset)
            }),
        )
    }

    /// Basic slicing along every axis: `start` (already in range), `step` (non-zero)
    /// and `len` (number of elements taken). Negative steps give reversed views.
    pub fn slice_view(&self, starts: &[usize], steps: &[isize], lens: &[usize]) -> Tensor {
        let mut offset = self.offset as isize;
        let mut strides: Strides = SmallVec::with_capacity(self.ndim());
        for i in 0..self.ndim() {
            if lens[i] > 0 {
                offset += starts[i] as isize * self.strides[i];
            }
            strides.push(self.strides[i] * steps[i]);
        }
        let offset = if lens.contains(&0) {
            self.offset
        } else {
            offset as usize
        };
        self.with_layout(Shape::from_slice(lens), strides, offset)
    }
}
