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
* Per mode, both routes of ``momentum.mode_derivatives`` (the closed form through the roots
  and the jet power) contain the exact values of the recurrence in Fractions, t <= 60, for
  balls as inputs too; which route a mode takes is pinned (real, complex, lambda = 0,
  beta = 0, at and near a double root), and the two routes overlap at t up to 1e6.
* A degraded eigendecomposition (the documented fault-injection hook) still gives enclosures
  that contain the oracle: the perturbation radii carry the guarantee, also with a mode at
  a double root next to separated ones.
* Bad input: typed errors naming the argument.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
import pytest
from flint import arb, ctx
from hypothesis import example, given, settings
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
    # beta 2^-20 above / below the double root of lambda = 1/4: relative root separation
    # about 2^-8.5, so the closed form at t = 1e4, 1e6 and the jet power for the Hessian at t = 10
    "near-double-complex": ([0.25, 1.0], [1.0, 0.5], Fraction(1), Fraction(2**18 + 1, 2**20)),
    "near-double-real": ([0.25, 1.0], [1.0, 0.5], Fraction(1), Fraction(2**18 - 1, 2**20)),
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


# --------------------------------------------------------------------------- per-mode routes
def _exact_mode(
    mu: Fraction, eta: Fraction, beta: Fraction, z: Fraction, t: int, wrt: str
) -> list[Fraction]:
    """x_t, x_t', x_t'' of one unforced mode by forward mode in Fractions (independent of the
    roots): x_{k+1} = a x_k - beta x_{k-1}, x_{-1} = x_0 = z, differentiated term by term."""
    a = 1 + beta - eta * mu
    da, db = (-mu, Fraction(0)) if wrt == "eta" else (Fraction(1), Fraction(1))
    prev, cur = (z, Fraction(0), Fraction(0)), (z, Fraction(0), Fraction(0))
    for _ in range(t):
        nxt = (
            a * cur[0] - beta * prev[0],
            da * cur[0] + a * cur[1] - db * prev[0] - beta * prev[1],
            2 * da * cur[1] + a * cur[2] - 2 * db * prev[1] - beta * prev[2],
        )
        prev, cur = cur, nxt
    return list(cur)


def _ball(q: Fraction) -> Any:
    from flint import fmpq

    return arb(fmpq(q.numerator, q.denominator))  # a ball, not a point, unless q is dyadic


def _holds(ball: Any, q: Fraction) -> bool:
    """q lies in the ball, decided exactly (the endpoints are exact dyadics)."""
    from verify.floats import fraction_from_arb

    return fraction_from_arb(ball.lower()) <= q <= fraction_from_arb(ball.upper())


def _routes(
    mu: Fraction, eta: Fraction, beta: Fraction, z: Fraction, t: int, wrt: str, order: int = 2
) -> Any:
    """(closed form or None, jet power) at 256 bits."""
    from verify.truth import momentum

    with ctx.workprec(256):
        args = (_ball(mu), _ball(eta), _ball(beta), t, wrt, order, _ball(z))
        return momentum._closed_form(*args), momentum._jet_power(*args, None)


# non-dyadic thirds and fifths as well: the inputs are then genuine balls
mode_values = st.sampled_from([0, 1, 2, 3, 4, 5]).flatmap(
    lambda den: st.integers(0, 4 * max(den, 1)).map(lambda k: Fraction(k, max(den, 1) * 4))
)


@pytest.mark.parametrize("wrt", ["eta", "beta"])
@settings(deadline=None)
@example(mu=Fraction(0), eta=Fraction(0), beta=Fraction(0), z=Fraction(-3, 7), t=2)
@given(
    mu=mode_values,
    eta=mode_values.filter(lambda e: e <= 1),
    beta=st.integers(0, 60).map(lambda k: Fraction(k, 60)),
    z=st.sampled_from([Fraction(1), Fraction(-3, 7)]),
    t=st.integers(2, 60),
)
def test_both_mode_routes_contain_the_exact_recurrence(wrt, mu, eta, beta, z, t) -> None:
    exact = _exact_mode(mu, eta, beta, z, t, wrt)
    for order in (0, 1, 2):  # each order has its own code path and separation floor
        closed, jet = _routes(mu, eta, beta, z, t, wrt, order)
        for route in (closed, jet):
            if route is None:
                continue
            assert len(route) == order + 1
            assert all(_holds(x, q) for x, q in zip(route, exact, strict=False)), (route, exact)


