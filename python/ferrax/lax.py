"""``jax.lax``'s control flow and dynamic slicing, for programs written
against JAX.

ferrax runs eagerly, so the control flow is Python's: ``fori_loop`` is a
loop, ``cond`` takes one branch, ``scan`` stacks what its steps return. That
makes every one of them differentiable in both modes (``while_loop`` in
reverse mode too, which JAX cannot do) with no restriction on the branches.
Under ``vmap`` a predicate or index can differ between examples: ``cond`` and
``switch`` then run every branch and select per example, and ``while_loop``
runs until every example is done, freezing the finished ones (JAX's
semantics). The array functions (``dynamic_slice``..., the convolutions)
are the core's.

    >>> from ferrax import lax
    >>> lax.fori_loop(0, 3, lambda i, x: x * 2.0, fx.asarray(1.0))
    Tensor(8.)
"""

from __future__ import annotations

import typing as _typing

if _typing.TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any


from . import _ferrax as _C
from . import tree_util as _tu

__all__ = [
    "ConvDimensionNumbers",
    "cond",
    "conv",
    "conv_dimension_numbers",
    "conv_general_dilated",
    "conv_transpose",
    "conv_with_general_padding",
    "dynamic_index_in_dim",
    "dynamic_slice",
    "dynamic_slice_in_dim",
    "dynamic_update_slice",
    "dynamic_update_slice_in_dim",
    "fori_loop",
    "map",
    "scan",
    "select",
    "stop_gradient",
    "switch",
    "while_loop",
]

stop_gradient = _C.stop_gradient


def select(pred: Any, on_true: Any, on_false: Any) -> Any:
    """``on_true`` where ``pred`` holds, else ``on_false`` (elementwise).

    >>> lax.select(fx.asarray([True, False]), fx.ones(2), fx.zeros(2))
    Tensor([1., 0.])
    """
    return _C.where(pred, on_true, on_false)


def _concrete_bool(pred: Any) -> bool | None:
    """``pred`` as a Python bool, or None when it differs between the
    examples of a ``vmap`` (a batched value has no single truth value)."""
    if isinstance(pred, _C.Tensor) and pred.is_traced:
        try:
            return bool(_C._primal(pred))
        except (TypeError, RuntimeError):
            return None
    return bool(pred)


def _select_tree(pred: Any, a: Any, b: Any) -> Any:
    return _tu.tree_map(lambda x, y: _C.where(pred, x, y), a, b)


def cond(pred: Any, true_fun: Callable, false_fun: Callable, *operands: Any) -> Any:
    """``true_fun(*operands)`` if ``pred`` else ``false_fun(*operands)``.
    Under ``vmap`` with a batched ``pred``, both run and each example takes
    its own branch's result.

    >>> x = fx.asarray(0.5)
    >>> lax.cond(x > 0, fx.sin, fx.cos, x)
    Tensor(0.47942554)
    """
    b = _concrete_bool(pred)
    if b is not None:
        return (true_fun if b else false_fun)(*operands)
    return _select_tree(pred, true_fun(*operands), false_fun(*operands))


def switch(index: Any, branches: Sequence[Callable], *operands: Any) -> Any:
    """``branches[index](*operands)``, the index clamped into range (as
    JAX). Under ``vmap`` with a batched index, every branch runs and each
    example takes its own.

    >>> lax.switch(1, [fx.sin, fx.cos, fx.tan], fx.asarray(0.5))   # cos(0.5)
    Tensor(0.87758256)
    """
    branches = list(branches)
    if not branches:
        raise ValueError("switch: branches must not be empty")
    n = len(branches)
    if not (isinstance(index, _C.Tensor) and index.is_traced):
        return branches[min(max(int(index), 0), n - 1)](*operands)
    idx = _C.clip(index, 0, n - 1)
    try:
        return branches[int(_C._primal(idx))](*operands)
    except (TypeError, RuntimeError):
        pass
    result = branches[n - 1](*operands)
    for k in range(n - 2, -1, -1):
        result = _select_tree(_C.equal(idx, k), branches[k](*operands), result)
    return result


def while_loop(cond_fun: Callable, body_fun: Callable, init_val: Any) -> Any:
    """``val = body_fun(val)`` while ``cond_fun(val)``. Differentiable in
    both modes (the loop runs eagerly). Under ``vmap`` with a batched
    predicate it runs until every example is done; finished examples keep
    their value.

    >>> lax.while_loop(lambda x: x < 10.0, lambda x: x * 2.0, fx.asarray(1.0))
    Tensor(16.)
    """
    val = init_val
    while True:
        pred = cond_fun(val)
        b = _concrete_bool(pred)
        if b is None:
            if not _C._lax_any_example(pred):
                return val
            val = _select_tree(pred, body_fun(val), val)
        elif b:
            val = body_fun(val)
        else:
            return val


