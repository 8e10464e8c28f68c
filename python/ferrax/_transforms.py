"""The public transforms. Each is one call into the Rust core (through the
bindings, which flatten pytrees and call the Python function); this module
only gives them their Python signatures, docstrings and ``__wrapped__``."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from . import _distributed, _sparse
from . import _ferrax as _C


def _named(transformed: Any, fun: Callable) -> Any:
    """Give the transformed function ``fun``'s name, docstring and ``__wrapped__``."""
    return functools.update_wrapper(transformed, fun)


def grad(
    fun: Callable,
    argnums: int | Sequence[int] = 0,
    create_graph: bool = True,
    realize: bool = True,
    *,
    has_aux: bool = False,
) -> Callable:
    """Gradient of a scalar-valued ``fun`` with respect to argument(s) ``argnums``.

    The gradient has the pytree structure of the differentiated argument (a
    tuple of them when ``argnums`` is a tuple). With ``has_aux=True``, ``fun``
    returns ``(output, aux)`` and the result is ``(gradient, aux)``.
    ``create_graph=False`` returns constants to enclosing transforms;
    ``realize`` is accepted for API compatibility (results are always evaluated).

    >>> fx.grad(lambda x: fx.sum(x ** 2))(fx.asarray([1.0, 2.0]))
    Tensor([2., 4.])
    """
    del realize
    return _named(_C.GradFunction(fun, argnums, create_graph, has_aux, False), fun)


def value_and_grad(
    fun: Callable,
    argnums: int | Sequence[int] = 0,
    create_graph: bool = True,
    realize: bool = True,
    *,
    has_aux: bool = False,
) -> Callable:
    """Like :func:`grad`, returning ``(value, grad)`` (``((value, aux), grad)`` with has_aux).

    >>> v, g = fx.value_and_grad(lambda x: fx.sum(x ** 2))(fx.asarray([3.0]))
    """
    del realize
    return _named(_C.GradFunction(fun, argnums, create_graph, has_aux, True), fun)


def vjp(fn: Callable, *primals: Any, has_aux: bool = False, create_graph: bool = True) -> Any:
    """Evaluate ``fn(*primals)`` and return its vector-Jacobian product function.

    Returns ``(out, vjp_fn)`` (or ``(out, vjp_fn, aux)``); ``vjp_fn(cotangent)``
    takes a cotangent shaped like ``out`` and returns a tuple with one
    cotangent per primal. It may be called many times.

    >>> out, f_vjp = fx.vjp(fx.sin, fx.asarray([0.0, 1.0]))
    >>> f_vjp(fx.ones(2))          # (cos(x),)
    (Tensor([1.        , 0.54030231]),)
    """
    return _C.vjp(fn, *primals, has_aux=has_aux, create_graph=create_graph)


def jvp(
    fn: Callable,
    primals: Sequence[Any],
    tangents: Sequence[Any],
    *,
    has_aux: bool = False,
    create_graph: bool = True,
) -> Any:
    """Forward mode: ``(fn(*primals), J @ tangents)`` (and ``aux`` with has_aux).

    >>> fx.jvp(fx.sin, (fx.asarray(0.0),), (fx.asarray(1.0),))
    (Tensor(0.), Tensor(1.))
    """
    return _C.jvp(fn, primals, tangents, has_aux=has_aux, create_graph=create_graph)


def vmap(
    fun: Callable,
    in_axes: Any = 0,
    out_axes: Any = 0,
    axis_size: int | None = None,
    *,
    chunk_size: int | None = None,
    executor: Any = None,
) -> Callable:
    """Vectorise ``fun`` over an axis of its arguments (``in_axes``) and results (``out_axes``).

    ``in_axes``/``out_axes`` are ints, None (not mapped) or pytrees of those, as in JAX.
    ``chunk_size`` maps at most that many elements at once (bounding memory;
    the results are joined). ``executor`` (any ``concurrent.futures.Executor``,
    such as ``dask.distributed.Client.get_executor()``) maps the chunks as its
    tasks; without ``chunk_size``, each worker gets about four chunks. A mapped
    argument that is a ``dask.array.Array`` gives a lazy dask array, one task
    per chunk of its mapped axis.

    >>> fx.vmap(lambda a, b: a @ b, in_axes=(0, None))(fx.ones((5, 2, 3)), fx.ones(3)).shape
    (5, 2)
    >>> fx.vmap(fx.sum, chunk_size=2)(fx.ones((5, 3)))   # three chunks, one result
    Tensor([3., 3., 3., 3., 3.])
    """
    vf = _C.VmapFunction(fun, in_axes, out_axes, axis_size, chunk_size)
    if executor is not None:
        return _named(_distributed.vmap_on(executor, vf), fun)
    return _named(vf, fun)


