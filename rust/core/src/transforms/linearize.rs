//! `linearize`: evaluate the function once, recording its tape as reverse
//! mode does, then push any number of tangents forward through the tape. Each
//! push runs every recorded op's JVP rule on the recorded primals, so the
//! function is not called again and no primal is recomputed; the tape (every
//! intermediate) is kept alive as long as the linear function is.

use super::{vjp, Fun, VjpFn};
use crate::error::{Error, Result};
use crate::ops::zeros;
use crate::tensor::shape::fmt_shape;
use crate::trace::Value;

/// `f(primals)`, the linear map `t ↦ J t` at `primals` (call
/// [`VjpFn::push_forward`] on it; it is also the pullback `ct ↦ Jᵀ ct`), and
/// the auxiliary values.
pub fn linearize(f: &mut Fun, primals: &[Value]) -> Result<(Vec<Value>, VjpFn, Vec<Value>)> {
    vjp(f, primals, true)
}

impl VjpFn {
    /// The tangents of the outputs for `tangents` of the inputs (`None`:
    /// zero), by forward mode over the recorded tape.
    pub fn push_forward(&self, tangents: &[Option<Value>]) -> Result<Vec<Value>> {
        if tangents.len() != self.n_inputs {
            return Err(Error::Value(format!(
                "linearized function expected {} tangents, got {}",
                self.n_inputs,
                tangents.len()
            )));
        }
        for (i, (t, aval)) in tangents.iter().zip(&self.inputs).enumerate() {
            let Some(t) = t else { continue };
            t.check_live()?;
            if t.shape() != aval.shape {
                return Err(Error::Shape(format!(
                    "linearized function: tangent {i} has shape {} but its primal has shape {}",
                    fmt_shape(&t.shape()),
                    fmt_shape(&aval.shape)
                )));
            }
            if t.dtype() != aval.dtype {
                return Err(Error::Type(format!(
                    "linearized function: tangent {i} has dtype {} but its primal has dtype {}",
                    t.dtype(),
                    aval.dtype
                )));
            }
        }
        let nodes = &self.tape.nodes;
        let mut slots: Vec<Option<Value>> = Vec::with_capacity(nodes.len());
        slots.extend(tangents.iter().cloned());
        for node in &nodes[self.n_inputs..] {
            if crate::interrupt::poll() {
                return Err(Error::Interrupted);
            }
            let rule = node
                .rule
                .as_ref()
                .ok_or_else(|| Error::Trace("internal error: a leaf after the inputs".into()))?;
            let ts: smallvec::SmallVec<[Option<Value>; 4]> = node
                .parents
                .iter()
                .map(|p| p.and_then(|p| slots[p as usize].clone()))
                .collect();
            let t = if ts.iter().all(Option::is_none) {
                None
            } else {
                rule.jvp(&node.inputs, &ts, &node.output)?
            };
            slots.push(t);
        }
        self.outputs
            .iter()
            .map(
                |(aval, node)| match node.and_then(|id| slots[id as usize].clone()) {
                    Some(t) if t.dtype() != aval.dtype => {
                        crate::ops::shape::convert(&t, aval.dtype)
                    }
                    Some(t) => Ok(t),
                    None => zeros(&aval.shape, aval.dtype),
                },
            )
            .collect()
    }
}

/// The transpose of a linear `f` whose inputs have the shapes and dtypes of
/// `primals` (their values are not used): its pullback, traced at zero.
///
/// Linearity is checked, not assumed: `f` at a probe input (deterministic,
/// non-zero, irregular) must equal its derivative at zero applied to that
/// input, which holds for every linear function and fails for an affine or
/// non-linear one (whose transpose would otherwise be silently that of its
/// derivative at zero).
pub fn linear_transpose(f: &mut Fun, primals: &[Value]) -> Result<VjpFn> {
    let at_zero: Vec<Value> = primals
        .iter()
        .map(|p| zeros(&p.shape(), p.dtype()))
        .collect::<Result<_>>()?;
    let (_, lin, _) = vjp(f, &at_zero, false)?;
    let mut offset = 0.0;
    let probes: Vec<Value> = primals
        .iter()
        .map(|p| {
            let n = p.size();
            // sin(1.3 k + 0.7): no zero entries, no two rows proportional
            let k = crate::ops::creation::arange(offset, offset + n as f64, 1.0, p.dtype())?;
            offset += n as f64;
            let v = crate::ops::unary::sin(&crate::ops::binary::add(
                &crate::ops::binary::mul(&k, &crate::ops::scalar_like(&k, 1.3))?,
                &crate::ops::scalar_like(&k, 0.7),
            )?)?;
            crate::ops::shape::reshape(&v, &p.shape())
        })
        .collect::<Result<_>>()?;
    let direct = f(&probes)?.values;
    let through = lin.push_forward(&probes.iter().cloned().map(Some).collect::<Vec<_>>())?;
    for (i, (d, t)) in direct.iter().zip(&through).enumerate() {
        if d.size() == 0 {
            continue;
        }
        let tol = if d.dtype() == crate::tensor::DType::F32 {
            1e-4
        } else {
            1e-9
        };
        // every example's verdict under vmap (a batched value has several)
        let same = crate::ops::elementwise::isclose(d, t, tol, tol, true)?.physical()?;
        let same = crate::ops::shape::convert(&Value::Concrete(same), crate::tensor::DType::F64)?;
        let all = crate::ops::reduce::reduction(crate::ops::ReduceOp::Min, &same, None, false)?;
        if all.concrete()?.item_f64()? != 1.0 {
            return Err(Error::Value(format!(
                "linear_transpose: the function is not linear in its inputs (output {i} at a \
                 probe input differs from its derivative at zero applied to that input); \
                 transpose its linearization instead (fx.linearize, fx.vjp)"
            )));
        }
    }
    Ok(lin)
}
