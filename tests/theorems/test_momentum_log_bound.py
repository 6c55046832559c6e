"""Issue 19.4: the heavy-ball log meta-gradient, Theorem 4 extended (verify.paper.momentum).

* Property (proven in the module docstring): where every mode has real companion roots,
  |F'_eta| <= 2 max lambda min((t+1)/(2 sqrt beta), 1/(|a| - 2 sqrt beta)), on certified
  numbers for drawn problems, momenta, step sizes (stable and explosive branch) and horizons.
* The t-linear branch is attained: at an exact double root (d = 1) the certified gradient
  contains the closed form -(lambda/(s t)) q_t'(1)/q_t(1) (exact rational), which grows like t.
* The complex-root witness: f(w_2) = 0 exactly, so no bound in rho(eta, beta) holds.
* The claims' rules flip when the claim is broken (a bound 10x too small, a t-free growth band).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests._strategies import rotated_quadratics
from verify import Quadratic, truth
from verify.certified.enclosure import Enclosure
from verify.errors import InvalidStepSizeError, ZeroLossError
from verify.paper import momentum

horizons = st.sampled_from([1, 2, 5, 10, 100, 1000, 10**4, 10**6])
momenta = st.sampled_from([Fraction(0), Fraction(1, 100), Fraction(1, 4), Fraction(1, 2)]) | (
    st.integers(1, 99).map(lambda k: Fraction(k, 100))
)


def _abs_upper(enc: Any) -> Fraction:
    return max(abs(enc.lower), abs(enc.upper))


def _bound_holds(problem: Quadratic, eta: Fraction, beta: Fraction, t: int) -> None:
    bound = momentum.log_gradient_bound(problem, eta, beta, t)
    assume(bound is not None)  # a draw on the region's float64 edge: not a real-root point
    grad = truth.meta_gradient(problem, eta, t, optimizer="heavy_ball", beta=beta)
    largest = _abs_upper(grad)
    assert largest <= bound.upper, (grad, bound, float(eta).hex(), beta, t)


@given(problem=rotated_quadratics(max_dim=6), beta=momenta, frac=st.floats(0.0, 0.999), t=horizons)
def test_bound_on_the_stable_real_root_branch(
    problem: Quadratic, beta: Fraction, frac: float, t: int
) -> None:
    # eta L <= (1 - sqrt beta)^2: every mode overdamped (including near the double root)
    eta = Fraction(frac * (1 - math.sqrt(beta)) ** 2 / problem.L)
    _bound_holds(problem, eta, beta, t)


@given(problem=rotated_quadratics(max_dim=6), beta=momenta, frac=st.floats(1.001, 4.0), t=horizons)
def test_bound_on_the_explosive_real_root_branch(
    problem: Quadratic, beta: Fraction, frac: float, t: int
) -> None:
    # eta alpha >= (1 + sqrt beta)^2: every mode has a real root below -1 (rho > 1)
    alpha = float(problem.spectral_enclosures()["alpha"].mid)
    eta = Fraction(frac * (1 + math.sqrt(beta)) ** 2 / alpha)
    _bound_holds(problem, eta, beta, t)


def _double_root_closed_form(s: Fraction, t: int) -> Fraction:
    """F'(eta) at the double root of H = [[1]], w0 = [1]: -(1/(s t)) q_t'(1)/q_t(1) with
    q_t = U_t - s U_{t-1}, U_n(1) = n + 1, U_n'(1) = n (n + 1)(n + 2)/3 (exact)."""
    dq = Fraction(t * (t + 1) * (t + 2), 3) - s * Fraction((t - 1) * t * (t + 1), 3)
    return -dq / ((t + 1 - s * t) * s * t)


#: Lower limit of |F'| / bound (*) at an exact double root of H = [[1]] (derived in the test).
DOUBLE_ROOT_ATTAINMENT = Fraction(1, 3)


@pytest.mark.parametrize("t", [1, 10, 1000, 10**6])
@pytest.mark.parametrize("s", [Fraction(1, 2), Fraction(1, 10), Fraction(9, 10)])
def test_double_root_grows_linearly_and_matches_the_closed_form(s: Fraction, t: int) -> None:
    q = Quadratic([[1.0]], [1.0])
    beta, eta = s * s, (1 - s) ** 2  # a = 1 + beta - eta = 2 s: the double root
    grad = truth.meta_gradient(q, eta, t, optimizer="heavy_ball", beta=beta)
    exact = _double_root_closed_form(s, t)
    assert grad.contains(exact), (grad, float(exact))
    # the bound's t-linear branch holds
    bound = momentum.log_gradient_bound(q, eta, beta, t)
    assert bound is not None and abs(float(exact)) <= float(bound.upper)
    # |exact| / bound = (q_t'(1)/q_t(1)) / (t (t + 1)) >= 1/3 when L = 1 (module docstring:
    # ((t + 2) - s (t - 1)) / ((t + 1) - s t) >= 1): the t-linear growth is attained
    assert abs(exact) >= bound.lower * DOUBLE_ROOT_ATTAINMENT


def test_complex_roots_have_exact_zeros_and_no_bound() -> None:
    q, w = Quadratic([[1.0]], [1.0]), momentum.WITNESS
    with pytest.raises(ZeroLossError):
        truth.meta_gradient(q, w.eta, w.t, optimizer="heavy_ball", beta=w.beta)
    assert momentum.log_gradient_bound(q, w.eta, w.beta, w.t) is None
    claim = momentum.witness_claim()
    assert claim.verdict == "differs" and claim.proven_violation


def test_bound_rejects_bad_beta() -> None:
    q = Quadratic([[1.0]], [1.0])
    with pytest.raises(InvalidStepSizeError, match="beta"):
        momentum.log_gradient_bound(q, Fraction(1, 10), Fraction(1), 10)


# ------------------------------------------------------------------------------ the claims
def _scaled(enc: Enclosure, k: Fraction) -> Enclosure:
    return Enclosure(enc.lower * k, enc.upper * k)


@functools.cache
def small_grid() -> tuple[momentum.GridPoint, ...]:
    return tuple(
        momentum.momentum_log_grid(
            conditions=(10.0, 1e3),
            seeds=(0,),
            momenta=(Fraction(0), Fraction(1, 2)),
            horizons=(10, 1000),
        )
    )


def test_bound_claim_matches_and_flips_when_the_bound_is_broken() -> None:
    points = small_grid()
    claim = momentum.bound_claim(points)
    assert claim.verdict == "matches" and claim.counts["violated"] == 0
    assert claim.counts["proven"] == claim.counts["points"] > 0
    # a bound 10x too small (e.g. a t-free constant) is a proven violation
    tenth = Fraction(1, 10)
    broken = [
        p if p.bound is None else dataclasses.replace(p, bound=_scaled(p.bound, tenth))
        for p in points
    ]
    bad = momentum.bound_claim(broken)
    assert bad.verdict == "differs" and bad.counts["violated"] > 0


@pytest.mark.parametrize(("band", "verdict"), [((0.9, 1.1), "matches"), ((-0.1, 0.1), "differs")])
def test_growth_claim_flips_with_a_t_free_reading(band: tuple[float, float], verdict: str) -> None:
    problems = [Quadratic.from_spectrum(np.geomspace(1.0, k, 6), seed=0) for k in (10.0, 1e3)]
    claim = momentum.growth_claim(problems, band=band)
    assert claim.verdict == verdict
