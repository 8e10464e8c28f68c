"""Type stubs of the package namespace ``ferrax`` (what ``import ferrax as fx`` gives).

``__init__.py`` builds the namespace at run time (``from ._ferrax import *`` and
``__all__`` computed from ``dir()``), which type checkers cannot follow; this stub
names every public name explicitly (``from m import x as x`` is an explicit
re-export, also under ``mypy --strict``). tests/test_typing.py checks that it
declares exactly the runtime ``fx.__all__``, from the module each name comes from,
and that every name taken from the extension is declared in ``_ferrax.pyi``.
"""

import numpy as _np

from . import lax as lax
from . import linalg as linalg
from . import nn as nn
from . import random as random
from . import scipy as scipy
from . import test_util as test_util
from . import tree_util as tree_util
from ._custom import checkpoint as checkpoint
from ._custom import custom_jvp as custom_jvp
from ._custom import custom_vjp as custom_vjp
from ._custom import remat as remat
from ._ferrax import GradFunction as GradFunction
from ._ferrax import JacobianFunction as JacobianFunction
from ._ferrax import LinearizedFunction as LinearizedFunction
from ._ferrax import PyTreeDef as PyTreeDef
from ._ferrax import SparseJacobianFunction as SparseJacobianFunction
from ._ferrax import Tensor as Tensor
from ._ferrax import VjpFunction as VjpFunction
from ._ferrax import VmapFunction as VmapFunction
from ._ferrax import abs as abs
from ._ferrax import add as add
from ._ferrax import allclose as allclose
from ._ferrax import append as append
from ._ferrax import arange as arange
from ._ferrax import arccos as arccos
from ._ferrax import arccosh as arccosh
from ._ferrax import arcsin as arcsin
from ._ferrax import arcsinh as arcsinh
from ._ferrax import arctan as arctan
from ._ferrax import arctan2 as arctan2
from ._ferrax import arctanh as arctanh
from ._ferrax import argmax as argmax
from ._ferrax import argmin as argmin
from ._ferrax import argsort as argsort
from ._ferrax import array_split as array_split
from ._ferrax import asarray as asarray
from ._ferrax import atleast_1d as atleast_1d
from ._ferrax import atleast_2d as atleast_2d
from ._ferrax import atleast_3d as atleast_3d
from ._ferrax import blas_library as blas_library
from ._ferrax import broadcast_to as broadcast_to
from ._ferrax import ceil as ceil
from ._ferrax import clip as clip
from ._ferrax import column_stack as column_stack
from ._ferrax import concatenate as concatenate
from ._ferrax import conj as conj
from ._ferrax import conjugate as conjugate
from ._ferrax import convolve as convolve
from ._ferrax import copysign as copysign
from ._ferrax import corrcoef as corrcoef
from ._ferrax import correlate as correlate
from ._ferrax import cos as cos
from ._ferrax import cosh as cosh
from ._ferrax import cov as cov
from ._ferrax import cross as cross
from ._ferrax import cumprod as cumprod
from ._ferrax import cumsum as cumsum
from ._ferrax import deg2rad as deg2rad
from ._ferrax import degrees as degrees
from ._ferrax import diag as diag
from ._ferrax import diagflat as diagflat
from ._ferrax import diagonal as diagonal
from ._ferrax import diff as diff
from ._ferrax import digamma as digamma
from ._ferrax import divide as divide
from ._ferrax import dot as dot
from ._ferrax import dsplit as dsplit
from ._ferrax import dstack as dstack
from ._ferrax import ediff1d as ediff1d
from ._ferrax import einsum as einsum
from ._ferrax import equal as equal
from ._ferrax import erf as erf
from ._ferrax import erfc as erfc
from ._ferrax import erfinv as erfinv
from ._ferrax import exp as exp
from ._ferrax import exp2 as exp2
from ._ferrax import expand_dims as expand_dims
from ._ferrax import expm1 as expm1
from ._ferrax import eye as eye
from ._ferrax import flip as flip
from ._ferrax import fliplr as fliplr
from ._ferrax import flipud as flipud
from ._ferrax import floor as floor
from ._ferrax import floor_divide as floor_divide
from ._ferrax import fmax as fmax
from ._ferrax import fmin as fmin
from ._ferrax import from_dlpack as from_dlpack
from ._ferrax import full as full
from ._ferrax import full_like as full_like
from ._ferrax import gammaln as gammaln
from ._ferrax import get_num_threads as get_num_threads
from ._ferrax import gradient as gradient
from ._ferrax import greater as greater
from ._ferrax import greater_equal as greater_equal
from ._ferrax import heaviside as heaviside
from ._ferrax import hsplit as hsplit
from ._ferrax import hstack as hstack
from ._ferrax import hypot as hypot
from ._ferrax import imag as imag
from ._ferrax import inner as inner
from ._ferrax import interp as interp
from ._ferrax import isclose as isclose
from ._ferrax import isfinite as isfinite
from ._ferrax import isnan as isnan
from ._ferrax import kron as kron
from ._ferrax import less as less
from ._ferrax import less_equal as less_equal
from ._ferrax import linspace as linspace
from ._ferrax import log as log
from ._ferrax import log1p as log1p
from ._ferrax import log2 as log2
from ._ferrax import log10 as log10
from ._ferrax import log_ndtr as log_ndtr
from ._ferrax import logaddexp as logaddexp
from ._ferrax import logaddexp2 as logaddexp2
from ._ferrax import logical_and as logical_and
from ._ferrax import logical_not as logical_not
from ._ferrax import logical_or as logical_or
from ._ferrax import logical_xor as logical_xor
from ._ferrax import logit as logit
from ._ferrax import logsumexp as logsumexp
from ._ferrax import matmul as matmul
from ._ferrax import max as max
from ._ferrax import maximum as maximum
from ._ferrax import mean as mean
from ._ferrax import median as median
from ._ferrax import meshgrid as meshgrid
from ._ferrax import min as min
from ._ferrax import minimum as minimum
from ._ferrax import moveaxis as moveaxis
from ._ferrax import multiply as multiply
from ._ferrax import nan_to_num as nan_to_num
from ._ferrax import nanmax as nanmax
from ._ferrax import nanmean as nanmean
from ._ferrax import nanmin as nanmin
from ._ferrax import nansum as nansum
from ._ferrax import ndtr as ndtr
from ._ferrax import ndtri as ndtri
from ._ferrax import neg as neg
from ._ferrax import not_equal as not_equal
from ._ferrax import ones as ones
from ._ferrax import ones_like as ones_like
from ._ferrax import outer as outer
from ._ferrax import pad as pad
from ._ferrax import percentile as percentile
from ._ferrax import polyval as polyval
from ._ferrax import power as power
from ._ferrax import prod as prod
from ._ferrax import quantile as quantile
from ._ferrax import rad2deg as rad2deg
from ._ferrax import radians as radians
from ._ferrax import ravel as ravel
from ._ferrax import real as real
from ._ferrax import reciprocal as reciprocal
from ._ferrax import register_pytree_node as register_pytree_node
from ._ferrax import relu as relu
from ._ferrax import remainder as remainder
from ._ferrax import repeat as repeat
from ._ferrax import reshape as reshape
from ._ferrax import rint as rint
from ._ferrax import roll as roll
from ._ferrax import rot90 as rot90
from ._ferrax import round as round
from ._ferrax import rsqrt as rsqrt
from ._ferrax import searchsorted as searchsorted
from ._ferrax import select as select
from ._ferrax import set_num_threads as set_num_threads
from ._ferrax import sigmoid as sigmoid
from ._ferrax import sign as sign
from ._ferrax import simd_level as simd_level
from ._ferrax import sin as sin
from ._ferrax import sinc as sinc
from ._ferrax import sinh as sinh
from ._ferrax import softplus as softplus
from ._ferrax import sort as sort
from ._ferrax import split as split
from ._ferrax import sqrt as sqrt
from ._ferrax import square as square
from ._ferrax import squeeze as squeeze
from ._ferrax import stack as stack
from ._ferrax import std as std
from ._ferrax import stop_gradient as stop_gradient
from ._ferrax import subtract as subtract
from ._ferrax import sum as sum
from ._ferrax import swapaxes as swapaxes
from ._ferrax import take as take
from ._ferrax import take_along_axis as take_along_axis
from ._ferrax import tan as tan
from ._ferrax import tanh as tanh
from ._ferrax import tensordot as tensordot
from ._ferrax import tile as tile
from ._ferrax import trace as trace
from ._ferrax import transpose as transpose
from ._ferrax import trapezoid as trapezoid
from ._ferrax import tree_flatten as tree_flatten
from ._ferrax import tree_unflatten as tree_unflatten
from ._ferrax import tril as tril
from ._ferrax import triu as triu
from ._ferrax import var as var
from ._ferrax import vdot as vdot
from ._ferrax import vsplit as vsplit
from ._ferrax import vstack as vstack
from ._ferrax import where as where
from ._ferrax import xlog1py as xlog1py
from ._ferrax import xlogy as xlogy
from ._ferrax import zeros as zeros
from ._ferrax import zeros_like as zeros_like
from ._sparse import sparsity_coloring as sparsity_coloring
from ._sparse import sparsity_pattern as sparsity_pattern
from ._transforms import grad as grad
from ._transforms import hessian as hessian
from ._transforms import hvp as hvp
from ._transforms import jacfwd as jacfwd
from ._transforms import jacobian as jacobian
from ._transforms import jacrev as jacrev
from ._transforms import jit as jit
from ._transforms import jvp as jvp
from ._transforms import linear_transpose as linear_transpose
from ._transforms import linearize as linearize
from ._transforms import value_and_grad as value_and_grad
from ._transforms import vjp as vjp
from ._transforms import vmap as vmap

bool_: _np.dtype[_np.bool_]
float32: _np.dtype[_np.float32]
float64: _np.dtype[_np.float64]
int32: _np.dtype[_np.int32]
int64: _np.dtype[_np.int64]

# NumPy's other names for the same functions
absolute = abs
array = asarray
negative = neg
permute_dims = transpose
pow = power

# from the installed package's metadata (the extension's own when run uninstalled)
__version__: str
