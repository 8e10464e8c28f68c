//! Forward mode: push tangents through the function alongside the primals.

use super::{call_traced, check_float, Fun};
use crate::error::{Error, Result};
use crate::ops::zeros;
use crate::tensor::shape::fmt_shape;
use crate::trace::{LevelGuard, LevelKind, TracerKind, Value};

/// `f(primals)` and its derivative along `tangents` (`None`: zero), and the
/// auxiliary values. Every tangent matches its primal's shape and dtype.
pub fn jvp(
    f: &mut Fun,
    primals: &[Value],
    tangents: &[Option<Value>],
) -> Result<(Vec<Value>, Vec<Value>, Vec<Value>)> {
    if primals.len() != tangents.len() {
        return Err(Error::Value(format!(
            "jvp: got {} primals and {} tangents",
            primals.len(),
            tangents.len()
        )));
    }
    for (i, (p, t)) in primals.iter().zip(tangents).enumerate() {
        let Some(t) = t else { continue };
        check_float(p, "primal", i)?;
        t.check_live()?;
        if t.shape() != p.shape() {
            return Err(Error::Shape(format!(
                "jvp: tangent {i} has shape {} but its primal has shape {}",
                fmt_shape(&t.shape()),
                fmt_shape(&p.shape())
            )));
        }
        if t.dtype() != p.dtype() {
            return Err(Error::Type(format!(
                "jvp: tangent {i} has dtype {} but its primal has dtype {}",
                t.dtype(),
                p.dtype()
            )));
        }
    }
    let guard = LevelGuard::push(LevelKind::Jvp);
    let level = guard.level();
    let traced: Vec<Value> = primals
        .iter()
        .zip(tangents)
        .map(|(p, t)| match t {
            Some(t) => Value::tracer(
                level,
                TracerKind::Jvp {
                    primal: p.clone(),
                    tangent: t.clone(),
                },
            ),
            None => p.clone(),
        })
        .collect();
    let (out_values, aux) = call_traced(f, &traced, level)?;
    drop(guard);
    let mut values = Vec::with_capacity(out_values.len());
    let mut tans = Vec::with_capacity(out_values.len());
    for o in out_values {
        match o.at(level) {
            Some(TracerKind::Jvp { primal, tangent }) => {
                values.push(primal.clone());
                tans.push(tangent.clone());
            }
            _ => {
                tans.push(zeros(&o.shape(), o.dtype())?);
                values.push(o);
            }
        }
    }
    Ok((values, tans, aux))
}