#: How much wider than the jet power's ball the closed form's may be where both apply: both run
#: at 256 bits, and away from the double root the closed form measured 0-20 bits *tighter*
#: (the jet's binary powering loses ~(log2 t)^2 / 2 bits near it); a factor 2^4 catches a
#: route that loses more than it should. ROUTE_REL_FLOOR (2^-200, 56 bits under the working
#: precision) covers values the jet power happens to get exactly (radius 0) where the closed
#: form carries a rounding radius.
ROUTE_WIDTH_FACTOR = 16
ROUTE_REL_FLOOR = 2.0**-200

#: beta 2^-20 above the double root of (lambda, eta) = (1/4, 1): relative root separation
#: about 2^-8.5
NEAR = Fraction(2**18 + 1, 2**20)

# (mu, eta, beta, t): which route mode_derivatives takes, at order 2
ROUTES = {
    "real": (Fraction(1, 2), Fraction(1, 4), Fraction(1, 64), 10**4, "closed"),
    "complex": (Fraction(1), Fraction(1, 2), Fraction(1, 8), 10**4, "closed"),
    "lambda=0": (Fraction(0), Fraction(1, 4), Fraction(1, 2), 10**4, "closed"),
    "beta=0": (Fraction(1, 2), Fraction(1, 4), Fraction(0), 10**4, "closed"),
    "a=0": (Fraction(3, 2), Fraction(1), Fraction(1, 2), 10**4, "closed"),  # r = +-i/sqrt(2)
    "double": (Fraction(1, 4), Fraction(1), Fraction(1, 4), 10**4, "jet"),
    "double-at-0": (Fraction(1, 2), Fraction(2), Fraction(0), 10**4, "jet"),  # a = 0 = beta
    "near-double-small-t": (Fraction(1, 4), Fraction(1), NEAR, 10, "jet"),
    "near-double-large-t": (Fraction(1, 4), Fraction(1), NEAR, 10**4, "closed"),
    "very-near-double": (Fraction(1, 4), Fraction(1), Fraction(2**128 + 1, 2**130), 10**6, "jet"),
    "t=1": (Fraction(1, 2), Fraction(1, 4), Fraction(1, 64), 1, "jet"),
}


@pytest.mark.parametrize("name", sorted(ROUTES))
@pytest.mark.parametrize("wrt", ["eta", "beta"])
def test_mode_routes_are_taken_and_agree(name: str, wrt: str) -> None:
    """The route is the intended one; where both apply at large t (no exact oracle there),
    the two independent certified routes overlap and the closed form is at least as tight
    within a few bits."""
    mu, eta, beta, t, route = ROUTES[name]
    z = Fraction(-3, 7)
    closed, jet = _routes(mu, eta, beta, z, t, wrt)
    assert (closed is not None) == (route == "closed"), name
    if closed is None:
        return
    for c, j in zip(closed, jet, strict=True):
        assert c.overlaps(j), (name, c, j)
        assert c.rad() <= ROUTE_WIDTH_FACTOR * j.rad() + abs(c.mid()) * ROUTE_REL_FLOOR, (
            name,
            c,
            j,
        )


def test_lambda_zero_mode_is_constant() -> None:
    """lambda = 0: x_t = z for every t and beta, so both derivatives are 0 (contained; along
    eta the closed form gives exactly 0, since a' = -lambda = 0)."""
    for wrt in ("eta", "beta"):
        closed, _ = _routes(Fraction(0), Fraction(1, 4), Fraction(1, 2), Fraction(1), 10**6, wrt)
        assert closed is not None
        assert closed[0].contains(1) and closed[1].contains(0) and closed[2].contains(0)
        if wrt == "eta":
            assert closed[1] == 0 and closed[2] == 0


