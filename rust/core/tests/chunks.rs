//! Jacobians and vmaps in independent chunks: the plan, each chunk computed
//! on its own (as a worker would) and the assembly are the local transform,
//! bit for bit; results that do not match the plan are refused.

use ferrax_core::ops::{binary, reduce, unary, ReduceOp};
use ferrax_core::transforms::{
    batch_chunks, batch_slice, hessian, jacfwd, jacobian_by_chunks, jacobian_chunk, jacrev,
    join_batches, place_batch_axis, vmap, BasisChunk, JacobianMode, Outputs,
};
use ferrax_core::{Error, Result, Tensor, Value};

fn t(x: &[f64], shape: &[usize]) -> Value {
    Value::Concrete(Tensor::from_slice(x, shape).unwrap())
}

fn bits(v: &Value) -> (Vec<usize>, Vec<u64>) {
    let c = v.concrete().unwrap();
    let data = c.to_vec::<f64>().unwrap();
    (
        c.shape().to_vec(),
        data.iter().map(|x| x.to_bits()).collect(),
    )
}

/// Two arguments (a 2x3 matrix and a 3-vector), two outputs (a 2-vector and a scalar).
fn model(xs: &[Value]) -> Result<Outputs> {
    let (w, x) = (&xs[0], &xs[1]);
    let h = unary::tanh(&ferrax_core::ops::linalg::matmul(w, x)?)?;
    let sq = reduce::reduction(ReduceOp::Sum, &binary::mul(x, x)?, None, false)?;
    let out = binary::mul(&h, &sq)?;
    let total = reduce::reduction(ReduceOp::Sum, &unary::sin(&h)?, None, false)?;
    Ok(Outputs {
        values: vec![out, total],
        aux: vec![sq],
    })
}

fn args() -> Vec<Value> {
    vec![
        t(&[0.3, -1.2, 0.7, 2.0, 0.1, -0.4], &[2, 3]),
        t(&[1.5, -0.5, 0.25], &[3]),
    ]
}

/// Every chunk computed by its own call (a fresh forward pass each, as on a worker).
fn by_chunks(
    mode: JacobianMode,
    chunk: Option<usize>,
    workers: usize,
) -> (Vec<Vec<Value>>, Vec<Value>) {
    let a = args();
    let mut f = |xs: &[Value]| model(xs);
    let mut run = |plan: &[BasisChunk]| -> Result<Vec<Vec<Value>>> {
        plan.iter()
            .map(|&c| jacobian_chunk(mode, &mut |xs: &[Value]| model(xs), &args(), &[0, 1], c))
            .collect()
    };
    jacobian_by_chunks(mode, &mut f, &a, &[0, 1], chunk, workers, &mut run).unwrap()
}

fn assert_same(a: &[Vec<Value>], b: &[Vec<Value>]) {
    assert_eq!(a.len(), b.len());
    for (ra, rb) in a.iter().zip(b) {
        assert_eq!(ra.len(), rb.len());
        for (x, y) in ra.iter().zip(rb) {
            assert_eq!(bits(x), bits(y));
        }
    }
}

#[test]
fn jacobians_by_chunks_are_the_local_ones_bit_for_bit() {
    for chunk in [1, 2, 3, 100] {
        let mut f = |xs: &[Value]| model(xs);
        let (rev, aux) = jacrev(&mut f, &args(), &[0, 1], Some(chunk)).unwrap();
        let (got, got_aux) = by_chunks(JacobianMode::Rev, Some(chunk), 1);
        assert_same(&got, &rev);
        assert_eq!(bits(&got_aux[0]), bits(&aux[0]));
        let (fwd, _) = jacfwd(&mut f, &args(), &[0, 1], Some(chunk)).unwrap();
        assert_same(&by_chunks(JacobianMode::Fwd, Some(chunk), 1).0, &fwd);
        // shapes: S_out + S_in
        assert_eq!(fwd[0][0].shape().as_slice(), &[2, 2, 3]);
        assert_eq!(fwd[1][1].shape().as_slice(), &[3]);
    }
    // without chunk_size: split for the workers (9 inputs, 2 workers: chunks of 2)
    let mut f = |xs: &[Value]| model(xs);
    let (fwd, _) = jacfwd(&mut f, &args(), &[0, 1], Some(2)).unwrap();
    assert_same(&by_chunks(JacobianMode::Fwd, None, 2).0, &fwd);
}

#[test]
fn hessian_by_chunks_is_the_local_one() {
    let scalar = |xs: &[Value]| -> Result<Outputs> {
        let x = &xs[0];
        let e = unary::exp(&binary::mul(x, x)?)?;
        Ok(Outputs::from(vec![reduce::reduction(
            ReduceOp::Sum,
            &e,
            None,
            false,
        )?]))
    };
    let x = vec![t(&[0.1, -0.3, 0.5, 0.2], &[4])];
    let mut f = scalar;
    let (local, _) = hessian(&mut f, &x, &[0], Some(3)).unwrap();
    let mut run = |plan: &[BasisChunk]| -> Result<Vec<Vec<Value>>> {
        plan.iter()
            .map(|&c| jacobian_chunk(JacobianMode::Hessian, &mut { scalar }, &x, &[0], c))
            .collect()
    };
    let (got, _) = jacobian_by_chunks(
        JacobianMode::Hessian,
        &mut f,
        &x,
        &[0],
        Some(3),
        1,
        &mut run,
    )
    .unwrap();
    assert_same(&got, &local);
    assert_eq!(got[0][0].shape().as_slice(), &[4, 4]);
}

