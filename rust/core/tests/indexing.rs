//! NumPy indexing and `.at` updates from Rust: values, errors and gradients.

use ferrax_core::ops::indexing::{at_update, flat_positions, getitem, AtOp, IndexItem};
use ferrax_core::ops::{reduce, ReduceOp};
use ferrax_core::transforms::{grad, vmap, Outputs};
use ferrax_core::{Error, Tensor, Value};

use IndexItem::{Array, Ellipsis, Int, Mask, NewAxis, Slice};

/// `arange(12.0).reshape(3, 4)`.
fn grid() -> Value {
    let data: Vec<f64> = (0..12).map(f64::from).collect();
    Value::Concrete(Tensor::from_slice(&data, &[3, 4]).unwrap())
}

fn ints(x: &[i64]) -> Value {
    Value::Concrete(Tensor::from_slice(x, &[x.len()]).unwrap())
}

fn flags(x: &[bool]) -> Value {
    Value::Concrete(Tensor::from_slice(x, &[x.len()]).unwrap())
}

fn vals(x: &Value) -> (Vec<usize>, Vec<f64>) {
    let t = x.concrete().unwrap();
    (t.shape().to_vec(), t.to_vec::<f64>().unwrap())
}

#[test]
fn basic_indices_select_views() {
    let x = grid();
    assert_eq!(
        vals(&getitem(&x, &[Int(1)]).unwrap()),
        (vec![4], vec![4.0, 5.0, 6.0, 7.0])
    );
    let y = getitem(&x, &[Slice(None, None, Some(-2)), Int(-1)]).unwrap();
    assert_eq!(vals(&y), (vec![2], vec![11.0, 3.0]));
    let y = getitem(&x, &[NewAxis, Ellipsis, Slice(Some(1), Some(3), None)]).unwrap();
    assert_eq!(vals(&y), (vec![1, 3, 2], vec![1., 2., 5., 6., 9., 10.]));
}

#[test]
fn arrays_and_masks_gather_with_numpys_axis_placement() {
    let x = grid();
    // adjacent advanced indices stay in place
    let y = getitem(&x, &[Slice(None, None, None), Array(ints(&[3, 0]))]).unwrap();
    assert_eq!(vals(&y), (vec![3, 2], vec![3., 0., 7., 4., 11., 8.]));
    // an integer combined with an array is an array index
    let y = getitem(&x, &[Array(ints(&[2, 0])), Int(1)]).unwrap();
    assert_eq!(vals(&y), (vec![2], vec![9.0, 1.0]));
    let y = getitem(&x, &[Mask(flags(&[true, false, true]))]).unwrap();
    assert_eq!(vals(&y).0, vec![2, 4]);
    assert_eq!(vals(&y).1[4..], [8., 9., 10., 11.]);
}

#[test]
fn bad_keys_are_index_errors() {
    let x = grid();
    let index_error = |key: &[IndexItem]| matches!(getitem(&x, key), Err(Error::Index(_)));
    assert!(index_error(&[Int(3)]));
    assert!(index_error(&[Int(0), Int(0), Int(0)]));
    assert!(index_error(&[Ellipsis, Ellipsis]));
    assert!(index_error(&[Array(ints(&[0, 5]))]));
    assert!(index_error(&[Mask(flags(&[true, false]))]));
    assert!(index_error(&[
        Array(ints(&[0, 1])),
        Array(ints(&[0, 1, 2]))
    ]));
    assert!(matches!(
        getitem(&x, &[Slice(None, None, Some(0))]),
        Err(Error::Value(_))
    ));
}

#[test]
fn updates_handle_repeated_positions() {
    let x = Value::Concrete(Tensor::from_slice(&[1.0, 1.0, 1.0], &[3]).unwrap());
    let key = [Array(ints(&[0, 2, 0]))];
    let v = Value::Concrete(Tensor::from_slice(&[2.0, 3.0, 5.0], &[3]).unwrap());
    let at = |op| vals(&at_update(&x, &key, op, &v).unwrap()).1;
    assert_eq!(at(AtOp::Add), vec![8.0, 1.0, 4.0]);
    assert_eq!(at(AtOp::Set), vec![5.0, 1.0, 3.0]); // the last write wins
    assert_eq!(at(AtOp::Multiply), vec![10.0, 1.0, 3.0]);
}

#[test]
fn flat_positions_follow_the_selection() {
    let p = flat_positions(&[3, 4], &[Slice(None, None, None), Array(ints(&[1]))]).unwrap();
    assert_eq!(p.shape(), &[3, 1]);
    assert_eq!(p.to_vec::<i64>().unwrap(), vec![1, 5, 9]);
}

#[test]
fn gradients_flow_through_indexing_and_updates() {
    let sum = |v: &Value| reduce::reduction(ReduceOp::Sum, v, None, false);
    // d/dx sum(x[[0, 0, 2]]) counts how often each element was read
    let x = Value::Concrete(Tensor::from_slice(&[1.0, 2.0, 3.0], &[3]).unwrap());
    let (_, g) = grad(
        |xs| sum(&getitem(&xs[0], &[Array(ints(&[0, 0, 2]))])?),
        std::slice::from_ref(&x),
    )
    .unwrap();
    assert_eq!(vals(&g[0]).1, vec![2.0, 0.0, 1.0]);
    // d/dv sum(x.at[[1, 1]].set(v)): only the last write reaches the output
    let v = Value::Concrete(Tensor::from_slice(&[4.0, 5.0], &[2]).unwrap());
    let (_, g) = grad(
        |vs| sum(&at_update(&x, &[Array(ints(&[1, 1]))], AtOp::Set, &vs[0])?),
        std::slice::from_ref(&v),
    )
    .unwrap();
    assert_eq!(vals(&g[0]).1, vec![0.0, 1.0]);
}

#[test]
fn traced_indices_under_vmap_select_per_example() {
    let x = grid();
    let idx = Value::Concrete(Tensor::from_slice(&[3i64, 0, 1], &[3]).unwrap());
    // per example b: row b of x at idx[b] (a traced 0-d index)
    let mut f = |a: &[Value]| Ok(Outputs::from(vec![getitem(&a[0], &[Array(a[1].clone())])?]));
    let (out, _) = vmap(&mut f, &[x, idx], &[Some(0), Some(0)], 3).unwrap();
    assert_eq!(vals(&out[0].0), (vec![3], vec![3.0, 4.0, 9.0]));
}
