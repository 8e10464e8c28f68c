"""Random ferrax programs for the differential fuzz suite in ``tests/fuzz/``.

A :class:`Program` is a list of input arrays (each with a memory layout:
contiguous, transposed, strided, negatively strided, or broadcast) and a chain
of steps. Every step is one small Python expression over earlier values
(``v0``, ``v1``, ...), constants (``c0``, ...) and a namespace ``m``, e.g.
``m.log(m.abs(v0) + 0.5)``, ``v2 @ c0`` or ``v1[::-2, c1]``. The same text
is evaluated

- with ``m = fx`` (the "fx" spelling), ``m = numpy`` (the "np" spelling: NumPy
  functions applied to ferrax tensors, dispatched through ``__array_function__``
  / ``__array_ufunc__``) or with operators and methods (the "op" spelling) on
  ferrax tensors, and
- with ``m =`` a NumPy reference namespace (:data:`NPREF`) on NumPy arrays, and
- with ``m =`` a ``jax.numpy`` namespace on JAX arrays (see test_fuzz_jax.py),

so one descriptor drives every interpreter, and ``repr(program)`` is a runnable
ferrax reproducer. Programs are built step by step while the NumPy reference is
evaluated on their data: a candidate step is dropped (and another drawn) if
NumPy rejects it, if it leaves ferrax's dtypes (float16, int8, ...), overflows
the magnitude bound, or comes too close to a discontinuity (``where`` on a
near-tie) -- and, for derivative programs, too close to a kink (``abs`` at 0,
``maximum`` on a near-tie, a near-tied ``max`` reduction) for central
differences to be meaningful.

Values are compared with float32 tolerances if any intermediate is float32, else
float64 ones, the absolute part scaled by the largest intermediate magnitude.
A ferrax exception where NumPy succeeds fails the test; so does a Rust panic
(:func:`panics_are_failures`). Known ferrax bugs are kept out of the generated
programs at the ``# KNOWN BUG:`` comments, each with a reproducer: delete the
exclusion once the bug is fixed.

The total number of programs is ``FERRAX_FUZZ_EXAMPLES`` (default 2000), split
between the tests by :data:`WEIGHTS`. Runs are derandomized (reproducible)
unless ``FERRAX_FUZZ_SEED=<int>`` is given, which explores a different part of
the space per seed. The number of programs run is printed in pytest's terminal
summary ("ferrax fuzz: ...").
"""

from __future__ import annotations

import functools
import math
import os
import re
import sys
import warnings
from collections import Counter
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import ferrax as fx
import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from conftest import assert_close  # noqa: E402  (tests/ helpers)

# ------------------------------------------------------------------ budget ---

DEFAULT_TOTAL = 2000
TOTAL = int(os.environ.get("FERRAX_FUZZ_EXAMPLES", DEFAULT_TOTAL))
SEED = os.environ.get("FERRAX_FUZZ_SEED")

# Share of the programs per test (sums to DEFAULT_TOTAL, so the defaults are counts).
WEIGHTS = {
    "values": 780,
    "values_large": 12,
    "grad": 250,
    "vjp": 150,
    "jvp": 150,
    "jacobian": 140,
    "vmap": 150,
    "vmap_grad": 80,
    "hvp": 140,
    "hessian": 60,
    "grad_large": 8,
    "jax": 80,
}

COUNTS: Counter = Counter()


def budget(key: str) -> int:
    return max(1, round(TOTAL * WEIGHTS[key] / sum(WEIGHTS.values())))


def fuzz(key: str):
    """Decorator (above ``@given``): this test's share of the budget, reproducible."""
    s = settings(
        max_examples=budget(key),
        deadline=None,
        derandomize=SEED is None,
        database=None,
        print_blob=True,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )

    def deco(f):
        f = s(f)
        if SEED is not None:
            f = hypothesis_seed(int(SEED))(f)
        return f

    return deco


def panics_are_failures(f):
    """Decorator (below ``@given``): a Rust panic (PyO3's ``PanicException`` derives
    from ``BaseException``, which Hypothesis does not catch) becomes an ordinary test
    failure, so Hypothesis shrinks it to a minimal program like any other."""

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        try:
            return f(*args, **kwargs)
        except (Exception, KeyboardInterrupt, SystemExit, GeneratorExit):
            raise
        except BaseException as e:
            raise AssertionError(f"ferrax raised {type(e).__name__}: {e}") from e

    return wrapper


def count(key: str) -> None:
    COUNTS[key] += 1


class _Summary:
    def pytest_terminal_summary(self, terminalreporter):
        if COUNTS:
            parts = ", ".join(f"{k} {v}" for k, v in sorted(COUNTS.items()))
            terminalreporter.write_line(
                f"ferrax fuzz: {sum(COUNTS.values())} programs run ({parts}); "
                f"FERRAX_FUZZ_EXAMPLES={TOTAL}, seed={'derandomized' if SEED is None else SEED}"
            )


def register_summary(config) -> None:
    if not config.pluginmanager.has_plugin("ferrax-fuzz-summary"):
        config.pluginmanager.register(_Summary(), "ferrax-fuzz-summary")


# --------------------------------------------------------- NumPy reference ---

ALLOWED_DTYPES = {np.dtype(t) for t in ("bool", "int32", "int64", "float32", "float64")}


def _float_dtype(x: np.ndarray) -> np.dtype:
    """ferrax's float result dtype: floats keep theirs, ints and bools give float64."""
    return x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)


def _sigmoid(x):
    x = np.asarray(x)
    y = x.astype(np.float64)
    with np.errstate(all="ignore"):
        r = np.where(y >= 0, 1 / (1 + np.exp(-y)), np.exp(y) / (1 + np.exp(y)))
    return r.astype(_float_dtype(x))


def _softplus(x):
    x = np.asarray(x)
    return np.logaddexp(0.0, x.astype(np.float64)).astype(_float_dtype(x))


_ERF = np.vectorize(math.erf, otypes=[np.float64])


def _erf(x):
    x = np.asarray(x)
    return _ERF(x.astype(np.float64)).astype(_float_dtype(x))


def _logsumexp(x, axis=None, keepdims=False):
    x = np.asarray(x)
    a = x.astype(np.float64)
    with np.errstate(all="ignore"):
        m = np.max(a, axis=axis, keepdims=True)
        m = np.where(np.isfinite(m), m, 0.0)
        r = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    if not keepdims:
        r = np.squeeze(r, axis=axis if axis is not None else tuple(range(a.ndim)))
    return r.astype(_float_dtype(x))


