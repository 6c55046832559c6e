"""The coordinate-wise MLP learned optimizer of Metz et al. (2019) (paper notes §5.3).

Per inner coordinate the optimizer keeps exponential moving averages of the gradient and its
square for each ``beta`` in :data:`BETAS`::

    m_k <- beta_k m_k + (1 - beta_k) g,      v_k <- beta_k v_k + (1 - beta_k) g^2

and feeds a 31-dimensional feature vector to a 31 -> 32 (ReLU) -> 2 network:

* 22 moment features: ``g``; ``m_k / sqrt(v_k + 1e-6)`` (5); the parameter value (1);
  ``m_k`` (5); ``v_k`` (5); ``1 / sqrt(v_k + 1e-6)`` (5). Each feature column is divided by
  ``sqrt(1e-5 + mean(x^2))``, the mean running over the coordinates of the same inner tensor
  (second-moment normalization per tensor);
* 9 time features ``tanh(step / s - 1)`` for ``s`` in :data:`TIME_SCALES` (``step`` = the
  number of this update, 1 at the first one, as in the authors' ``new_timestep``).

The outputs ``(o1, o2)`` give the update ``w <- w - o1 * exp(0.001 * o2) * 0.001``.
The network's weights are initialized ``N(0, 1)`` and its biases 0.1 (authors' code).

The optimizer's parameters ``theta`` are one flat vector (:data:`N_THETA` = 1090 entries:
``W1`` 31x32, ``b1`` 32, ``W2`` 32x2, ``b2`` 2). Everything is functional: :func:`opt_step`
returns new tensors, so the update can be differentiated with respect to ``theta`` and, in
the exact mode, through the inner gradient as well.

Torch is imported inside functions only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ShapeMismatchError

if TYPE_CHECKING:
    import torch

__all__ = [
    "BETAS",
    "EPS_NORM",
    "EPS_V",
    "HIDDEN_UNITS",
    "N_FEATURES",
    "N_THETA",
    "STEP_SCALE",
    "TIME_SCALES",
    "OptState",
    "features",
    "init_state",
    "init_theta",
    "opt_step",
    "segment_matrix",
    "time_features",
]

#: EMA decay rates of the moment features.
BETAS = (0.5, 0.9, 0.99, 0.999, 0.9999)
#: Time scales of the tanh time features.
TIME_SCALES = (3, 10, 30, 100, 300, 1000, 3000, 10000, 300000)
#: Added to v inside the square roots.
EPS_V = 1e-6
#: Added to the per-tensor mean square in the feature normalization.
EPS_NORM = 1e-5
#: Width of the hidden layer.
HIDDEN_UNITS = 32
#: 22 moment features + 9 time features.
N_FEATURES = 1 + 5 + 1 + 5 + 5 + 5 + len(TIME_SCALES)
#: Number of optimizer parameters.
N_THETA = N_FEATURES * HIDDEN_UNITS + HIDDEN_UNITS + HIDDEN_UNITS * 2 + 2
#: The final scale of the update, ``w <- w - o1 * exp(0.001 * o2) * STEP_SCALE``.
STEP_SCALE = 1e-3
#: Scale of o2 inside the exponential.
MAGNITUDE_SCALE = 1e-3


@dataclass(frozen=True)
class OptState:
    """Per-coordinate optimizer state: EMAs ``m``, ``v`` of shape (5, P) and the step count."""

    m: torch.Tensor
    v: torch.Tensor
    step: int

    def detach(self) -> OptState:
        """The same state cut from the autograd graph (truncated back-propagation)."""
        return OptState(self.m.detach(), self.v.detach(), self.step)


def init_theta(rng: np.random.Generator) -> np.ndarray:
    """Initial optimizer parameters: weights ``N(0, 1)``, biases 0.1 (float32-exact float64)."""
    w1 = rng.standard_normal(N_FEATURES * HIDDEN_UNITS)
    b1 = np.full(HIDDEN_UNITS, 0.1)
    w2 = rng.standard_normal(HIDDEN_UNITS * 2)
    b2 = np.full(2, 0.1)
    return np.concatenate([w1, b1, w2, b2]).astype(np.float32).astype(np.float64)


def init_state(n_params: int, dtype: torch.dtype) -> OptState:
    """Zero moments and step 0 for ``n_params`` inner coordinates."""
    import torch

    zeros = torch.zeros((len(BETAS), n_params), dtype=dtype)
    return OptState(zeros, zeros.clone(), 0)


def segment_matrix(segments: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
    """Matrix ``S`` (P, n_tensors) with ``x @ S`` = per-tensor means of the rows of ``x``."""
    import torch

    n_seg = int(segments.max()) + 1
    onehot = np.zeros((segments.shape[0], n_seg))
    onehot[np.arange(segments.shape[0]), segments] = 1.0
    onehot /= onehot.sum(axis=0, keepdims=True)
    return torch.as_tensor(onehot, dtype=dtype)


def features(
    w: torch.Tensor,
    g: torch.Tensor,
    state: OptState,
    segments: torch.Tensor,
    seg_mean: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor, OptState]:
    """Moment update and the features: (P, 22) moment block and the 9 time features.

    Parameters
    ----------
    w, g : torch.Tensor
        Parameters and gradient, shape (P,).
    state : OptState
        Moments before this step.
    segments : torch.Tensor
        int64 tensor index of every coordinate, shape (P,).
    seg_mean : torch.Tensor
        :func:`segment_matrix` of ``segments``.

    Returns
    -------
    (moment_features, time_features, new_state)
        The full (P, 31) feature matrix is ``[moment_features, time_features]`` with the
        time features repeated on every row; :func:`opt_step` never forms it (the time block
        contributes the same vector to every row of the first layer).
    """
    import torch

    if w.shape != g.shape or w.ndim != 1:
        raise ShapeMismatchError("g", tuple(g.shape), f"expected the shape of w, {tuple(w.shape)}")
    betas = torch.tensor(BETAS, dtype=w.dtype).unsqueeze(1)
    m = betas * state.m + (1 - betas) * g
    v = betas * state.v + (1 - betas) * g * g
    rsqrt = torch.rsqrt(v + EPS_V)
    moments = torch.cat([g.unsqueeze(0), m * rsqrt, w.unsqueeze(0), m, v, rsqrt], dim=0)
    mean_sq = (moments * moments) @ seg_mean  # (22, n_tensors)
    scale = torch.rsqrt(EPS_NORM + mean_sq).index_select(1, segments)
    return (
        (moments * scale).T,
        time_features(state.step + 1, w.dtype),
        OptState(m, v, state.step + 1),
    )


def time_features(step: int, dtype: torch.dtype) -> torch.Tensor:
    """The 9 time features ``tanh(step / s - 1)`` (the same for every coordinate)."""
    import torch

    scales = torch.tensor(TIME_SCALES, dtype=dtype)
    return torch.tanh(step / scales - 1.0)


def opt_step(
    theta: torch.Tensor,
    w: torch.Tensor,
    g: torch.Tensor,
    state: OptState,
    segments: torch.Tensor,
    seg_mean: torch.Tensor,
    step_scale: float = STEP_SCALE,
) -> tuple[torch.Tensor, OptState]:
    """One learned-optimizer update: returns ``(w_new, new_state)``.

    ``w_new = w - o1 * exp(0.001 * o2) * step_scale`` with ``(o1, o2)`` the network's output
    on :func:`features`. Differentiable in ``theta`` and ``w`` (and in ``g`` when it carries
    a graph: the exact, second-order meta-gradient).
    """
    import torch

    if theta.shape != (N_THETA,):
        raise ShapeMismatchError("theta", tuple(theta.shape), f"expected ({N_THETA},)")
    moments, time, new_state = features(w, g, state, segments, seg_mean)
    k = N_FEATURES * HIDDEN_UNITS
    n_mom = N_FEATURES - len(TIME_SCALES)
    w1 = theta[:k].view(N_FEATURES, HIDDEN_UNITS)
    b1 = theta[k : k + HIDDEN_UNITS]
    w2 = theta[k + HIDDEN_UNITS : k + 3 * HIDDEN_UNITS].view(HIDDEN_UNITS, 2)
    b2 = theta[k + 3 * HIDDEN_UNITS :]
    bias = b1 + time @ w1[n_mom:]
    out = torch.relu(moments @ w1[:n_mom] + bias) @ w2 + b2
    update = out[:, 0] * torch.exp(MAGNITUDE_SCALE * out[:, 1]) * step_scale
    return w - update, new_state