#[test]
fn chunk_results_that_do_not_match_the_plan_are_refused() {
    let a = args();
    let mut f = |xs: &[Value]| model(xs);
    // one result short
    let mut short = |plan: &[BasisChunk]| -> Result<Vec<Vec<Value>>> {
        Ok(plan[1..]
            .iter()
            .map(|&c| {
                jacobian_chunk(
                    JacobianMode::Rev,
                    &mut |xs: &[Value]| model(xs),
                    &args(),
                    &[0, 1],
                    c,
                )
                .unwrap()
            })
            .collect())
    };
    let e = jacobian_by_chunks(
        JacobianMode::Rev,
        &mut f,
        &a,
        &[0, 1],
        Some(1),
        1,
        &mut short,
    );
    assert!(matches!(e, Err(Error::Value(m)) if m.contains("chunk results")));
    // the pieces of another chunk (wrong count)
    let mut wrong = |plan: &[BasisChunk]| -> Result<Vec<Vec<Value>>> {
        plan.iter()
            .map(|_| {
                let c = BasisChunk {
                    leaf: 0,
                    start: 0,
                    count: 2,
                };
                jacobian_chunk(
                    JacobianMode::Rev,
                    &mut |xs: &[Value]| model(xs),
                    &args(),
                    &[0, 1],
                    c,
                )
            })
            .collect()
    };
    let e = jacobian_by_chunks(
        JacobianMode::Rev,
        &mut f,
        &a,
        &[0, 1],
        Some(1),
        1,
        &mut wrong,
    );
    assert!(matches!(e, Err(Error::Value(m)) if m.contains("has a piece of shape")));
    // a chunk outside the basis
    for mode in [JacobianMode::Rev, JacobianMode::Fwd, JacobianMode::Hessian] {
        let c = BasisChunk {
            leaf: 5,
            start: 0,
            count: 1,
        };
        let e = jacobian_chunk(mode, &mut |xs: &[Value]| model(xs), &a, &[0, 1], c);
        assert!(matches!(e, Err(Error::Value(_))), "{mode:?}");
    }
    let c = BasisChunk {
        leaf: 0,
        start: 1,
        count: 6,
    };
    let e = jacobian_chunk(
        JacobianMode::Fwd,
        &mut |xs: &[Value]| model(xs),
        &a,
        &[0, 1],
        c,
    );
    assert!(matches!(e, Err(Error::Value(m)) if m.contains("not in the differentiated inputs")));
}

#[test]
fn a_vmap_in_chunks_is_the_whole_vmap() {
    // f(row, s) = (sin(row) * s, sum(row)): batched along axis 1 of a 3x7 matrix
    let data: Vec<f64> = (0..21).map(|i| (i as f64 * 0.37).cos()).collect();
    let m = t(&data, &[3, 7]);
    let s = Value::Concrete(Tensor::scalar(2.5));
    let args = [m, s];
    let axes = [Some(1), None];
    let mut f = |xs: &[Value]| {
        Ok(Outputs::from(vec![
            binary::mul(&unary::sin(&xs[0])?, &xs[1])?,
            reduce::reduction(ReduceOp::Sum, &xs[0], None, false)?,
            xs[1].clone(),
        ]))
    };
    let out_axes = [Some(1), Some(-1), None];
    let place = |outs: Vec<(Value, bool)>, n: usize| -> Vec<Value> {
        outs.into_iter()
            .zip(out_axes)
            .map(|((v, b), ax)| place_batch_axis(v, b, n, ax).unwrap())
            .collect()
    };
    let (whole, _) = vmap(&mut f, &args, &axes, 7).unwrap();
    let whole = place(whole, 7);
    for chunk in [1, 2, 3, 7, 10] {
        let parts: Vec<Vec<Value>> = batch_chunks(7, Some(chunk))
            .into_iter()
            .map(|(start, count)| {
                let sliced = batch_slice(&args, &axes, start, count).unwrap();
                place(vmap(&mut f, &sliced, &axes, count).unwrap().0, count)
            })
            .collect();
        let joined = join_batches(parts, &out_axes).unwrap();
        for (a, b) in joined.iter().zip(&whole) {
            assert_eq!(bits(a), bits(b), "chunk {chunk}");
        }
    }
    assert_eq!(batch_chunks(0, Some(3)), [(0, 0)]);
    assert_eq!(batch_chunks(5, None), [(0, 5)]);
    // chunks that disagree on their outputs are refused
    let e = join_batches(vec![vec![whole[0].clone()], vec![]], &[Some(0)]);
    assert!(matches!(e, Err(Error::Value(_))));
    assert!(join_batches(vec![], &[Some(0)]).is_err());
}
