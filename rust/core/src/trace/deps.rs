//! Dependency sets: which elements of the traced inputs each element of a
//! value depends on, for the sparsity level (`sparsity_pattern`). A boolean
//! sparse matrix in CSR form: one row per element of the value (row-major),
//! one column per element of the inputs (flattened, concatenated).
//!
//! The rules of the primitives build their output's sets from their inputs'
//! with the few shapes of dependency there are: each output element reads at
//! most one element of each input (elementwise ops, broadcasting, views,
//! gathers: [`Deps::pick`]), or accumulates many ([`Deps::scatter`]:
//! reductions, scatter-adds), or everything (the conservative
//! [`Deps::dense`]).

use crate::error::Result;
use crate::tensor::Tensor;

/// Dependency sets in CSR form (rows sorted and free of duplicates).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Deps {
    indptr: Vec<usize>,
    indices: Vec<u32>,
}

/// The position an output element reads from a source, or none (`NONE`).
pub const NONE: i64 = -1;

impl Deps {
    /// `rows` elements, element `i` depending on input position `offset + i`.
    pub fn identity(rows: usize, offset: usize) -> Deps {
        Deps {
            indptr: (0..=rows).collect(),
            indices: (offset..offset + rows).map(|i| i as u32).collect(),
        }
    }

    /// `rows` elements depending on nothing.
    pub fn empty(rows: usize) -> Deps {
        Deps {
            indptr: vec![0; rows + 1],
            indices: Vec::new(),
        }
    }

    /// Every one of `rows` elements depending on all of `cols` (sorted, distinct).
    pub fn dense(rows: usize, cols: &[u32]) -> Deps {
        Deps {
            indptr: (0..=rows).map(|r| r * cols.len()).collect(),
            indices: cols
                .iter()
                .copied()
                .cycle()
                .take(rows * cols.len())
                .collect(),
        }
    }

    pub fn rows(&self) -> usize {
        self.indptr.len() - 1
    }

    pub fn row(&self, i: usize) -> &[u32] {
        &self.indices[self.indptr[i]..self.indptr[i + 1]]
    }

    pub fn indptr(&self) -> &[usize] {
        &self.indptr
    }

    pub fn indices(&self) -> &[u32] {
        &self.indices
    }

    /// Whether no element depends on anything.
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    /// The union of all rows (sorted, distinct).
    pub fn all(&self) -> Vec<u32> {
        let mut all = self.indices.clone();
        all.sort_unstable();
        all.dedup();
        all
    }

    /// Build row by row: `fill(i, row)` appends row `i`'s positions (any order,
    /// duplicates allowed) to `row`, which is then sorted and deduplicated.
    fn build(rows: usize, mut fill: impl FnMut(usize, &mut Vec<u32>)) -> Deps {
        let mut indptr = Vec::with_capacity(rows + 1);
        indptr.push(0);
        let mut indices = Vec::new();
        let mut row = Vec::new();
        for i in 0..rows {
            row.clear();
            fill(i, &mut row);
            row.sort_unstable();
            row.dedup();
            indices.extend_from_slice(&row);
            indptr.push(indices.len());
        }
        Deps { indptr, indices }
    }

    /// Output element `i` depends on `src.row(map[i])` for each `(src, map)`
    /// (`NONE` entries read nothing).
    pub fn pick(rows: usize, sources: &[(&Deps, &[i64])]) -> Deps {
        Deps::build(rows, |i, row| {
            for (src, map) in sources {
                let m = map[i];
                if m >= 0 {
                    row.extend_from_slice(src.row(m as usize));
                }
            }
        })
    }

    /// Output element `map[u]` accumulates `src.row(u)` for every `u`
    /// (`NONE` entries go nowhere): the adjoint of [`Deps::pick`].
    pub fn scatter(rows: usize, src: &Deps, map: &[i64]) -> Deps {
        let mut members: Vec<Vec<u32>> = vec![Vec::new(); rows];
        for (u, &m) in map.iter().enumerate() {
            if m >= 0 {
                members[m as usize].extend_from_slice(src.row(u));
            }
        }
        Deps::build(rows, |i, row| row.append(&mut members[i]))
    }

    /// Element-wise union of sets of the same number of rows.
    pub fn union(parts: &[&Deps]) -> Deps {
        let rows = parts.first().map_or(0, |p| p.rows());
        Deps::build(rows, |i, row| {
            for p in parts {
                row.extend_from_slice(p.row(i));
            }
        })
    }

    /// The rows of `parts` one after another (the sets of a concatenation).
    pub fn stack(parts: &[&Deps]) -> Deps {
        let mut indptr = vec![0];
        let mut indices = Vec::new();
        for p in parts {
            for i in 0..p.rows() {
                indices.extend_from_slice(p.row(i));
                indptr.push(indices.len());
            }
        }
        Deps { indptr, indices }
    }

    /// Along an axis of length `n` with `inner` elements after it, element
    /// `k` depends on elements `0..=k` (or `k..n` when `reverse`) of its line:
    /// the sets of a cumulative sum.
    pub fn prefix(&self, n: usize, inner: usize, reverse: bool) -> Deps {
        let rows = self.rows();
        let line = n * inner;
        let mut acc: Vec<Vec<u32>> = vec![Vec::new(); rows];
        for start in (0..rows).step_by(line.max(1)) {
            for j in 0..inner {
                let mut run: Vec<u32> = Vec::new();
                for step in 0..n {
                    let k = if reverse { n - 1 - step } else { step };
                    let i = start + k * inner + j;
                    run.extend_from_slice(self.row(i));
                    run.sort_unstable();
                    run.dedup();
                    acc[i] = run.clone();
                }
            }
        }
        Deps::build(rows, |i, row| row.append(&mut acc[i]))
    }
}

/// Positions `base + 1 ..= base + n` as an int64 tensor of `shape`: fed
/// through a selecting primitive (views, gathers, concatenation), the output
/// says which input element each output element copies (0: none).
pub fn position_ids(shape: &[usize], base: usize) -> Result<Tensor> {
    let n: usize = shape.iter().product();
    let ids: Vec<i64> = (0..n).map(|i| (base + i + 1) as i64).collect();
    Tensor::from_slice(&ids, shape)
}

/// The source positions of an output of [`position_ids`] fed through a
/// primitive (`NONE` where the output copies nothing).
pub fn read_positions(out: &Tensor) -> Result<Vec<i64>> {
    Ok(out.to_vec::<i64>()?.into_iter().map(|v| v - 1).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pick_scatter_and_prefix() {
        let x = Deps::identity(3, 0);
        let picked = Deps::pick(2, &[(&x, &[2, NONE]), (&x, &[0, 1])]);
        assert_eq!(picked.row(0), [0, 2]);
        assert_eq!(picked.row(1), [1]);
        let summed = Deps::scatter(1, &x, &[0, 0, NONE]);
        assert_eq!(summed.row(0), [0, 1]);
        let cum = Deps::identity(4, 0).prefix(2, 2, false);
        assert_eq!(cum.row(2), [0, 2]);
        assert_eq!(cum.row(3), [1, 3]);
        let rev = Deps::identity(3, 0).prefix(3, 1, true);
        assert_eq!(rev.row(0), [0, 1, 2]);
        assert_eq!(Deps::dense(2, &[1, 4]).row(1), [1, 4]);
        assert_eq!(Deps::stack(&[&x, &Deps::empty(1)]).rows(), 4);
    }
}
