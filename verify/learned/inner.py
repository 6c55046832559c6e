"""The inner problem: a two-layer ReLU MLP classifier on a flat parameter vector (PyTorch).

Architecture (paper notes §5.3): ``d -> 100 -> 20 -> 10``, ReLU, softmax cross-entropy, no
weight decay, mini-batches of 32. Parameters live in one flat vector ``w`` (so a learned
optimizer can act on all coordinates at once); :class:`MLPLayout` maps it to the six tensors
``W1, b1, W2, b2, W3, b3`` (weights stored ``(fan_in, fan_out)``).

Initialization follows the authors' code: every tensor is ``N(0, 1) * 1.2 / sqrt(shape[0])``
(fan-in for weight matrices, layer width for biases), drawn in float64 from a numpy
generator and rounded once to float32, so float32 and float64 runs start from bit-identical
parameters.

Torch is imported inside functions only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ArgumentError, ShapeMismatchError

if TYPE_CHECKING:
    import torch

__all__ = [
    "BATCH_SIZE",
    "HIDDEN",
    "INIT_SCALE",
    "MLPLayout",
    "accuracy",
    "batch_indices",
    "init_params",
    "loss",
]

#: Hidden widths of the inner MLP.
HIDDEN = (100, 20)
#: Mini-batch size of inner training.
BATCH_SIZE = 32
#: The authors' init scale: N(0, 1) * INIT_SCALE / sqrt(first dimension).
INIT_SCALE = 1.2


@dataclass(frozen=True)
class MLPLayout:
    """Shapes and offsets of the inner MLP's tensors inside the flat vector.

    Attributes
    ----------
    n_in : int
        Input dimension (64 for digits, 784 for MNIST).
    shapes : tuple of tuple of int
        ``W1, b1, W2, b2, W3, b3`` shapes.
    """

    n_in: int
    hidden: tuple[int, int] = HIDDEN
    n_out: int = 10

    @property
    def shapes(self) -> tuple[tuple[int, ...], ...]:
        h1, h2 = self.hidden
        return ((self.n_in, h1), (h1,), (h1, h2), (h2,), (h2, self.n_out), (self.n_out,))

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(math.prod(s) for s in self.shapes)

    @property
    def n_params(self) -> int:
        """Total number of inner parameters (8 730 for digits, 80 730 for MNIST)."""
        return sum(self.sizes)

    def segments(self) -> np.ndarray:
        """Tensor index (0..5) of every coordinate of the flat vector."""
        return np.repeat(np.arange(len(self.sizes)), self.sizes)

    def unflatten(self, w: torch.Tensor) -> list[torch.Tensor]:
        """Views of ``w`` shaped as the six tensors (differentiable)."""
        out = []
        start = 0
        for shape, size in zip(self.shapes, self.sizes, strict=True):
            out.append(w[start : start + size].view(shape))
            start += size
        return out


def init_params(layout: MLPLayout, rng: np.random.Generator) -> np.ndarray:
    """Initial flat parameters (float64 values exactly representable in float32)."""
    parts = [
        rng.standard_normal(math.prod(shape)) * INIT_SCALE / math.sqrt(shape[0])
        for shape in layout.shapes
    ]
    return np.concatenate(parts).astype(np.float32).astype(np.float64)


def _logits(layout: MLPLayout, w: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    import torch

    w1, b1, w2, b2, w3, b3 = layout.unflatten(w)
    h = torch.relu(x @ w1 + b1)
    h = torch.relu(h @ w2 + b2)
    return h @ w3 + b3


def loss(layout: MLPLayout, w: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean softmax cross-entropy of the MLP with parameters ``w`` on ``(x, y)``.

    Accuracy
    --------
    ``torch.nn.functional.cross_entropy`` evaluates log-softmax stably (max subtracted), so
    the loss is accurate to a few units of the dtype's u relative to the logits' magnitude.
    """
    import torch

    if w.ndim != 1 or w.shape[0] != layout.n_params:
        raise ShapeMismatchError("w", tuple(w.shape), f"expected ({layout.n_params},)")
    return torch.nn.functional.cross_entropy(_logits(layout, w, x), y)


def accuracy(layout: MLPLayout, w: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of samples whose arg-max logit is the label."""
    import torch

    with torch.no_grad():
        pred = _logits(layout, w, x).argmax(dim=1)
        return float((pred == y).double().mean())


def batch_indices(n: int, steps: int, rng: np.random.Generator) -> np.ndarray:
    """Mini-batch indices for ``steps`` inner steps: shape (steps, min(32, n)).

    Shuffled epochs: the n indices are permuted, cut into consecutive batches, and a fresh
    permutation starts when fewer than a batch remain. Drawing all indices up front from one
    generator lets float32 and float64 runs use identical batches.
    """
    if n < 1:
        raise ArgumentError("n", n, "need at least one sample")
    if steps < 0:
        raise ArgumentError("steps", steps, "must be >= 0")
    b = min(BATCH_SIZE, n)
    per_epoch = n // b
    epochs = -(-steps // per_epoch) if steps else 0
    rows = [rng.permutation(n)[: per_epoch * b].reshape(per_epoch, b) for _ in range(epochs)]
    if not rows:
        return np.zeros((0, b), dtype=np.int64)
    return np.concatenate(rows)[:steps].astype(np.int64)
