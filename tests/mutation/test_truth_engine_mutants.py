"""Behaviours of :mod:`verify.truth.engine` that mutation testing found unpinned (``mutmut run``
with ``only_mutate = [..., "verify/truth/engine.py", ...]``; docs/mutation-survivors.md).

The perturbation bounds (:func:`verify.truth.engine._perturbation_radii`) at the points where
they are attained. tests/truth/test_fault_injection.py checks each bound against the actual
||w^(j)_t(H) - w^(j)_t(H~)|| on a 3x3 problem, but there every bound holds with room to spare
(its own non-vacuity check allows a factor 1e6), so a term could be dropped, or rho^ replaced
by rho~, unnoticed. Here d = 1 makes the homogeneous bounds tight to first order:

* H = (h), H~ = (mu) with mu = h (1 + delta) (the documented hook
  :data:`verify.certified.eigen._DEGRADE`), Q = (q) with q^2 = 1 to the working precision:
  kappa = 1 and eps = |h - mu| up to ~2^-290 relative;
* w0 = 1, b = 0: w_t = a^t, w'_t = -t h a^(t-1), w''_t = t(t-1) h^2 a^(t-2) with
  a = 1 - eta h (and a~ likewise). With eta h > 1 the two modes of error in w'_t and w''_t
  (the eigenvalue moves; the power moves) add instead of cancelling, so
  |w'_t(h) - w'_t(mu)| = t |Delta| |a|^(t-2) (|a| + (t-1) eta |mu|) + O(Delta^2), which is
  hom1 = t (eps rho^^(t-1) + kappa h~ e_(t-1)) to first order, and likewise hom0 and hom2.

The exact differences are computed in Fractions from h and the exact midpoint mu (closed
forms above). :func:`_tight` is the largest ratio bound / actual the first-order argument
allows: every factor rho^ / |a| or rho^ / |a~| is at most (1 + 2 eta |Delta| / (|a| - eta |Delta|)),
so bound <= actual * that^(t-1) * (1 + 2^-60) (the 2^-60 covers eps, kappa and the rounding of
the radii, all ~2^-290). A mutant that shrinks a term makes a bound smaller than the actual
difference (caught by ``actual <= bound``); one that inflates a term beyond the second-order
slack is caught by ``bound <= _tight * actual``.

The affine bounds (w0 = 0, b = 1) are not tight by construction (S1 >= sum_k e_k bounds a sum
of t terms by t times the largest, and S2's h-term is never needed in d = 1, where
w'_t = t a^(t-1) b); they are checked for soundness and for the factor :func:`_affine_cap`.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from flint import arb, ctx, fmpq

from verify.certified import eigen
from verify.problems import LeastSquares, Problem, Quadratic
from verify.truth import engine

#: Working precision of the decomposition and of the radii.
PREC = 300
#: Relative size of the injected eigenvalue error: large enough that the second-order terms
#: (rho^ against rho~, |a| against |a~|) move the bounds by ~0.5 % per step at t <= 5, far
#: above the 2^-60 allowance for eps, kappa and rounding.
DELTA = 2.0**-8


def _frac(x: Any) -> Fraction:
    man, exp = x.mid().man_exp()
    return Fraction(int(man)) * Fraction(2) ** int(exp)


def _closed(h: Fraction, eta: Fraction, t: int, affine: bool) -> list[Fraction]:
    """(w_t, w'_t, w''_t) of GD on f(w) = h w^2 / 2 - b w, d = 1, exactly: w0 = 1, b = 0, or
    (affine) w0 = 0, b = 1."""
    a = 1 - eta * h
    p1 = a ** (t - 1) if t >= 1 else Fraction(0)
    p2 = a ** (t - 2) if t >= 2 else Fraction(0)
    if not affine:
        return [a**t, -t * h * p1, t * (t - 1) * h * h * p2]
    return [eta * sum((a**k for k in range(t)), Fraction(0)), t * p1, -t * (t - 1) * h * p2]


def _radii_and_actual(
    h: float, delta: float, eta: Fraction, t: int, affine: bool
) -> tuple[list[Fraction], list[Fraction], Fraction]:
    """(radii, actual differences, exact mu) for the 1x1 problem H = (h) degraded to mu."""

    def degrade(Q: Any, mu: list[Any], prec: int) -> tuple[Any, list[Any]]:
        return Q, [(m * (1 + arb(delta))).mid() for m in mu]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(eigen, "_DEGRADE", degrade)
        eig = Quadratic([[h]], [1.0]).certified_eig(PREC)
    mu = _frac(eig.mu[0])
    exact = _closed(Fraction(h), eta, t, affine)
    approx = _closed(mu, eta, t, affine)
    actual = [abs(x - y) for x, y in zip(exact, approx, strict=True)]
    with ctx.workprec(PREC):
        e = arb(fmpq(eta.numerator, eta.denominator))
        one = arb(1)
        radii = engine._perturbation_radii(
            eig, e, t, 2, arb(0) if affine else one, one if affine else None
        )
    return [_frac(r) for r in radii], actual, mu


def _tight(h: Fraction, mu: Fraction, eta: Fraction, t: int) -> Fraction:
    """Largest ratio bound / actual that the first-order argument (module doc) allows."""
    a = min(abs(1 - eta * h), abs(1 - eta * mu))
    step = eta * abs(h - mu)
    return (1 + 2 * step / (a - step)) ** max(t - 1, 1) * (1 + Fraction(1, 2**60))


HOMOGENEOUS = [
    (1.5, d, Fraction(1), t)  # a = -1/2: the error terms add
    for d in (DELTA, -DELTA)
    for t in (1, 2, 3, 5)
] + [(0.75, d, Fraction(2), t) for d in (DELTA, -DELTA) for t in (2, 4)]  # a = -1/2, h < 1


@pytest.mark.parametrize(("h", "delta", "eta", "t"), HOMOGENEOUS)
def test_homogeneous_perturbation_bounds_are_attained(
    h: float, delta: float, eta: Fraction, t: int
) -> None:
    """Kills mutants of hom0, hom1, hom2 (and of e(k), rho, h, kappa inside them) that shrink
    a term -- dropping ``kappa * h_t * e(t - 1)``, rho^ replaced by rho~, ``k - 1`` by ``k`` --
    or inflate one beyond second order (module doc)."""
    radii, actual, mu = _radii_and_actual(h, delta, eta, t, affine=False)
    cap = _tight(Fraction(h), mu, eta, t)
    for j in range(3):
        if actual[j] == 0:  # t < j: nothing moves, and the bound is 0
            assert radii[j] == 0, (j, radii[j])
            continue
        ratio = radii[j] / actual[j]
        assert 1 <= ratio <= cap, (j, float(ratio), float(cap))


AFFINE = [
    (1.5, d, eta, t)
    for d in (DELTA, -DELTA)
    for eta, ts in ((Fraction(1, 64), (1, 2, 3, 10)), (Fraction(3, 2), (2, 5, 30)))
    for t in ts
]  # a = 1 - 3/128 (M = 1) and a = -5/4 (|a| > 1: M = rho^^t)


@pytest.mark.parametrize(("h", "delta", "eta", "t"), AFFINE)
def test_affine_perturbation_bounds_hold(h: float, delta: float, eta: Fraction, t: int) -> None:
    """Soundness of aff0, aff1, aff2 where they are closest to attained (a near 1, M = 1), and
    where GD diverges (|a| > 1): there M = max(1, rho^)^t is what bounds rho^^k (k < t), and
    replacing it by 1 is caught."""
    radii, actual, _ = _radii_and_actual(h, delta, eta, t, affine=True)
    for j in range(3):
        assert actual[j] <= radii[j], (j, float(actual[j]), float(radii[j]))


# --------------------------------------------------------------------------- the formulas
def _documented_radii(
    eig: Any, eta: Fraction, t: int, w0n: Fraction, bn: Fraction | None
) -> list[Fraction]:
    """The bounds of :func:`engine._perturbation_radii`'s docstring, in exact arithmetic from
    the decomposition's exact eps, kappa and mu (the code rounds each step upward)."""
    eps, kappa = _frac(eig.eps), _frac(eig.kappa)
    mus = [_frac(m) for m in eig.mu]
    rho_t = max(abs(1 - eta * m) for m in mus)
    h_t = max(abs(m) for m in mus)
    rho, h = rho_t + eta * kappa * eps, h_t + kappa * eps

    def e(k: int) -> Fraction:
        return Fraction(0) if k <= 0 else k * eta * eps * kappa * rho ** (k - 1)

    hom = [e(t), t * (eps * rho ** (t - 1) + kappa * h_t * e(t - 1))]
    second = Fraction(0)
    if t >= 2:
        second = eps * (h + kappa * h_t) * rho ** (t - 2) + kappa * h_t**2 * e(t - 2)
    hom.append(t * (t - 1) * second)
    out = [x * w0n for x in hom]
    if bn is None:
        return out
    M = max(rho, Fraction(1)) ** t
    S1 = t * t * eta * eps * kappa * M
    S2 = t * t * (eps + kappa * h_t * t * eta * eps * kappa) * M
    S3 = t**3 * (eps * (h + kappa * h_t) + kappa * h_t**2 * t * eta * eps * kappa) * M
    aff = [eta * S1, S1 + eta * S2, 2 * S2 + eta * S3]
    return [x + a * bn for x, a in zip(out, aff, strict=True)]


#: The radii are computed in Arb at PREC bits with every intermediate rounded up; 2^-200
#: relative is far above that rounding (~t 2^-PREC) and far below any change of a term.
FORMULA_REL = Fraction(1, 2**200)


def _columns_and_eigenvalues(delta: float, scale: float) -> Any:
    """mu -> mu (1 + delta) and Q's column j scaled by 1 + (j + 1) scale: eps > 0 and
    kappa > 1 by a visible margin (kappa ~ 1 + 2 scale), so that every factor of the formulas
    (eps, kappa, rho~, h~) moves the radii."""

    def f(Q: Any, mu: list[Any], prec: int) -> tuple[Any, list[Any]]:
        from flint import arb_mat

        Q2 = arb_mat(Q.tolist())
        for r in range(Q.nrows()):
            for j in range(Q.ncols()):
                Q2[r, j] = (Q[r, j] * (1 + arb(scale) * (j + 1))).mid()
        return Q2, [(m * (1 + arb(delta))).mid() for m in mu]

    return f


FORMULA_PROBLEMS = {
    "d1": [[1.5]],
    "d2": [[2.0, 0.5], [0.5, 0.75]],
}


@pytest.mark.parametrize("name", sorted(FORMULA_PROBLEMS))
@pytest.mark.parametrize("eta", [Fraction(1, 64), Fraction(1), Fraction(3, 2)])
@pytest.mark.parametrize("t", [1, 2, 5])
@pytest.mark.parametrize("bn", [None, Fraction(4)])
def test_perturbation_radii_follow_their_documented_formulas(
    name: str, eta: Fraction, t: int, bn: Fraction | None
) -> None:
    """Kills every mutant that changes a factor of the radii (eps, kappa, rho^, h^, M, the
    powers of t, the sums S1, S2, S3 and how they combine), including those that leave a
    still-valid bound: the affine bounds are deliberately generous, so a mutant that shrinks
    one term can stay sound (see test_affine_perturbation_bounds_hold for soundness).
    eta = 3/2 makes rho^ > 1 (M = rho^^t), eta = 1/64 keeps it below 1 (M = 1)."""
    H = FORMULA_PROBLEMS[name]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(eigen, "_DEGRADE", _columns_and_eigenvalues(2.0**-10, 2.0**-5))
        eig = Quadratic(H, [1.0] * len(H)).certified_eig(PREC)
    assert eig.eps > 0 and eig.kappa > 1 + arb(2) ** -4
    w0n = Fraction(3, 4)
    want = _documented_radii(eig, eta, t, w0n, bn)
    with ctx.workprec(PREC):
        e = arb(fmpq(eta.numerator, eta.denominator))
        b = None if bn is None else arb(fmpq(bn.numerator, bn.denominator))
        got = [_frac(r) for r in engine._perturbation_radii(eig, e, t, 2, arb(fmpq(3, 4)), b)]
    for j in range(3):
        assert want[j] <= got[j] <= want[j] * (1 + FORMULA_REL), (j, float(want[j]), float(got[j]))


def test_perturbation_radii_at_an_exact_decomposition_are_zero() -> None:
    """H = (2) is decomposed exactly (eps = 0) and eta = 1/2 annihilates its mode (rho^ = 0):
    every radius is exactly 0 -- in particular e(k) for k <= 0 is 0 without evaluating
    rho^^(k-1) = 0^-1 (kills the guards ``k <= 0`` -> ``k < 0`` / removed, and ``t < 2``
    removed, which turn the radius into 0 * inf = NaN)."""
    eig = Quadratic([[2.0]], [1.0]).certified_eig(PREC)
    assert eig.eps == 0
    with ctx.workprec(PREC):
        e = arb(fmpq(1, 2))
        for t in (1, 2, 3):
            for bn in (None, arb(1)):
                radii = engine._perturbation_radii(eig, e, t, 2, arb(1), bn)
                assert all(r.is_zero() for r in radii), (t, bn, radii)


def test_perturbation_radii_bound_every_eta_in_the_ball() -> None:
    """A ball eta (the engine passes one for a non-dyadic step size) must give radii that
    bound those of every point in it. Regression (found by mutation testing): rho~ and h~ were
    the upper ends of the balls with the largest *midpoint*, which is not the largest upper
    end when the balls overlap -- here |1 - eta 0.02| = [0.98 +- 0.002] has the larger
    midpoint, |1 - eta 1.97| = [0.97 +- 0.197] the larger upper end, and at eta = 1.1 (inside
    the ball) rho~ = 1.167 > 0.982. (In the engine the balls are ~2^-prec wide, so the
    understatement was ~2^-prec relative; here it is exaggerated to be seen.)"""
    from types import SimpleNamespace

    eig = SimpleNamespace(eps=arb(2) ** -20, kappa=arb(1), mu=[arb(0.02).mid(), arb(1.97).mid()])
    ball = arb(1, 0.1)
    with ctx.workprec(PREC):
        enclosing = engine._perturbation_radii(eig, ball, 5, 2, arb(1), arb(1))
        for point in (arb(0.9), arb(1), arb(1.1)):
            inner = engine._perturbation_radii(eig, point, 5, 2, arb(1), arb(1))
            for j in range(3):
                assert inner[j] <= enclosing[j], (point, j, inner[j], enclosing[j])


# --------------------------------------------------------------------------- refusals
@pytest.mark.parametrize("optimizer", ["gd", "heavy_ball"])
def test_refusal_message_describes_the_point(
    optimizer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """H = I and w0 = (1, 1) keep both coordinates equal, and the evaluation loss
    (w_1 - w_2)^2 / 2 has derivative exactly 0 -- but eta = 1/3 is not dyadic, so the two
    equal coordinates are inexact balls and their difference never is 0. With the exact routes
    switched off, NotCertifiedError names the derivative, the point, the engine and (only for
    heavy ball) the optimizer settings."""
    from verify.errors import NotCertifiedError

    monkeypatch.setattr(engine, "_exact_results", lambda point, mom: None)
    p = Quadratic(np.eye(2), w0=[1.0, 1.0])
    ev = Quadratic(np.array([[1.0, -1.0], [-1.0, 1.0]]), w0=[1.0, 1.0])
    kw: dict[str, Any] = dict(objective="naive", eval_problem=ev, engine="eigen", max_prec_bits=256)
    if optimizer == "heavy_ball":
        kw.update(optimizer="heavy_ball", beta=0.5)
    with pytest.raises(NotCertifiedError) as info:
        engine.meta_gradient(p, Fraction(1, 3), 3, **kw)
    text = str(info.value)
    head = "could not certify the meta-gradient (objective='naive', eta=0.3333333333333333, t=3, "
    head += "engine='eigen'"
    tail = ", optimizer='heavy_ball', beta=0.5, wrt='eta')" if optimizer == "heavy_ball" else ")"
    assert head + tail + " to relative radius" in text, text
    assert "max_prec_bits=256" in text


@pytest.mark.parametrize("order", [0, 1, 2])
@pytest.mark.parametrize("affine", [False, True])
def test_power_engine_every_order_contains_the_exact_value(order: int, affine: bool) -> None:
    """The independent cross-check engine at each derivative order (the meta-Hessian was not
    reached through engine="power" elsewhere), with and without the affine column."""
    from verify.truth import rational

    H = np.array([[2.0, 0.5], [0.5, 0.75]])
    p = Quadratic(H, w0=[1.0, -0.5], b=[0.25, -0.125] if affine else None)
    eta, t = Fraction(3, 16), 7
    exact = rational.forward(p, eta, t)[("F", "dF", "d2F")[order]]
    f = (engine.meta_objective, engine.meta_gradient, engine.meta_hessian)[order]
    enc = f(p, eta, t, objective="naive", engine="power", rel_tol=Fraction(1, 2**40))
    assert enc.contains(exact), (order, enc, float(exact))


# --------------------------------------------------------------------------- every path
def _paths() -> dict[str, tuple[Problem, Problem | None]]:
    """One problem per route through the eigen engine: shifted to w - w* (b != 0, H
    invertible; quadratic with c, and least squares, whose f(w*) comes from X), unshifted
    with forcing (singular least squares: a zero mode, phi = t eta), and evaluation problems
    of both kinds (the unshifted loss of _loss_derivatives)."""
    H = np.array([[2.0, 0.5], [0.5, 1.25]])
    quad_b = Quadratic(H, w0=[1.0, -0.5], b=[0.25, -0.75], c=0.5)
    ls = LeastSquares(
        np.array([[1.0, 0.5], [0.25, -1.0], [0.5, 0.75]]), np.array([1.0, -0.5, 0.25])
    )
    ls_sing = LeastSquares(np.array([[1.0, 0.5, -0.25], [0.25, -1.0, 0.5]]), np.array([1.0, -0.5]))
    ev_ls = LeastSquares(np.array([[0.5, 1.0], [1.0, -0.25]]), np.array([0.5, 0.75]))
    ev_q = Quadratic(np.array([[1.0, 0.25], [0.25, 0.5]]), w0=[0.0, 0.0], b=[0.5, -0.25], c=2.0)
    return {
        "quad-b-c": (quad_b, None),
        "least-squares": (ls, None),
        "singular-least-squares": (ls_sing, None),
        "eval-least-squares": (quad_b, ev_ls),
        "eval-quadratic": (ls, ev_q),
        # exact zero eigenvalues (phi = t eta) next to modes with eta mu >= 1/2 (phi =
        # (1 - a^t) / mu) and, for diag(1, 0), an eigenvalue exactly 1
        "diagonal-singular": (Quadratic(np.diag([3.0, 0.0]), w0=[1.0, -0.5], b=[0.5, 0.25]), None),
        "diagonal-unit": (Quadratic(np.diag([1.0, 0.0]), w0=[1.0, -0.5], b=[0.5, 0.25]), None),
        "rank-one": (
            Quadratic(np.array([[2.0, 2.0], [2.0, 2.0]]), w0=[1.0, -0.5], b=[0.5, 0.25]),
            None,
        ),
    }


@pytest.mark.parametrize("name", sorted(_paths()))
@pytest.mark.parametrize("eta", [Fraction(3, 16), Fraction(1, 2)])
@pytest.mark.parametrize("t", [1, 2, 5])
def test_eigen_engine_on_every_path_contains_the_exact_values(
    name: str, eta: Fraction, t: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """F, dF, d2F (naive) and dF, d2F (log, where the loss is positive) of the eigen engine
    contain rational.forward's exact values: kills the shifted loss f(w*) + e^T H e / 2 (its
    least-squares f(w*) = |X w* - y|^2 / 2n), the least-squares g'' and the quadratic's
    b and c in _loss_derivatives, and phi's branches (eta mu = 0, < 1/2, >= 1/2)."""
    from verify.truth import rational

    p, ev = _paths()[name]
    tol = Fraction(1, 2**40)
    # the eigen engine alone: the exact rational routes would settle a NaN or a ball around 0
    monkeypatch.setattr(engine, "_exact_results", lambda point, mom: None)
    fs = (engine.meta_objective, engine.meta_gradient, engine.meta_hessian)
    evaluated = p if ev is None else ev
    log_ok = not isinstance(evaluated, Quadratic) or evaluated.definiteness == "positive_definite"
    for objective in ("naive", "log") if log_ok else ("naive",):
        exact = rational.forward(p, eta, t, objective="naive", eval_problem=ev)
        if objective == "log" and exact["loss"] <= 0:
            continue  # outside the log objective's domain
        exact = rational.forward(p, eta, t, objective=objective, eval_problem=ev)
        for order, key in enumerate(("F", "dF", "d2F")):
            if exact[key] is None:
                continue  # the log objective's value is irrational
            enc = fs[order](
                p, eta, t, objective=objective, eval_problem=ev, engine="eigen", rel_tol=tol
            )
            assert enc.contains(exact[key]), (objective, key, enc, float(exact[key]))


@pytest.mark.parametrize(("c", "what"), [(0.0, "is exactly 0"), (-1.0, "is negative")])
def test_log_objective_outside_its_domain_without_exact_routes(
    c: float, what: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """eta = 1/2 annihilates H = 2 I in one step: g(w_1) = c exactly, in exact balls. The
    engine itself (exact routes off) raises ZeroLossError naming eta, its value and why."""
    from verify.errors import ZeroLossError

    monkeypatch.setattr(engine, "_exact_results", lambda point, mom: None)
    p = Quadratic(np.eye(2) * 2, w0=[1.0, 1.0], c=c)
    with pytest.raises(ZeroLossError) as info:
        engine.meta_gradient(p, 0.5, 1, engine="eigen")
    assert info.value.argument == "eta" and info.value.value == 0.5
    assert info.value.reason == f"the loss at w_t (t=1) {what}; log objective undefined"


def test_meta_hessian_at_an_annihilated_mode_in_one_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """a = 1 - eta mu = 0 exactly for one mode and t = 1: w''_1 = 0 there, and a^(t-2) must
    not be formed (0^-1); the eigen engine alone returns the exact value."""
    from verify.truth import rational

    monkeypatch.setattr(engine, "_exact_results", lambda point, mom: None)
    p = Quadratic(np.diag([2.0, 1.0]), w0=[1.0, 1.0], b=None, c=0.25)
    exact = rational.forward(p, Fraction(1, 2), 1)["d2F"]
    enc = engine.meta_hessian(p, 0.5, 1, objective="naive", engine="eigen")
    assert enc.contains(exact), (enc, exact)


def test_converged_run_needs_the_shift(monkeypatch: pytest.MonkeyPatch) -> None:
    """The deviation from w* carries the meta-gradient of a converged run: for f with b != 0,
    g' = (H w_t - b) . w'_t ~ rho^(2t) (rho = 1/2 here: ~2^-1200 at t = 600), and H w_t - b
    formed from w_t itself keeps the radius of w_t, ~2^-prec: more than 640 bits would be
    needed, beyond the cap of 512; from the deviation it is certified at the start precision.
    The exact route is off (and would not apply anyway: d^2 t^2 > the work limit)."""
    monkeypatch.setattr(engine, "_exact_results", lambda point, mom: None)
    p = Quadratic(np.array([[2.0, 0.5], [0.5, 1.25]]), w0=[1.0, -0.5], b=[0.25, -0.75], c=0.5)
    enc = engine.meta_gradient(
        p, 0.5, 600, objective="naive", engine="eigen", max_prec_bits=512, rel_tol=2.0**-40
    )
    assert not enc.contains(0) and abs(enc.to_float()) < 1e-100


def test_power_engine_never_decomposes(monkeypatch: pytest.MonkeyPatch) -> None:
    """engine="power" is the independent cross-check: it must not use the eigendecomposition."""

    def refuse(*args: object) -> None:
        raise AssertionError("the power engine used the eigendecomposition")

    monkeypatch.setattr(engine, "_trajectory_eigen", refuse)
    p = Quadratic(np.array([[2.0, 0.5], [0.5, 0.75]]), w0=[1.0, -0.5])
    assert engine.meta_gradient(p, 0.125, 5, objective="naive", engine="power").rel_radius() < 1
