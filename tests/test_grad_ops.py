"""Derivatives of every differentiable op, in float64:

- ``jvp`` and ``vjp`` against central finite differences (random tangents / cotangents),
- ``jacfwd == jacrev`` (and both equal the finite-difference Jacobian),
- ``vmap`` of the op equals a Python loop, for several ``in_axes``,
- ``vmap`` of ``jvp`` and of ``vjp`` equal loops of them.

Plus hand-written expectations where finite differences do not apply (ties of
max/min, products with zeros, stop_gradient, dtype casts, repeated indices).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ferrax as fx
import numpy as np
import pytest
from gradcheck import (
    batch_args,
    check_hessian,
    check_jac,
    check_jvp,
    check_vjp,
    check_vmap,
    check_vmap_jvp,
    check_vmap_vjp,
    partial_fn,
    to_np,
)

_rng = np.random.default_rng(20240531)


def u(*shape: int, lo: float = -1.0, hi: float = 1.0) -> np.ndarray:
    """Uniform float64 values."""
    return _rng.uniform(lo, hi, size=shape)


def away(*shape: int, lo: float = 0.2, hi: float = 1.0) -> np.ndarray:
    """Values with random sign and magnitude in [lo, hi] (away from zero)."""
    return _rng.choice([-1.0, 1.0], size=shape) * _rng.uniform(lo, hi, size=shape)


def frac(*shape: int) -> np.ndarray:
    """Values whose fractional part is in [0.2, 0.4] (away from integers and halves)."""
    return _rng.integers(-3, 3, size=shape) + _rng.uniform(0.2, 0.4, size=shape)


@dataclass
class Case:
    id: str
    f: Callable
    args: tuple
    argnums: tuple | None = None  # differentiated positions (default: all)
    rtol: float = 1e-6
    atol: float = 1e-7
    jac: bool = True  # single array output (for jacfwd/jacrev)
    vmap: bool = True  # False where the op needs concrete values (data-dependent masks)

    @property
    def nums(self) -> tuple:
        return tuple(range(len(self.args))) if self.argnums is None else self.argnums


CASES: list[Case] = []


def case(id: str, f: Callable, *args: Any, **kw: Any) -> None:
    CASES.append(Case(id, f, tuple(args), **kw))


# ------------------------------------------------------- elementwise unary ---

X23 = u(2, 3)
UNARY = [
    ("neg", fx.neg, u(2, 3)),
    ("negative_alias", fx.negative, u(2, 3)),
    ("abs", fx.abs, away(2, 3)),
    ("sign", fx.sign, away(2, 3)),
    ("exp", fx.exp, u(2, 3)),
    ("exp2", fx.exp2, u(2, 3)),
    ("expm1", fx.expm1, u(2, 3)),
    ("log", fx.log, u(2, 3, lo=0.3, hi=2.0)),
    ("log2", fx.log2, u(2, 3, lo=0.3, hi=2.0)),
    ("log10", fx.log10, u(2, 3, lo=0.3, hi=2.0)),
    ("log1p", fx.log1p, u(2, 3, lo=-0.6, hi=2.0)),
    ("sqrt", fx.sqrt, u(2, 3, lo=0.3, hi=2.0)),
    ("rsqrt", fx.rsqrt, u(2, 3, lo=0.3, hi=2.0)),
    ("square", fx.square, u(2, 3)),
    ("reciprocal", fx.reciprocal, away(2, 3, lo=0.3)),
    ("sin", fx.sin, u(2, 3, lo=-3, hi=3)),
    ("cos", fx.cos, u(2, 3, lo=-3, hi=3)),
    ("tan", fx.tan, u(2, 3, lo=-1.2, hi=1.2)),
    ("arcsin", fx.arcsin, u(2, 3, lo=-0.9, hi=0.9)),
    ("arccos", fx.arccos, u(2, 3, lo=-0.9, hi=0.9)),
    ("arctan", fx.arctan, u(2, 3, lo=-3, hi=3)),
    ("sinh", fx.sinh, u(2, 3, lo=-2, hi=2)),
    ("cosh", fx.cosh, u(2, 3, lo=-2, hi=2)),
    ("tanh", fx.tanh, u(2, 3, lo=-2, hi=2)),
    ("arcsinh", fx.arcsinh, u(2, 3, lo=-3, hi=3)),
    ("arctanh", fx.arctanh, u(2, 3, lo=-0.9, hi=0.9)),
    ("arccosh", fx.arccosh, u(2, 3, lo=1.2, hi=4.0)),
    ("sigmoid", fx.sigmoid, u(2, 3, lo=-4, hi=4)),
    ("relu", fx.relu, away(2, 3)),
    ("softplus", fx.softplus, u(2, 3, lo=-4, hi=4)),
    ("erf", fx.erf, u(2, 3, lo=-2, hi=2)),
    ("erfc", fx.erfc, u(2, 3, lo=-2, hi=2)),
    ("logit", fx.logit, u(2, 3, lo=0.1, hi=0.9)),
    ("gammaln", fx.gammaln, u(2, 3, lo=0.2, hi=5.0)),
    ("digamma", fx.digamma, u(2, 3, lo=0.2, hi=5.0)),
    ("ndtr", fx.ndtr, u(2, 3, lo=-3, hi=3)),
    ("log_ndtr", fx.log_ndtr, u(2, 3, lo=-8, hi=3)),
    ("ndtri", fx.ndtri, u(2, 3, lo=0.05, hi=0.95)),
    ("erfinv", fx.erfinv, u(2, 3, lo=-0.9, hi=0.9)),
    ("floor", fx.floor, frac(2, 3)),
    ("ceil", fx.ceil, frac(2, 3)),
    ("round", fx.round, frac(2, 3)),
    ("rint", fx.rint, frac(2, 3)),
    ("op_neg", lambda x: -x, u(2, 3)),
    ("op_abs", lambda x: abs(x), away(2, 3)),
    ("nn_relu", fx.nn.relu, away(2, 3)),
    ("nn_gelu_tanh", fx.nn.gelu, u(2, 3, lo=-3, hi=3)),
    ("nn_gelu_erf", lambda x: fx.nn.gelu(x, approximate=False), u(2, 3, lo=-3, hi=3)),
    ("nn_silu", fx.nn.silu, u(2, 3, lo=-3, hi=3)),
    ("scalar_sin", fx.sin, np.float64(0.7)),
    ("vec_exp", fx.exp, u(5)),
]
for _name, _f, _x in UNARY:
    case(_name, _f, _x)

# ------------------------------------------------------ elementwise binary ---

BCAST = [((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3))]


def _pos(*s):
    return u(*s, lo=0.5, hi=2.0)


for _sa, _sb in BCAST:
    _sid = f"{_sa}x{_sb}".replace(" ", "")
    case(f"add{_sid}", fx.add, u(*_sa), u(*_sb))
    case(f"subtract{_sid}", fx.subtract, u(*_sa), u(*_sb))
    case(f"multiply{_sid}", fx.multiply, u(*_sa), u(*_sb))
    case(f"divide{_sid}", fx.divide, u(*_sa), away(*_sb, lo=0.5))
    case(f"power{_sid}", fx.power, _pos(*_sa), u(*_sb, lo=-2, hi=2))
    case(f"arctan2{_sid}", fx.arctan2, away(*_sa), away(*_sb))
    case(f"hypot{_sid}", fx.hypot, away(*_sa), away(*_sb))
    case(f"logaddexp{_sid}", fx.logaddexp, u(*_sa), u(*_sb))
    case(f"logaddexp2{_sid}", fx.logaddexp2, u(*_sa), u(*_sb))
    case(f"xlogy{_sid}", fx.xlogy, u(*_sa), _pos(*_sb))
    case(f"xlog1py{_sid}", fx.xlog1py, u(*_sa), _pos(*_sb))
    case(f"maximum{_sid}", fx.maximum, u(*_sa), u(*_sb))
    case(f"minimum{_sid}", fx.minimum, u(*_sa), u(*_sb))
    # b reversed: the broadcast operand first
    case(f"multiply_rev{_sid}", fx.multiply, u(*_sb), u(*_sa))

# remainder: a / b away from integers, both signs of b
_rem_b = np.array([0.7, -1.3, 1.1])
_rem_a = np.array([[2.4, -1.9, 0.5], [-3.1, 2.9, 1.4]])
case("remainder", fx.remainder, _rem_a, _rem_b)
case("floor_divide", fx.floor_divide, _rem_a, _rem_b)  # zero derivative between the steps
case("op_mod", lambda a, b: a % b, _rem_a, _rem_b)
case("power_int_exponent_negative_base", lambda x: fx.power(x, 3.0), u(2, 3))
case("power_square_negative_base", lambda x: x**2, u(2, 3))
case("power_scalar_base", lambda y: fx.power(2.0, y), u(2, 3))
case("op_add_rev_numpy", lambda x: np.arange(3.0) + x, u(2, 3))
case("op_sub_rev_scalar", lambda x: 2.0 - x, u(2, 3))
case("op_div_rev_scalar", lambda x: 2.0 / x, away(2, 3, lo=0.4))
case("op_pow_rev", lambda x: 1.5**x, u(2, 3))
case("op_mul_div_chain", lambda a, b: a * b / (a + 3.0) - b, u(2, 3), u(3))
case("op_pow_both", lambda a, b: a**b, _pos(2, 3), u(3))
case("where", lambda a, b: fx.where(X23 > 0, a, b), u(2, 3), u(3))
case("where_scalar_branch", lambda a: fx.where(X23 > 0, a, 0.0), u(2, 3))
case(
    "where_bcast_cond", lambda a, b: fx.where(np.array([True, False, True]), a, b), u(2, 3), u(2, 1)
)
case(
    "clip_scalar_bounds",
    lambda x: fx.clip(x, -0.5, 0.5),
    np.array([[-0.9, -0.2, 0.3], [0.8, 0.1, -0.7]]),
)
case(
    "clip_lo_only",
    lambda x: fx.clip(x, -0.5, None),
    np.array([[-0.9, -0.2, 0.3], [0.8, 0.1, -0.7]]),
)
case(
    "clip_array_bounds",
    fx.clip,
    np.array([[-0.9, -0.2, 0.3], [0.8, 0.1, -0.7]]),
    np.array([-0.5, -0.4, -0.3]),
    np.array([0.5, 0.6, 0.2]),
)

# ------------------------------------------------------------ reductions ---

X234 = u(2, 3, 4)
REDUCTIONS = {
    "sum": fx.sum,
    "mean": fx.mean,
    "prod": fx.prod,
    "max": fx.max,
    "min": fx.min,
    "var": fx.var,
    "std": fx.std,
    "logsumexp": fx.logsumexp,
}
for _rname, _rf in REDUCTIONS.items():
    for _axis in (None, 0, -1, (0, 2)):
        for _kd in (False, True):
            case(
                f"{_rname}-axis{_axis}-kd{_kd}".replace(" ", ""),
                (lambda rf, ax, kd: lambda x: rf(x, axis=ax, keepdims=kd))(_rf, _axis, _kd),
                u(2, 3, 4, lo=0.3, hi=1.5) if _rname == "prod" else u(2, 3, 4),
            )
case("var_ddof1", lambda x: fx.var(x, axis=1, ddof=1), u(2, 3, 4))
case("std_ddof1", lambda x: fx.std(x, axis=0, ddof=1), u(2, 3, 4))
case("nn_logsumexp", lambda x: fx.nn.logsumexp(x, axis=-1), u(2, 3))
for _axis in (None, 0, 1, -1):
    case(f"cumsum-axis{_axis}", (lambda ax: lambda x: fx.cumsum(x, axis=ax))(_axis), u(2, 3, 4))
case("method_sum", lambda x: x.sum(axis=1), u(2, 3))
case("method_mean", lambda x: x.mean(), u(2, 3))
case("method_max", lambda x: x.max(axis=0), u(2, 3))
case("method_min", lambda x: x.min(), u(2, 3))
# products through zeros (finite differences are exact for a multilinear function)
_one_zero = np.array([[1.5, 0.0, -2.0], [0.5, 1.2, 0.7]])
_two_zeros = np.array([[1.5, 0.0, 0.0], [0.5, 1.2, 0.7]])
_zeros_split = np.array([[1.5, 0.0, -2.0], [0.0, 1.2, 0.7]])
for _zname, _z in (
    ("one_zero", _one_zero),
    ("two_zeros", _two_zeros),
    ("zeros_split", _zeros_split),
):
    case(f"prod_{_zname}_all", fx.prod, _z)
    case(f"prod_{_zname}_axis1", lambda x: fx.prod(x, axis=1), _z)
    case(f"prod_{_zname}_axis0", lambda x: fx.prod(x, axis=0, keepdims=True), _z)

# ------------------------------------------------------------ linear algebra ---

MATMUL_SHAPES = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3, 4)),
    ((2, 2, 3), (3, 4)),
    ((2, 1, 2, 3), (3, 3, 2)),
    ((3,), (2, 3, 2)),
    ((2, 2, 3), (3,)),
]
for _sa, _sb in MATMUL_SHAPES:
    _sid = f"{_sa}x{_sb}".replace(" ", "")
    case(f"matmul{_sid}", fx.matmul, u(*_sa), u(*_sb))
case("op_matmul", lambda a, b: a @ b, u(2, 3), u(3, 2))
case("op_matmul_rev_numpy", lambda b: np.ones((2, 3)) @ b, u(3, 2))
for _sa, _sb in [
    ((3,), (3,)),
    ((2, 3), (3, 4)),
    ((2, 3, 4), (4,)),
    ((2, 3), (2, 3, 2)),
    ((), (2,)),
]:
    case(f"dot{_sa}x{_sb}".replace(" ", ""), fx.dot, u(*_sa), u(*_sb))
case("vdot", fx.vdot, u(2, 3), u(2, 3))
case("vdot_shapes", fx.vdot, u(6), u(2, 3))
case("inner_vec", fx.inner, u(3), u(3))
case("inner_mat", fx.inner, u(2, 3), u(4, 3))
case("outer", fx.outer, u(3), u(2, 2))
case("tensordot1", lambda a, b: fx.tensordot(a, b, axes=1), u(2, 3), u(3, 4))
case("tensordot2", lambda a, b: fx.tensordot(a, b, axes=2), u(2, 3, 4), u(3, 4, 2))
case("tensordot0", lambda a, b: fx.tensordot(a, b, axes=0), u(2), u(3))
case(
    "tensordot_lists",
    lambda a, b: fx.tensordot(a, b, axes=([1, 0], [0, 2])),
    u(2, 3, 4),
    u(3, 5, 2),
)
EINSUMS = [
    ("ij,jk->ik", (2, 3), (3, 4)),
    ("bij,bjk->bik", (2, 2, 3), (2, 3, 2)),
    ("i,i->", (3,), (3,)),
    ("ij,ij->i", (2, 3), (2, 3)),
    ("ijk,k->ji", (2, 3, 4), (4,)),
    ("ii->i", (3, 3)),
    ("ii->", (3, 3)),
    ("ij->ji", (2, 3)),
    ("ij->", (2, 3)),
    ("ij,jk,kl->il", (2, 3), (3, 2), (2, 2)),
    ("i,j->ij", (2,), (3,)),
]
for _spec, *_shapes in EINSUMS:
    case(
        f"einsum[{_spec}]",
        (lambda sp: lambda *ops: fx.einsum(sp, *ops))(_spec),
        *[u(*sh) for sh in _shapes],
    )
case("trace", fx.trace, u(3, 3))
case("trace_offset", lambda x: fx.trace(x, offset=1), u(3, 4))
case("trace_3d_axes", lambda x: fx.trace(x, axis1=1, axis2=2), u(2, 3, 3))
case("diagonal", fx.diagonal, u(3, 4))
case("diagonal_offset_neg", lambda x: fx.diagonal(x, offset=-1), u(3, 4))
case("diagonal_3d", lambda x: fx.diagonal(x, 0, 0, 2), u(3, 2, 3))
case("norm_vec", fx.linalg.norm, u(4))
case("norm_fro", fx.linalg.norm, u(2, 3))
case("norm_axis", lambda x: fx.linalg.norm(x, axis=1), u(2, 3))
case("norm_axis_kd", lambda x: fx.linalg.norm(x, axis=0, keepdims=True), u(2, 3))
case("norm_ord1", lambda x: fx.linalg.norm(x, ord=1), away(4))
case("norm_ordinf", lambda x: fx.linalg.norm(x, ord=np.inf), np.array([0.3, -0.9, 0.5]))
case("norm_ord3", lambda x: fx.linalg.norm(x, ord=3), away(4))

# ---------------------------------------------------------------- shape ops ---

SHAPE_OPS = [
    ("reshape", lambda x: fx.reshape(x, (3, 2)), u(2, 3)),
    ("reshape_neg1", lambda x: fx.reshape(x, (-1,)), u(2, 3)),
    ("reshape_transposed", lambda x: fx.reshape(fx.transpose(x), (2, 3)), u(2, 3)),
    ("method_reshape", lambda x: x.reshape(6, 1), u(2, 3)),
    ("transpose", fx.transpose, u(2, 3, 4)),
    ("transpose_axes", lambda x: fx.transpose(x, (1, 2, 0)), u(2, 3, 4)),
    ("T", lambda x: x.T, u(2, 3)),
    ("permute_dims", lambda x: fx.permute_dims(x, (2, 0, 1)), u(2, 3, 4)),
    ("swapaxes", lambda x: fx.swapaxes(x, 0, -1), u(2, 3, 4)),
    ("moveaxis", lambda x: fx.moveaxis(x, 0, -1), u(2, 3, 4)),
    ("moveaxis_multi", lambda x: fx.moveaxis(x, (0, 1), (2, 0)), u(2, 3, 4)),
    ("expand_dims", lambda x: fx.expand_dims(x, 1), u(2, 3)),
    ("expand_dims_tuple", lambda x: fx.expand_dims(x, (0, -1)), u(2, 3)),
    ("squeeze", fx.squeeze, u(2, 1, 3, 1)),
    ("squeeze_axis", lambda x: fx.squeeze(x, axis=1), u(2, 1, 3)),
    ("broadcast_to", lambda x: fx.broadcast_to(x, (2, 4, 3)), u(4, 1)),
    ("broadcast_to_scalar", lambda x: fx.broadcast_to(x, (2, 3)), np.float64(0.4)),
    ("flip_all", fx.flip, u(2, 3)),
    ("flip_axis", lambda x: fx.flip(x, axis=1), u(2, 3)),
    ("flip_tuple", lambda x: fx.flip(x, axis=(0, 2)), u(2, 3, 2)),
    ("tile_int", lambda x: fx.tile(x, 2), u(2, 3)),
    ("tile_tuple", lambda x: fx.tile(x, (2, 1, 2)), u(2, 3)),
    ("repeat_int", lambda x: fx.repeat(x, 2, axis=1), u(2, 3)),
    ("repeat_flat", lambda x: fx.repeat(x, 2), u(2, 3)),
    ("repeat_array", lambda x: fx.repeat(x, [1, 0, 3], axis=1), u(2, 3)),
    ("pad_const", lambda x: fx.pad(x, 1), u(2, 3)),
    ("pad_asym_value", lambda x: fx.pad(x, ((0, 2), (1, 0)), constant_values=3.0), u(2, 3)),
    ("pad_edge", lambda x: fx.pad(x, ((1, 2), (2, 1)), mode="edge"), u(2, 3)),
    ("take_flat", lambda x: fx.take(x, np.array([0, 5, 2, 2])), u(2, 3)),
    ("take_axis1_repeated", lambda x: fx.take(x, np.array([[2, 0], [2, 2]]), axis=1), u(2, 3)),
    ("take_axis0_neg", lambda x: fx.take(x, np.array([-1, 0, -1]), axis=0), u(2, 3)),
    (
        "take_along_axis",
        lambda x: fx.take_along_axis(x, np.array([[0, 2, 2], [1, 1, 0]]), axis=1),
        u(2, 3),
    ),
    ("take_along_axis0", lambda x: fx.take_along_axis(x, np.array([[1, 0, 1]]), axis=0), u(2, 3)),
]
for _name, _f, _x in SHAPE_OPS:
    case(_name, _f, _x)

case("concatenate0", lambda a, b: fx.concatenate([a, b], axis=0), u(2, 3), u(1, 3))
case("concatenate1", lambda a, b, c: fx.concatenate((a, b, c), axis=1), u(2, 3), u(2, 1), u(2, 2))
case("concatenate_neg", lambda a, b: fx.concatenate([a, b], axis=-1), u(2, 2), u(2, 3))
case("stack0", lambda a, b: fx.stack([a, b]), u(2, 3), u(2, 3))
case("stack_last", lambda a, b, c: fx.stack([a, b, c], axis=-1), u(2, 3), u(2, 3), u(2, 3))
case("split_sections", lambda x: fx.split(x, 3, axis=1), u(2, 6), jac=False)
case("split_indices", lambda x: fx.split(x, [1, 4], axis=-1), u(2, 6), jac=False)
case("split_stack", lambda x: fx.stack(fx.split(x, 2, axis=0)[::-1]), u(4, 3))

# ----------------------------------------------------------------- indexing ---

X345 = u(3, 4, 5)
_idx_rep = np.array([0, 2, 2, 0, 2])
_mask = np.array(
    [[True, False, True, True], [False, False, True, False], [True, True, False, True]]
)
INDEXING = [
    ("int", lambda x: x[1], X345),
    ("neg_int", lambda x: x[-1, 2], X345),
    ("slice", lambda x: x[:, 1:3], X345),
    ("slice_step", lambda x: x[::2, :, 1::2], X345),
    ("slice_neg_step", lambda x: x[::-1], X345),
    ("slice_neg_step2", lambda x: x[2:0:-2, ::-3, -1], X345),
    ("ellipsis_none", lambda x: x[..., None, 1], X345),
    ("none_front", lambda x: x[None, 1:, 0], X345),
    ("int_array_repeated", lambda x: x[_idx_rep], X345),
    ("int_array_2d", lambda x: x[np.array([[0, 1], [1, 0]])], X345),
    ("int_array_axis1", lambda x: x[:, np.array([3, 0, 3])], X345),
    ("int_array_pair", lambda x: x[np.array([0, 2, 0]), np.array([1, 1, 1])], X345),
    ("int_array_separated", lambda x: x[np.array([0, 2]), :, np.array([4, 4])], X345),
    ("int_array_neg", lambda x: x[np.array([-1, -3])], X345),
    ("int_array_and_slice", lambda x: x[1:, np.array([0, 0, 2])], X345),
    ("list_index", lambda x: x[[2, 2, 1]], X345),
    ("tensor_index", lambda x: x[fx.asarray(np.array([1, 1]))], X345),
    ("mask", lambda x: x[_mask], X345),
    ("mask_1d", lambda x: x[np.array([True, False, True])], X345),
    ("at_get", lambda x: x.at[1, ::2].get(), X345),
]
for _name, _f, _x in INDEXING:
    case(f"index_{_name}", _f, _x)

# functional updates; both the array and the values are differentiated
case("index_mask_expr", lambda x: x[:, np.asarray(x[0] > 0)], u(3, 4), vmap=False)
case("at_set", lambda x, v: x.at[1].set(v), u(3, 4), u(4))
case("at_set_slice_bcast", lambda x, v: x.at[:, 1:3].set(v), u(3, 4), u(2))
case("at_set_repeated_last_wins", lambda x, v: x.at[np.array([0, 2, 0])].set(v), u(3, 2), u(3, 2))
case("at_set_scalar", lambda x: x.at[0, 0].set(5.0), u(3, 4))
case("at_add", lambda x, v: x.at[1:, 0].add(v), u(3, 4), u(2))
case("at_add_repeated", lambda x, v: x.at[np.array([1, 1, 2, 1])].add(v), u(3, 2), u(4, 2))
case("at_add_mask", lambda x, v: x.at[_mask].add(v), u(3, 4), np.float64(0.3))
case("at_multiply", lambda x, v: x.at[:, 2].multiply(v), u(3, 4), u(3))
case(
    "at_multiply_repeated",
    lambda x, v: x.at[np.array([2, 0, 2])].multiply(v),
    u(3, 2),
    u(3, 2),
)

# ------------------------------------------------------------------- fx.nn ---

_labels = np.array([2, 0, 1, 2])
_probs = np.abs(u(4, 3)) + 0.1
_probs = _probs / _probs.sum(-1, keepdims=True)
case("softmax", fx.nn.softmax, u(2, 3, lo=-3, hi=3))
case("softmax_axis0", lambda x: fx.nn.softmax(x, axis=0), u(3, 4, lo=-3, hi=3))
case("softmax_large", fx.nn.softmax, u(2, 3, lo=-3, hi=3) + 500.0, atol=1e-6)
case("log_softmax", fx.nn.log_softmax, u(2, 3, lo=-3, hi=3))
case("log_softmax_axis0", lambda x: fx.nn.log_softmax(x, axis=0), u(3, 4, lo=-3, hi=3))
case("cross_entropy_int", lambda x: fx.nn.cross_entropy(x, _labels), u(4, 3, lo=-3, hi=3))
case("cross_entropy_probs", fx.nn.cross_entropy, u(4, 3, lo=-3, hi=3), _probs)
case("cross_entropy_probs_logits_only", lambda x: fx.nn.cross_entropy(x, _probs), u(4, 3))

# ---------------------------------------------------------------- composites ---

case("mlp_like", lambda w, x: fx.sum(fx.tanh(x @ w) ** 2), u(3, 2), u(4, 3))
case("stop_gradient_sum_inside", lambda x: x * fx.stop_gradient(fx.zeros(3)) + x, u(3))

# strided / transposed / broadcast views as operands
case("view_T_matmul", lambda x: fx.sin(x.T) @ x, u(3, 2))
case("view_reversed_cumsum", lambda x: fx.cumsum(x[::-1, ::2], axis=0), u(3, 4))
case(
    "view_transposed_reduce", lambda x: fx.logsumexp(fx.transpose(x, (2, 0, 1)), axis=1), u(2, 3, 4)
)
case("view_broadcast_mul", lambda x: fx.broadcast_to(x[:, None], (2, 3)).T * x[::-1], u(2))
case("view_3d_bcast", lambda a, b, c: a * b - c, u(2, 1, 4), u(3, 1), u(1, 1, 4))
case("view_swap_matmul", lambda a, b: fx.swapaxes(a, 1, 2) @ b[::-1], u(2, 3, 2), u(3, 2))

CASE_IDS = [c.id for c in CASES]
assert len(set(CASE_IDS)) == len(CASE_IDS), "duplicate case ids"

JAC_CASES = [c for c in CASES if c.jac]
VMAP_CASES = [c for c in CASES if c.vmap]
VMAP_IDS = [c.id for c in VMAP_CASES]


def _axes_for(c: Case, choice: str) -> tuple:
    """in_axes per differentiated argument: '0', '1' (axis 1, 0 for scalars), 'mixed'
    (the first differentiated argument at its last axis, the others unbatched)."""
    out = []
    for k, i in enumerate(c.nums):
        nd = np.ndim(c.args[i])
        if choice == "0":
            out.append(0)
        elif choice == "1":
            out.append(min(1, nd))
        else:
            out.append((nd if nd else 0) if k == 0 else None)
    return tuple(out)


# ------------------------------------------------------------------- tests ---


@pytest.mark.parametrize("c", CASES, ids=CASE_IDS)
def test_jvp(c: Case) -> None:
    check_jvp(c.f, c.args, c.nums, rtol=c.rtol, atol=c.atol)


@pytest.mark.parametrize("c", CASES, ids=CASE_IDS)
def test_vjp(c: Case) -> None:
    check_vjp(c.f, c.args, c.nums, rtol=c.rtol, atol=c.atol)


@pytest.mark.parametrize("c", JAC_CASES, ids=[c.id for c in JAC_CASES])
def test_jacfwd_jacrev(c: Case) -> None:
    check_jac(c.f, c.args, c.nums, rtol=c.rtol, atol=c.atol)


@pytest.mark.parametrize("c", CASES, ids=CASE_IDS)
def test_second_derivatives(c: Case) -> None:
    check_hessian(c.f, c.args, c.nums, rtol=max(c.rtol, 1e-5), atol=max(c.atol, 1e-6))


@pytest.mark.parametrize("choice", ["0", "1", "mixed"])
@pytest.mark.parametrize("c", VMAP_CASES, ids=VMAP_IDS)
def test_vmap(c: Case, choice: str) -> None:
    g, primals = partial_fn(c.f, c.args, c.nums)
    axes = _axes_for(c, choice)
    check_vmap(g, batch_args(primals, axes), axes)


@pytest.mark.parametrize("choice", ["0", "mixed"])
@pytest.mark.parametrize("c", VMAP_CASES, ids=VMAP_IDS)
def test_vmap_of_jvp(c: Case, choice: str) -> None:
    check_vmap_jvp(c.f, c.args, c.nums, _axes_for(c, choice))


@pytest.mark.parametrize("choice", ["0", "mixed"])
@pytest.mark.parametrize("c", VMAP_CASES, ids=VMAP_IDS)
def test_vmap_of_vjp(c: Case, choice: str) -> None:
    check_vmap_vjp(c.f, c.args, c.nums, _axes_for(c, choice))


# ------------------------------------------------- hand-written expectations ---


def _np(x: Any) -> np.ndarray:
    return to_np(x)


@pytest.mark.parametrize(
    "op, x, y, gx, gy",
    [
        (fx.maximum, [1.0, 2.0, 3.0], [1.0, 5.0, 3.0], [0.5, 0.0, 0.5], [0.5, 1.0, 0.5]),
        (fx.minimum, [1.0, 2.0, 3.0], [1.0, 5.0, 3.0], [0.5, 1.0, 0.5], [0.5, 0.0, 0.5]),
        # a broadcast scalar collects the halves of every tie
        (fx.maximum, [1.0, 2.0, 1.0], 1.0, [0.5, 1.0, 0.5], 1.0),
        (fx.minimum, [1.0, 2.0, 1.0], 1.0, [0.5, 0.0, 0.5], 2.0),
    ],
)
def test_maximum_minimum_ties_split_evenly(op, x, y, gx, gy) -> None:
    x, y = np.asarray(x), np.asarray(y)
    w = np.array([1.0, 1.0, 1.0])
    ga, gb = fx.grad(lambda a, b: fx.sum(op(a, b) * w), argnums=(0, 1))(x, y)
    np.testing.assert_allclose(_np(ga), gx, rtol=0, atol=1e-15)
    np.testing.assert_allclose(_np(gb), gy, rtol=0, atol=1e-15)
    # forward mode agrees: the tangent at a tie is the mean of both tangents
    tx, ty = np.array([2.0, 4.0, 6.0]), np.full(np.shape(y), 10.0)
    _, t = fx.jvp(op, (x, y), (tx, ty))
    # each output element takes the share gx of x's tangent and 1 - gx of y's
    expected = np.asarray(gx) * tx + (1.0 - np.asarray(gx)) * np.broadcast_to(ty, (3,))
    np.testing.assert_allclose(_np(t), expected, rtol=0, atol=1e-14)
    ja = fx.jacfwd(op, argnums=0)(x, y)
    jb = fx.jacrev(op, argnums=0)(x, y)
    np.testing.assert_allclose(_np(ja), _np(jb), rtol=0, atol=1e-15)
    np.testing.assert_allclose(np.diag(_np(ja)), gx, rtol=0, atol=1e-15)


@pytest.mark.parametrize(
    "op, x, axis, expected",
    [
        (fx.max, [1.0, 3.0, 3.0, 3.0], None, [0.0, 1 / 3, 1 / 3, 1 / 3]),
        (fx.min, [1.0, 1.0, 3.0], None, [0.5, 0.5, 0.0]),
        (fx.max, [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], 1, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]]),
        (fx.min, [[1.0, 3.0, 1.0], [2.0, 0.0, 1.0]], 0, [[1, 0, 0.5], [0, 1, 0.5]]),
        (fx.max, [[5.0, 3.0], [5.0, 5.0]], None, [[1 / 3, 0], [1 / 3, 1 / 3]]),
        (fx.max, [[5.0, 3.0], [5.0, 5.0]], (0, 1), [[1 / 3, 0], [1 / 3, 1 / 3]]),
    ],
)
def test_max_min_reduction_ties_split_evenly(op, x, axis, expected) -> None:
    x = np.asarray(x)
    g = fx.grad(lambda a: fx.sum(op(a, axis=axis)))(x)
    np.testing.assert_allclose(_np(g), expected, rtol=0, atol=1e-15)
    # jvp with a tangent of ones: each reduced value moves by exactly 1
    _, t = fx.jvp(lambda a: op(a, axis=axis), (x,), (np.ones_like(x),))
    np.testing.assert_allclose(_np(t), np.ones(np.shape(_np(t))), rtol=0, atol=1e-15)
    np.testing.assert_allclose(
        _np(fx.jacfwd(lambda a: op(a, axis=axis))(x)),
        _np(fx.jacrev(lambda a: op(a, axis=axis))(x)),
        rtol=0,
        atol=1e-15,
    )


@pytest.mark.parametrize(
    "x, axis, expected",
    [
        ([2.0, 0.0, 3.0], None, [0.0, 6.0, 0.0]),
        ([2.0, 0.0, 0.0], None, [0.0, 0.0, 0.0]),
        ([0.0, 0.0, 0.0], None, [0.0, 0.0, 0.0]),
        ([[2.0, 0.0, 3.0], [0.0, 4.0, 0.0]], 1, [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0]]),
        ([[2.0, 0.0], [0.0, 5.0]], 0, [[0.0, 5.0], [2.0, 0.0]]),
        ([[-2.0, 0.0], [0.5, 5.0]], None, [[0.0, -5.0], [0.0, 0.0]]),
    ],
)
def test_prod_with_zeros(x, axis, expected) -> None:
    x = np.asarray(x)
    f = lambda a: fx.sum(fx.prod(a, axis=axis))  # noqa: E731
    g = fx.grad(f)(x)
    np.testing.assert_array_equal(_np(g), np.asarray(expected))
    assert not np.isnan(_np(g)).any()
    _, t = fx.jvp(f, (x,), (np.ones_like(x),))
    np.testing.assert_allclose(float(t), np.sum(expected), rtol=0, atol=1e-14)


def _prod_hessian(x: np.ndarray) -> np.ndarray:
    n = len(x)
    h = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if i != j:
                h[i, j] = np.prod([x[k] for k in range(n) if k not in (i, j)])
    return h


@pytest.mark.parametrize(
    "x", [[0.0, 0.0, 3.0], [0.0, 2.0, 3.0], [2.0, 0.0, -1.5, 0.5], [1.0, 2.0, 3.0]]
)
@pytest.mark.parametrize("how", ["hessian", "jacrev_jacrev", "jacfwd_jacfwd", "grad_grad"])
def test_prod_second_derivative_through_zeros(x, how: str) -> None:
    # d2/dxi dxj of x0*x1*...: the product of the other entries (exact, symmetric)
    x = np.asarray(x)
    f = lambda a: fx.prod(a)  # noqa: E731
    if how == "hessian":
        h = fx.hessian(f)(x)
    elif how == "jacrev_jacrev":
        h = fx.jacrev(fx.jacrev(f))(x)
    elif how == "jacfwd_jacfwd":
        h = fx.jacfwd(fx.jacfwd(f))(x)
    else:
        h = fx.stack([fx.grad(lambda a, i=i: fx.grad(f)(a)[i])(x) for i in range(len(x))])
    np.testing.assert_allclose(_np(h), _prod_hessian(x), rtol=1e-14, atol=1e-14)


def test_prod_axis_second_derivative_through_zeros() -> None:
    x = np.array([[0.0, 2.0, 3.0], [4.0, 0.0, 0.0]])
    h = fx.hessian(lambda a: fx.sum(fx.prod(a, axis=1)))(x)
    expected = np.zeros((2, 3, 2, 3))
    expected[0, :, 0, :] = _prod_hessian(x[0])
    expected[1, :, 1, :] = _prod_hessian(x[1])
    np.testing.assert_allclose(_np(h), expected, rtol=1e-14, atol=1e-14)


def test_abs_derivative_at_zero_follows_jax() -> None:
    # JAX: d|x|/dx = 1 at x == 0 (select(x >= 0, g, -g))
    g = fx.grad(lambda x: fx.sum(fx.abs(x)))(np.array([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(_np(g), [-1.0, 1.0, 1.0])


def test_relu_clip_derivative_at_kinks_follow_jax() -> None:
    g = fx.grad(lambda x: fx.sum(fx.relu(x)))(np.array([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(_np(g), [0.0, 0.0, 1.0])
    # clip = minimum(maximum(x, lo), hi): ties at the bounds split in half
    g = fx.grad(lambda x: fx.sum(fx.clip(x, 0.0, 0.5)))(np.array([-1.0, 0.0, 0.25, 0.5, 2.0]))
    np.testing.assert_array_equal(_np(g), [0.0, 0.5, 1.0, 0.5, 0.0])


def test_power_derivative_at_zero_base() -> None:
    x = np.array([0.0, -2.0, 3.0])
    np.testing.assert_array_equal(_np(fx.grad(lambda a: fx.sum(a**2))(x)), [0.0, -4.0, 6.0])
    np.testing.assert_array_equal(_np(fx.grad(lambda a: fx.sum(a**3.0))(x)), [0.0, 12.0, 27.0])
    np.testing.assert_array_equal(_np(fx.grad(lambda a: fx.sum(a**1))(x)), [1.0, 1.0, 1.0])
    h = fx.grad(fx.grad(lambda a: a**2))(0.0)
    assert float(h) == 2.0


def test_stop_gradient() -> None:
    x = np.array([1.0, -2.0, 3.0])
    f = lambda a: fx.sum(a * fx.stop_gradient(a))  # noqa: E731
    assert float(f(fx.asarray(x))) == 14.0
    np.testing.assert_array_equal(_np(fx.grad(f)(x)), x)
    _, t = fx.jvp(f, (x,), (np.array([1.0, 1.0, 1.0]),))
    assert float(t) == 2.0
    _, t = fx.jvp(fx.stop_gradient, (x,), (np.ones(3),))
    np.testing.assert_array_equal(_np(t), np.zeros(3))
    j = lambda a: a * fx.stop_gradient(a)  # noqa: E731
    np.testing.assert_array_equal(_np(fx.jacrev(j)(x)), np.diag(x))
    np.testing.assert_array_equal(_np(fx.jacfwd(j)(x)), np.diag(x))
    # constant to every level: the hessian of c * a**2 with c = stop_gradient(a) is 2c
    hf = lambda a: fx.sum(fx.stop_gradient(a) * a**2)  # noqa: E731
    np.testing.assert_array_equal(_np(fx.hessian(hf)(x)), np.diag(2 * x))
    np.testing.assert_array_equal(
        _np(fx.vmap(fx.grad(hf))(np.stack([x, 2 * x]))), [x**2 * 2, 8 * x**2]
    )
    check_vmap(j, (np.stack([x, -x, 2 * x], axis=1),), 1)
    check_vmap(
        lambda a: fx.grad(lambda b: fx.sum(b * fx.stop_gradient(b)))(a), (np.stack([x, -x]),)
    )


@pytest.mark.parametrize("src, dst", [("float64", "float32"), ("float32", "float64")])
def test_astype_derivatives(src: str, dst: str) -> None:
    x = np.array([0.5, -1.25, 2.0], dtype=src)
    f = lambda a: fx.sum(a.astype(dst) ** 2)  # noqa: E731
    g = fx.grad(f)(x)
    assert g.dtype == np.dtype(src)
    np.testing.assert_allclose(_np(g), 2 * x, rtol=1e-6)
    out, t = fx.jvp(lambda a: a.astype(dst), (x,), (np.array([1.0, 2.0, 3.0], dtype=src),))
    assert out.dtype == np.dtype(dst) and t.dtype == np.dtype(dst)
    np.testing.assert_array_equal(_np(t), [1.0, 2.0, 3.0])
    _, vjp_fn = fx.vjp(lambda a: a.astype(dst) * 3.0, x)
    (ct,) = vjp_fn(np.array([1.0, 0.5, -1.0], dtype=dst))
    assert ct.dtype == np.dtype(src)
    np.testing.assert_array_equal(_np(ct), [3.0, 1.5, -3.0])
    # JAX: jacrev rows are VJPs (input dtype), jacfwd columns are JVPs (output dtype)
    jr = fx.jacrev(lambda a: a.astype(dst) * 2.0)(x)
    jf = fx.jacfwd(lambda a: a.astype(dst) * 2.0)(x)
    assert jr.dtype == np.dtype(src) and jf.dtype == np.dtype(dst)
    np.testing.assert_array_equal(_np(jr), 2 * np.eye(3))
    np.testing.assert_array_equal(_np(jf), 2 * np.eye(3))
    check_vmap(lambda a: a.astype(dst) * a, (np.stack([x, 2 * x]),), 0, rtol=1e-6)
    check_vmap(fx.grad(f), (np.stack([x, 2 * x], axis=1),), 1, rtol=1e-6)


def test_astype_float32_finite_differences() -> None:
    # float32 round trip inside a float64 function: derivative of the float64 path is exact
    x = np.array([0.3, -0.7, 1.1])
    f = lambda a: fx.sin(a.astype(fx.float32)).astype(fx.float64) * a  # noqa: E731
    check_jvp(f, (x,), rtol=1e-3, atol=1e-4, eps=1e-3)
    check_vjp(f, (x,), rtol=1e-3, atol=1e-4, eps=1e-3)
    np.testing.assert_allclose(
        _np(fx.jacrev(f)(x)), np.diag(np.cos(x) * x + np.sin(x)), rtol=1e-6, atol=1e-7
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gradient_dtype_follows_input(dtype: str) -> None:
    x = np.array([0.5, 1.5], dtype=dtype)
    f = lambda a: fx.sum(fx.exp(a) * a)  # noqa: E731
    g = fx.grad(f)(x)
    assert g.dtype == np.dtype(dtype)
    tol = 1e-6 if dtype == "float32" else 1e-14
    np.testing.assert_allclose(_np(g), np.exp(x) * (x + 1), rtol=tol)
    h = fx.hessian(f)(x)
    assert h.dtype == np.dtype(dtype)
    np.testing.assert_allclose(_np(h), np.diag(np.exp(x) * (x + 2)), rtol=tol)


def test_repeated_indices_accumulate() -> None:
    x = np.arange(4.0)
    idx = np.array([0, 0, 3, 0, 1])
    np.testing.assert_array_equal(_np(fx.grad(lambda a: fx.sum(a[idx]))(x)), [3, 1, 0, 1])
    np.testing.assert_array_equal(
        _np(fx.grad(lambda a: fx.sum(fx.take(a, idx) * np.arange(5.0)))(x)), [4, 4, 0, 2]
    )
    x2 = np.arange(6.0).reshape(2, 3)
    g = fx.grad(lambda a: fx.sum(a[np.array([1, 1]), np.array([2, 2])] ** 2))(x2)
    np.testing.assert_array_equal(_np(g), [[0, 0, 0], [0, 0, 20]])
    g = fx.grad(lambda v: fx.sum(fx.zeros(3).at[np.array([2, 2, 0])].add(v) ** 2))(
        np.array([1.0, 2.0, 5.0])
    )
    # positions: 2 -> 1 + 2 = 3, 0 -> 5; d/dv = 2 * value at each target
    np.testing.assert_array_equal(_np(g), [6.0, 6.0, 10.0])
    # jvp of a gather is a gather of the tangent
    _, t = fx.jvp(lambda a: a[idx], (x,), (np.array([1.0, 2.0, 3.0, 4.0]),))
    np.testing.assert_array_equal(_np(t), [1, 1, 4, 1, 2])


def test_at_set_gradients() -> None:
    x = np.arange(5.0)
    gx, gv = fx.grad(
        lambda a, v: fx.sum(a.at[np.array([1, 3])].set(v) * np.arange(1.0, 6.0)), argnums=(0, 1)
    )(x, np.array([10.0, 20.0]))
    np.testing.assert_array_equal(_np(gx), [1.0, 0.0, 3.0, 0.0, 5.0])
    np.testing.assert_array_equal(_np(gv), [2.0, 4.0])
    # a broadcast value receives the sum of the cotangents of every position it fills
    gv = fx.grad(
        lambda v: fx.sum(fx.zeros((2, 3)).at[:, 1:].set(v) * np.arange(6.0).reshape(2, 3))
    )(1.0)
    assert float(gv) == 1 + 2 + 4 + 5


@pytest.mark.parametrize(
    "name, f, x, i",
    [
        ("gather", lambda x, i: x[i], u(2, 4), np.array([[0, 3, 3], [1, 1, 2]])),
        ("gather_2d", lambda x, i: x[:, i], u(2, 3, 4), np.array([[0, 3], [1, 1]])),
        ("take", lambda x, i: fx.take(x, i), u(2, 4), np.array([[0, 3, 3], [1, 1, 2]])),
        ("take_axis", lambda x, i: fx.take(x, i, axis=1), u(2, 3, 4), np.array([[0, 3], [2, 2]])),
        (
            "take_along_axis",
            lambda x, i: fx.take_along_axis(x, i, axis=0),
            u(2, 2, 3),
            np.array([[[0, 1, 1]], [[1, 1, 0]]]),
        ),
        ("at_add", lambda x, i: x.at[i].add(1.5 * x[0]), u(2, 4), np.array([[0, 2], [3, 3]])),
        ("at_set", lambda x, i: x.at[i].set(-x[1]), u(2, 4), np.array([[0, 2], [3, 1]])),
        (
            "at_multiply",
            lambda x, i: x.at[i].multiply(x[1] + 2.0),
            u(2, 4),
            np.array([[0, 2], [3, 3]]),
        ),
        (
            "cross_entropy_labels",
            lambda x, i: fx.nn.cross_entropy(x, i),
            u(2, 4, 3),
            np.array([[0, 2, 2, 1], [1, 1, 0, 2]]),
        ),
        (
            "where_cond",
            lambda x, c: fx.where(c, x, -x),
            u(2, 3),
            np.array([[1, 0, 1], [0, 0, 1]]) > 0,
        ),
    ],
)
def test_vmap_with_batched_integer_or_bool_arguments(name, f, x, i) -> None:
    check_vmap(f, (x, i), 0)
    check_vmap(f, (x[0], i), (None, 0))
    # and its gradient w.r.t. the float argument, batched over both
    check_vmap(fx.grad(lambda a, b: fx.sum(f(a, b) ** 2)), (x, i), 0)
    check_vmap(lambda a, b: fx.jacrev(f, argnums=0)(a, b), (x, i), 0)


def test_clip_with_batched_bounds() -> None:
    x = np.array([[-0.9, 0.1, 0.8], [0.3, -0.2, 0.6]])
    lo = np.array([-0.5, 0.2])
    hi = np.array([0.5, 0.4])
    check_vmap(fx.clip, (x, lo, hi), 0)
    check_vmap(fx.grad(lambda a, lo, hi: fx.sum(fx.clip(a, lo, hi))), (x, lo, hi), 0)
    g = fx.vmap(fx.grad(lambda a, lo: fx.sum(fx.clip(a, lo, 0.5)), argnums=1))(x, lo)
    np.testing.assert_array_equal(_np(g), [1.0, 1.0])


# ------------------------------------------------- the checks themselves fail ---


def test_gradcheck_detects_wrong_derivatives() -> None:
    # stop_gradient makes the AD derivative differ from finite differences
    wrong = lambda a: a * fx.stop_gradient(a)  # noqa: E731
    x = (np.array([1.0, 2.0]),)
    for check in (check_jvp, check_vjp, check_jac):
        with pytest.raises(AssertionError):
            check(wrong, x)


def test_vmap_check_detects_a_wrong_batch() -> None:
    calls = []

    def f(a):
        calls.append(1)
        return a * len(calls)

    with pytest.raises(AssertionError):
        check_vmap(f, (np.ones((3, 2)),), 0)


def test_case_table_covers_every_op() -> None:
    names = " ".join(CASE_IDS)
    # every elementwise op the core declares, whatever its name
    declared = [name for _, name in fx._ferrax._unary_ufuncs() + fx._ferrax._binary_ufuncs()]
    for op in (
        declared
        + (
            "round where clip "
            "sum prod max min mean var std logsumexp cumsum matmul dot vdot inner outer tensordot "
            "einsum trace diagonal norm reshape transpose swapaxes moveaxis expand_dims squeeze "
            "broadcast_to concatenate stack split flip tile repeat pad take take_along_axis "
            "at_set at_add at_multiply gelu silu softmax log_softmax cross_entropy mask"
        ).split()
    ):
        assert op in names, op
    assert math.isfinite(len(CASES))


def test_large_tensors_use_the_threaded_kernels_correctly() -> None:
    # above the ~32K-element grain the kernels may run on several threads
    x = np.linspace(-3.0, 3.0, 100_003)
    g = fx.grad(lambda a: fx.sum(fx.sin(a) * a))(x)
    np.testing.assert_allclose(_np(g), np.cos(x) * x + np.sin(x), rtol=1e-12, atol=1e-12)
    _, t = fx.jvp(lambda a: fx.exp(a * 0.5), (x,), (np.ones_like(x),))
    np.testing.assert_allclose(_np(t), 0.5 * np.exp(0.5 * x), rtol=1e-12)
    a = np.sin(np.arange(200 * 300.0)).reshape(200, 300)
    b = np.cos(np.arange(300 * 150.0)).reshape(300, 150)
    ga, gb = fx.grad(lambda p, q: fx.sum((p @ q) ** 2), argnums=(0, 1))(a, b)
    c = a @ b
    np.testing.assert_allclose(_np(ga), 2 * c @ b.T, rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(_np(gb), 2 * a.T @ c, rtol=1e-10, atol=1e-9)
    xs = np.linspace(0, 1, 64 * 1024).reshape(64, 1024)
    gs = fx.vmap(fx.grad(lambda r: fx.logsumexp(r)))(xs)
    e = np.exp(xs - xs.max(1, keepdims=True))
    np.testing.assert_allclose(_np(gs), e / e.sum(1, keepdims=True), rtol=1e-12, atol=1e-15)