def fori_loop(lower: Any, upper: Any, body_fun: Callable, init_val: Any) -> Any:
    """``val = body_fun(i, val)`` for ``i`` from ``lower`` to ``upper - 1``.
    Bounds that differ between examples of a ``vmap`` go through
    :func:`while_loop`.

    >>> lax.fori_loop(0, 4, lambda i, s: s + i, 0)
    6
    """
    lo, hi = _concrete_int(lower), _concrete_int(upper)
    if lo is not None and hi is not None:
        val = init_val
        for i in range(lo, hi):
            val = body_fun(i, val)
        return val
    _, val = while_loop(
        lambda c: c[0] < upper,
        lambda c: (c[0] + 1, body_fun(c[0], c[1])),
        (_C.asarray(lower), init_val),
    )
    return val


def _concrete_int(v: Any) -> int | None:
    b = v
    if isinstance(v, _C.Tensor) and v.is_traced:
        try:
            b = _C._primal(v)
        except (TypeError, RuntimeError):
            return None
    try:
        return int(b)
    except (TypeError, RuntimeError):
        return None


def _leading(xs: Any) -> int | None:
    leaves = _tu.tree_leaves(xs)
    if not leaves:
        return None
    lens = {_C.asarray(x).shape[0] if _C.asarray(x).ndim else None for x in leaves}
    if None in lens:
        raise ValueError("scan: every leaf of xs needs a leading axis to scan over")
    if len(lens) > 1:
        raise ValueError(f"scan: the leaves of xs have different leading lengths {sorted(lens)}")
    return lens.pop()


def scan(
    f: Callable,
    init: Any,
    xs: Any = None,
    length: int | None = None,
    reverse: bool = False,
    unroll: int | bool = 1,
) -> tuple[Any, Any]:
    """``carry, y = f(carry, x)`` over the leading axis of ``xs`` (or
    ``length`` times with ``x = None``): returns the final carry and the
    ``y`` stacked along a new leading axis. ``unroll`` is accepted (ferrax
    runs the steps eagerly anyway).

    >>> lax.scan(lambda c, x: (c + x, c * x), 0.0, fx.arange(4.0))
    (Tensor(6.), Tensor([0., 0., 2., 9.]))
    """
    del unroll
    n = _leading(xs)
    if n is None:
        if length is None:
            raise ValueError("scan: with no xs, length must be given")
        n = length
    elif length is not None and length != n:
        raise ValueError(f"scan: length {length} does not match the leading axis {n} of xs")
    steps = range(n - 1, -1, -1) if reverse else range(n)
    carry, ys = init, []
    for i in steps:
        x = None if xs is None else _tu.tree_map(lambda a, i=i: a[i], xs)
        carry, y = f(carry, x)
        ys.append(y)
    if reverse:
        ys.reverse()
    if not ys:
        return carry, None
    return carry, _tu.tree_map(lambda *parts: _C.stack(parts), *ys)


def map(f: Callable, xs: Any) -> Any:  # noqa: A001 (JAX's name)
    """``f`` over the leading axis of ``xs``, results stacked (sequentially,
    as ``jax.lax.map``; ``fx.vmap`` batches instead).

    >>> lax.map(fx.sin, fx.arange(3.0))
    Tensor([0.        , 0.84147098, 0.90929743])
    """
    return scan(lambda c, x: (c, f(x)), None, xs)[1]


def dynamic_slice(operand: Any, start_indices: Sequence[Any], slice_sizes: Sequence[int]) -> Any:
    """``operand[s0 : s0 + n0, s1 : s1 + n1, ...]`` for starts that may be
    traced, clamped so the window fits (as XLA).

    >>> lax.dynamic_slice(fx.arange(5.0), (3,), (2,))
    Tensor([3., 4.])
    """
    return _C._lax_dynamic_slice(operand, list(start_indices), [int(s) for s in slice_sizes])


def dynamic_update_slice(operand: Any, update: Any, start_indices: Sequence[Any]) -> Any:
    """``operand`` with the window at ``start_indices`` (clamped so it fits)
    replaced by ``update``.

    >>> lax.dynamic_update_slice(fx.zeros(4), fx.ones(2), (1,))
    Tensor([0., 1., 1., 0.])
    """
    return _C._lax_dynamic_update_slice(operand, update, list(start_indices))