def _jacobian(
    fun: Callable,
    mode: str,
    argnums: Any,
    has_aux: bool,
    chunk_size: int | None,
    executor: Any,
    sparsity: Any,
    dense_output: bool,
) -> Callable:
    if sparsity is not None:
        if executor is not None:
            raise ValueError(
                f"{mode}: sparsity= and executor= cannot be combined (a sparse Jacobian takes "
                "one pass per colour, too few to be worth distributing)"
            )
        return _named(
            _sparse.sparse_jacobian(fun, mode, argnums, has_aux, sparsity, dense_output), fun
        )
    jf = _C.JacobianFunction(fun, mode, argnums, has_aux, chunk_size)
    if executor is not None:
        return _named(_distributed.jacobian_on(executor, jf, fun, mode, argnums, has_aux), fun)
    return _named(jf, fun)


def jacrev(
    fun: Callable,
    argnums: int | Sequence[int] | None = None,
    has_aux: bool = False,
    *,
    chunk_size: int | None = None,
    executor: Any = None,
    sparsity: Any = None,
    dense_output: bool = False,
) -> Callable:
    """Jacobian by reverse mode: ``vmap`` of the VJP over one-hot output cotangents.

    An output leaf of shape ``S_out`` and an input leaf of shape ``S_in`` give
    a block of shape ``S_out + S_in``; pytree outputs give a pytree of
    Jacobians (output structure outside, input structure inside).
    ``argnums=None`` differentiates every positional argument (a single
    argument's Jacobian alone). ``chunk_size`` bounds how many basis vectors
    are pushed back at once.

    ``executor`` (any ``concurrent.futures.Executor``: a Dask cluster's
    ``Client.get_executor()``, a process or thread pool) computes the chunks
    as its tasks; the result is bit for bit the local one with the same
    ``chunk_size``. Without ``chunk_size``, each worker gets about four chunks.
    Each task runs the function's forward pass once (reverse mode).

    ``sparsity`` (``'auto'``, a boolean ``(output.size, input.size)`` array
    or a ``scipy.sparse`` matrix) computes a sparse Jacobian instead, one
    pullback per colour of rows that share no column (see
    :func:`sparsity_pattern`): the result is a ``scipy.sparse.csr_array`` over
    the flattened output and input, or the dense Jacobian with
    ``dense_output=True`` (which stays differentiable).

    >>> fx.jacrev(lambda x: fx.sin(x) * x)(fx.ones(3)).shape
    (3, 3)
    >>> fx.jacrev(lambda x: x[0] * x, sparsity="auto")(fx.ones(4)).nnz
    7
    """
    return _jacobian(fun, "jacrev", argnums, has_aux, chunk_size, executor, sparsity, dense_output)


def jacfwd(
    fun: Callable,
    argnums: int | Sequence[int] | None = None,
    has_aux: bool = False,
    *,
    chunk_size: int | None = None,
    executor: Any = None,
    sparsity: Any = None,
    dense_output: bool = False,
) -> Callable:
    """Jacobian by forward mode: ``vmap`` of the JVP over one-hot input tangents.

    Same shapes, nesting and options as :func:`jacrev`; with ``sparsity``,
    one JVP per colour of columns that share no row.

    >>> fx.jacfwd(lambda x: x ** 2)(fx.asarray([1.0, 2.0]))   # diag([2., 4.])
    Tensor([[2., 0.],
            [0., 4.]])
    >>> stencil = lambda u: u[:-2] - 2.0 * u[1:-1] + u[2:]
    >>> fx.jacfwd(stencil, sparsity="auto")(fx.ones(10_000)).nnz   # 3 JVPs, not 10,000
    29994
    """
    return _jacobian(fun, "jacfwd", argnums, has_aux, chunk_size, executor, sparsity, dense_output)


def hessian(
    fun: Callable,
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    *,
    chunk_size: int | None = None,
    executor: Any = None,
    sparsity: Any = None,
    dense_output: bool = False,
) -> Callable:
    """Hessian: ``jacfwd(jacrev(fun, argnums), argnums)``.

    ``chunk_size`` bounds how many Hessian-vector products (one per input
    element) are computed at once; ``executor`` computes the chunks as its
    tasks, as for :func:`jacrev`.

    ``sparsity`` (``'auto'``, a boolean ``(n, n)`` array or a ``scipy.sparse``
    matrix; made symmetric) computes a sparse Hessian of a scalar ``fun`` by
    Hessian-vector products, one per colour of a star colouring (an arrow
    takes two), returned as a ``scipy.sparse.csr_array`` (dense with
    ``dense_output=True``).

    >>> fx.hessian(lambda x: fx.sum(x ** 3))(fx.arange(3.0))   # diag(6x)
    Tensor([[ 0.,  0.,  0.],
            [ 0.,  6.,  0.],
            [ 0.,  0., 12.]])
    >>> arrow = lambda x: x[0] * fx.sum(x ** 2)
    >>> fx.hessian(arrow, sparsity="auto")(fx.ones(5)).nnz   # 2 HVPs
    13
    """
    return _jacobian(fun, "hessian", argnums, has_aux, chunk_size, executor, sparsity, dense_output)