NP_NAMES = (
    "exp log abs sin cos tanh sqrt square negative log1p arctan sinh add subtract multiply "
    "divide maximum minimum power arctan2 where greater less greater_equal less_equal sum mean "
    "max min prod var std matmul einsum reshape transpose moveaxis swapaxes expand_dims squeeze "
    "concatenate stack flip take broadcast_to"
).split()

# The reference namespace: NumPy, plus the ferrax functions NumPy lacks.
NPREF = SimpleNamespace(
    **{n: getattr(np, n) for n in NP_NAMES},
    sigmoid=_sigmoid,
    softplus=_softplus,
    erf=_erf,
    logsumexp=_logsumexp,
)

NUMPY_BACKEND = {"fx": NPREF, "np": NPREF, "op": NPREF}
FERRAX_BACKEND = {"fx": fx, "np": np, "op": fx}


# -------------------------------------------------------- margin helpers ---
# Each returns a relative distance to a discontinuity / kink (inf if there is none).


def _arr(a) -> np.ndarray:
    return np.asarray(a)


def _exact(*xs) -> bool:
    return all(_arr(x).dtype.kind in "biu" for x in xs)


def _absm(a):
    a = _arr(a)
    if _exact(a):
        return math.inf
    v = np.abs(a[np.isfinite(a)])
    return float(v.min()) if v.size else math.inf


def _diffm(a, b):
    if _exact(a, b):
        return math.inf
    a, b = np.broadcast_arrays(_arr(a).astype(np.float64), _arr(b).astype(np.float64))
    ok = np.isfinite(a) & np.isfinite(b)
    if not ok.any():
        return math.inf
    a, b = a[ok], b[ok]
    return float(np.min(np.abs(a - b) / (1 + np.maximum(np.abs(a), np.abs(b)))))


def _atan2m(a, b):
    """Distance to arctan2's branch cut (a = 0, b < 0) and to the origin."""
    a, b = np.broadcast_arrays(_arr(a).astype(np.float64), _arr(b).astype(np.float64))
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    if not a.size:
        return math.inf
    r = np.hypot(a, b)
    cut = np.where(b < 0, np.abs(a) / (1 + np.abs(b)), np.inf)
    return float(min(r.min(), cut.min()))


def _gapm(x, axis, largest):
    """Smallest gap between the two extreme values of each reduced group (max/min ties)."""
    x = _arr(x).astype(np.float64)
    if x.ndim == 0:
        return math.inf
    if axis is None:
        axes = tuple(range(x.ndim))
    elif isinstance(axis, int):
        axes = (axis % x.ndim,)
    else:
        axes = tuple(a % x.ndim for a in axis)
    if not axes:
        return math.inf
    keep = [d for d in range(x.ndim) if d not in axes]
    y = np.transpose(x, keep + list(axes)).reshape(
        (math.prod(x.shape[d] for d in keep), math.prod(x.shape[d] for d in axes))
    )
    if y.shape[1] < 2 or y.shape[0] == 0:
        return math.inf
    y = np.sort(y, axis=1)
    top = y[:, -2:] if largest else y[:, :2]
    gap = np.abs(top[:, 1] - top[:, 0]) / (1 + np.abs(top).max(axis=1))
    gap = gap[np.isfinite(gap)]
    return float(gap.min()) if gap.size else math.inf


def _stdm(x, axis, ddof=0):
    """Smallest standard deviation of a reduced group (std is not differentiable at 0)."""
    x = _arr(x).astype(np.float64)
    if x.size == 0:
        return math.inf
    sd = np.std(x, axis=axis, ddof=ddof)
    sd = np.asarray(sd)[np.isfinite(sd)]
    return float(sd.min()) if sd.size else math.inf


MARGIN_ENV = {
    "_absm": _absm,
    "_diffm": _diffm,
    "_atan2m": _atan2m,
    "_gapm": _gapm,
    "_stdm": _stdm,
}


# --------------------------------------------------------------- programs ---

LAYOUTS = ("contiguous", "transposed", "strided", "negstrided", "broadcast")
FILLER = 99  # what the padding around strided inputs holds (a misread shows)


@dataclass
class Input:
    data: list  # one NumPy array per dataset (vmap tests use several)
    layout: str
    small: list | None = None  # broadcast layout: the arrays broadcast from


@dataclass
class Step:
    name: str
    spell: str  # "fx" | "np" | "op"
    code: str
    compiled: Any = field(repr=False, default=None)

    def __post_init__(self):
        self.compiled = compile(self.code, f"<fuzz step {self.name}>", "eval")


def _lit(a: np.ndarray) -> str:
    a = np.asarray(a)
    body = f"np.array({a.tolist()!r}, dtype=np.{a.dtype.name})"
    if a.size == 0 or a.ndim == 0:
        body += f".reshape({a.shape!r})"
    return body


def _view_slices(shape, negative: bool) -> tuple:
    out = []
    for n in shape:
        if negative:
            out.append(slice(2 * n - 1, None, -2) if n > 0 else slice(0, 0))
        else:
            out.append(slice(1, 1 + 2 * n, 2))
    return tuple(out)


def _slice_src(s: slice) -> str:
    def f(v):
        return "" if v is None else str(v)

    return f"{f(s.start)}:{f(s.stop)}" + ("" if s.step is None else f":{s.step}")


def _padded(data: np.ndarray, negative: bool) -> tuple[np.ndarray, tuple]:
    if data.ndim == 0:
        big = np.full((3,), FILLER, dtype=data.dtype)
        big[1] = data
        return big, (1,)
    big = np.full(tuple(2 * n + 1 for n in data.shape), FILLER, dtype=data.dtype)
    sl = _view_slices(data.shape, negative)
    big[sl] = data
    return big, sl


def build_fx(data: np.ndarray, layout: str, small: np.ndarray | None = None) -> fx.Tensor:
    """A ferrax tensor holding ``data``, laid out as ``layout`` (a view for all but contiguous)."""
    if layout == "contiguous" or (layout == "broadcast" and small is None):
        return fx.asarray(data.copy())
    if layout == "transposed":
        return fx.asarray(np.array(data.T, order="C")).T
    if layout in ("strided", "negstrided"):
        big, sl = _padded(data, layout == "negstrided")
        return fx.asarray(big)[sl]
    if layout == "broadcast":
        return fx.broadcast_to(fx.asarray(small.copy()), data.shape)
    raise ValueError(layout)


