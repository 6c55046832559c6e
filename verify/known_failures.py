"""Known float failures as data: regions where a backend is expected to fail, with the reason.

Each :class:`KnownFailure` names the backends, dtypes and objectives it covers and a predicate
over (problem, eta, t) that decides membership. Tests mark points inside a region as strict
xfail (STYLE habit 9), so a region that starts passing -- a fixed bug, or a prediction that
was too pessimistic -- is noticed.

Only regions whose failure is *predicted* (not merely observed) are registered, and each
predicate claims membership only away from its boundary: :func:`verify.backprop.predict_failure`
returns ``"fails"`` only beyond a safety margin.

Examples
--------
>>> from verify import Quadratic
>>> q = Quadratic.random(10, seed=4, kind="wishart2")
>>> kf = lookup("numpy", "float32", "log", q, 2 / (q.L + q.alpha), 1000)
>>> kf.name
'backprop-exponent-range'
>>> lookup("stable", "float32", "log", q, 2 / (q.L + q.alpha), 1000) is None
True
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .backprop import predict_failure, sensitivity
from .backprop._common import as_quadratic
from .floats import get_format
from .problems import Problem

__all__ = ["REGISTRY", "ROUNDING_FLOOR_FACTOR", "KnownFailure", "lookup"]

Predicate = Callable[[Problem, float, int, str], bool]


@dataclass(frozen=True)
class KnownFailure:
    """A region (backends x dtypes x objectives x predicate) where failure is expected.

    Attributes
    ----------
    name : str
        Short identifier.
    backends, dtypes, objectives : tuple of str
        Where the region applies.
    predicate : callable
        ``predicate(problem, eta, t, dtype) -> bool``: membership of one point.
    reason : str
        Why the backend fails there (cited in the xfail marker).
    variants : tuple of str or None
        For ``backend="paper"``: the variants covered (``None``: any).
    """

    name: str
    backends: tuple[str, ...]
    dtypes: tuple[str, ...]
    objectives: tuple[str, ...]
    predicate: Predicate
    reason: str
    variants: tuple[str, ...] | None = None

    def covers(
        self,
        backend: str,
        dtype: str,
        objective: str,
        problem: Problem,
        eta: float,
        t: int,
        *,
        variant: str | None = None,
    ) -> bool:
        """Whether the point (backend, dtype, objective, problem, eta, t) is in the region."""
        if self.variants is not None and (variant or "published") not in self.variants:
            return False
        return (
            backend in self.backends
            and get_format(dtype).name in self.dtypes
            and objective in self.objectives
            and self.predicate(problem, eta, t, dtype)
        )


def _backprop_out_of_range(problem: Problem, eta: float, t: int, dtype: str) -> bool:
    return predict_failure(problem, eta, t, dtype=dtype)[0].verdict == "fails"


def _published_scale_mismatch(problem: Problem, eta: float, t: int, dtype: str) -> bool:
    """The authors' s (from unsorted eig) differs from rho so that A^(2t) leaves the range."""
    q = as_quadratic(problem)
    if q.b is not None:
        return False
    lam_c = np.linalg.eig(q.H)[0]
    lam = np.real(lam_c)
    L, alpha = lam[0], lam[-1]
    s = 1 - eta * alpha if eta <= 2 / (alpha + L) else eta * L - 1
    rho = float(np.max(np.abs(1 - eta * np.linalg.eigvalsh(q.H))))
    if s <= 0:
        return True  # log of a non-positive scale / division by zero: NaN
    fmt = get_format(dtype)
    # A = (I - eta H)/s has spectral radius rho/s; its 2t-th power leaves the range when
    # 2t |ln(rho/s)| exceeds the exponent range, with a margin of 10 nats for the O(1)
    # prefactors (w0^T ... H^2 w0 and the d-term sums)
    growth = 2 * t * abs(math.log(rho / s))
    return (growth > fmt.ln_max + 10 and rho / s > 1) or growth > -fmt.ln_min_subnormal + 10


# The loss gradient at w_t is this many times below the rounding level of computing it
# (kappa_grad u > ROUNDING_FLOOR_FACTOR): every bit of grad g(w_t) -- and of the adjoint seeded
# by it -- is rounding noise. Factor 8 keeps the region away from its boundary.
ROUNDING_FLOOR_FACTOR = 8.0


def _below_rounding_floor(problem: Problem, eta: float, t: int, dtype: str) -> bool:
    """grad g(w_t) = H (w_t - w*) is below the rounding noise of H w_t - b (needs b != 0)."""
    if as_quadratic(problem).b is None:
        return False
    # kappa_grad does not depend on the objective; the naive one is defined at every t >= 0
    sens = sensitivity(problem, eta, t, objective="naive")[0]
    return sens.kappa_grad * get_format(dtype).unit_roundoff > ROUNDING_FLOOR_FACTOR


REGISTRY: tuple[KnownFailure, ...] = (
    KnownFailure(
        name="backprop-exponent-range",
        backends=("numpy", "torch", "jax"),
        dtypes=("float16", "bfloat16", "float32", "float64"),
        objectives=("log",),
        predicate=_backprop_out_of_range,
        reason=(
            "plain backprop forms f(w_t) ~ rho^(2t) and adjoints ~ rho^(-t): once 2t|ln rho(eta)| "
            "leaves the dtype's exponent range, f(w_t) is inf or 0 and the meta-gradient is "
            "NaN, inf or a silent 0 (paper notes §4.5, §6 claim 10; Corollary 1)"
        ),
    ),
    KnownFailure(
        name="backprop-affine-rounding-floor",
        backends=("numpy", "torch", "jax"),
        dtypes=("float16", "bfloat16", "float32", "float64"),
        objectives=("log", "naive"),
        predicate=_below_rounding_floor,
        reason=(
            "with b != 0 the iterate converges to w* != 0: once ||H (w_t - w*)|| ~ rho^t falls "
            "below the rounding noise u (||H|| ||w_t|| + ||b||) of computing H w_t - b, the "
            "seed of the adjoint pass is noise and the exponentially small meta-gradient comes "
            "back finite and wrong (no NaN, no inf)"
        ),
    ),
    KnownFailure(
        name="paper-unsorted-eig",
        backends=("paper",),
        dtypes=("float32", "float64"),
        objectives=("log",),
        predicate=_published_scale_mismatch,
        reason=(
            "the published code reads L = lam[0], alpha = lam[-1] from unsorted np.linalg.eig "
            "output, so the normalization s differs from rho(eta) and (I - eta H)^(2t)/s^(2t) "
            "over/underflows at large t (paper notes §4.6, code caveat)"
        ),
        variants=("published",),
    ),
)


def lookup(
    backend: str,
    dtype: str,
    objective: str,
    problem: Problem,
    eta: float,
    t: int,
    *,
    variant: str | None = None,
) -> KnownFailure | None:
    """The first registered region containing the point, or ``None``.

    ``variant`` applies to ``backend="paper"`` (default ``"published"``).
    """
    for kf in REGISTRY:
        if kf.covers(backend, dtype, objective, problem, eta, t, variant=variant):
            return kf
    return None