def test_perturbation_radii_do_not_depend_on_the_order_of_modes() -> None:
    """The one-pass grouping in momentum.perturbation_radii keeps the worst |a|, |lambda| and
    smallest discriminant of each group whichever mode comes first: near-double, complex and
    real modes and lambda = 0 in every rotation and reversed give identical bounds."""
    from types import SimpleNamespace

    from verify.truth import momentum

    with ctx.workprec(128):
        eta, beta = arb(1), arb(1) / 4
        lams = [arb(1) / 4, arb(0), arb(1), arb(3) / 2, arb(1) / 4 + arb(2) ** -30, arb(2)]
        orders = [lams[k:] + lams[:k] for k in range(len(lams))] + [lams[::-1]]
        for wrt in ("eta", "beta"):
            results = []
            for mu in orders:
                eig = SimpleNamespace(mu=mu, kappa=arb(1), eps=arb(2) ** -60)
                results.append(
                    momentum.perturbation_radii(eig, eta, beta, 100, wrt, 2, arb(1), arb(1))
                )
            for other in results[1:]:
                assert all(x == y for x, y in zip(results[0], other, strict=True)), wrt


def test_perturbation_radii_depend_on_group_extremes_only() -> None:
    """Each group's bound uses its largest |a| and |lambda| and smallest discriminant: modes
    that change none of these (complex roots far from the double root, |a| = 1/4) leave the
    bounds unchanged; a mode nearer a double root (still separated on its ball) can only
    raise them. eta = 1, beta = 1/4, t = 1000: the ball half-width is ~2^-12."""
    from types import SimpleNamespace

    from verify.truth import momentum

    def radii(lams: list[Any], wrt: str) -> list[Any]:
        eig = SimpleNamespace(mu=lams, kappa=arb(1), eps=arb(2) ** -60)
        return momentum.perturbation_radii(eig, arb(1), arb(1) / 4, 1000, wrt, 2, arb(1), arb(1))

    with ctx.workprec(128):
        # a = 5/4 - lambda; |disc| = |a^2 - 1|: 2^-7 - 2^-16 at lambda = 1/4 + 2^-8
        base = [arb(1) / 4 + arb(2) ** -8, arb(2)]
        benign = [arb(1), arb(3) / 2]  # a = +-1/4, |disc| = 15/16
        closer = [arb(1) / 4 + arb(2) ** -9]  # |disc| ~ 2^-8, still > 0 on its ball
        for wrt in ("eta", "beta"):
            ref = radii(base, wrt)
            same = radii(benign[:1] + base + benign[1:], wrt)
            assert all(x == y for x, y in zip(ref, same, strict=True)), (wrt, ref, same)
            more = radii(closer + base, wrt)
            assert all(y >= x for x, y in zip(ref, more, strict=True)), (wrt, ref, more)
            assert any(y > x for x, y in zip(ref, more, strict=True)), (wrt, ref, more)


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


def test_degraded_eigendecomposition_with_a_double_root_mode(monkeypatch) -> None:
    """One mode exactly at its double root (lambda = 1/4, eta = 1, beta = 1/4) beside
    separated ones: the perturbation radii bound the near group by route A and the rest
    with their separation; the enclosures still contain the oracle."""
    monkeypatch.setattr(eigen, "_DEGRADE", _eigenvalues_off(1e-12))
    for wrt in ("eta", "beta"):
        p = Quadratic(np.diag([0.25, 0.5, 1.0]), [0.5, -0.75, 1.0])
        exact = rational.heavy_ball_forward(p, Fraction(1), 20, beta=Fraction(1, 4), wrt=wrt)
        enc = truth.meta_gradient(
            p, Fraction(1), 20, objective="naive", beta=Fraction(1, 4), wrt=wrt,
            rel_tol=Fraction(1, 2**20), engine="eigen", **HB,
        )
        assert enc.contains(exact["dF"]), (wrt, enc, float(exact["dF"]))


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