def _starts(ndim: int, index: Any, axis: int) -> list:
    axis = axis % ndim
    return [index if a == axis else 0 for a in range(ndim)]


def dynamic_slice_in_dim(operand: Any, start_index: Any, slice_size: int, axis: int = 0) -> Any:
    """:func:`dynamic_slice` along one axis.

    >>> lax.dynamic_slice_in_dim(fx.ones((4, 3)), 1, 2, axis=0)   # rows 1, 2
    Tensor([[1., 1., 1.],
            [1., 1., 1.]])
    """
    x = _C.asarray(operand)
    sizes = list(x.shape)
    sizes[axis % x.ndim] = slice_size
    return dynamic_slice(x, _starts(x.ndim, start_index, axis), sizes)


def dynamic_index_in_dim(operand: Any, index: Any, axis: int = 0, keepdims: bool = True) -> Any:
    """One position along ``axis`` (kept as a length-1 axis unless ``keepdims=False``).

    >>> lax.dynamic_index_in_dim(fx.ones((4, 3)), 2, keepdims=False)
    Tensor([1., 1., 1.])
    """
    r = dynamic_slice_in_dim(operand, index, 1, axis)
    return r if keepdims else _C.squeeze(r, axis)


def dynamic_update_slice_in_dim(operand: Any, update: Any, start_index: Any, axis: int) -> Any:
    """:func:`dynamic_update_slice` along one axis.

    >>> lax.dynamic_update_slice_in_dim(fx.zeros((4, 3)), fx.ones((1, 3)), 2, axis=0)
    Tensor([[0., 0., 0.],
            [0., 0., 0.],
            [1., 1., 1.],
            [0., 0., 0.]])
    """
    x = _C.asarray(operand)
    return dynamic_update_slice(x, update, _starts(x.ndim, start_index, axis))


class ConvDimensionNumbers(_typing.NamedTuple):
    """Where a convolution's operands keep their dimensions, as axis numbers
    (JAX's class): ``lhs_spec = (batch, feature, spatial...)``, ``rhs_spec =
    (out feature, in feature, spatial...)``, ``out_spec = (batch, feature,
    spatial...)``, the spatial axes in the kernel's order.

    >>> lax.ConvDimensionNumbers((0, 3, 1, 2), (3, 2, 0, 1), (0, 3, 1, 2))   # NHWC, HWIO
    ConvDimensionNumbers(lhs_spec=(0, 3, 1, 2), rhs_spec=(3, 2, 0, 1), out_spec=(0, 3, 1, 2))
    """

    lhs_spec: Sequence[int]
    rhs_spec: Sequence[int]
    out_spec: Sequence[int]


def conv_dimension_numbers(
    lhs_shape: Sequence[int], rhs_shape: Sequence[int], dimension_numbers: Any
) -> ConvDimensionNumbers:
    """``dimension_numbers`` (None, three strings such as ``('NHWC', 'HWIO',
    'NHWC')``, or a :class:`ConvDimensionNumbers`) as a
    :class:`ConvDimensionNumbers` for operands of these shapes.

    >>> lax.conv_dimension_numbers((1, 5, 5, 3), (3, 3, 3, 8), ("NHWC", "HWIO", "NHWC"))
    ConvDimensionNumbers(lhs_spec=(0, 3, 1, 2), rhs_spec=(3, 2, 0, 1), out_spec=(0, 3, 1, 2))
    """
    lhs, rhs, out = _C._lax_conv_dimension_numbers(
        [int(d) for d in lhs_shape], [int(d) for d in rhs_shape], dimension_numbers
    )
    return ConvDimensionNumbers(tuple(lhs), tuple(rhs), tuple(out))


def _ints(v: Sequence[int] | None) -> list[int] | None:
    return None if v is None else [int(x) for x in v]


