"""Meta-training the MLP optimizer by truncated back-propagation through unrolls.

Meta-objectives (:class:`MetaObjective`): ``kind`` is

* ``"average"`` -- mean over the unroll of the full-batch loss after each step (the authors'
  code, the naive objective);
* ``"final"`` -- the full-batch loss after the last step of the unroll (naive, last iterate);
* ``"log"`` -- ``(1/T) log`` of the full-batch loss after the last of the ``T`` steps (the
  paper's log objective, §2.3);

and ``data`` is ``"train"`` (train-by-train: the loss on the inner training set) or
``"valid"`` (train-by-validation: the loss on a held-out validation set of the same task).

Meta-training (paper notes §5.3, authors' ``train_mlp_optimizer.py``): for each of
``n_problems`` sampled tasks, ``meta_iters`` times: re-initialize the inner MLP, draw
``n_unrolls = a + round(Exp(b))`` and ``length = c + round(Exp(e))`` and run ``n_unrolls``
consecutive partial unrolls of ``length`` inner steps; after each one the meta-gradient of
the partial unroll's meta-objective updates ``theta`` with RMSProp (learning rate 1e-2, decay
0.9, epsilon 1e-10 inside the square root, accumulator initialized to 1 as in TensorFlow 1's
``RMSPropOptimizer``), after clipping by value at 1e4 and replacing non-finite entries by 0.
The inner state (parameters, moments, step count) carries over between partial unrolls but
the graph is cut (truncation). By default the inner gradient is treated as a constant
(``stop_gradient``: the authors' ``use_second_derivatives=False``); ``exact=True``
differentiates through it too.

Torch is imported inside functions only.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ArgumentError, UnknownOptionError
from .data import Dataset, add_label_noise
from .inner import MLPLayout, batch_indices, init_params, loss
from .optimizer import STEP_SCALE, OptState, init_state, init_theta, opt_step, segment_matrix

if TYPE_CHECKING:
    import torch

__all__ = [
    "CLIP_VALUE",
    "META_DATA",
    "META_KINDS",
    "MetaObjective",
    "MetaTrainConfig",
    "MetaTrainResult",
    "Task",
    "UnrollResult",
    "make_task",
    "meta_train",
    "objective_value",
    "unroll",
]

#: Meta-objective kinds.
META_KINDS = ("average", "final", "log")
#: Which data the meta-objective is evaluated on.
META_DATA = ("train", "valid")
#: Meta-gradient entries are clipped to [-CLIP_VALUE, CLIP_VALUE] (authors' code).
CLIP_VALUE = 1e4


@dataclass(frozen=True)
class MetaObjective:
    """A meta-objective: ``kind`` in :data:`META_KINDS`, ``data`` in :data:`META_DATA`."""

    kind: str = "average"
    data: str = "train"

    def __post_init__(self) -> None:
        if self.kind not in META_KINDS:
            raise UnknownOptionError("kind", self.kind, f"expected one of {META_KINDS}")
        if self.data not in META_DATA:
            raise UnknownOptionError("data", self.data, f"expected one of {META_DATA}")

    @property
    def name(self) -> str:
        """``"TbT-average"``, ``"TbV-log"`` ..."""
        return ("TbT" if self.data == "train" else "TbV") + "-" + self.kind


@dataclass(frozen=True)
class Task:
    """One inner problem as torch tensors: training set and meta-objective set."""

    layout: MLPLayout
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_meta: torch.Tensor
    y_meta: torch.Tensor
    segments: torch.Tensor
    seg_mean: torch.Tensor

    @property
    def n_train(self) -> int:
        return int(self.x_train.shape[0])


def make_task(
    dataset: Dataset,
    n_train: int,
    n_valid: int,
    noise: float,
    rng: np.random.Generator,
    dtype: torch.dtype,
) -> Task:
    """Draw ``n_train + n_valid`` pool samples without replacement (labels noised first).

    With ``n_valid == 0`` the meta-objective set is the training set (train-by-train).
    """
    import torch

    n_pool = dataset.x_pool.shape[0]
    if n_train < 1 or n_valid < 0 or n_train + n_valid > n_pool:
        raise ArgumentError(
            "n_train", (n_train, n_valid), f"need 1 <= n_train and n_train + n_valid <= {n_pool}"
        )
    idx = rng.choice(n_pool, size=n_train + n_valid, replace=False)
    x = dataset.x_pool[idx]
    y = add_label_noise(dataset.y_pool[idx], noise, rng) if noise > 0 else dataset.y_pool[idx]
    layout = MLPLayout(dataset.n_features)
    xt = torch.as_tensor(x, dtype=dtype)
    yt = torch.as_tensor(y)
    meta = slice(n_train, None) if n_valid else slice(0, n_train)
    return Task(
        layout,
        xt[:n_train],
        yt[:n_train],
        xt[meta],
        yt[meta],
        torch.as_tensor(layout.segments()),
        segment_matrix(layout.segments(), dtype),
    )


@dataclass
class UnrollResult:
    """Output of :func:`unroll`: meta-objective (with graph), final inner state, loss trace."""

    meta_loss: torch.Tensor
    w: torch.Tensor
    state: OptState
    losses: list[float] = field(default_factory=list)


def objective_value(kind: str, losses: list[torch.Tensor]) -> torch.Tensor:
    """Meta-objective of one unroll from its per-step full-batch losses ``L_1..L_T``."""
    import torch

    if not losses:
        raise ArgumentError("losses", losses, "an unroll needs at least one step")
    if kind == "average":
        return torch.stack(losses).mean()
    if kind == "final":
        return losses[-1]
    if kind == "log":
        return torch.log(losses[-1]) / len(losses)
    raise UnknownOptionError("kind", kind, f"expected one of {META_KINDS}")


def unroll(
    theta: torch.Tensor,
    w: torch.Tensor,
    state: OptState,
    task: Task,
    batches: np.ndarray,
    kind: str,
    *,
    exact: bool = False,
    step_scale: float = STEP_SCALE,
) -> UnrollResult:
    """Run ``len(batches)`` learned-optimizer steps and build the meta-objective.

    Parameters
    ----------
    theta : torch.Tensor
        Optimizer parameters (``requires_grad`` for a meta-gradient).
    w, state
        Inner parameters and optimizer state at the start (treated as constants).
    batches : numpy.ndarray
        Mini-batch indices into the task's training set, one row per step.
    kind : str
        Meta-objective kind (:data:`META_KINDS`), on the task's meta set.
    exact : bool
        Differentiate through the inner gradient (second order); default is the authors'
        first-order ``stop_gradient`` meta-gradient.

    Accuracy
    --------
    Plain reverse-mode autodiff in the tensors' dtype; no error bound is claimed (see
    :mod:`verify.learned.explosion` for the measured float32 error against float64).
    """
    import torch

    w = w.detach()
    state = state.detach()
    losses: list[torch.Tensor] = []
    need_all = kind == "average"
    for i, rows in enumerate(batches):
        idx = torch.as_tensor(rows)
        if exact:
            if not w.requires_grad:
                w = w.requires_grad_()
            inner_loss = loss(task.layout, w, task.x_train[idx], task.y_train[idx])
            (g,) = torch.autograd.grad(inner_loss, w, create_graph=True)
        else:
            wd = w.detach().requires_grad_()
            with torch.enable_grad():
                inner_loss = loss(task.layout, wd, task.x_train[idx], task.y_train[idx])
                (g,) = torch.autograd.grad(inner_loss, wd)
        w, state = opt_step(theta, w, g, state, task.segments, task.seg_mean, step_scale)
        if need_all or i == len(batches) - 1:
            losses.append(loss(task.layout, w, task.x_meta, task.y_meta))
    return UnrollResult(
        objective_value(kind, losses), w, state, [float(v.detach()) for v in losses]
    )


@dataclass(frozen=True)
class MetaTrainConfig:
    """Sizes of meta-training (defaults: the authors' code; see :data:`PRESETS` in experiment).

    ``n_unrolls = unrolls_base + round(Exp(unrolls_exp_mean))`` partial unrolls of
    ``length_base + round(Exp(length_exp_mean))`` steps, per meta-iteration. RMSProp's
    accumulator starts at ``rms_init`` (1 in TensorFlow 1, 0 in PyTorch/Keras).
    """

    n_problems: int = 100
    meta_iters: int = 3
    unrolls_base: int = 10
    unrolls_exp_mean: float = 30.0
    length_base: int = 50
    length_exp_mean: float = 100.0
    learning_rate: float = 1e-2
    decay: float = 0.9
    epsilon: float = 1e-10
    rms_init: float = 1.0
    exact: bool = False

    def __post_init__(self) -> None:
        for name in ("n_problems", "meta_iters", "unrolls_base", "length_base"):
            if int(getattr(self, name)) < 1:
                raise ArgumentError(name, getattr(self, name), "must be >= 1")
        for name in ("unrolls_exp_mean", "length_exp_mean"):
            if not float(getattr(self, name)) >= 0:
                raise ArgumentError(name, getattr(self, name), "must be >= 0")


@dataclass(frozen=True)
class MetaTrainResult:
    """Learned ``theta`` (float64 numpy), the meta-loss of every update, counters."""

    theta: np.ndarray
    meta_losses: tuple[float, ...]
    n_updates: int
    n_nonfinite_grads: int
    n_inner_resets: int
    n_inner_steps: int


def _rmsprop(
    theta: torch.Tensor, grad: torch.Tensor, ms: torch.Tensor, cfg: MetaTrainConfig
) -> None:
    """TF1 RMSProp in place: ``ms = d ms + (1-d) g^2; theta -= lr g / sqrt(ms + eps)``."""
    import torch

    with torch.no_grad():
        ms.mul_(cfg.decay).add_((1 - cfg.decay) * grad * grad)
        theta.sub_(cfg.learning_rate * grad / torch.sqrt(ms + cfg.epsilon))


def meta_train(
    dataset: Dataset,
    objective: MetaObjective,
    n_train: int,
    n_valid: int,
    noise: float,
    config: MetaTrainConfig,
    seed: int,
    *,
    dtype: str = "float32",
    progress: Callable[[str], None] | None = None,
) -> MetaTrainResult:
    """Meta-train the MLP optimizer on tasks drawn from ``dataset`` (module docstring).

    Parameters
    ----------
    n_train, n_valid : int
        Samples per task for inner training and for the validation meta-objective
        (``n_valid`` must be 0 for train-by-train and positive for train-by-validation).
    noise : float
        Label-noise probability applied to every task's samples.
    seed : int
        Seeds ``theta``'s initialization, the tasks, unroll lengths and mini-batches.
    dtype : {"float32", "float64"}
        Arithmetic of the whole run.

    Returns
    -------
    MetaTrainResult
        Deterministic for a fixed seed (single-threaded CPU torch).
    """
    import torch

    if (objective.data == "valid") != (n_valid > 0):
        raise ArgumentError(
            "n_valid", n_valid, f"must be > 0 exactly for train-by-validation ({objective.name})"
        )
    tdtype = {"float32": torch.float32, "float64": torch.float64}.get(dtype)
    if tdtype is None:
        raise UnknownOptionError("dtype", dtype, "expected float32 or float64")
    rng = np.random.default_rng(seed)
    theta = torch.tensor(init_theta(rng), dtype=tdtype, requires_grad=True)
    ms = torch.full_like(theta, config.rms_init, requires_grad=False)
    meta_losses: list[float] = []
    nonfinite = resets = steps = 0
    for problem in range(config.n_problems):
        task = make_task(dataset, n_train, n_valid, noise, rng, tdtype)
        for _ in range(config.meta_iters):
            n_unrolls = config.unrolls_base + round(rng.exponential(config.unrolls_exp_mean))
            length = config.length_base + round(rng.exponential(config.length_exp_mean))
            batches = batch_indices(task.n_train, n_unrolls * length, rng)
            w = torch.as_tensor(init_params(task.layout, rng), dtype=tdtype)
            state = init_state(task.layout.n_params, tdtype)
            for k in range(n_unrolls):
                res = unroll(
                    theta,
                    w,
                    state,
                    task,
                    batches[k * length : (k + 1) * length],
                    objective.kind,
                    exact=config.exact,
                )
                steps += length
                (grad,) = torch.autograd.grad(res.meta_loss, theta)
                bad = ~torch.isfinite(grad)
                if bool(bad.any()):
                    nonfinite += 1
                grad = torch.where(bad, torch.zeros_like(grad), grad).clamp(-CLIP_VALUE, CLIP_VALUE)
                _rmsprop(theta, grad, ms, config)
                meta_losses.append(float(res.meta_loss.detach()))
                w, state = res.w.detach(), res.state.detach()
                if not (math.isfinite(meta_losses[-1]) and bool(torch.isfinite(w).all())):
                    # a diverged inner run cannot continue: restart it (counted, reported)
                    resets += 1
                    w = torch.as_tensor(init_params(task.layout, rng), dtype=tdtype)
                    state = init_state(task.layout.n_params, tdtype)
        if progress is not None:
            progress(
                f"{objective.name} problem {problem + 1}/{config.n_problems}: "
                f"meta-loss {meta_losses[-1]:.4g}"
            )
    return MetaTrainResult(
        theta.detach().to(torch.float64).numpy().copy(),
        tuple(meta_losses),
        len(meta_losses),
        nonfinite,
        resets,
        steps,
    )


def stderr_progress(message: str) -> None:
    """Progress callback writing one line to stderr."""
    print(message, file=sys.stderr, flush=True)
