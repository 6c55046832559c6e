"""Meta-gradient explosion/vanishing for the MLP learned optimizer (paper notes §5.3, §4.5).

Measurement. For an operating point ``theta`` of the optimizer and one inner task (the small
digits training set, meta-objective on the training data), unroll ``T_max`` learned-optimizer
steps once and, at every horizon ``T`` in ``horizons``, back-propagate the three
meta-objectives of :mod:`verify.learned.meta` -- ``final`` (naive: loss after ``T`` steps),
``average`` (naive: mean loss over the ``T`` steps) and ``log`` (``(1/T) log`` of the final
loss) -- to ``theta``. The meta-gradient is the exact one (second order: through the inner
gradient too) unless ``exact=False``. The whole computation runs in float64 (reference) and
in float32 (under test) from bit-identical inputs (data, initial parameters, ``theta``,
mini-batches).

Reference. There is no certified ground truth here (the suite's Arb engine covers the
quadratic only): the float64 run is the reference, and it is itself checked, at the shortest
horizons, against a central finite difference of the float64 meta-objective along a fixed
random direction (a labelled baseline, STYLE habit 10). Where the float32 error shows how
much the unrolled dynamics amplify rounding (``err32 / u32``), the same amplification of
float64's rounding is reported as ``float64_error_heuristic`` -- a plausibility estimate of
the reference's own error, not a bound. Float32 results are classified in the
spirit of :mod:`verify.compare`: ``nan``, ``overflow`` (an infinite entry), ``underflow``
(all-zero or a loss that rounded to 0 while the reference is nonzero), ``accurate`` (normwise
relative error within :func:`float32_tolerance`), ``silently_wrong`` (finite but relative
error above 1/2 or cosine with the reference below 1/2), otherwise ``inaccurate``.

Torch is imported inside functions only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ArgumentError
from . import torch_threads
from .data import Dataset
from .inner import MLPLayout, batch_indices, init_params, loss
from .meta import make_task, objective_value, stderr_progress
from .optimizer import N_FEATURES, STEP_SCALE, init_state, opt_step

__all__ = [
    "FLOAT32_U",
    "FLOAT64_U",
    "K_HORIZON",
    "K_SUM",
    "OperatingPoint",
    "classify_float32",
    "finite_difference_check",
    "float32_tolerance",
    "meta_gradients",
    "run_explosion",
]

#: Unit roundoff of float32 (2^-24).
FLOAT32_U = 2.0**-24
#: Unit roundoff of float64 (2^-53).
FLOAT64_U = 2.0**-53
#: Constants of the first-order error model, as in :data:`verify.compare.TOLERANCES` (float32).
K_SUM = 4.0
K_HORIZON = 4.0
#: Relative error above which a finite result counts as silently wrong (off by a factor ~2).
WRONG_REL = 0.5
#: Cosine with the reference below which a finite result counts as silently wrong.
WRONG_COSINE = 0.5


def float32_tolerance(horizon: int, width: int) -> float:
    """Normwise relative tolerance for a float32 meta-gradient after ``horizon`` steps.

    Derivation (first order in u, as in :mod:`verify.compare`): every step rounds inner
    products of length at most ``width`` (the longest fan-in of the inner MLP or the
    optimizer's network), ``k_sum * width * u``, and the forward and the adjoint recursions
    each add about ``sqrt(width) * u`` per step, ``k_horizon * T * sqrt(width) * u``. The
    model ignores how the learned dynamics amplify a perturbation (the analogue of
    ``kappa_eta``), so results beyond it where the dynamics are expansive are expected and
    are recorded as ``inaccurate`` (data, not a crash).
    """
    if horizon < 1 or width < 1:
        raise ArgumentError("horizon", (horizon, width), "horizon and width must be >= 1")
    return FLOAT32_U * (K_SUM * width + K_HORIZON * horizon * math.sqrt(width))


def classify_float32(
    grad32: np.ndarray, ref64: np.ndarray, loss32: float, tol: float
) -> tuple[str, float, float]:
    """Outcome class, normwise relative error and cosine of a float32 meta-gradient.

    ``grad32`` (float32 values, as float64) against the float64 reference ``ref64``; see the
    module docstring for the classes. The relative error is ``inf`` when it cannot be formed.
    """
    ref_norm = float(np.linalg.norm(ref64))
    if np.isnan(grad32).any():
        return "nan", math.inf, math.nan
    if np.isinf(grad32).any():
        return "overflow", math.inf, math.nan
    g_norm = float(np.linalg.norm(grad32))
    if ref_norm > 0 and (g_norm == 0.0 or loss32 == 0.0):
        return "underflow", 1.0 if g_norm == 0 else math.inf, 0.0
    rel = (
        float(np.linalg.norm(grad32 - ref64)) / ref_norm
        if ref_norm > 0
        else (0.0 if g_norm == 0 else math.inf)
    )
    cos = float(grad32 @ ref64) / (g_norm * ref_norm) if g_norm > 0 and ref_norm > 0 else 1.0
    if rel <= tol:
        return "accurate", rel, cos
    if rel > WRONG_REL or cos < WRONG_COSINE:
        return "silently_wrong", rel, cos
    return "inaccurate", rel, cos


@dataclass(frozen=True)
class OperatingPoint:
    """Where the meta-gradient is measured: optimizer parameters and the update's scale."""

    label: str
    theta: np.ndarray
    step_scale: float = STEP_SCALE


def meta_gradients(
    dataset: Dataset,
    point: OperatingPoint,
    horizons: Sequence[int],
    dtype: str,
    seed: int,
    *,
    n_train: int = 100,
    exact: bool = True,
) -> dict[str, Any]:
    """Meta-gradients of the three objectives at each horizon, in one dtype.

    Returns ``{"losses": [L_T ...], "grads": {kind: [ndarray(N_THETA) ...]}}`` (float64
    arrays holding the dtype's values), one entry per horizon. Deterministic in ``seed``.

    Accuracy
    --------
    Plain reverse-mode autodiff in ``dtype``; nothing is claimed (this is what is measured).
    """
    import torch

    hs = sorted(set(int(h) for h in horizons))
    if not hs or hs[0] < 1:
        raise ArgumentError("horizons", horizons, "need positive horizons")
    tdtype = {"float32": torch.float32, "float64": torch.float64}[dtype]
    torch.set_num_threads(torch_threads())
    rng = np.random.default_rng(seed)
    task = make_task(dataset, n_train, 0, 0.0, rng, tdtype)
    w = torch.as_tensor(init_params(task.layout, rng), dtype=tdtype)
    batches = batch_indices(task.n_train, hs[-1], rng)
    theta = torch.tensor(point.theta, dtype=tdtype, requires_grad=True)
    state = init_state(task.layout.n_params, tdtype)
    per_step: list[torch.Tensor] = []
    out: dict[str, Any] = {"losses": [], "grads": {"final": [], "average": [], "log": []}}
    marks = set(hs)
    for i in range(hs[-1]):
        idx = torch.as_tensor(batches[i])
        if exact:
            if not w.requires_grad:
                w = w.requires_grad_()
            (g,) = torch.autograd.grad(
                loss(task.layout, w, task.x_train[idx], task.y_train[idx]), w, create_graph=True
            )
        else:
            wd = w.detach().requires_grad_()
            (g,) = torch.autograd.grad(
                loss(task.layout, wd, task.x_train[idx], task.y_train[idx]), wd
            )
        w, state = opt_step(theta, w, g, state, task.segments, task.seg_mean, point.step_scale)
        per_step.append(loss(task.layout, w, task.x_meta, task.y_meta))
        if i + 1 in marks:
            out["losses"].append(float(per_step[-1].detach()))
            for kind in ("final", "average", "log"):
                obj = objective_value(kind, per_step)
                (gr,) = torch.autograd.grad(obj, theta, retain_graph=True, allow_unused=True)
                arr = (
                    np.zeros(theta.shape[0])
                    if gr is None
                    else gr.detach().to(torch.float64).numpy().copy()
                )
                out["grads"][kind].append(arr)
    return out


def finite_difference_check(
    dataset: Dataset,
    point: OperatingPoint,
    horizon: int,
    kind: str,
    seed: int,
    *,
    n_train: int = 100,
) -> dict[str, float]:
    """Float64 autodiff directional derivative vs a central finite difference (baseline).

    Direction: a fixed unit random vector ``u``; step ``h = u64^(1/3) * max(1, |theta|_inf)``
    (balances truncation O(h^2) and rounding O(u/h)). Returns the two values, their
    relative difference, and the difference over the gradient's norm (``|g . u| <= |g|``, so
    this is the scale-aware measure when the directional derivative happens to be small).
    A labelled baseline, not ground truth.
    """
    import torch

    rng = np.random.default_rng([seed, 17])
    u = rng.standard_normal(point.theta.shape[0])
    u = u / float(np.linalg.norm(u))
    g = meta_gradients(dataset, point, [horizon], "float64", seed, n_train=n_train)["grads"][kind][
        0
    ]
    auto = float(g @ u)
    h = float(np.finfo(np.float64).eps) ** (1 / 3) * max(1.0, float(np.abs(point.theta).max()))

    def value(th: np.ndarray) -> float:
        torch.set_num_threads(torch_threads())
        tdtype = torch.float64
        r = np.random.default_rng(seed)
        task = make_task(dataset, n_train, 0, 0.0, r, tdtype)
        w = torch.as_tensor(init_params(task.layout, r), dtype=tdtype)
        batches = batch_indices(task.n_train, horizon, r)
        t = torch.as_tensor(th, dtype=tdtype)
        state = init_state(task.layout.n_params, tdtype)
        losses = []
        for i in range(horizon):
            idx = torch.as_tensor(batches[i])
            wd = w.detach().requires_grad_()
            (gg,) = torch.autograd.grad(
                loss(task.layout, wd, task.x_train[idx], task.y_train[idx]), wd
            )
            with torch.no_grad():
                w, state = opt_step(t, w, gg, state, task.segments, task.seg_mean, point.step_scale)
                losses.append(loss(task.layout, w, task.x_meta, task.y_meta))
        return float(objective_value(kind, losses))

    fd = (value(point.theta + h * u) - value(point.theta - h * u)) / (2 * h)
    rel = abs(fd - auto) / max(abs(auto), 1e-300)
    norm = float(np.linalg.norm(g))
    return {
        "autodiff": auto,
        "finite_difference": fd,
        "relative_difference": rel,
        "difference_over_gradient_norm": abs(fd - auto) / max(norm, 1e-300),
        "h": h,
    }


def run_explosion(
    dataset: Dataset,
    points: Sequence[OperatingPoint],
    horizons: Sequence[int],
    seed: int = 0,
    *,
    n_train: int = 100,
    fd_horizons: Sequence[int] = (1, 4),
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """The full measurement: per point, objective, horizon -- norms, float32 class, error.

    Returns a JSON-ready dict: ``horizons``; per point ``losses64``, ``losses32``; per
    objective the float64 and float32 gradient norms, the float32 outcome class, relative
    error, error in units of u, cosine and tolerance; and the finite-difference checks of the
    float64 reference at ``fd_horizons``.
    """
    say = progress or stderr_progress
    hs = sorted(set(int(h) for h in horizons))
    width = max(dataset.n_features, *MLPLayout(dataset.n_features).hidden, N_FEATURES)
    result: dict[str, Any] = {"horizons": hs, "width": width, "points": {}}
    for point in points:
        say(f"explosion: {point.label} float64 (T up to {hs[-1]}) ...")
        r64 = meta_gradients(dataset, point, hs, "float64", seed, n_train=n_train)
        say(f"explosion: {point.label} float32 ...")
        r32 = meta_gradients(dataset, point, hs, "float32", seed, n_train=n_train)
        entry: dict[str, Any] = {
            "step_scale": point.step_scale,
            "losses64": r64["losses"],
            "losses32": r32["losses"],
            "objectives": {},
        }
        for kind in ("final", "average", "log"):
            rows = []
            for k, h in enumerate(hs):
                g64, g32 = r64["grads"][kind][k], r32["grads"][kind][k]
                tol = float32_tolerance(h, width)
                cls, rel, cos = classify_float32(g32, g64, r32["losses"][k], tol)
                rows.append(
                    {
                        "T": h,
                        "norm64": float(np.linalg.norm(g64)),
                        "norm32": float(np.linalg.norm(g32)),
                        "class32": cls,
                        "rel_err32": rel,
                        "err32_in_u": rel / FLOAT32_U if math.isfinite(rel) else math.inf,
                        "cosine32": cos,
                        "tolerance32": tol,
                        # heuristic, not a bound: the same amplification acting on float64's u
                        "float64_error_heuristic": (
                            rel * FLOAT64_U / FLOAT32_U if math.isfinite(rel) else math.inf
                        ),
                    }
                )
            entry["objectives"][kind] = rows
        fds = []
        for h in fd_horizons:
            for kind in ("final", "log"):
                chk = finite_difference_check(dataset, point, h, kind, seed, n_train=n_train)
                fds.append({"T": h, "objective": kind, **chk})
        entry["finite_difference"] = fds
        result["points"][point.label] = entry
    return result
