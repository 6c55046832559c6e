"""The settings of ``l2l-verify report``: grid sizes per mode, the section parameters (their
cache keys), the backend and dtype choices, and the helpers every section uses.

A section is a pure function of the run's settings (:func:`section_params`) and the problem;
this module holds what they share, so that sections, the build driver (:mod:`verify.report.build`)
and the pages (:mod:`verify.report.render`) read one definition.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from .. import truth
from ..backprop.registry import MODES, REGISTRY, backend_info
from ..compare import Outcome
from ..errors import UnknownOptionError
from ..floats import FORMATS
from ..outcomes import OUTCOME_NAMES

__all__ = [
    "BACKEND_CHOICES",
    "DTYPE_CHOICES",
    "FAILURE_CLASSES",
    "FIG1_INSTANCES",
    "FIG1_STEPS",
    "FOCUS_BACKENDS",
    "LIBRARY_BACKENDS",
    "LIMIT_REL",
    "LIMIT_SEPARATION",
    "LS_BOOTSTRAP",
    "LS_CONFIDENCE",
    "LS_T",
    "OPTIMIZER_DTYPES",
    "OUTCOME_CLASSES",
    "PLAIN_BACKENDS",
    "RANGE_FAILURE_CLASSES",
    "REGIME_REL_TOL",
    "STAR_HORIZONS",
    "STAR_REL_TOL",
    "Progress",
    "eta_fractions",
    "log10_abs",
    "optimizer_backends",
    "section_params",
]

#: A progress callback: ``progress(done, total)``.
Progress = Callable[[int, int], None]

#: Backends of the outcome maps: name -> (backend, mode) of :func:`verify.backprop.meta_gradient`,
#: in the registry's display order (:data:`verify.backprop.registry.REGISTRY`). A backend with
#: several modes gets one map per mode (``numpy-reverse``, ``numpy-forward``); a closed form runs
#: with the default mode, which it ignores.
BACKEND_CHOICES: dict[str, tuple[str, str]] = {
    (info.name if len(info.modes) == 1 else f"{info.name}-{mode}"): (
        info.name,
        mode if mode in MODES else MODES[0],
    )
    for info in REGISTRY.values()
    for mode in info.modes
}
#: The dtypes of the outcome maps: every float format (:data:`verify.floats.FORMATS`).
DTYPE_CHOICES: tuple[str, ...] = tuple(FORMATS)
#: The maps of plain backprop through the unrolled trajectory (stepwise backends, Corollary 1
#: applies): the reference, the frameworks and the meta-learning libraries.
PLAIN_BACKENDS: tuple[str, ...] = tuple(
    c for c, (b, _) in BACKEND_CHOICES.items() if backend_info(b).kind == "stepwise"
)
#: The plain-backprop maps of the frameworks and the numpy reference (no client library):
#: the answers speak of the first of these that ran.
FOCUS_BACKENDS: tuple[str, ...] = tuple(
    c for c in PLAIN_BACKENDS if not backend_info(BACKEND_CHOICES[c][0]).client
)
#: The frameworks' and meta-learning libraries' maps (stepwise, not numpy).
LIBRARY_BACKENDS: tuple[str, ...] = tuple(
    c for c in PLAIN_BACKENDS if backend_info(BACKEND_CHOICES[c][0]).framework != "numpy"
)
#: Outcome classes in display order (the registry :data:`verify.outcomes.OUTCOMES`).
OUTCOME_CLASSES: tuple[str, ...] = OUTCOME_NAMES
FAILURE_CLASSES: tuple[str, ...] = tuple(o.value for o in Outcome if o.is_failure)
#: Failure classes that can only come from a value leaving the dtype's range.
RANGE_FAILURE_CLASSES: tuple[str, ...] = ("overflow", "underflow", "nan")

# Relative radius of the certified log10|F'| of the regime map: 2^-30 fixes 4 decimals of the
# logarithm (an error of 2^-30 in |F'| moves log10 by 4e-10).
REGIME_REL_TOL = Fraction(1, 2**30)
# eta*(t) on the regime map: relative width 1e-9 is far below a pixel.
STAR_REL_TOL = 1e-9

# Grids per mode. eta is given in multiples of 2/L (Theorem 3's boundary sits at 1).
_REGIME = {
    "quick": {"eta_step": 0.05, "eta_max": 1.5, "horizons": (1, 2, 5, 10, 20, 50, 100, 1000)},
    "default": {
        "eta_step": 0.025,
        "eta_max": 1.5,
        "horizons": (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 100_000),
    },
    "full": {
        "eta_step": 0.0125,
        "eta_max": 1.5,
        "horizons": (
            1,
            2,
            5,
            10,
            20,
            50,
            100,
            200,
            500,
            1000,
            2000,
            5000,
            10_000,
            100_000,
            1_000_000,
        ),
    },
}
_BACKPROP = {
    "quick": {"eta_step": 0.1, "eta_max": 1.5, "horizons": (1, 10, 100, 1000)},
    "default": {
        "eta_step": 0.05,
        "eta_max": 1.5,
        "horizons": (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
    },
    "full": {
        "eta_step": 0.025,
        "eta_max": 1.5,
        "horizons": (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000),
    },
}
# Figures 3 and 4 (least squares). Default sizes are the paper's shape (n = d/2, t = 40, the
# authors' 25-point grid) at d = 200; --full uses the paper's d = 1000, n = 500, 300 tasks and
# 10 test tasks.
_PAPER_LS = {
    "quick": {
        "fig3": {"d": 100, "n": 50, "sigmas": (0.5, 1.0, 2.0), "tasks": 30, "test_tasks": 30},
        "fig4": {"d": 50, "ns": (25, 50, 100, 200, 400, 800), "tasks": 30, "test_tasks": 30},
        "scaling": {"d": 100, "n": 50, "tasks": 30},
        "peak": {"tasks": 30, "test_tasks": 30},
    },
    "default": {
        "fig3": {"d": 200, "n": 100, "sigmas": (0.5, 1.0, 2.0, 4.0), "tasks": 50, "test_tasks": 50},
        "fig4": {"d": 100, "ns": (50, 100, 200, 400, 800, 1600), "tasks": 40, "test_tasks": 60},
        "scaling": {"d": 200, "n": 100, "tasks": 50},
        "peak": {"tasks": 40, "test_tasks": 60},
    },
    "full": {
        "fig3": {
            "d": 1000,
            "n": 500,
            "sigmas": (0.5, 1.0, 2.0, 4.0),
            "tasks": 300,
            "test_tasks": 10,
        },
        "fig4": {
            "d": 1000,
            "ns": (500, 1000, 2000, 4000, 8000),
            "tasks": 300,
            "test_tasks": 10,
        },
        "scaling": {"d": 1000, "n": 500, "tasks": 100},
        "peak": {"tasks": 100, "test_tasks": 30},
    },
}
FIG1_STEPS = {"quick": 400, "default": 1000, "full": 2000}
STAR_HORIZONS = (5, 10, 20, 40, 80, 160, 320, 640, 1280, 10_000, 100_000)
LS_T = 40
LS_CONFIDENCE = 0.99
LS_BOOTSTRAP = 200
# Figure 1's distribution: random instances per mode (the issue asks >= 100 by default).
FIG1_INSTANCES = {"quick": 50, "default": 200, "full": 1000}
# Large-t limit of F'_log: checked at the largest regime horizon, relative distance <= 1e-3
# (claim 8 of the paper notes) for step sizes at least 5% away from 2/(L + alpha).
LIMIT_REL = 1e-3
LIMIT_SEPARATION = 0.05

#: Sizes of the meta-learning-library section: the masking audit's cases (indices into
#: :func:`verify.audits.masking.default_cases`), schedules and meta-steps, and the stride at which
#: the flush-to-zero adjoint traces are stored.
_CLIENTS: dict[str, dict[str, Any]] = {
    "quick": {"cases": (1,), "schedules": ("experiment",), "steps": 300, "stride": 250},
    "default": {"cases": (0, 1), "schedules": ("experiment",), "steps": 1000, "stride": 50},
    "full": {
        "cases": (0, 1, 2, 3, 4),
        "schedules": ("experiment", "theorem"),
        "steps": 1000,
        "stride": 10,
    },
}

#: The dtypes of the heavy-ball and Adam maps (those of the run's selection that are in here):
#: float32, the libraries' default, and float64.
OPTIMIZER_DTYPES: tuple[str, ...] = ("float32", "float64")

#: Which of the selected backends the heavy-ball and Adam maps run, per mode: ``"reference"``
#: (numpy, both modes), ``"torch"`` (also PyTorch, the framework) or ``"all"`` (also the
#: meta-learning libraries); and the dtypes the frameworks and libraries run in (numpy runs
#: every dtype of the maps). Sized for cost on 2 cores: the libraries step in Python per inner
#: step and optax compiles once per horizon and dtype, so in the default mode they run in
#: float32 (their default dtype) and the meta-learning libraries only on the
#: zero-second-moment map, whose grid is small; ``--full`` runs all of them everywhere.
_OPTIMIZER_SCOPE: dict[str, dict[str, Any]] = {
    "quick": {"maps": "reference", "zero": "reference", "library_dtypes": ("float32",)},
    "default": {"maps": "torch", "zero": "all", "library_dtypes": ("float32",)},
    "full": {"maps": "all", "zero": "all", "library_dtypes": OPTIMIZER_DTYPES},
}
# Heavy ball: eta in multiples of 2/L up to 2 (the explosion boundary rho = 1 of the top mode
# is eta = (1 + beta) 2/L); beta on multiples of 1/16 (exact in every dtype, so backends and
# truth see the same momentum); the (eta, beta) map at horizon ``beta_t``, the (eta, t) map
# at momentum ``t_beta``.
_MOMENTUM: dict[str, dict[str, Any]] = {
    "quick": {
        "eta_step": 0.25,
        "eta_max": 2.0,
        "betas": (0.0, 0.25, 0.5, 0.75),
        "beta_t": 100,
        "t_beta": 0.5,
        "horizons": (1, 10, 100),
    },
    "default": {
        "eta_step": 0.125,
        "eta_max": 2.0,
        "betas": tuple(k / 8 for k in range(8)),
        "beta_t": 100,
        "t_beta": 0.5,
        "horizons": (1, 2, 5, 10, 20, 50, 100, 200, 500),
    },
    "full": {
        "eta_step": 0.0625,
        "eta_max": 2.0,
        "betas": tuple(k / 16 for k in range(16)),
        "beta_t": 100,
        "t_beta": 0.5,
        "horizons": (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000),
    },
}
# Adam (torch's defaults beta1 = 0.9, beta2 = 0.999, eps = 1e-8): learning rates 2^-k (exact
# in every dtype); the zero-second-moment map runs the report's problem with one more
# coordinate that no gradient ever reaches (w0 = 0 there, H block diagonal), on its own
# horizons. The certified Adam truth costs O(t d^2) per point (forward mode in Arb), hence
# the short horizons.
_ADAM: dict[str, dict[str, Any]] = {
    "quick": {
        "lr_exponents": (0, 2, 4, 6, 8, 10),
        "horizons": (1, 10, 50),
        "zero_horizons": (1, 5),
    },
    "default": {
        "lr_exponents": tuple(range(11)),
        "horizons": (1, 2, 5, 10, 20, 50, 100),
        "zero_horizons": (1, 2, 5, 10, 20),
    },
    "full": {
        "lr_exponents": tuple(range(15)),
        "horizons": (1, 2, 5, 10, 20, 50, 100, 200, 300),
        "zero_horizons": (1, 2, 5, 10, 20, 50),
    },
}


def optimizer_backends(mode: str, backends: list[str], optimizer: str, scope: str) -> list[str]:
    """The backend choices a heavy-ball or Adam map runs: the selected ones (in display order)
    whose registry entry unrolls ``optimizer``, limited by the mode's scope (``scope`` is
    ``"maps"`` or ``"zero"``, see :data:`_OPTIMIZER_SCOPE`)."""
    reach = _OPTIMIZER_SCOPE[mode][scope]
    out = []
    for choice in backends:
        info = backend_info(BACKEND_CHOICES[choice][0])
        if optimizer not in info.optimizers:
            continue
        if reach == "reference" and info.framework != "numpy":
            continue
        if reach == "torch" and info.client:
            continue
        out.append(choice)
    return out


def eta_fractions(step: float, stop: float) -> list[float]:
    """The step sizes ``step, 2 step, ..., stop`` in multiples of 2/L (6 decimals)."""
    n = round(stop / step)
    return [round(step * k, 6) for k in range(1, n + 1)]


def section_params(name: str, mode: str, *, seed: int, d: int, **extra: Any) -> dict[str, Any]:
    """The parameters that determine a section's result (its cache key)."""
    if mode not in _REGIME:
        raise UnknownOptionError("mode", mode, f"must be one of {tuple(_REGIME)}")
    base: dict[str, Any] = {"seed": seed, "d": d, "mode": mode}
    if name == "regime":
        return {**base, **_REGIME[mode]}
    if name == "backprop":
        return {**base, **_BACKPROP[mode], **extra}
    if name == "paper":
        return {
            **base,
            **_PAPER_LS[mode],
            "fig1_steps": FIG1_STEPS[mode],
            "fig1_instances": FIG1_INSTANCES[mode],
        }
    if name == "theorems":
        return {**base, "horizons": _REGIME[mode]["horizons"], **extra}
    if name == "clients":
        return {**base, **_CLIENTS[mode]}
    if name in ("momentum", "adam"):
        opt = "heavy_ball" if name == "momentum" else "adam"
        selected = list(extra.get("backends", BACKEND_CHOICES))
        dtypes = [dt for dt in extra.get("dtypes", DTYPE_CHOICES) if dt in OPTIMIZER_DTYPES]
        params = {
            **base,
            **(_MOMENTUM if name == "momentum" else _ADAM)[mode],
            "backends": optimizer_backends(mode, selected, opt, "maps"),
            "dtypes": dtypes,
            "library_dtypes": [
                dt for dt in dtypes if dt in _OPTIMIZER_SCOPE[mode]["library_dtypes"]
            ],
        }
        if name == "adam":
            params["zero_backends"] = optimizer_backends(mode, selected, opt, "zero")
        return params
    raise UnknownOptionError("name", name, "unknown report section")


def log10_abs(e: truth.Enclosure) -> float | None:
    """log10 |midpoint| to 4 decimals (None for 0), for any exponent."""
    m = abs(e.mid)
    if m == 0:
        return None
    k = m.numerator.bit_length() - m.denominator.bit_length()
    return round((k * math.log(2) + math.log(float(m / Fraction(2) ** k))) / math.log(10), 4)
