//! Linear algebra from Rust: factorisations, their derivatives through the
//! transforms, batching, and LinAlg errors.

use ferrax_core::ops::numpy_linalg as nl;
use ferrax_core::ops::{reduce, ReduceOp};
use ferrax_core::transforms::{grad, vmap, Outputs};
use ferrax_core::{Error, Result, Tensor, Value};

fn m(x: &[f64], r: usize, c: usize) -> Value {
    Value::Concrete(Tensor::from_slice(x, &[r, c]).unwrap())
}

fn vec_of(x: &Value) -> Vec<f64> {
    x.concrete().unwrap().to_vec::<f64>().unwrap()
}

fn sum(x: &Value) -> Result<Value> {
    reduce::reduction(ReduceOp::Sum, x, None, false)
}

fn close(a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() < 1e-10, "{a:?} != {b:?}");
    }
}

const A: [f64; 4] = [4.0, 2.0, 2.0, 3.0]; // symmetric positive definite, det 8

#[test]
fn solve_inv_det() {
    let a = m(&A, 2, 2);
    let inv = nl::inv(&a).unwrap();
    close(&vec_of(&inv), &[0.375, -0.25, -0.25, 0.5]);
    close(&vec_of(&nl::det(&a).unwrap()), &[8.0]);
    let x = nl::solve(&a, &m(&[1.0, 2.0], 2, 1)).unwrap();
    close(&vec_of(&x), &[-0.125, 0.75]);
}

#[test]
fn gradient_of_log_det_is_the_inverse_transpose() {
    let (_, g) = grad(|xs| Ok(nl::slogdet(&xs[0])?.1), &[m(&A, 2, 2)]).unwrap();
    close(&vec_of(&g[0]), &[0.375, -0.25, -0.25, 0.5]);
}

#[test]
fn gradient_of_eigenvalue_sum_is_the_identity() {
    let (_, g) = grad(|xs| sum(&nl::eigvalsh(&xs[0], "L")?), &[m(&A, 2, 2)]).unwrap();
    close(&vec_of(&g[0]), &[1.0, 0.0, 0.0, 1.0]);
}

#[test]
fn cholesky_reconstructs_and_batches() {
    let l = nl::cholesky(&m(&A, 2, 2), false).unwrap();
    let v = vec_of(&l);
    close(&v, &[2.0, 0.0, 1.0, 2f64.sqrt()]);
    let batch = Value::Concrete(
        Tensor::from_slice(&[4.0, 2.0, 2.0, 3.0, 1.0, 0.0, 0.0, 9.0], &[2, 2, 2]).unwrap(),
    );
    let mut f = |xs: &[Value]| Ok(Outputs::from(vec![nl::cholesky(&xs[0], false)?]));
    let (out, _) = vmap(&mut f, &[batch], &[Some(0)], 2).unwrap();
    close(
        &vec_of(&out[0].0),
        &[2.0, 0.0, 1.0, 2f64.sqrt(), 1.0, 0.0, 0.0, 3.0],
    );
}

#[test]
fn singular_and_indefinite_matrices_are_linalg_errors() {
    let singular = m(&[1.0, 2.0, 2.0, 4.0], 2, 2);
    assert!(matches!(nl::inv(&singular), Err(Error::LinAlg(_))));
    let indefinite = m(&[1.0, 2.0, 2.0, 1.0], 2, 2);
    assert!(matches!(
        nl::cholesky(&indefinite, false),
        Err(Error::LinAlg(_))
    ));
    let r = grad(|xs| sum(&nl::inv(&xs[0])?), &[singular]);
    assert!(matches!(r, Err(Error::LinAlg(_))));
}
