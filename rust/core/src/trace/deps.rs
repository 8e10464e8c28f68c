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

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Dependency sets in CSR form (rows sorted and free of duplicates).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Deps {
    indptr: Vec<usize>,
    indices: Vec<u32>,
}

/// The position an output element reads from a source, or none (`NONE`).
pub const NONE: i64 = -1;

/// The most entries a pattern may hold (1 GiB of indices): beyond it the
/// sets are refused with an error rather than left to exhaust memory (a
/// Jacobian that dense is better computed without `sparsity=`).
const MAX_ENTRIES: usize = 1 << 28;

fn too_large(rows: usize) -> Error {
    Error::Value(format!(
        "sparsity: the dependency sets of a value of {rows} elements would hold more than \
         {MAX_ENTRIES} entries; a Jacobian this dense is better computed without sparsity="
    ))
}

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
    pub fn dense(rows: usize, cols: &[u32]) -> Result<Deps> {
        if rows.saturating_mul(cols.len()) > MAX_ENTRIES {
            return Err(too_large(rows));
        }
        Ok(Deps {
            indptr: (0..=rows).map(|r| r * cols.len()).collect(),
            indices: cols
                .iter()
                .copied()
                .cycle()
                .take(rows * cols.len())
                .collect(),
        })
    }

    /// A pattern given in CSR form (`rows = indptr.len() - 1`, every index
    /// below `cols`); rows are sorted and deduplicated here.
    pub fn from_csr(indptr: &[usize], indices: &[i64], cols: usize) -> Result<Deps> {
        if indptr.first() != Some(&0) || indptr.windows(2).any(|w| w[0] > w[1]) {
            return Err(Error::Value(
                "sparsity: the pattern's indptr must start at 0 and never decrease".into(),
            ));
        }
        let nnz = indptr[indptr.len() - 1];
        if nnz != indices.len() {
            return Err(Error::Value(format!(
                "sparsity: the pattern's indptr ends at {nnz} but it has {} indices",
                indices.len()
            )));
        }
        if let Some(&bad) = indices.iter().find(|&&j| j < 0 || j as usize >= cols) {
            return Err(Error::Value(format!(
                "sparsity: column index {bad} is out of range for a pattern of {cols} columns"
            )));
        }
        if cols > u32::MAX as usize {
            return Err(Error::Value(format!(
                "sparsity: {cols} columns are more than a pattern can index"
            )));
        }
        Deps::build(indptr.len() - 1, |i, row| {
            row.extend(indices[indptr[i]..indptr[i + 1]].iter().map(|&j| j as u32))
        })
    }

    /// The pattern transposed, as `cols` rows.
    pub fn transpose(&self, cols: usize) -> Deps {
        let mut counts = vec![0usize; cols + 1];
        for &j in &self.indices {
            counts[j as usize + 1] += 1;
        }
        for j in 0..cols {
            counts[j + 1] += counts[j];
        }
        let indptr = counts.clone();
        let mut next = counts;
        let mut indices = vec![0u32; self.indices.len()];
        // rows visited in order, so every transposed row comes out sorted
        for i in 0..self.rows() {
            for &j in self.row(i) {
                indices[next[j as usize]] = i as u32;
                next[j as usize] += 1;
            }
        }
        Deps { indptr, indices }
    }

    /// A square pattern made symmetric: the union with its transpose.
    pub fn symmetrized(&self) -> Result<Deps> {
        let t = self.transpose(self.rows());
        Deps::union(&[self, &t])
    }

    /// The pattern without its diagonal: the adjacency of a symmetric pattern's graph.
    pub fn without_diagonal(&self) -> Result<Deps> {
        Deps::build(self.rows(), |i, row| {
            row.extend(self.row(i).iter().filter(|&&j| j as usize != i))
        })
    }

    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.indices.len()
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
    fn build(rows: usize, mut fill: impl FnMut(usize, &mut Vec<u32>)) -> Result<Deps> {
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
            if indices.len() > MAX_ENTRIES {
                return Err(too_large(rows));
            }
        }
        Ok(Deps { indptr, indices })
    }

    /// Output element `i` depends on `src.row(map[i])` for each `(src, map)`
    /// (`NONE` entries read nothing).
    pub fn pick(rows: usize, sources: &[(&Deps, &[i64])]) -> Result<Deps> {
        // refused before building when one source alone brings too many
        for (src, map) in sources {
            let brought: usize = map
                .iter()
                .filter(|&&m| m >= 0)
                .map(|&m| src.row(m as usize).len())
                .sum();
            if brought > MAX_ENTRIES {
                return Err(too_large(rows));
            }
        }
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
    pub fn scatter(rows: usize, src: &Deps, map: &[i64]) -> Result<Deps> {
        let mut members: Vec<Vec<u32>> = vec![Vec::new(); rows];
        for (u, &m) in map.iter().enumerate() {
            if m >= 0 {
                members[m as usize].extend_from_slice(src.row(u));
            }
        }
        Deps::build(rows, |i, row| row.append(&mut members[i]))
    }

    /// Element-wise union of sets of the same number of rows.
    pub fn union(parts: &[&Deps]) -> Result<Deps> {
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
    pub fn prefix(&self, n: usize, inner: usize, reverse: bool) -> Result<Deps> {
        let rows = self.rows();
        let line = n * inner;
        let mut acc: Vec<Vec<u32>> = vec![Vec::new(); rows];
        let mut total = 0usize;
        for start in (0..rows).step_by(line.max(1)) {
            for j in 0..inner {
                let mut run: Vec<u32> = Vec::new();
                for step in 0..n {
                    let k = if reverse { n - 1 - step } else { step };
                    let i = start + k * inner + j;
                    run.extend_from_slice(self.row(i));
                    run.sort_unstable();
                    run.dedup();
                    total += run.len();
                    if total > MAX_ENTRIES {
                        return Err(too_large(rows));
                    }
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
        let picked = Deps::pick(2, &[(&x, &[2, NONE]), (&x, &[0, 1])]).unwrap();
        assert_eq!(picked.row(0), [0, 2]);
        assert_eq!(picked.row(1), [1]);
        let summed = Deps::scatter(1, &x, &[0, 0, NONE]).unwrap();
        assert_eq!(summed.row(0), [0, 1]);
        let cum = Deps::identity(4, 0).prefix(2, 2, false).unwrap();
        assert_eq!(cum.row(2), [0, 2]);
        assert_eq!(cum.row(3), [1, 3]);
        let rev = Deps::identity(3, 0).prefix(3, 1, true).unwrap();
        assert_eq!(rev.row(0), [0, 1, 2]);
        assert_eq!(Deps::dense(2, &[1, 4]).unwrap().row(1), [1, 4]);
        // too many entries: refused before anything is allocated
        let cols: Vec<u32> = (0..1 << 15).collect();
        assert!(Deps::dense(1 << 14, &cols).is_err());
        let wide = Deps::dense(1, &cols).unwrap();
        assert!(Deps::pick(1 << 14, &[(&wide, &vec![0; 1 << 14])]).is_err());
        assert_eq!(Deps::stack(&[&x, &Deps::empty(1)]).rows(), 4);
        let t = picked.transpose(3);
        assert_eq!(
            (t.row(0), t.row(1), t.row(2)),
            (&[0u32][..], &[1u32][..], &[0u32][..])
        );
        let given = Deps::from_csr(&[0, 2, 2], &[2, 0], 3).unwrap();
        assert_eq!((given.row(0), given.row(1)), (&[0u32, 2][..], &[][..]));
        assert!(Deps::from_csr(&[0, 1], &[3], 3).is_err());
        assert!(Deps::from_csr(&[0, 2], &[1], 3).is_err());
    }
}