def conv_general_dilated(
    lhs: Any,
    rhs: Any,
    window_strides: Sequence[int],
    padding: str | Sequence[tuple[int, int]],
    lhs_dilation: Sequence[int] | None = None,
    rhs_dilation: Sequence[int] | None = None,
    dimension_numbers: Any = None,
    feature_group_count: int = 1,
    batch_group_count: int = 1,
    precision: Any = None,
    preferred_element_type: Any = None,
) -> Any:
    """General N-d convolution with strides, padding, dilation and groups
    (``jax.lax.conv_general_dilated``; XLA's ``ConvGeneralDilated``).

    ``lhs`` is ``(batch, feature, spatial...)`` and ``rhs`` ``(out feature,
    in feature, spatial...)`` unless ``dimension_numbers`` says otherwise
    (e.g. ``('NHWC', 'HWIO', 'NHWC')``). ``padding`` is ``'SAME'``,
    ``'SAME_LOWER'``, ``'VALID'`` or one ``(low, high)`` pair per spatial
    dimension (negative values crop); ``lhs_dilation`` spreads the input
    (a transposed convolution), ``rhs_dilation`` the kernel (atrous).
    ``feature_group_count`` splits the features into groups convolved
    separately (depthwise when it equals the feature count);
    ``batch_group_count`` does the same for the batch (how weight gradients
    of grouped convolutions are written). One primitive of the core:
    differentiable in both operands in both modes, to any order, and
    batched by ``vmap``. ``precision`` is accepted and ignored (the sums are
    always in the operands' dtype).

    >>> x = fx.ones((1, 1, 4, 4)); w = fx.ones((2, 1, 3, 3))
    >>> lax.conv_general_dilated(x, w, (1, 1), "SAME").shape
    (1, 2, 4, 4)
    """
    del precision  # one precision on the CPU
    return _C._lax_conv_general_dilated(
        lhs,
        rhs,
        _ints(window_strides),
        padding,
        _ints(lhs_dilation),
        _ints(rhs_dilation),
        dimension_numbers,
        int(feature_group_count),
        int(batch_group_count),
        preferred_element_type,
    )


def conv(
    lhs: Any,
    rhs: Any,
    window_strides: Sequence[int],
    padding: str | Sequence[tuple[int, int]],
    precision: Any = None,
    preferred_element_type: Any = None,
) -> Any:
    """:func:`conv_general_dilated` in the ``NCHW``/``OIHW`` layout with no
    dilation (``jax.lax.conv``).

    >>> lax.conv(fx.ones((1, 3, 8, 8)), fx.ones((4, 3, 3, 3)), (2, 2), "VALID").shape
    (1, 4, 3, 3)
    """
    return conv_general_dilated(
        lhs, rhs, window_strides, padding, preferred_element_type=preferred_element_type
    )


def conv_with_general_padding(
    lhs: Any,
    rhs: Any,
    window_strides: Sequence[int],
    padding: str | Sequence[tuple[int, int]],
    lhs_dilation: Sequence[int] | None,
    rhs_dilation: Sequence[int] | None,
    precision: Any = None,
    preferred_element_type: Any = None,
) -> Any:
    """:func:`conv_general_dilated` in the ``NCHW``/``OIHW`` layout
    (``jax.lax.conv_with_general_padding``).

    >>> lax.conv_with_general_padding(fx.ones((1, 1, 5)), fx.ones((1, 1, 2)), (1,), [(1, 0)], None, (2,))
    Tensor([[[1., 2., 2., 2.]]])
    """
    return conv_general_dilated(
        lhs,
        rhs,
        window_strides,
        padding,
        lhs_dilation=lhs_dilation,
        rhs_dilation=rhs_dilation,
        preferred_element_type=preferred_element_type,
    )


def conv_transpose(
    lhs: Any,
    rhs: Any,
    strides: Sequence[int],
    padding: str | Sequence[tuple[int, int]],
    rhs_dilation: Sequence[int] | None = None,
    dimension_numbers: Any = None,
    transpose_kernel: bool = False,
    precision: Any = None,
    preferred_element_type: Any = None,
    use_consistent_padding: bool = False,
) -> Any:
    """The "transposed" convolution (``jax.lax.conv_transpose``): the input
    dilated by ``strides``, in TensorFlow's default layouts (``NHWC``,
    ``HWIO`` in 2-d). ``'SAME'``/``'VALID'`` (and, with
    ``use_consistent_padding``, pairs) are the forward convolution's padding;
    with ``transpose_kernel=True`` the kernel's spatial axes are flipped and
    its feature axes swapped, which makes it the gradient of :func:`conv`
    with that kernel (Keras' ``Conv2DTranspose``).

    >>> lax.conv_transpose(fx.ones((1, 4, 4, 2)), fx.ones((3, 3, 2, 5)), (2, 2), "SAME").shape
    (1, 8, 8, 5)
    """
    del precision
    return _C._lax_conv_transpose(
        lhs,
        rhs,
        _ints(strides),
        padding,
        _ints(rhs_dilation),
        dimension_numbers,
        bool(transpose_kernel),
        bool(use_consistent_padding),
        preferred_element_type,
    )


# The namespace is the API: drop what only the code above needed.
del annotations
