"""``repr`` and ``str`` of tensors, formatted like NumPy's."""

from __future__ import annotations

import numpy as np


def tensor_repr(t, full: bool) -> str:
    try:
        arr = np.asarray(t)
    except TypeError:
        shape = ",".join(map(str, t.shape))
        return f"Tensor(<traced {t.dtype}[{shape}]>)" if full else f"<traced {t.dtype}[{shape}]>"
    if not full:
        return str(arr)
    # NumPy's own repr (shape= and dtype= exactly when NumPy shows them), renamed
    r = repr(arr)
    return "Tensor(" + r[len("array(") :].replace("\n      ", "\n       ")