def linearize(fn: Callable, *primals: Any, has_aux: bool = False) -> Any:
    """Evaluate ``fn(*primals)`` once and return ``(out, f_jvp)`` (and ``aux``
    with ``has_aux``): ``f_jvp(*tangents)`` is the JVP at ``primals``, one
    tangent per primal, computed from the recorded evaluation without
    calling ``fn`` again (each call costs about one JVP's arithmetic, and the
    intermediates stay alive as long as ``f_jvp`` does).

    >>> out, f_jvp = fx.linearize(fx.sin, fx.asarray([0.0, 1.0]))
    >>> f_jvp(fx.ones(2))          # cos(x)
    Tensor([1.        , 0.54030231])
    """
    return _C.linearize(fn, *primals, has_aux=has_aux)


def linear_transpose(fn: Callable, *primals: Any) -> Callable:
    """The transpose of a linear ``fn``: ``f_t(ct)`` returns a tuple with one
    cotangent per primal (``primals`` give the shapes and dtypes; their values
    are not used). A function that is not linear raises ``ValueError``
    (checked at a probe input).

    >>> f_t = fx.linear_transpose(lambda x: 2.0 * x, fx.ones(3))
    >>> f_t(fx.ones(3))
    (Tensor([2., 2., 2.]),)
    """
    return _C.linear_transpose(fn, *primals)


def hvp(fn: Callable, primals: Sequence[Any], tangents: Sequence[Any]) -> Any:
    """The Hessian of a scalar ``fn`` at ``primals`` times ``tangents``, by
    forward mode over reverse mode (one gradient's cost, twice), without
    forming the Hessian. One primal gives one result; several give a tuple.

    >>> fx.hvp(lambda x: fx.sum(x ** 3), (fx.asarray([1.0, 2.0]),), (fx.ones(2),))   # 6x
    Tensor([ 6., 12.])
    """
    primals, tangents = tuple(primals), tuple(tangents)
    argnums = 0 if len(primals) == 1 else tuple(range(len(primals)))
    return jvp(grad(fn, argnums), primals, tangents)[1]


def jacobian(
    fun: Callable,
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    *,
    chunk_size: int | None = None,
    executor: Any = None,
) -> Callable:
    """The Jacobian of ``fun`` (by reverse mode): JAX's ``jax.jacobian``, an
    alias of :func:`jacrev`.

    >>> fx.jacobian(fx.sin)(fx.asarray([0.0, 1.0]))   # diag(cos(x))
    Tensor([[1.        , 0.        ],
            [0.        , 0.54030231]])
    """
    return jacrev(fun, argnums, has_aux, chunk_size=chunk_size, executor=executor)


def jit(
    fun: Callable | None = None,
    *,
    static_argnums: int | Sequence[int] | None = None,
    static_argnames: str | Sequence[str] | None = None,
    donate_argnums: int | Sequence[int] | None = None,
    donate_argnames: str | Sequence[str] | None = None,
    **options: Any,
) -> Any:
    """Accepted so that code written for ``jax.jit`` runs unchanged: ferrax
    has no tracing compiler, and ``fx.jit(f)`` runs ``f`` eagerly, every
    call, as ``f`` itself would (chains of elementwise ops are still fused
    by the engine). ``static_argnums``/``static_argnames`` and donation are
    accepted and have nothing to do; other ``jax.jit`` options
    (``device``, ``backend``, ``inline``, ``keep_unused``...) are accepted
    and ignored. Usable as ``@fx.jit`` and ``@partial(fx.jit, ...)``.

    >>> f = fx.jit(lambda x: fx.sin(x) * 2.0)
    >>> f(fx.asarray(1.0))
    Tensor(1.68294197)
    """
    for name, nums in (("static_argnums", static_argnums), ("donate_argnums", donate_argnums)):
        if nums is not None:
            for n in (nums,) if isinstance(nums, int) else tuple(nums):
                if not isinstance(n, int):
                    raise TypeError(f"jit: {name} must be ints, got {n!r}")
    for name, names in (("static_argnames", static_argnames), ("donate_argnames", donate_argnames)):
        if names is not None:
            for n in (names,) if isinstance(names, str) else tuple(names):
                if not isinstance(n, str):
                    raise TypeError(f"jit: {name} must be strings, got {n!r}")
    del options
    if fun is None:
        return lambda f: jit(
            f,
            static_argnums=static_argnums,
            static_argnames=static_argnames,
            donate_argnums=donate_argnums,
            donate_argnames=donate_argnames,
        )
    if not callable(fun):
        raise TypeError(f"jit: expected a function, got {type(fun).__name__}")

    def jitted(*args: Any, **kwargs: Any) -> Any:
        return fun(*args, **kwargs)

    return _named(jitted, fun)
