//! Colourings of a sparsity pattern, so that a sparse Jacobian or Hessian
//! costs one pass per colour instead of one per input or output (Gebremedhin,
//! Manne & Pothen, "What color is your Jacobian?", SIAM Review 47, 2005).
//!
//! - Columns that share no row (`jacfwd`) or rows that share no column
//!   (`jacrev`) are seeded together: a colouring of the columns (rows) in which
//!   any two that meet in a row (column) differ. Every non-zero is then read
//!   directly from the compressed product.
//! - A symmetric Hessian needs less: a *star* colouring of its adjacency graph
//!   (distance-1, and every path on four vertices has at least three colours)
//!   lets every non-zero be read from either its row or its column. An arrow
//!   takes two colours this way, against `n` for a one-sided colouring.
//!
//! Both are greedy (the one-sided colouring largest degree first); the star
//! colouring checks, as it colours each vertex, every path on four vertices
//! through it.

use crate::trace::Deps;

const UNSET: u32 = u32::MAX;

/// The colour of each vertex and the number of colours (passes).
#[derive(Clone, Debug, PartialEq)]
pub struct Colouring {
    pub colours: Vec<u32>,
    pub count: usize,
}

/// Greedy colouring in `order`: `forbid(v, colour, mark)` marks the colours
/// `v` may not take (by calling `mark(c)`), and `v` takes the smallest other.
fn greedy(
    order: &[usize],
    mut forbid: impl FnMut(usize, &[u32], &mut dyn FnMut(u32)),
) -> Colouring {
    let n = order.len();
    let mut colours = vec![UNSET; n];
    // forbidden[c] == v: colour c is taken around v (a stamp, never reset)
    let mut forbidden: Vec<usize> = Vec::new();
    for &v in order {
        let mut mark = |c: u32| forbidden[c as usize] = v;
        forbid(v, &colours, &mut mark);
        let c = match forbidden.iter().position(|&f| f != v) {
            Some(c) => c,
            None => {
                forbidden.push(usize::MAX);
                forbidden.len() - 1
            }
        };
        colours[v] = c as u32;
    }
    Colouring {
        colours,
        count: forbidden.len(),
    }
}

/// Vertices by decreasing degree (ties in index order).
fn largest_first(degree: &[usize]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..degree.len()).collect();
    order.sort_by_key(|&v| std::cmp::Reverse(degree[v]));
    order
}

/// Colours for the `cols` columns of `pattern` such that two columns with a
/// non-zero in the same row differ (a distance-2 colouring of the bipartite
/// graph): the seeds of a forward-mode sparse Jacobian.
pub fn colour_columns(pattern: &Deps, cols: usize) -> Colouring {
    let by_col = pattern.transpose(cols);
    // a column's degree: the other columns it meets in some row
    let mut seen = vec![usize::MAX; cols];
    let degree: Vec<usize> = (0..cols)
        .map(|j| {
            let mut d = 0;
            for &i in by_col.row(j) {
                for &k in pattern.row(i as usize) {
                    if k as usize != j && seen[k as usize] != j {
                        seen[k as usize] = j;
                        d += 1;
                    }
                }
            }
            d
        })
        .collect();
    greedy(&largest_first(&degree), |j, colours, mark| {
        for &i in by_col.row(j) {
            for &k in pattern.row(i as usize) {
                let c = colours[k as usize];
                if c != UNSET {
                    mark(c);
                }
            }
        }
    })
}

/// Colours for the rows of `pattern` (of `cols` columns) such that two rows
/// with a non-zero in the same column differ: the seeds of a reverse-mode
/// sparse Jacobian.
pub fn colour_rows(pattern: &Deps, cols: usize) -> Colouring {
    colour_columns(&pattern.transpose(cols), pattern.rows())
}

/// A star colouring of the graph with adjacency `adj` (symmetric, no
/// diagonal): the seeds of a sparse Hessian. Vertices are coloured smallest
/// degree first: colouring `v` scans the neighbourhoods of its coloured
/// neighbours, so a hub coloured early would be scanned once per neighbour
/// (`n^2` for an arrow), and coloured last, once.
pub fn star_colouring(adj: &Deps) -> Colouring {
    let n = adj.rows();
    let degree: Vec<usize> = (0..n).map(|v| adj.row(v).len()).collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&v| degree[v]);
    // how many neighbours of the current vertex have each colour
    let mut tally_at = vec![usize::MAX; n.max(1)];
    let mut tally = vec![0usize; n.max(1)];
    greedy(&order, |v, colours, mark| {
        let neighbours = adj.row(v);
        for &w in neighbours {
            let c = colours[w as usize];
            if c != UNSET {
                mark(c);
                let c = c as usize;
                if tally_at[c] != v {
                    tally_at[c] = v;
                    tally[c] = 0;
                }
                tally[c] += 1;
            }
        }
        for &w in neighbours {
            let cw = colours[w as usize];
            if cw == UNSET {
                continue;
            }
            // v in the middle of y - v - w - x: another neighbour y shares w's
            // colour, so v may not take the colour of any x beyond w
            let twice = tally[cw as usize] >= 2;
            for &x in adj.row(w as usize) {
                let cx = colours[x as usize];
                if x as usize == v || cx == UNSET {
                    continue;
                }
                // v at the end of v - w - x - y: x has a neighbour y (not w)
                // of w's colour, so v may not take x's
                if twice
                    || adj
                        .row(x as usize)
                        .iter()
                        .any(|&y| y != w && colours[y as usize] == cw)
                {
                    mark(cx);
                }
            }
        }
    })
}