def input_source(name: str, data: np.ndarray, layout: str, small=None) -> str:
    if layout == "contiguous" or (layout == "broadcast" and small is None):
        return f"{name} = fx.asarray({_lit(data)})"
    if layout == "transposed":
        return f"{name} = fx.asarray({_lit(np.array(data.T, order='C'))}).T"
    if layout in ("strided", "negstrided"):
        big, sl = _padded(data, layout == "negstrided")
        key = ", ".join(_slice_src(s) if isinstance(s, slice) else str(s) for s in sl)
        return f"{name} = fx.asarray({_lit(big)})[{key}]"
    return f"{name} = fx.broadcast_to(fx.asarray({_lit(small)}), {data.shape!r})"


class Program:
    def __init__(self, inputs, steps, consts, scale, in_axes=None, seed=0, f32=False):
        self.f32 = f32  # some intermediate is float32 (float32 tolerances apply)
        self.inputs: list[Input] = inputs
        self.steps: list[Step] = steps
        self.consts: list[np.ndarray] = consts
        self.scale = scale  # max |value| over every intermediate (for tolerances)
        self.in_axes = in_axes
        self.seed = seed

    @property
    def n_inputs(self) -> int:
        return len(self.inputs)

    def data(self, d: int = 0) -> list[np.ndarray]:
        return [inp.data[d] for inp in self.inputs]

    def fx_inputs(self, d: int = 0) -> list[fx.Tensor]:
        return [
            build_fx(inp.data[d], inp.layout, None if inp.small is None else inp.small[d])
            for inp in self.inputs
        ]

    def run(self, args, backend) -> Any:
        env: dict[str, Any] = {"np": np}
        for j, c in enumerate(self.consts):
            env[f"c{j}"] = c
        for k, a in enumerate(args):
            env[f"v{k}"] = a
        n = len(args)
        for s, step in enumerate(self.steps):
            env["m"] = backend[step.spell]
            env[f"v{n + s}"] = eval(step.compiled, env)
        return env[f"v{n + len(self.steps) - 1}"]

    def run_numpy(self, args) -> np.ndarray:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.asarray(self.run(args, NUMPY_BACKEND))

    def run_fx(self, args) -> Any:
        return self.run(args, FERRAX_BACKEND)

    def fn(self):
        """The program as a function of ferrax tensors (for the transforms)."""
        return lambda *xs: self.run_fx(xs)

    def source(self, d: int = 0) -> str:
        lines = ["import numpy as np", "import ferrax as fx", ""]
        for k, inp in enumerate(self.inputs):
            small = None if inp.small is None else inp.small[d]
            lines.append(input_source(f"v{k}", inp.data[d], inp.layout, small))
        for j, c in enumerate(self.consts):
            lines.append(f"c{j} = {_lit(c)}")
        n = self.n_inputs
        for s, step in enumerate(self.steps):
            prefix = "np." if step.spell == "np" else "fx."
            code = re.sub(r"\bm\.", prefix, step.code)
            lines.append(f"v{n + s} = {code}  # {step.name}")
        lines.append(f"out = v{n + len(self.steps) - 1}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        extra = f"\n# in_axes={self.in_axes!r}" if self.in_axes is not None else ""
        return "\n" + self.source() + extra + "\n"


# -------------------------------------------------------------- generator ---

UNARY = {
    # name: (template, NumPy has it, operator spelling, abs kink at the operand)
    "exp": ("m.exp({a})", True, None, False),
    "log_shift": ("m.log(m.abs({a}) + 0.5)", True, None, True),
    "sin": ("m.sin({a})", True, None, False),
    "cos": ("m.cos({a})", True, None, False),
    "tanh": ("m.tanh({a})", True, None, False),
    "sigmoid": ("m.sigmoid({a})", False, None, False),
    "sqrt_abs": ("m.sqrt(m.abs({a}) + 0.1)", True, None, True),
    "square": ("m.square({a})", True, "{a} ** 2", False),
    "abs": ("m.abs({a})", True, "abs({a})", True),
    "neg": ("m.negative({a})", True, "-{a}", False),
    "log1p_abs": ("m.log1p(m.abs({a}))", True, None, True),
    "softplus": ("m.softplus({a})", False, None, False),
    "erf": ("m.erf({a})", False, None, False),
    "arctan": ("m.arctan({a})", True, None, False),
    "sinh": ("m.sinh({a})", True, None, False),
}
BINARY = ["add", "subtract", "multiply", "divide", "maximum", "minimum", "power", "arctan2"]
BINARY_OPS = {"add": "+", "subtract": "-", "multiply": "*"}
REDUCTIONS = ["sum", "mean", "max", "min", "prod", "var", "std", "logsumexp"]
SHAPE_OPS = [
    "reshape",
    "transpose",
    "moveaxis",
    "swapaxes",
    "expand_dims",
    "squeeze",
    "concatenate",
    "stack",
    "flip",
    "take",
    "getitem",
    "getitem",
    "getitem",
    "broadcast_to",
]
FAMILIES = {
    "unary": 30,
    "binary": 24,
    "where": 6,
    "reduce": 14,
    "matmul": 5,
    "einsum": 4,
    "shape": 17,
}
# Large programs (fusion's default threshold): elementwise chains, reductions, simple views.
LARGE_FAMILIES = {"unary": 40, "binary": 30, "where": 8, "reduce": 8, "shape": 8}
LARGE_SHAPE_OPS = ["transpose", "getitem", "flip", "reshape"]


def _weighted(families: dict) -> list:
    return [k for k, w in families.items() for _ in range(w)]


@dataclass
class Config:
    mode: str = "values"  # "values" (forward only, any dtype) | "grad" (float64, smooth)
    n_data: int = 1
    max_ops: int = 6
    large: bool = False
    nan: bool = False
    bound: float = 1e3
    max_size: int = 400
    jax: bool = False  # only constructs whose NumPy and JAX dtypes agree


class Gen:
    """Builds a program step by step, evaluating the NumPy reference as it goes."""

    def __init__(self, draw, cfg: Config, inputs: list[Input], rng: np.random.Generator):
        self.draw = draw
        self.cfg = cfg
        self.rng = rng
        self.inputs = inputs
        self.vals: list[list[np.ndarray]] = [list(inp.data) for inp in inputs]
        self.consts: list[np.ndarray] = []
        self.steps: list[Step] = []
        self.scale = 1.0
        self.f32 = False
        for v in self.vals:
            self._update_scale(v)

    # ---- helpers
    @property
    def grad(self) -> bool:
        return self.cfg.mode == "grad"

    def int_(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi))

    def choice(self, seq):
        # Hypothesis picks the index (so it can shrink it); a per-program random offset
        # spreads the picks evenly (Hypothesis's mutations alone favour a few ops)
        seq = list(seq)
        k = self.draw(st.integers(0, len(seq) - 1))
        return seq[(k + int(self.rng.integers(len(seq)))) % len(seq)]

    def coin(self, p_true_in_4: int = 2) -> bool:
        return self.int_(0, 3) < p_true_in_4

    def shape(self, i: int) -> tuple:
        return self.vals[i][0].shape

    def dtype(self, i: int) -> np.dtype:
        return self.vals[i][0].dtype

    def _update_scale(self, arrs) -> None:
        for a in arrs:
            self.f32 |= a.dtype == np.float32
            if a.dtype.kind in "fiu" and a.size:
                f = a[np.isfinite(a)] if a.dtype.kind == "f" else a
                if f.size:
                    self.scale = max(self.scale, float(np.max(np.abs(f))))

    def pick(self, pred=None) -> int | None:
        """A value index: usually the newest one (long chains), else any."""
        ids = [i for i in range(len(self.vals)) if pred is None or pred(i)]
        if not ids:
            return None
        if self.int_(0, 9) < 6:
            return ids[-1]
        return self.choice(ids)

    def const(self, arr: np.ndarray) -> str:
        self.consts.append(np.asarray(arr))
        return f"c{len(self.consts) - 1}"

    def random_const(self, shape, dtype) -> str:
        dtype = np.dtype(dtype)
        if dtype.kind == "f":
            a = self.rng.uniform(-1.5, 1.5, size=shape).astype(dtype)
        elif dtype.kind == "b":
            a = self.rng.random(shape) < 0.5
        else:
            a = self.rng.integers(-3, 4, size=shape).astype(dtype)
        return self.const(a)

    def scalar(self, nonzero: bool = False, positive: bool = False) -> str:
        kinds = ["float", "float", "int", "np.float64", "np.int64"]
        if not self.cfg.jax:
            # JAX promotes strongly typed narrow scalars by its own lattice
            # (float32 with int32 is float32 there, float64 in NumPy)
            kinds += ["np.float32", "np.int32"]
        if not self.grad:
            kinds.append("bool")
        kind = self.choice(kinds)
        if kind == "bool":
            v = self.choice([True, False] if not (nonzero or positive) else [True])
            return repr(v)
        if kind in ("int", "np.int32", "np.int64"):
            lo = 1 if positive else -3
            v = self.int_(lo, 3)
            if nonzero and v == 0:
                v = 2
        else:
            v = self.int_(2 if positive else -10, 10) / 4
            if (nonzero or positive) and v == 0:
                v = 1.25
        if kind.startswith("np."):
            return f"{kind}({v!r})"
        return f"({v!r})"

    def partner(self, i: int, scalar_ok: bool = True, p_scalar: int = 1, **kw) -> str:
        """An operand broadcast-compatible with value ``i``: another value or a scalar."""
        sa = self.shape(i)

        def ok(j):
            try:
                np.broadcast_shapes(sa, self.shape(j))
                return True
            except ValueError:
                return False

        cands = [j for j in range(len(self.vals)) if ok(j)]
        if scalar_ok and (self.int_(0, 3) < p_scalar or not cands):
            return self.scalar(**kw)
        return f"v{self.choice(cands)}"

    # ---- adding a step
    def add(self, name: str, templates: dict, margins=(), force: bool = False) -> bool:
        spell = self.choice(sorted(templates))
        code = templates[spell]
        step = Step(name, spell, code)
        results = []
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for d in range(self.cfg.n_data):
                env: dict[str, Any] = {"np": np, "m": NPREF, **MARGIN_ENV}
                for j, c in enumerate(self.consts):
                    env[f"c{j}"] = c
                for k, v in enumerate(self.vals):
                    env[f"v{k}"] = v[d]
                try:
                    r = np.asarray(eval(step.compiled, env))
                except Exception:
                    return False
                if not force and not self._acceptable(r):
                    return False
                for kind, mcode in margins:
                    if kind == "kink" and not self.grad:
                        continue
                    if eval(mcode, env) < self._threshold(mcode, env):
                        if not force:
                            return False
                results.append(r)
        if not force and any(r.shape != results[0].shape for r in results):
            return False
        self.steps.append(step)
        self.vals.append(results)
        self._update_scale(results)
        return True

    def _threshold(self, mcode: str, env: dict) -> float:
        if self.grad:
            return 5e-3
        # forward only: a comparison must not flip by rounding (float32 is coarser)
        names = re.findall(r"\b[vc]\d+\b", mcode)
        f32 = any(np.asarray(env[n]).dtype == np.float32 for n in names) or "float32" in mcode
        return 1e-4 if f32 else 1e-10

    def _acceptable(self, r: np.ndarray) -> bool:
        if r.dtype not in ALLOWED_DTYPES or (self.grad and r.dtype != np.float64):
            return False
        if r.size > self.cfg.max_size:
            return False
        if r.dtype.kind in "iu":
            return not r.size or int(np.max(np.abs(r.astype(np.int64)))) <= self.cfg.bound
        if r.dtype.kind == "f":
            fin = np.isfinite(r)
            if not self.cfg.nan and not fin.all():
                return False
            f = r[fin]
            return not f.size or float(np.max(np.abs(f))) <= self.cfg.bound
        return True

    # ---- op families
    def fam_unary(self) -> bool:
        i = self.pick()
        name = self.choice(UNARY)
        if self.cfg.large and self.grad and UNARY[name][3]:
            return False
        tmpl, np_ok, op, kink = UNARY[name]
        a = f"v{i}"
        t = {"fx": tmpl.format(a=a)}
        if np_ok:
            t["np"] = t["fx"]
        if op:
            t["op"] = op.format(a=a)
        return self.add(name, t, [("kink", f"_absm({a})")] if kink else [])

    def fam_binary(self) -> bool:
        name = self.choice(BINARY)
        if self.cfg.large and self.grad and name in ("maximum", "minimum", "power", "divide"):
            return False
        i = self.pick()
        a = f"v{i}"
        nonzero = name == "divide"
        positive = name == "power"
        b = self.partner(i, nonzero=nonzero, positive=False)
        if self.coin(1):  # operand order swapped (a scalar on the left)
            a, b = b, a
            if a.startswith("(") or a.startswith("np.") or a in ("True", "False"):
                if positive:
                    a = self.scalar(positive=True)
        is_val = {x: bool(re.fullmatch(r"v\d+", x)) for x in (a, b)}
        margins = []
        if name in BINARY_OPS:
            t = {"fx": f"m.{name}({a}, {b})", "op": f"{a} {BINARY_OPS[name]} {b}"}
            t["np"] = t["fx"]
        elif name == "divide":
            if is_val[b]:
                margins.append(("kink", f"_absm({b})"))
                b = f"(m.abs({b}) + 0.5)"
            elif b in ("(0)", "(0.0)", "False", "np.int32(0)", "np.int64(0)"):
                b = "(2)"
            t = {"fx": f"m.divide({a}, {b})", "op": f"{a} / {b}"}
            t["np"] = t["fx"]
        elif name in ("maximum", "minimum"):
            t = {"fx": f"m.{name}({a}, {b})"}
            t["np"] = t["fx"]
            margins.append(("kink", f"_diffm({a}, {b})"))
        elif name == "power":
            if is_val[a]:
                margins.append(("kink", f"_absm({a})"))
                a = f"(m.abs({a}) + 0.5)"
            t = {"fx": f"m.power({a}, {b})", "op": f"{a} ** {b}"}
            t["np"] = t["fx"]
        else:  # arctan2
            t = {"fx": f"m.arctan2({a}, {b})"}
            t["np"] = t["fx"]
            margins.append(("disc", f"_atan2m({a}, {b})"))
        return self.add(name, t, margins)

    def _dtype_of(self, name: str) -> np.dtype:
        """The dtype of a value ``v<i>`` or constant ``c<j>``."""
        if name.startswith("c"):
            return self.consts[int(name[1:])].dtype
        return self.dtype(int(name[1:]))

    def fam_where(self) -> bool:
        if self.cfg.large and self.grad:
            return False
        i = self.pick()
        a = f"v{i}"
        b = self.partner(i)
        x = self.partner(i, p_scalar=1)
        y = self.partner(i, p_scalar=2)
        cmp = self.choice([">", "<", ">=", "<="])
        fname = {">": "greater", "<": "less", ">=": "greater_equal", "<=": "less_equal"}[cmp]
        t = {
            "fx": f"m.where(m.{fname}({a}, {b}), {x}, {y})",
            "np": f"m.where(m.{fname}({a}, {b}), {x}, {y})",
            "op": f"m.where({a} {cmp} {b}, {x}, {y})",
        }
        return self.add("where", t, [("disc", f"_diffm({a}, {b})")])

    def axis_spec(self, nd: int, allow_tuple=True):
        k = self.int_(0, 5)
        if k == 0 or nd == 0:
            return self.choice([None, ()]) if self.coin(3) else None
        if k <= 3 or not allow_tuple:
            return self.int_(-nd, nd - 1)
        axes = self.draw(st.permutations(range(nd)))[: self.int_(1, nd)]
        return tuple(a - nd if self.coin(1) else a for a in axes)

    def fam_reduce(self) -> bool:
        i = self.pick()
        a = f"v{i}"
        nd = len(self.shape(i))
        name = self.choice(REDUCTIONS)
        if self.cfg.large and self.grad and name in ("max", "min"):
            return False
        axis = self.axis_spec(nd)
        args = [] if axis is None and self.coin(1) else [f"axis={axis!r}"]
        if self.coin(1):
            args.append(f"keepdims={self.choice([True, False])}")
        ddof = 0
        if name in ("var", "std") and self.coin(1):
            ddof = 1
            args.append("ddof=1")
        kw = ", ".join(args)
        t = {"fx": f"m.{name}({a}{', ' if kw else ''}{kw})"}
        if name != "logsumexp":
            t["np"] = t["fx"]
            t["op"] = f"{a}.{name}({kw})"
        margins = []
        if name in ("max", "min"):
            margins.append(("kink", f"_gapm({a}, {axis!r}, {name == 'max'})"))
        if name == "std":
            margins.append(("kink", f"_stdm({a}, {axis!r}, {ddof})"))
        return self.add(name, t, margins)

    def fam_matmul(self) -> bool:
        i = self.pick(lambda j: len(self.shape(j)) >= 1)
        if i is None:
            return False
        a = f"v{i}"
        sa = self.shape(i)
        if self.coin(1):  # a product of a value with itself
            if len(sa) == 1:
                t = {"fx": f"m.matmul({a}, {a})", "op": f"{a} @ {a}"}
            else:
                other = f"{a}.T" if len(sa) == 2 else f"m.swapaxes({a}, -1, -2)"
                t = {"fx": f"m.matmul({a}, m.swapaxes({a}, -1, -2))", "op": f"{a} @ {other}"}
            t["np"] = t["fx"]
            return self.add("matmul_self", t)
        left = self.coin(1)  # b @ a instead of a @ b

        def valid(sb):
            try:
                x, y = (np.empty(sb), np.empty(sa)) if left else (np.empty(sa), np.empty(sb))
                np.matmul(x, y)
                return True
            except ValueError:
                return False

        cands = [
            j for j in range(len(self.vals)) if len(self.shape(j)) >= 1 and valid(self.shape(j))
        ]
        if cands and self.coin(2):
            b = f"v{self.choice(cands)}"
        else:
            k = sa[0] if left else sa[-1]
            if left:
                kind = self.int_(0, 2)
                if len(sa) == 1:
                    sb = [(k,), (self.int_(1, 3), k), (self.int_(1, 2), self.int_(1, 3), k)][kind]
                else:
                    k = sa[-2]
                    sb = [(k,), (self.int_(1, 3), k), (self.int_(1, 3), k)][kind]
            else:
                kind = self.int_(0, 2)
                if len(sa) == 1:
                    sb = [(k,), (k, self.int_(1, 3)), (self.int_(1, 2), k, self.int_(1, 3))][kind]
                else:
                    sb = [(k,), (k, self.int_(1, 3)), (1, k, self.int_(1, 3))][kind]
            dt = np.float64 if self.grad else self.choice([self.dtype(i), np.float64, np.float32])
            b = self.random_const(sb, dt)
        x, y = (b, a) if left else (a, b)
        t = {"fx": f"m.matmul({x}, {y})", "op": f"{x} @ {y}"}
        t["np"] = t["fx"]
        return self.add("matmul", t)

    def fam_einsum(self) -> bool:
        i = self.pick(lambda j: 1 <= len(self.shape(j)) <= 3)
        if i is None:
            return False
        sa = self.shape(i)
        letters = iter("ijklmnop")
        sizes: dict[str, int] = {}
        sub_a = ""
        for n in sa:
            same = [c for c in sub_a if sizes[c] == n]
            if same and self.int_(0, 5) == 0:
                sub_a += self.choice(same)  # a repeated index: a diagonal
            else:
                c = next(letters)
                sizes[c] = n
                sub_a += c
        operands = [f"v{i}"]
        subs = [sub_a]
        if self.coin(3):
            distinct = sorted(set(sub_a))
            shared = [c for c in distinct if self.coin(2)]
            new = [next(letters) for _ in range(self.int_(0 if shared else 1, 2))]
            for c in new:
                sizes[c] = self.int_(1, 3)
            sub_b = list(shared + new)
            sub_b = [sub_b[k] for k in self.draw(st.permutations(range(len(sub_b))))]
            sb = tuple(sizes[c] for c in sub_b)
            cands = [j for j in range(len(self.vals)) if self.shape(j) == sb]
            if cands and self.coin(2):
                operands.append(f"v{self.choice(cands)}")
            else:
                dt = np.float64 if self.grad else self.choice([self.dtype(i), np.float64])
                operands.append(self.random_const(sb, dt))
            subs.append("".join(sub_b))
        all_letters = sorted(set("".join(subs)))
        if self.int_(0, 3) == 0:
            spec = ",".join(subs)  # implicit output
        else:
            out = [c for c in all_letters if self.coin(2)]
            out = [out[k] for k in self.draw(st.permutations(range(len(out))))]
            spec = ",".join(subs) + "->" + "".join(out)
        # Not a bug: an index only one operand has is summed out before the
        # product (as JAX and NumPy's optimize=True do), so with infinities
        # `inf * a + inf * b` may be +-inf where the naive NumPy loop gives NaN.
        used = [int(o[1:]) for o in operands if o.startswith("v")]
        if any(not np.isfinite(np.asarray(d)).all() for j in used for d in self.vals[j]):
            return False
        t = {"fx": f"m.einsum({spec!r}, {', '.join(operands)})"}
        t["np"] = t["fx"]
        return self.add("einsum", t)

    def fam_shape(self) -> bool:
        name = self.choice(LARGE_SHAPE_OPS if self.cfg.large else SHAPE_OPS)
        return getattr(self, f"shape_{name}")()

    def shape_reshape(self) -> bool:
        i = self.pick()
        a = f"v{i}"
        n = math.prod(self.shape(i))
        if n == 0:
            dims = [self.int_(1, 3) for _ in range(self.int_(0, 2))]
            dims.insert(self.int_(0, len(dims)), 0)
        else:
            factors = []
            m, p = n, 2
            while m > 1:
                while m % p == 0:
                    factors.append(p)
                    m //= p
                p += 1
            factors = [factors[k] for k in self.draw(st.permutations(range(len(factors))))]
            ndims = self.int_(0 if n == 1 else 1, 4)
            dims = [1] * max(ndims, 0)
            for f in factors:
                if not dims:
                    dims = [1]
                dims[self.int_(0, len(dims) - 1)] *= f
            if dims and self.coin(1):
                dims[self.int_(0, len(dims) - 1)] = -1
        shape = tuple(dims)
        t = {"fx": f"m.reshape({a}, {shape!r})", "op": f"{a}.reshape({shape!r})"}
        t["np"] = t["fx"]
        return self.add("reshape", t)

    def shape_transpose(self) -> bool:
        i = self.pick()
        a = f"v{i}"
        nd = len(self.shape(i))
        if self.coin(1):
            t = {"fx": f"m.transpose({a})", "op": f"{a}.T"}
        else:
            perm = tuple(self.draw(st.permutations(range(nd))))
            perm = tuple(p - nd if self.coin(1) else p for p in perm)
            t = {"fx": f"m.transpose({a}, {perm!r})", "op": f"{a}.transpose({perm!r})"}
        t["np"] = t["fx"]
        return self.add("transpose", t)

    def shape_moveaxis(self) -> bool:
        i = self.pick(lambda j: len(self.shape(j)) >= 1)
        if i is None:
            return False
        nd = len(self.shape(i))
        if self.coin(2):
            src, dst = self.int_(-nd, nd - 1), self.int_(-nd, nd - 1)
        else:
            k = self.int_(1, nd)
            src = tuple(self.draw(st.permutations(range(nd)))[:k])
            dst = tuple(self.draw(st.permutations(range(nd)))[:k])
        t = {"fx": f"m.moveaxis(v{i}, {src!r}, {dst!r})"}
        t["np"] = t["fx"]
        return self.add("moveaxis", t)

    def shape_swapaxes(self) -> bool:
        i = self.pick(lambda j: len(self.shape(j)) >= 1)
        if i is None:
            return False
        nd = len(self.shape(i))
        t = {"fx": f"m.swapaxes(v{i}, {self.int_(-nd, nd - 1)}, {self.int_(-nd, nd - 1)})"}
        t["np"] = t["fx"]
        return self.add("swapaxes", t)

    def shape_expand_dims(self) -> bool:
        i = self.pick()
        nd = len(self.shape(i))
        if self.coin(3):
            axis = self.int_(-nd - 1, nd)
        else:
            k = self.int_(1, 2)
            axis = tuple(self.draw(st.permutations(range(nd + k)))[:k])
        t = {"fx": f"m.expand_dims(v{i}, {axis!r})"}
        t["np"] = t["fx"]
        return self.add("expand_dims", t)

    def shape_squeeze(self) -> bool:
        i = self.pick()
        sh = self.shape(i)
        ones = [d for d, n in enumerate(sh) if n == 1]
        if not ones or self.int_(0, 3) == 0:
            axis = None
        elif self.coin(2):
            axis = self.choice(ones) - (len(sh) if self.coin(1) else 0)
        else:
            axis = tuple(d for d in ones if self.coin(2)) or None
        t = {"fx": f"m.squeeze(v{i}, {axis!r})" if axis is not None else f"m.squeeze(v{i})"}
        t["np"] = t["fx"]
        return self.add("squeeze", t)

    def shape_concatenate(self) -> bool:
        i = self.pick(lambda j: len(self.shape(j)) >= 1)
        if i is None:
            return False
        sa = self.shape(i)
        nd = len(sa)
        axis = self.int_(-nd, nd - 1)
        ax = axis % nd
        parts = [f"v{i}"]
        for _ in range(self.int_(1, 2)):
            cands = [
                j
                for j in range(len(self.vals))
                if len(self.shape(j)) == nd
                and all(self.shape(j)[d] == sa[d] for d in range(nd) if d != ax)
            ]
            if cands and self.coin(3):
                parts.append(f"v{self.choice(cands)}")
            else:
                sb = list(sa)
                sb[ax] = self.int_(0, 3)
                dt = np.float64 if self.grad else self.choice([self.dtype(i), np.float32, np.int32])
                parts.append(self.random_const(tuple(sb), dt))
        if self.coin(1):
            parts = [parts[k] for k in self.draw(st.permutations(range(len(parts))))]
        # sometimes axis=None: every part flattened first, as NumPy
        axis_arg = None if self.int_(0, 4) == 0 else axis
        t = {"fx": f"m.concatenate([{', '.join(parts)}], axis={axis_arg})"}
        t["np"] = t["fx"]
        return self.add("concatenate", t)

    def shape_stack(self) -> bool:
        i = self.pick()
        sa = self.shape(i)
        parts = [f"v{i}"]
        for _ in range(self.int_(0, 2)):
            cands = [j for j in range(len(self.vals)) if self.shape(j) == sa]
            if self.coin(3):
                parts.append(f"v{self.choice(cands)}")
            else:
                dt = np.float64 if self.grad else self.choice([self.dtype(i), np.float64])
                parts.append(self.random_const(sa, dt))
        nd = len(sa)
        axis = self.int_(-nd - 1, nd)
        t = {"fx": f"m.stack([{', '.join(parts)}], axis={axis})"}
        t["np"] = t["fx"]
        return self.add("stack", t)

    def shape_flip(self) -> bool:
        i = self.pick()
        nd = len(self.shape(i))
        axis = self.axis_spec(nd)
        if axis == ():
            axis = None
        t = {"fx": f"m.flip(v{i})" if axis is None else f"m.flip(v{i}, {axis!r})"}
        t["np"] = t["fx"]
        return self.add("flip", t)

    def index_array(self, n: int, max_dims: int = 2) -> str:
        shape = tuple(self.int_(0 if n == 0 else 1, 3) for _ in range(self.int_(0, max_dims)))
        if n == 0:
            shape = (0,)
        idx = self.rng.integers(-n, max(n, 1), size=shape) if n else np.zeros(shape, int)
        return self.const(idx.astype(self.choice([np.int64, np.int32, np.intp])))

    def shape_take(self) -> bool:
        i = self.pick()
        sa = self.shape(i)
        nd = len(sa)
        if nd == 0 or self.coin(1):
            axis = None
            n = math.prod(sa)
        else:
            axis = self.int_(-nd, nd - 1)
            n = sa[axis]
        if n > 0 and self.int_(0, 4) == 0:
            idx = str(self.int_(-n, n - 1))
        else:
            idx = self.index_array(n)
        t = {"fx": f"m.take(v{i}, {idx}, axis={axis!r})"}
        t["np"] = t["fx"]
        return self.add("take", t)

    def shape_getitem(self) -> bool:
        i = self.pick()
        sa = self.shape(i)
        nd = len(sa)
        parts: list[str] = []
        d = 0
        used_ellipsis = False
        n_adv = 0
        while d < nd and self.int_(0, 4) > 0:
            n = sa[d]
            k = self.int_(0, 9)
            if k == 0:
                parts.append("None")
                continue
            if k == 1 and not used_ellipsis and not self.cfg.large:
                used_ellipsis = True
                parts.append("...")
                d = max(d, nd - self.int_(0, nd - d))
                continue
            if k == 2 and n > 0:
                parts.append(str(self.int_(-n, n - 1)))
            elif k == 3 and n_adv < 2 and not self.cfg.large:
                parts.append(self.index_array(n, max_dims=1 if n_adv else 2))
                n_adv += 1
            elif k == 4 and n_adv == 0 and not self.cfg.large:
                # a boolean mask of the right shape over one or two axes
                r = self.int_(1, min(2, nd - d))
                mask = self.rng.random(sa[d : d + r]) < 0.5
                parts.append(self.const(mask))
                n_adv += 1
                d += r
                continue
            else:
                step = self.choice([None, 1, 2, 3, -1, -2])
                start = None if self.coin(2) else self.int_(-n - 1, n + 1)
                stop = None if self.coin(2) else self.int_(-n - 1, n + 1)
                parts.append(_slice_src(slice(start, stop, step)))
            d += 1
        if not parts:
            parts = [":"]
        key = ", ".join(parts)
        if len(parts) == 1 and parts[0] not in (":", "...", "None") and not self.coin(3):
            key += ","  # a one-element tuple key
        return self.add("getitem", {"op": f"v{i}[{key}]"})

    def shape_broadcast_to(self) -> bool:
        i = self.pick()
        sa = self.shape(i)
        new = [self.int_(1, 3) for _ in range(self.int_(0, 2))]
        shape = tuple(new + [self.int_(1, 3) if n == 1 and self.coin(2) else n for n in sa])
        t = {"fx": f"m.broadcast_to(v{i}, {shape!r})"}
        t["np"] = t["fx"]
        return self.add("broadcast_to", t)

    # ---- the whole chain
    def build(self, n_ops: int) -> None:
        families = _weighted(LARGE_FAMILIES if self.cfg.large else FAMILIES)
        for _ in range(n_ops):
            for _attempt in range(6):
                fam = self.choice(families)
                if getattr(self, f"fam_{fam}")():
                    break
            else:
                i = len(self.vals) - 1
                self.add("fallback", {"fx": f"m.multiply(v{i}, 2)"}, force=True)
        if not self.steps:
            i = len(self.vals) - 1
            self.add("fallback", {"fx": f"m.multiply(v{i}, 2)"}, force=True)


