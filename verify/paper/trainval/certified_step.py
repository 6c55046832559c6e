"""A certified local minimizer of the empirical meta-objective on small instances.

Bisection on the certified sign of the meta-gradient (:mod:`verify.truth`), after the
truncation rule has been excluded rigorously on the bracket: the certified link between the
float64 search of :mod:`~verify.paper.trainval.search` and the exact meta-objective.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

from ...certified.enclosure import Enclosure
from ...errors import NotCertifiedError, ShapeMismatchError
from ...problems import LeastSquares
from ...validation import validate_horizon
from .arguments import check_bracket, check_positive, check_rel_tol
from .batch import TRUNCATION_FACTOR

__all__ = ["certified_step_size"]


def certified_step_size(
    train: Sequence[LeastSquares],
    t: int,
    bracket: tuple[float, float],
    *,
    sigma: float,
    validation: Sequence[LeastSquares] | None = None,
    truncation_factor: float = TRUNCATION_FACTOR,
    rel_tol: float = 1e-6,
) -> Enclosure:
    """Certified enclosure of a local minimizer of F_hat (TbT, or TbV with ``validation``).

    Bisection on the certified sign of ``F_hat'(eta) = (1/m) sum_k d/deta loss_k(w_t)``,
    each term from :func:`verify.truth.meta_gradient` (``objective="naive"``, the validation
    set as ``eval_problem``); the interval sum of the m enclosures decides the sign. Needs
    ``F_hat'(lo) < 0 < F_hat'(hi)`` proven at the bracket ends. Costs one certified
    eigendecomposition per data set (use d <= ~60) and O(m log(1/rel_tol)) cheap calls.

    The truncation rule is excluded rigorously, not assumed: with ``rho(eta) =
    max(1, eta L - 1)`` (L certified), ``||w_tau|| <= eta tau rho^(tau-1) ||b||`` for all
    ``tau <= t``, increasing in eta, and the exact rational value at ``hi`` must be below the
    radius for every task; otherwise :class:`~verify.errors.NotCertifiedError` is raised.

    Guarantee
    ---------
    The returned interval (relative width <= ``rel_tol``) provably contains a point where the
    derivative of the exact empirical meta-objective of the given float64 data changes sign
    from negative to positive, i.e. a local minimizer; if F_hat is unimodal on the bracket,
    its minimizer there.
    """
    from ... import truth

    problems = list(train)
    if not problems or not all(isinstance(p, LeastSquares) for p in problems):
        raise ShapeMismatchError("train", train, "must be a non-empty sequence of LeastSquares")
    evals: list[LeastSquares | None]
    if validation is None:
        evals = [None] * len(problems)
    else:
        evals = list(validation)
        if len(evals) != len(problems) or not all(isinstance(p, LeastSquares) for p in evals):
            raise ShapeMismatchError(
                "validation", validation, f"must be {len(problems)} LeastSquares (one per task)"
            )
    ti = validate_horizon(t)
    lo_f, hi_f = check_bracket(bracket)
    s = check_positive("sigma", sigma)
    tf = check_positive("truncation_factor", truncation_factor)
    tol = check_rel_tol(rel_tol)
    radius2 = (Fraction(tf) * Fraction(s)) ** 2
    lo, hi = Fraction(lo_f), Fraction(hi_f)
    for k, p in enumerate(problems):
        b2 = _exact_b_norm2(p)
        L = p.spectral_enclosures()["L"].upper
        growth = max(Fraction(1), hi * L - 1)
        bound2 = hi * hi * ti * ti * growth ** (2 * max(ti - 1, 0)) * b2
        if not bound2 < radius2:
            raise NotCertifiedError(
                f"task {k}: cannot exclude the truncation rule on the bracket "
                f"(bound {float(bound2) ** 0.5:.3g} >= radius {float(radius2) ** 0.5:.3g})",
                prec_bits=0,
                achieved_rel=math.inf,
            )

    def sign(eta: Fraction) -> int:
        for bits in (10, 40, 80):
            total_lo = Fraction(0)
            total_hi = Fraction(0)
            for p, ev in zip(problems, evals, strict=True):
                enc = truth.meta_gradient(
                    p, eta, ti, objective="naive", eval_problem=ev, rel_tol=Fraction(1, 2**bits)
                )
                total_lo += enc.lower
                total_hi += enc.upper
            if total_lo > 0:
                return 1
            if total_hi < 0:
                return -1
            if total_lo == total_hi == 0:
                return 0
        raise NotCertifiedError(
            f"sign of F_hat'({float(eta)!r}) not decided at relative radius 2^-80",
            prec_bits=0,
            achieved_rel=math.inf,
        )

    if sign(lo) >= 0 or sign(hi) <= 0:
        raise NotCertifiedError(
            "F_hat' does not change sign from - to + on the bracket",
            prec_bits=0,
            achieved_rel=math.inf,
        )
    from ..metaopt import bisect_sign_change

    return bisect_sign_change(sign, lo, hi, tol)


def _exact_b_norm2(problem: LeastSquares) -> Fraction:
    """||X^T y / n||^2 exactly, in rational arithmetic."""
    n = problem.n
    ys = [Fraction(float(v)) for v in problem.y]
    total = Fraction(0)
    for j in range(problem.d):
        col = problem.X[:, j]
        bj = sum((Fraction(float(col[i])) * ys[i] for i in range(n)), Fraction(0))
        total += bj * bj
    return total / (n * n)
