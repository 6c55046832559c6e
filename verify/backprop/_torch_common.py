"""What the PyTorch-based backends share (internal): the lazy import and exact transfers.

``torch`` (:mod:`verify.backprop.torch_backend`) and the torch clients (torchopt, higher,
through :mod:`verify.backprop._torch_clients`) import PyTorch through :func:`torch_module`
(a :class:`~verify.errors.BackendUnavailableError` when it is missing), map a float format to
its torch dtype with :func:`torch_dtype`, and read tensors back into numpy bit-exactly with
:func:`to_numpy`. This module never imports :mod:`verify.truth`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..floats import FloatFormat
from ._common import optional_import

__all__ = ["to_numpy", "torch_dtype", "torch_module"]


def torch_module() -> Any:
    """The ``torch`` module (imported on first use), or :class:`BackendUnavailableError`."""
    return optional_import("torch", "torch", "PyTorch")


def torch_dtype(fmt: FloatFormat) -> Any:
    """The torch dtype of a float format (every format of :data:`verify.floats.FORMATS`
    has one under the same name)."""
    return getattr(torch_module(), fmt.name)


def to_numpy(x: Any, dt: np.dtype[Any]) -> Any:
    """A detached CPU copy in the numpy dtype ``dt`` (bit-exact, bfloat16 via float32)."""
    torch = torch_module()
    y = x.detach().to("cpu")
    if y.dtype == torch.bfloat16:
        return y.to(torch.float32).numpy().astype(dt)
    return y.numpy()
