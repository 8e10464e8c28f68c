"""``repr`` and ``str`` of tensors, formatted like NumPy's."""

from __future__ import annotations

import numpy as np

_DEFAULT = {"float64", "int64", "bool"}


def tensor_repr(t, full: bool) -> str:
    try:
        arr = np.asarray(t)
    except TypeError:
        shape = ",".join(map(str, t.shape))
        return f"Tensor(<traced {t.dtype}[{shape}]>)" if full else f"<traced {t.dtype}[{shape}]>"
    if not full:
        return np.array2string(arr)
    body = np.array2string(arr, separator=", ", prefix="Tensor(")
    if arr.dtype.name in _DEFAULT and arr.size > 0:
        return f"Tensor({body})"
    return f"Tensor({body}, dtype={arr.dtype.name})"