/// For each stored entry `(i, j)` of the symmetric `pattern` (in CSR order),
/// where to read it in the compressed Hessian `B[c][r] = sum over k of colour
/// c of H[r][k]`: `(colour(j), i)` when `j` is the only one of its colour in
/// row `i`, else `(colour(i), j)` when `i` is in row `j`. `None` if some
/// entry has neither (not a star colouring of `pattern`).
pub fn star_sources(pattern: &Deps, colouring: &Colouring) -> Option<Vec<(u32, u32)>> {
    let colours = &colouring.colours;
    let n = pattern.rows();
    let indptr = pattern.indptr();
    // alone[k]: entry k is the only one of its column's colour in its row
    let mut alone = vec![false; pattern.nnz()];
    let mut count = vec![0u32; colouring.count];
    for i in 0..n {
        let row = pattern.row(i);
        for &j in row {
            count[colours[j as usize] as usize] += 1;
        }
        for (k, &j) in row.iter().enumerate() {
            alone[indptr[i] + k] = count[colours[j as usize] as usize] == 1;
        }
        for &j in row {
            count[colours[j as usize] as usize] = 0;
        }
    }
    let mut sources = Vec::with_capacity(pattern.nnz());
    for i in 0..n {
        for (k, &j) in pattern.row(i).iter().enumerate() {
            if alone[indptr[i] + k] {
                sources.push((colours[j as usize], i as u32));
                continue;
            }
            let mirror = pattern.row(j as usize).binary_search(&(i as u32)).ok()?;
            if !alone[indptr[j as usize] + mirror] {
                return None;
            }
            sources.push((colours[i], j));
        }
    }
    Some(sources)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(rows: usize, cols: usize, nz: impl Fn(usize, usize) -> bool) -> Deps {
        let mut indptr = vec![0];
        let mut indices = Vec::new();
        for i in 0..rows {
            indices.extend((0..cols).filter(|&j| nz(i, j)).map(|j| j as i64));
            indptr.push(indices.len());
        }
        Deps::from_csr(&indptr, &indices, cols).unwrap()
    }

    /// Two columns (rows) meeting in a row (column) never share a colour.
    fn columns_ok(p: &Deps, c: &Colouring) -> bool {
        (0..p.rows()).all(|i| {
            let mut seen: Vec<u32> = p.row(i).iter().map(|&j| c.colours[j as usize]).collect();
            seen.sort_unstable();
            seen.windows(2).all(|w| w[0] != w[1])
        })
    }

    #[test]
    fn bands_take_their_width() {
        for half in 0..4usize {
            let p = pattern(40, 40, |i, j| i.abs_diff(j) <= half);
            let c = colour_columns(&p, 40);
            assert_eq!(c.count, 2 * half + 1);
            assert!(columns_ok(&p, &c));
            assert_eq!(colour_rows(&p, 40).count, 2 * half + 1);
        }
    }

    #[test]
    fn a_dense_row_separates_columns_but_not_rows() {
        // arrow without its column: row 0 dense, plus the diagonal
        let p = pattern(30, 30, |i, j| i == 0 || i == j);
        assert_eq!(colour_columns(&p, 30).count, 30);
        assert_eq!(colour_rows(&p, 30).count, 2);
        // empty rows and columns cost nothing
        let e = pattern(5, 7, |_, _| false);
        assert_eq!(colour_columns(&e, 7).count, 1);
        assert_eq!(colour_columns(&Deps::empty(0), 0).count, 0);
    }

    #[test]
    fn star_colourings_recover_arrows_and_bands() {
        let arrow = pattern(50, 50, |i, j| i == 0 || j == 0 || i == j);
        let c = star_colouring(&arrow.without_diagonal().unwrap());
        assert_eq!(c.count, 2);
        assert!(star_sources(&arrow, &c).is_some());
        // a path's star chromatic number is 3, a 5-band's is more than its 3
        let tri = pattern(60, 60, |i, j| i.abs_diff(j) <= 1);
        let c = star_colouring(&tri.without_diagonal().unwrap());
        assert_eq!(c.count, 3);
        assert!(star_sources(&tri, &c).is_some());
        let penta = pattern(60, 60, |i, j| i.abs_diff(j) <= 2);
        let c = star_colouring(&penta.without_diagonal().unwrap());
        assert!(c.count <= 5 && star_sources(&penta, &c).is_some());
        // a distance-1 colouring of a path (two colours) is not a star one
        let two = Colouring {
            colours: (0..60).map(|i| (i % 2) as u32).collect(),
            count: 2,
        };
        assert!(star_sources(&tri, &two).is_none());
    }

    #[test]
    fn random_patterns_colour_validly() {
        // a small linear congruential generator: no dependency for a test
        let mut state = 12345u64;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as usize
        };
        for _ in 0..30 {
            let (r, c) = (1 + next() % 25, 1 + next() % 25);
            let cells: Vec<bool> = (0..r * c).map(|_| next() % 5 == 0).collect();
            let p = pattern(r, c, |i, j| cells[i * c + j]);
            assert!(columns_ok(&p, &colour_columns(&p, c)));
            let t = p.transpose(c);
            assert!(columns_ok(&t, &colour_rows(&p, c)));
            let sq = pattern(r, r, |i, j| cells[(i * c + j) % (r * c)])
                .symmetrized()
                .unwrap();
            let star = star_colouring(&sq.without_diagonal().unwrap());
            assert!(star_sources(&sq, &star).is_some());
        }
    }
}