# --------------------------------------------------------------- strategies ---

VALUE_DTYPES = ["float32", "float64", "int32", "int64", "bool"]


def _data(rng, shape, dtype, nan=False) -> np.ndarray:
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        a = rng.uniform(-2, 2, size=shape)
        if nan and a.size:
            special = rng.random(shape) < 0.25
            a = np.where(special, rng.choice([np.nan, np.inf, -np.inf, 0.0, -0.0], size=shape), a)
        return np.asarray(a.astype(dtype))
    if dtype.kind == "b":
        return np.asarray(rng.random(shape) < 0.5)
    return np.asarray(rng.integers(-3, 4, size=shape).astype(dtype))


@st.composite
def programs(
    draw,
    mode: str = "values",
    max_inputs: int = 3,
    max_dims: int = 3,
    max_side: int = 4,
    max_ops: int = 6,
    max_total: int | None = None,
    n_data: int = 1,
    vmap: bool = False,
    scalar_inputs: bool = False,
    jax: bool = False,
):
    """A random program (see the module docstring)."""
    grad = mode == "grad"
    n_in = draw(st.integers(1, max_inputs))
    if scalar_inputs:
        shapes = [()] * n_in
    else:
        min_side = 0 if (not grad and draw(st.integers(0, 9)) == 0) else 1
        shapes = list(
            draw(
                hnp.mutually_broadcastable_shapes(
                    num_shapes=n_in,
                    min_dims=0,
                    max_dims=max_dims,
                    min_side=min_side,
                    max_side=max_side,
                )
            ).input_shapes
        )
    if max_total is not None and sum(math.prod(s) for s in shapes) > max_total:
        shapes = [s[-1:] if math.prod(s) > 4 else s for s in shapes]
    if grad:
        dtypes = ["float64"] * n_in
    else:
        policy = draw(st.integers(0, 4))
        if policy == 0:
            dtypes = ["float32"] * n_in
        elif policy == 1:
            dtypes = ["float64"] * n_in
        elif policy == 2:
            dtypes = [draw(st.sampled_from(["int32", "int64", "bool"])) for _ in range(n_in)]
        else:
            dtypes = [draw(st.sampled_from(VALUE_DTYPES)) for _ in range(n_in)]
    nan = not grad and not vmap and draw(st.integers(0, 9)) == 0
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    in_axes = None
    if vmap:
        in_axes = [
            None if draw(st.integers(0, 4)) == 0 else draw(st.integers(0, len(s))) for s in shapes
        ]
        if all(a is None for a in in_axes):
            in_axes[0] = 0
    inputs = []
    for k, (shape, dt) in enumerate(zip(shapes, dtypes)):
        layout = draw(st.sampled_from(LAYOUTS))
        datas, smalls = [], []
        n_distinct = 1 if (in_axes is not None and in_axes[k] is None) else n_data
        small_shape = tuple(1 if rng.random() < 0.5 else n for n in shape)
        if not vmap and rng.random() < 0.5:
            small_shape = small_shape[1:]
        for _ in range(n_distinct):
            if layout == "broadcast" and shape:
                small = _data(rng, small_shape, dt, nan)
                smalls.append(small)
                datas.append(np.broadcast_to(small, shape).copy())
            else:
                datas.append(_data(rng, shape, dt, nan))
        datas = datas * (n_data // len(datas))
        if layout == "broadcast" and smalls:
            smalls = smalls * (n_data // len(smalls))
        else:
            smalls = None
            if layout == "broadcast":
                layout = "contiguous"
        inputs.append(Input(datas, layout, smalls))
    cfg = Config(
        mode=mode,
        n_data=n_data,
        nan=nan,
        bound=100.0 if grad else 1e3,
        max_size=64 if grad else 400,
        jax=jax,
    )
    g = Gen(draw, cfg, inputs, rng)
    g.build(draw(st.integers(1, max_ops)))
    return Program(inputs, g.steps, g.consts, g.scale, in_axes=in_axes, seed=seed, f32=g.f32)


LARGE_SHAPE = (300, 250)  # 75,000 elements: above fusion's default threshold (65,536)


@st.composite
def large_programs(draw, mode: str = "values"):
    grad = mode == "grad"
    dt = "float64" if grad else draw(st.sampled_from(["float32", "float64"]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    partner_shapes = [LARGE_SHAPE, (LARGE_SHAPE[1],), (LARGE_SHAPE[0], 1), ()]
    shapes = [LARGE_SHAPE] + [
        draw(st.sampled_from(partner_shapes)) for _ in range(draw(st.integers(0, 2)))
    ]
    inputs = []
    for shape in shapes:
        layout = draw(st.sampled_from(LAYOUTS))
        if layout == "broadcast" and shape:
            small = _data(rng, (1,) + shape[1:], dt)
            inputs.append(Input([np.broadcast_to(small, shape).copy()], layout, [small]))
        else:
            layout = "contiguous" if layout == "broadcast" else layout
            inputs.append(Input([_data(rng, shape, dt)], layout))
    cfg = Config(mode=mode, large=True, bound=100.0 if grad else 1e3, max_size=10**6)
    g = Gen(draw, cfg, inputs, rng)
    g.build(draw(st.integers(2, 5)))
    return Program(inputs, g.steps, g.consts, g.scale, seed=seed, f32=g.f32)


# ---------------------------------------------------------------- checking ---


def value_tolerances(dtype, scale: float) -> tuple[float, float]:
    dtype = np.dtype(dtype)
    if dtype == np.float32:
        return 2e-4, 2e-5 * max(scale, 1.0)
    return 1e-9, 1e-11 * max(scale, 1.0)


def check_value(got, expected, prog: Program, what: str = "value") -> None:
    """``got`` (ferrax) equals NumPy's ``expected``: type, dtype, shape, values (NaN-equal)."""
    expected = np.asarray(expected)
    assert isinstance(got, fx.Tensor), f"{what}: expected an fx.Tensor, got {type(got).__name__}"
    rtol, atol = value_tolerances(np.float32 if prog.f32 else expected.dtype, prog.scale)
    try:
        assert_close(got, expected, rtol=rtol, atol=atol)
    except AssertionError as e:
        raise AssertionError(f"{what} differs from NumPy\n{e}\nprogram:{prog!r}") from None


def close(got, want, rtol=1e-5, atol=1e-6, what="", prog=None) -> None:
    """Float comparison with ``atol`` scaled by the magnitude of ``want``."""
    g = np.asarray(got, dtype=np.float64)
    w = np.asarray(want, dtype=np.float64)
    assert g.shape == w.shape, f"{what}: shape {g.shape} != {w.shape}\nprogram:{prog!r}"
    scale = max(1.0, float(np.max(np.abs(w)))) if w.size else 1.0
    np.testing.assert_allclose(
        g, w, rtol=rtol, atol=atol * scale, err_msg=f"{what}\nprogram:{prog!r}"
    )


def fd_directional(fn, xs: list[np.ndarray], ts: list[np.ndarray], eps: float = 1e-6):
    """Central difference of ``fn`` (NumPy arrays -> array) at ``xs`` along ``ts``."""
    scale = max([1.0] + [float(np.max(np.abs(x))) for x in xs if x.size])
    h = eps * scale
    plus = np.asarray(fn([x + h * t for x, t in zip(xs, ts)]), dtype=np.float64)
    minus = np.asarray(fn([x - h * t for x, t in zip(xs, ts)]), dtype=np.float64)
    return (plus - minus) / (2 * h)


def fd_jacobian(fn, xs: list[np.ndarray]) -> np.ndarray:
    """Dense ``(out.size, total input size)`` finite-difference Jacobian."""
    cols = []
    for i, x in enumerate(xs):
        for k in range(x.size):
            ts = [np.zeros_like(y) for y in xs]
            ts[i].flat[k] = 1.0
            cols.append(fd_directional(fn, xs, ts).ravel())
    out = np.asarray(fn(xs))
    return np.stack(cols, axis=1) if cols else np.zeros((out.size, 0))


def flat(xs) -> np.ndarray:
    arrs = [np.asarray(x, dtype=np.float64).ravel() for x in xs]
    return np.concatenate(arrs) if arrs else np.zeros(0)
