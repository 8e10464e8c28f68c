//! Checks of the transforms' own arguments (the caller's argnums and chunk
//! sizes), with one message each.

use crate::error::{Error, Result};

/// Positional `argnums` (negative from the end) as indices into `nargs`
/// arguments, in the order given: each in range, none repeated, at least one.
pub fn resolve_argnums(argnums: &[i64], nargs: usize, name: &str) -> Result<Vec<usize>> {
    if argnums.is_empty() {
        return Err(Error::Value(format!("{name}: argnums must not be empty")));
    }
    let mut out: Vec<usize> = Vec::with_capacity(argnums.len());
    for &a in argnums {
        let n = nargs as i64;
        if !(-n..n).contains(&a) {
            return Err(Error::Value(format!(
                "{name}: argnums {a} is out of range for a function called with {nargs} \
                 positional argument(s)"
            )));
        }
        let i = a.rem_euclid(n) as usize;
        if out.contains(&i) {
            return Err(Error::Value(format!(
                "{name}: argnums {argnums:?} names argument {i} more than once; each argument \
                 can be differentiated once"
            )));
        }
        out.push(i);
    }
    Ok(out)
}

/// A Jacobian's `chunk_size`: a positive number of basis vectors, or none
/// (all at once). `given` is how the caller wrote it, for the message.
pub fn check_chunk_size(chunk: Option<i64>, given: &str, name: &str) -> Result<Option<usize>> {
    match chunk {
        None => Ok(None),
        Some(c) if c >= 1 => Ok(Some(c as usize)),
        Some(_) => Err(Error::Value(format!(
            "{name}: chunk_size must be a positive int or None, got {given}"
        ))),
    }
}
