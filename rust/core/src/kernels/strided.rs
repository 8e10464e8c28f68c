//! Iteration over strided layouts, shared by every kernel that accepts views.
//!
//! A [`RowPlan`] merges dimensions that are contiguous for all operands, then
//! walks the outer dimensions and hands out one "row" (the innermost
//! dimension) at a time, so kernels run a tight (often SIMD) loop per row.

// Operand k's offsets and strides live in parallel arrays indexed by k.
#![allow(clippy::needless_range_loop)]

use smallvec::SmallVec;

type Dims = SmallVec<[usize; 6]>;
type Strs = SmallVec<[isize; 6]>;

pub struct RowPlan<const N: usize> {
    outer: Dims,
    outer_strides: [Strs; N],
    pub inner_len: usize,
    pub inner_strides: [isize; N],
    base: [isize; N],
}

impl<const N: usize> RowPlan<N> {
    /// `shape` is the common (broadcast) shape; `strides[k]`/`offsets[k]` lay out operand k.
    pub fn new(shape: &[usize], strides: [&[isize]; N], offsets: [usize; N]) -> Self {
        // Merge adjacent dims (i, i+1) when every operand steps through them as one.
        let mut dims: Dims = SmallVec::new();
        let mut strs: [Strs; N] = std::array::from_fn(|_| SmallVec::new());
        for (i, &d) in shape.iter().enumerate() {
            if d == 1 {
                continue;
            }
            let mergeable = !dims.is_empty()
                && (0..N).all(|k| strs[k][strs[k].len() - 1] == strides[k][i] * d as isize);
            if mergeable {
                let last = dims.len() - 1;
                dims[last] *= d;
                for k in 0..N {
                    let l = strs[k].len() - 1;
                    strs[k][l] = strides[k][i];
                }
            } else {
                dims.push(d);
                for k in 0..N {
                    strs[k].push(strides[k][i]);
                }
            }
        }
        let empty = shape.contains(&0);
        let (inner_len, inner_strides) = match dims.pop() {
            _ if empty => (0, [0; N]),
            Some(d) => (
                d,
                std::array::from_fn(|k| strs[k].pop().expect("same rank")),
            ),
            None => (1, [0; N]),
        };
        RowPlan {
            outer: if empty { SmallVec::new() } else { dims },
            outer_strides: strs,
            inner_len,
            inner_strides,
            base: std::array::from_fn(|k| offsets[k] as isize),
        }
    }

    pub fn rows(&self) -> usize {
        if self.inner_len == 0 {
            0
        } else {
            self.outer.iter().product()
        }
    }

    /// Base offsets of row `r` (row-major over the outer dims).
    pub fn row_offsets(&self, mut r: usize) -> [usize; N] {
        let mut off = self.base;
        for i in (0..self.outer.len()).rev() {
            let idx = (r % self.outer[i]) as isize;
            r /= self.outer[i];
            for k in 0..N {
                off[k] += idx * self.outer_strides[k][i];
            }
        }
        off.map(|o| o as usize)
    }

    /// Call `f(row, offsets)` for rows `start..end`, stepping offsets incrementally.
    pub fn for_rows(&self, start: usize, end: usize, mut f: impl FnMut(usize, [usize; N])) {
        if start >= end {
            return;
        }
        let nd = self.outer.len();
        let mut idx: SmallVec<[usize; 6]> = SmallVec::from_elem(0, nd);
        {
            let mut r = start;
            for i in (0..nd).rev() {
                idx[i] = r % self.outer[i];
                r /= self.outer[i];
            }
        }
        let mut off = self.row_offsets(start).map(|o| o as isize);
        for row in start..end {
            f(row, off.map(|o| o as usize));
            // increment the multi-index
            for i in (0..nd).rev() {
                idx[i] += 1;
                for k in 0..N {
                    off[k] += self.outer_strides[k][i];
                }
                if idx[i] < self.outer[i] {
                    break;
                }
                for k in 0..N {
                    off[k] -= self.outer_strides[k][i] * self.outer[i] as isize;
                }
                idx[i] = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_contiguous_dims() {
        let p = RowPlan::<1>::new(&[2, 3, 4], [&[12, 4, 1]], [0]);
        assert_eq!((p.rows(), p.inner_len, p.inner_strides[0]), (1, 24, 1));
        let p = RowPlan::<2>::new(&[2, 3], [&[3, 1], &[0, 1]], [0, 0]);
        assert_eq!((p.rows(), p.inner_len), (2, 3));
    }

    #[test]
    fn offsets_walk_a_transpose() {
        // a (3, 2) view of a contiguous (2, 3) array
        let p = RowPlan::<1>::new(&[3, 2], [&[1, 3]], [0]);
        let mut seen = vec![];
        p.for_rows(0, p.rows(), |_, [o]| {
            for j in 0..p.inner_len {
                seen.push(o as isize + j as isize * p.inner_strides[0]);
            }
        });
        assert_eq!(seen, vec![0, 3, 1, 4, 2, 5]);
        assert_eq!(p.row_offsets(2), [2]);
    }

    #[test]
    fn empty_and_scalar() {
        assert_eq!(RowPlan::<1>::new(&[0, 3], [&[3, 1]], [0]).rows(), 0);
        let p = RowPlan::<1>::new(&[], [&[]], [5]);
        assert_eq!((p.rows(), p.inner_len, p.row_offsets(0)), (1, 1, [5]));
    }
}
