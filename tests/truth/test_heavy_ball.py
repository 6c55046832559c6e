"""Certified heavy-ball meta-objectives, meta-gradients (in eta and in beta) and meta-Hessians.

Heavy ball: w_{k+1} = w_k - eta grad f(w_k) + beta (w_k - w_{k-1}), w_{-1} = w_0.

* Independent closed form on diagonal problems at t in {10, 1e4, 1e6}: per mode
  x_t = z (p_t (1 - eta lambda) - beta p_{t-1}) with p_k = (r_1^k - r_2^k)/(r_1 - r_2) on the
  explicit roots r of r^2 - a r + beta (complex allowed), p_k = k r^{k-1} at a double root;
  evaluated in mpmath at REF_PREC bits, derivatives by mpmath.diff. Cases: real distinct
  roots, complex roots, an exact double root beta = (1 - sqrt(eta lambda))^2.
* beta = 0 is GD: equal endpoints through the public API; the heavy-ball engine itself
  (forced on at beta = 0) overlaps GD's enclosure.
* The exact rational oracle (forward mode in Fractions) lies in every enclosure, t <= 50.
* A degraded eigendecomposition (the documented fault-injection hook) still gives enclosures
  that contain the oracle: the perturbation radii carry the guarantee.
* Bad input: typed errors naming the argument.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
import pytest
from flint import arb, ctx
from hypothesis import given, settings
from hypothesis import strategies as st

from tests._strategies import dyadic_least_squares, dyadic_quadratics, step_sizes
from verify import Quadratic, truth
from verify.certified import eigen
from verify.errors import (
    InvalidStepSizeError,
    UnknownOptionError,
    UnsupportedOptionError,
    ZeroLossError,
)
from verify.truth import engine, rational

HB = {"optimizer": "heavy_ball"}

#: Working precision of the mpmath reference. mpmath.diff takes steps h ~ 2^(-REF_PREC/(n+1))
#: and its error is O(h^2)-relative after its extrapolation, far below REF_REL.
REF_PREC = 1200
#: How far the reference itself may be from the exact value (relative): mpmath.diff at
#: REF_PREC bits is accurate to well over 2^-300; 2^-200 leaves a wide margin and is still
#: 2^-120 below the engine's default relative tolerance 2^-80, so it cannot hide an error.
REF_REL = mpmath.mpf(2) ** -200

# momenta k/16 in [0, 15/16]
momenta = st.integers(0, 15).map(lambda k: Fraction(k, 16))


def _mp(q: Fraction) -> Any:
    return mpmath.mpf(q.numerator) / q.denominator


def _mode(lam: Any, z: Any, eta: Any, beta: Any, t: int) -> Any:
    """x_t of one mode from the explicit eigenvalues of its companion matrix."""
    a = 1 + beta - eta * lam
    disc = a * a - 4 * beta
    if disc == 0:
        r = a / 2

        def p(k: int) -> Any:
            return k * r ** (k - 1) if k >= 1 else mpmath.mpf(0)

    else:
        s = mpmath.sqrt(mpmath.mpc(disc))
        r1, r2 = (a + s) / 2, (a - s) / 2

        def p(k: int) -> Any:
            return (r1**k - r2**k) / (r1 - r2)

    return mpmath.re(z * (p(t) * (1 - eta * lam) - beta * p(t - 1)))


def reference(
    lams: list[float], w0: list[float], eta: Fraction, beta: Fraction, t: int, **kw: Any
) -> Any:
    """d^order/dtheta^order of the naive or log meta-objective (diagonal H, b = 0)."""
    wrt, order, objective = kw["wrt"], kw["order"], kw["objective"]
    with mpmath.workprec(REF_PREC):

        def F(theta: Any) -> Any:
            e, b = (theta, _mp(beta)) if wrt == "eta" else (_mp(eta), theta)
            g = mpmath.fsum(
                mpmath.mpf(lam) * _mode(mpmath.mpf(lam), mpmath.mpf(z), e, b, t) ** 2 / 2
                for lam, z in zip(lams, w0, strict=True)
            )
            return g if objective == "naive" else mpmath.log(g) / t

        x0 = _mp(eta if wrt == "eta" else beta)
        return +mpmath.diff(F, x0, order) if order else +F(x0)


def _contains(enc: truth.Enclosure, ref: Any) -> bool:
    with mpmath.workprec(REF_PREC):
        slack = abs(ref) * REF_REL
        lower, upper = _endpoint(enc.lower_exact), _endpoint(enc.upper_exact)
        return bool(lower - slack <= ref <= upper + slack)


def _endpoint(x: Any) -> Any:
    """An exact endpoint q 2^e (ScaledRational: values like 2^-2000000 at t = 1e6) in mpmath."""
    return mpmath.ldexp(mpmath.mpf(x.q.numerator) / x.q.denominator, x.e)


# diagonal cases: (eigenvalues, w0, eta, beta) chosen for each root structure of the modes
CASES = {
    # lambda = 1: a = 0.5, disc = 0.25 - 0.5 < 0 (complex); lambda = 1/4: a = 0.875 > 0
    "complex+real": ([1.0, 0.25], [1.0, -0.5], Fraction(1, 2), Fraction(1, 8)),
    # eta lambda = 1/4, beta = (1 - 1/2)^2 = 1/4: a = 1, disc = 0 (double root 1/2)
    "double": ([0.25, 1.0], [1.0, 0.5], Fraction(1), Fraction(1, 4)),
    # real distinct roots for both modes: a^2 > 4 beta
    "real": ([0.5, 0.125], [0.75, -1.0], Fraction(1, 4), Fraction(1, 64)),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("t", [10, 10**4, 10**6])
@pytest.mark.parametrize("wrt", ["eta", "beta"])
@pytest.mark.parametrize("objective", ["naive", "log"])
def test_enclosures_contain_closed_form(case: str, t: int, wrt: str, objective: str) -> None:
    lams, w0, eta, beta = CASES[case]
    p = Quadratic(np.diag(lams), w0)
    calls = [
        (0, truth.meta_objective(p, eta, t, objective=objective, beta=beta, **HB)),
        (1, truth.meta_gradient(p, eta, t, objective=objective, beta=beta, wrt=wrt, **HB)),
        (2, truth.meta_hessian(p, eta, t, objective=objective, beta=beta, wrt=wrt, **HB)),
    ]
    for order, enc in calls:
        if order == 0 and wrt == "beta":
            continue  # the value does not depend on wrt
        ref = reference(lams, w0, eta, beta, t, wrt=wrt, order=order, objective=objective)
        assert _contains(enc, ref), (case, t, wrt, objective, order, enc, mpmath.nstr(ref, 20))
        assert enc.is_exact or enc.rel_radius() <= float(truth.DEFAULT_REL_TOL)


def test_double_root_case_is_a_double_root() -> None:
    """The 'double' case really has a^2 = 4 beta exactly for its first mode."""
    lams, _, eta, beta = CASES["double"]
    a = 1 + beta - eta * Fraction(lams[0])
    assert a * a == 4 * beta


# --------------------------------------------------------------------------- beta = 0 is GD
GD_PROBLEMS = [
    Quadratic([[2.0, 0.5], [0.5, 1.0]], [1.0, -0.5]),
    Quadratic([[2.0, 0.5], [0.5, 1.0]], [1.0, -0.5], b=[0.25, -0.75], c=3.0),
    Quadratic.from_spectrum(np.geomspace(1.0, 100.0, 6), seed=3),
]


@pytest.mark.parametrize("k", range(len(GD_PROBLEMS)))
@pytest.mark.parametrize("t", [7, 10**4])
def test_beta_zero_reproduces_gd_exactly(k: int, t: int) -> None:
    p = GD_PROBLEMS[k]
    eta = Fraction(1, 8)
    for fn in (truth.meta_objective, truth.meta_gradient, truth.meta_hessian):
        gd = fn(p, eta, t)
        hb = fn(p, eta, t, optimizer="heavy_ball", beta=0)
        assert (hb.lower, hb.upper) == (gd.lower, gd.upper)


@pytest.mark.parametrize("k", range(len(GD_PROBLEMS)))
@pytest.mark.parametrize("order", [0, 1, 2])
def test_heavy_ball_engine_at_beta_zero_overlaps_gd(k: int, order: int) -> None:
    """The heavy-ball engine itself, forced on at beta = 0, agrees with the GD engine."""
    p = GD_PROBLEMS[k]
    eta, t = Fraction(1, 8), 300
    point = engine.validate_point(p, eta, t, "log", None)
    prec = 256
    with ctx.workprec(prec):
        x = engine._compute(point, order, "eigen", prec, engine.Momentum(Fraction(0), "eta"))
    gd = (truth.meta_objective, truth.meta_gradient, truth.meta_hessian)[order](p, eta, t)
    assert x.overlaps(_arb_of(gd)), (x, gd)
    assert x.rad() < abs(x.mid()) * arb(2) ** -60


def _arb_of(enc: truth.Enclosure) -> Any:
    lo, hi = Fraction(enc.lower), Fraction(enc.upper)
    from flint import fmpq

    with ctx.workprec(400):
        a = arb(fmpq(lo.numerator, lo.denominator))
        b = arb(fmpq(hi.numerator, hi.denominator))
        return a.union(b)


def test_rational_oracle_at_beta_zero_is_gd() -> None:
    p = GD_PROBLEMS[1]
    for objective in ("naive", "log"):
        gd = rational.forward(p, Fraction(1, 8), 12, objective=objective)
        hb = rational.heavy_ball_forward(p, Fraction(1, 8), 12, beta=0, objective=objective)
        assert all(gd[k] == hb[k] for k in ("loss", "dloss", "d2loss", "dF", "d2F"))


# --------------------------------------------------------------------------- rational oracle
def _check_against_oracle(problem, eta, beta, t, wrt, objective, eval_problem=None) -> None:
    kw: dict[str, Any] = {"objective": objective, "eval_problem": eval_problem, "beta": beta}
    try:
        exact = rational.heavy_ball_forward(problem, eta, t, wrt=wrt, **kw)
    except ZeroLossError:
        with pytest.raises(ZeroLossError):
            truth.meta_gradient(problem, eta, t, wrt=wrt, **kw, **HB)
        return
    grad = truth.meta_gradient(problem, eta, t, wrt=wrt, **kw, **HB)
    hess = truth.meta_hessian(problem, eta, t, wrt=wrt, **kw, **HB)
    assert grad.contains(exact["dF"]), (grad, float(exact["dF"]))
    assert hess.contains(exact["d2F"]), (hess, float(exact["d2F"]))
    value = truth.meta_objective(problem, eta, t, **kw, **HB)
    if objective == "naive":
        assert value.contains(exact["F"]), (value, float(exact["F"]))
    else:
        with ctx.workprec(300):
            from flint import fmpq

            g = exact["loss"]
            ref = arb(fmpq(g.numerator, g.denominator)).log() / t
        assert ref.overlaps(_arb_of(value)), (value, ref)


@pytest.mark.parametrize("objective", ["naive", "log"])
@pytest.mark.parametrize("wrt", ["eta", "beta"])
@settings(deadline=None)
@given(
    problem=dyadic_quadratics(max_dim=3, affine=True),
    eta=step_sizes,
    beta=momenta,
    t=st.integers(1, 50),
)
def test_rational_oracle_inside_enclosures(objective, wrt, problem, eta, beta, t) -> None:
    _check_against_oracle(problem, eta, beta, t, wrt, objective)


@pytest.mark.parametrize("wrt", ["eta", "beta"])
@settings(deadline=None)
@given(data=st.data(), eta=step_sizes.filter(lambda e: e <= Fraction(1, 8)), beta=momenta)
def test_rational_oracle_inside_enclosures_least_squares(wrt, data, eta, beta) -> None:
    """Least squares with n < d allowed: H singular, so the forced (affine) path runs."""
    d = data.draw(st.integers(1, 3))
    train = data.draw(dyadic_least_squares(d))
    t = data.draw(st.integers(1, 30))
    _check_against_oracle(train, eta, beta, t, wrt, "naive")


# --------------------------------------------------------------------------- fault injection
def _eigenvalues_off(delta: float) -> Any:
    def f(Q: Any, mu: list[Any], prec: int) -> tuple[Any, list[Any]]:
        return Q, [(m * (1 + arb(delta))).mid() for m in mu]

    return f


@pytest.mark.parametrize("wrt", ["eta", "beta"])
def test_degraded_eigendecomposition_still_contains_oracle(monkeypatch, wrt: str) -> None:
    """Eigenvalues off by 1e-12 relative: only the perturbation radii keep the oracle inside
    (with them set to zero the enclosures miss it: see test_radii_are_needed)."""
    monkeypatch.setattr(eigen, "_DEGRADE", _eigenvalues_off(1e-12))
    H = [[2.0, 0.5, -0.25], [0.5, 1.5, 0.375], [-0.25, 0.375, 1.0]]
    for t in (5, 20):
        p = Quadratic(H, [0.5, -0.75, 1.0])  # fresh: decompositions are cached per problem
        exact = rational.heavy_ball_forward(p, Fraction(1, 8), t, beta=Fraction(1, 2), wrt=wrt)
        enc = truth.meta_gradient(
            p, Fraction(1, 8), t, objective="naive", beta=Fraction(1, 2), wrt=wrt,
            rel_tol=Fraction(1, 2**20), engine="eigen", **HB,
        )
        assert enc.contains(exact["dF"]), (t, enc, float(exact["dF"]))


def test_radii_are_needed(monkeypatch) -> None:
    """Sensitivity: with the heavy-ball perturbation radii zeroed, the degraded run misses."""
    from verify.truth import momentum

    monkeypatch.setattr(eigen, "_DEGRADE", _eigenvalues_off(1e-12))
    orig = momentum.perturbation_radii
    monkeypatch.setattr(
        momentum, "perturbation_radii", lambda *a: [arb(0) for _ in orig(*a)]
    )
    H = [[2.0, 0.5, -0.25], [0.5, 1.5, 0.375], [-0.25, 0.375, 1.0]]
    p = Quadratic(H, [0.5, -0.75, 1.0])
    exact = rational.heavy_ball_forward(p, Fraction(1, 8), 20, beta=Fraction(1, 2))
    enc = truth.meta_gradient(
        p, Fraction(1, 8), 20, objective="naive", beta=Fraction(1, 2),
        rel_tol=Fraction(1, 2**20), engine="eigen", **HB,
    )
    assert not enc.contains(exact["dF"])


# --------------------------------------------------------------------------- bad input
P = Quadratic([[1.0]], [1.0])


@pytest.mark.parametrize(
    ("kwargs", "error", "argument"),
    [
        ({"optimizer": "heavy_ball", "beta": 1}, InvalidStepSizeError, "beta"),
        ({"optimizer": "heavy_ball", "beta": -0.25}, InvalidStepSizeError, "beta"),
        ({"optimizer": "heavy_ball", "beta": float("nan")}, InvalidStepSizeError, "beta"),
        ({"optimizer": "heavy_ball", "beta": "0.5"}, InvalidStepSizeError, "beta"),
        ({"optimizer": "adamw"}, UnknownOptionError, "optimizer"),
        ({"optimizer": "heavy_ball", "beta": 0.5, "wrt": "lr"}, UnknownOptionError, "wrt"),
        ({"beta": 0.5}, UnsupportedOptionError, "beta"),
        ({"wrt": "beta"}, UnsupportedOptionError, "wrt"),
        ({"optimizer": "heavy_ball", "beta": 0.5, "engine": "power"}, UnsupportedOptionError,
         "engine"),
    ],
)
def test_bad_input_typed_errors(kwargs: dict[str, Any], error: type, argument: str) -> None:
    with pytest.raises(error) as info:
        truth.meta_gradient(P, 0.5, 3, **kwargs)
    assert info.value.argument == argument
    assert argument in str(info.value)


def test_rational_oracle_refuses_long_horizons() -> None:
    from verify.errors import InvalidHorizonError

    with pytest.raises(InvalidHorizonError):
        rational.heavy_ball_forward(P, 0.5, rational.HEAVY_BALL_MAX_T + 1, beta=0.5)
