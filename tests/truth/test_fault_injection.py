"""Fault injection for the certified eigen engine: the rigor terms, not the refinement, carry it.

Every oracle test elsewhere runs on a well-refined decomposition, where the proven error terms
(eps >= ||H - H~||, nu >= ||Q^T Q - I||, the perturbation radii of
:func:`verify.truth.engine._perturbation_radii`) are far below the other radii: removing them
passes those tests. Here the refined decomposition is degraded on purpose through the
documented hook :data:`verify.certified.eigen._DEGRADE` (eigenvalues off by a relative delta, Q
not orthogonal, two eigenvector columns rotated), and

* every result must still contain the exact rational oracle's value (:mod:`verify.truth.rational`)
  or raise :class:`~verify.errors.NotCertifiedError`;
* with a rigor term removed or shrunk 1000x (monkeypatched), the same degraded runs must miss
  the oracle -- the *sensitivity* tests below assert that, so a suite in which a rigor term
  could be deleted unnoticed fails here;
* each perturbation bound is checked against a directly computed ||w^(j)_t(H) - w^(j)_t(H~)||.

Numbers (d = 3, 9 points eta in {1/16, 1/8, 3/16} x t in {5, 10, 20}, rel_tol = 2^-20, naive
objective, eigen engine): with eigenvalues degraded by a relative 1e-12 the code encloses the
exact value at 9 of 9 points; with the perturbation radii set to 0 or divided by 1000, or eps
divided by 1000, at 0 of 9.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from flint import arb, arb_mat, ctx, fmpq
from hypothesis import given
from hypothesis import strategies as st

from tests._strategies import dyadic_quadratics
from verify import LeastSquares, Quadratic, truth
from verify.certified import eigen, fasteig
from verify.errors import NotCertifiedError
from verify.problems import Problem
from verify.truth import engine, rational

Degrade = Callable[[Any, list[Any], int], tuple[Any, list[Any]]]

# rel_tol well above the injected errors (~1e-12 t^2), well below the size of their effect
# once a rigor term is removed (the enclosure then misses by ~1e-12 relative while its radius
# is ~2^-150): a tolerance the degraded decomposition can meet, so results are returned.
FAULT_REL_TOL = Fraction(1, 2**20)
POINTS = [(Fraction(k, 16), t) for k in (1, 2, 3) for t in (5, 10, 20)]

H3 = np.array([[2.0, 0.5, -0.25], [0.5, 1.5, 0.375], [-0.25, 0.375, 1.0]])
W3 = np.array([0.5, -0.75, 1.0])
B3 = np.array([0.25, 0.0, -0.5])
# n < d: H = X^T X / n is singular, so the engine cannot shift to w - w* and the affine
# perturbation terms (S1, S2, S3) carry the b-part; w0 = 0 leaves only them.
X_SING = np.array([[1.0, 0.5, -0.25], [0.25, -1.0, 0.5]])
Y_SING = np.array([1.0, -0.5])


# --------------------------------------------------------------------------- degradations
def eigenvalues_off(delta: float) -> Degrade:
    """mu_i -> mu_i (1 + delta): H~ moves by ~delta ||H||, Q untouched."""

    def f(Q: Any, mu: list[Any], prec: int) -> tuple[Any, list[Any]]:
        return Q, [(m * (1 + arb(delta))).mid() for m in mu]

    return f


def columns_scaled(delta: float) -> Degrade:
    """Q -> Q diag(1 + (j+1) delta): Q not orthogonal (nu ~ delta), H Q - Q diag(mu) still small,
    so only the Q^{-1} correction of :meth:`CertifiedEig.solve` accounts for it."""

    def f(Q: Any, mu: list[Any], prec: int) -> tuple[Any, list[Any]]:
        Q2 = arb_mat(Q.tolist())
        for r in range(Q.nrows()):
            for j in range(Q.ncols()):
                Q2[r, j] = (Q[r, j] * (1 + arb(delta) * (j + 1))).mid()
        return Q2, mu

    return f


def columns_rotated(theta: float, i: int = 0, j: int = 1) -> Degrade:
    """Rotate eigenvector columns i, j by theta (a cluster rotated): eps ~ theta * gap."""

    def f(Q: Any, mu: list[Any], prec: int) -> tuple[Any, list[Any]]:
        c, s = arb(math.cos(theta)), arb(math.sin(theta))
        Q2 = arb_mat(Q.tolist())
        for r in range(Q.nrows()):
            Q2[r, i] = (c * Q[r, i] - s * Q[r, j]).mid()
            Q2[r, j] = (s * Q[r, i] + c * Q[r, j]).mid()
        return Q2, mu

    return f


def combined(*fs: Degrade) -> Degrade:
    def f(Q: Any, mu: list[Any], prec: int) -> tuple[Any, list[Any]]:
        for g in fs:
            Q, mu = g(Q, mu, prec)
        return Q, mu

    return f


# --------------------------------------------------------------------------- mutations
def radii_zero(mp: pytest.MonkeyPatch) -> None:
    orig = engine._perturbation_radii
    mp.setattr(engine, "_perturbation_radii", lambda *a: [arb(0) for _ in orig(*a)])


def radii_shrunk(mp: pytest.MonkeyPatch) -> None:
    orig = engine._perturbation_radii
    mp.setattr(engine, "_perturbation_radii", lambda *a: [x / 1000 for x in orig(*a)])


def eps_shrunk(mp: pytest.MonkeyPatch) -> None:
    orig = eigen._residual_frobenius
    mp.setattr(eigen, "_residual_frobenius", lambda *a: orig(*a) / 1000)


def fast_eps_shrunk(mp: pytest.MonkeyPatch) -> None:
    """The float64 engine's proven residual bound (||H Q - Q diag(mu)||_F) divided by 1000."""
    orig = fasteig.proven_norms
    mp.setattr(fasteig, "proven_norms", lambda *a: (orig(*a)[0] / 1000, orig(*a)[1]))


def fast_nu_zero(mp: pytest.MonkeyPatch) -> None:
    """The float64 engine's proven orthogonality bound (||Q^T Q - I||_F) replaced by 0."""
    orig = fasteig.proven_norms
    mp.setattr(fasteig, "proven_norms", lambda *a: (orig(*a)[0], arb(0)))


def solve_unbounded(mp: pytest.MonkeyPatch) -> None:
    """Drop the nu/(1 - nu) radius of Q^{-1} v = Q^T v + ..."""
    mp.setattr(eigen.CertifiedEig, "solve", lambda self, v: self.QT * v)


# --------------------------------------------------------------------------- harness
def _quadratic() -> Problem:
    return Quadratic(H3, W3)


def _singular_least_squares() -> Problem:
    return LeastSquares(X_SING, Y_SING)


def _enclosed(make: Callable[[], Problem], order: int) -> tuple[int, int, list[str]]:
    """(# points whose enclosure contains the exact value, # refused, misses) over POINTS.

    A fresh problem per point: decompositions are cached per problem.
    """
    hits, refused, misses = 0, 0, []
    for eta, t in POINTS:
        p = make()
        exact = rational.forward(p, eta, t, objective="naive")["dF" if order == 1 else "d2F"]
        f = truth.meta_gradient if order == 1 else truth.meta_hessian
        try:
            enc = f(p, eta, t, objective="naive", rel_tol=FAULT_REL_TOL, engine="eigen")
        except NotCertifiedError:
            refused += 1
            continue
        if enc.contains(exact):
            hits += 1
        else:
            misses.append(f"eta={eta} t={t}: exact {float(exact)!r} not in {enc}")
    return hits, refused, misses


@pytest.fixture
def inject(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Degrade], None]]:
    def set_(deg: Degrade) -> None:
        monkeypatch.setattr(eigen, "_DEGRADE", deg)

    yield set_


CASES: list[tuple[str, Callable[[], Problem], int, Degrade, Callable[[pytest.MonkeyPatch], None]]]
CASES = [
    ("eig-1e-12/radii=0", _quadratic, 1, eigenvalues_off(1e-12), radii_zero),
    ("eig-1e-12/radii/1000", _quadratic, 1, eigenvalues_off(1e-12), radii_shrunk),
    ("eig-1e-12/eps/1000", _quadratic, 1, eigenvalues_off(1e-12), eps_shrunk),
    ("eig-1e-12/hessian/radii/1000", _quadratic, 2, eigenvalues_off(1e-12), radii_shrunk),
    ("rot-1e-10/radii=0", _quadratic, 1, columns_rotated(1e-10), radii_zero),
    ("rot-1e-10/eps/1000", _quadratic, 1, columns_rotated(1e-10), eps_shrunk),
    ("scaled-1e-12/solve", _quadratic, 1, columns_scaled(1e-12), solve_unbounded),
    (
        "affine-eig-1e-12/radii/1000",
        _singular_least_squares,
        1,
        eigenvalues_off(1e-12),
        radii_shrunk,
    ),
]


@pytest.mark.parametrize(
    ("name", "make", "order", "degrade", "mutate"), CASES, ids=[c[0] for c in CASES]
)
def test_degraded_decomposition_still_encloses(
    inject: Callable[[Degrade], None],
    name: str,
    make: Callable[[], Problem],
    order: int,
    degrade: Degrade,
    mutate: Callable[[pytest.MonkeyPatch], None],
) -> None:
    """The unmutated code encloses the exact value at every point despite the degradation."""
    inject(degrade)
    hits, refused, misses = _enclosed(make, order)
    assert not misses, f"{len(misses)} of {len(POINTS)} enclosures miss ({name}):\n" + "\n".join(
        misses
    )
    assert hits == len(POINTS), (hits, refused)  # the degradation is mild: nothing is refused


@pytest.mark.parametrize(
    ("name", "make", "order", "degrade", "mutate"), CASES, ids=[c[0] for c in CASES]
)
def test_removing_a_rigor_term_is_caught(
    inject: Callable[[Degrade], None],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    make: Callable[[], Problem],
    order: int,
    degrade: Degrade,
    mutate: Callable[[pytest.MonkeyPatch], None],
) -> None:
    """Sensitivity: with the rigor term removed or shrunk 1000x, the degraded runs miss.

    If this fails, the fault injection above could no longer tell a broken proof from a
    correct one (the degradation became too small, or the term is no longer used).
    """
    inject(degrade)
    mutate(monkeypatch)
    hits, refused, misses = _enclosed(make, order)
    assert len(misses) >= len(POINTS) - 1, (name, hits, refused)


# The float64 engine (verify.certified.fasteig), forced on the small problem: the degraded data
# go through its proof (float64 bounds), and shrinking its residual bound must be caught.
FAST_CASES = [
    ("fast/eig-1e-12/radii=0", _quadratic, 1, eigenvalues_off(1e-12), radii_zero),
    ("fast/eig-1e-12/eps/1000", _quadratic, 1, eigenvalues_off(1e-12), fast_eps_shrunk),
    ("fast/rot-1e-10/eps/1000", _quadratic, 1, columns_rotated(1e-10), fast_eps_shrunk),
    ("fast/scaled-1e-12/solve", _quadratic, 1, columns_scaled(1e-12), solve_unbounded),
    ("fast/scaled-1e-12/nu=0", _quadratic, 1, columns_scaled(1e-12), fast_nu_zero),
]


@pytest.fixture
def fast_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(eigen, "FAST_EIG_MIN_DIM", 0)


def _uses_fast_engine(make: Callable[[], Problem]) -> bool:
    p = make()
    return p.certified_eig(eigen.MIN_EIG_PREC).bits > 0  # only the float64 engine sets bits


@pytest.mark.parametrize(
    ("name", "make", "order", "degrade", "mutate"), FAST_CASES, ids=[c[0] for c in FAST_CASES]
)
def test_fast_engine_degraded_decomposition_still_encloses(
    fast_engine: None,
    inject: Callable[[Degrade], None],
    name: str,
    make: Callable[[], Problem],
    order: int,
    degrade: Degrade,
    mutate: Callable[[pytest.MonkeyPatch], None],
) -> None:
    """As above, through the float64 engine's proof."""
    inject(degrade)
    assert _uses_fast_engine(make)
    hits, refused, misses = _enclosed(make, order)
    assert not misses, f"{len(misses)} of {len(POINTS)} enclosures miss ({name}):\n" + "\n".join(
        misses
    )
    assert hits == len(POINTS), (hits, refused)


@pytest.mark.parametrize(
    ("name", "make", "order", "degrade", "mutate"), FAST_CASES, ids=[c[0] for c in FAST_CASES]
)
def test_fast_engine_removing_a_rigor_term_is_caught(
    fast_engine: None,
    inject: Callable[[Degrade], None],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    make: Callable[[], Problem],
    order: int,
    degrade: Degrade,
    mutate: Callable[[pytest.MonkeyPatch], None],
) -> None:
    """Sensitivity of the float64 engine's rigor terms (see the Arb-engine test above)."""
    inject(degrade)
    mutate(monkeypatch)
    hits, refused, misses = _enclosed(make, order)
    assert len(misses) >= len(POINTS) - 1, (name, hits, refused)


@given(
    problem=dyadic_quadratics(max_dim=3, affine=True),
    kind=st.sampled_from(["eig", "scaled", "rotated", "all"]),
    log_delta=st.integers(-14, -2),
    eta=st.integers(1, 12).map(lambda k: Fraction(k, 64)),
    t=st.integers(1, 25),
    order=st.sampled_from([0, 1, 2]),
)
def test_any_degradation_encloses_or_refuses(
    problem: Quadratic, kind: str, log_delta: int, eta: Fraction, t: int, order: int
) -> None:
    """Whatever the damage (up to nu >= 1/2, which certified_eig refuses), never a wrong
    enclosure: contains the exact value, or NotCertifiedError."""
    delta = 10.0**log_delta
    degrade = {
        "eig": eigenvalues_off(delta),
        "scaled": columns_scaled(delta),
        "rotated": columns_rotated(delta),
        "all": combined(eigenvalues_off(delta), columns_scaled(delta), columns_rotated(delta)),
    }[kind]
    if kind in ("rotated", "all") and problem.d < 2:
        degrade = eigenvalues_off(delta)
    exact = rational.forward(problem, eta, t, objective="naive")[("F", "dF", "d2F")[order]]
    f = (truth.meta_objective, truth.meta_gradient, truth.meta_hessian)[order]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(eigen, "_DEGRADE", degrade)
        try:
            enc = f(problem, eta, t, objective="naive", rel_tol=Fraction(1, 2**10), engine="eigen")
        except NotCertifiedError:
            return
    assert enc.contains(exact), (kind, delta, float(exact), enc)


# --------------------------------------------------------------------------- unit bounds
def _exact_trajectory(
    H: list[list[Fraction]], w0: list[Fraction], b: list[Fraction], eta: Fraction, t: int
) -> list[list[Fraction]]:
    """w_t, w'_t, w''_t of GD on (H, b) from w0, exactly (forward mode)."""
    d = len(w0)

    def mv(v: list[Fraction]) -> list[Fraction]:
        return [sum((H[i][j] * v[j] for j in range(d)), Fraction(0)) for i in range(d)]

    w, w1, w2 = list(w0), [Fraction(0)] * d, [Fraction(0)] * d
    for _ in range(t):
        g = [x - y for x, y in zip(mv(w), b, strict=True)]
        h1, h2 = mv(w1), mv(w2)
        w2 = [a - eta * x - 2 * y for a, x, y in zip(w2, h2, h1, strict=True)]
        w1 = [a - eta * x - y for a, x, y in zip(w1, h1, g, strict=True)]
        w = [a - eta * y for a, y in zip(w, g, strict=True)]
    return [w, w1, w2]


def _arb_trajectory(Ht: Any, w0: list[Fraction], b: list[Fraction], eta: Any, t: int) -> list[Any]:
    d = len(w0)
    w = arb_mat([[arb(fmpq(x.numerator, x.denominator))] for x in w0])
    bb = arb_mat([[arb(fmpq(x.numerator, x.denominator))] for x in b])
    w1, w2 = arb_mat(d, 1), arb_mat(d, 1)
    for _ in range(t):
        g = Ht * w - bb
        w2 = w2 - eta * (Ht * w2) - 2 * (Ht * w1)
        w1 = w1 - eta * (Ht * w1) - g
        w = w - eta * g
    return [w, w1, w2]


@pytest.mark.parametrize("affine", [False, True], ids=["homogeneous", "affine"])
@pytest.mark.parametrize("t", [1, 2, 7, 15])
@pytest.mark.parametrize(
    "degrade",
    [
        eigenvalues_off(1e-9),
        columns_scaled(1e-9),
        columns_rotated(1e-7),
        combined(eigenvalues_off(1e-9), columns_scaled(1e-9), columns_rotated(1e-7)),
    ],
    ids=["eig", "scaled", "rotated", "all"],
)
def test_perturbation_bounds_dominate_actual_difference(
    inject: Callable[[Degrade], None], degrade: Degrade, t: int, affine: bool
) -> None:
    """||w^(j)_t(H) - w^(j)_t(H~)||_2 <= radius_j for j = 0, 1, 2, H~ = Q diag(mu) Q^{-1}.

    The homogeneous bounds are checked with b = 0, the affine ones with w0 = 0 (each term of
    :func:`_perturbation_radii` separately). The bound must also not be vacuous (<= 1e6 x the
    actual difference, which is ~1e-9 here).
    """
    inject(degrade)
    q = Quadratic(H3, W3)
    prec = 300
    eig = q.certified_eig(prec)
    eta = Fraction(3, 16)
    Hx = [[Fraction(float(v)) for v in row] for row in H3]
    zero = [Fraction(0)] * 3
    vec = [Fraction(float(v)) for v in (B3 if affine else W3)]
    w0, b = (zero, vec) if affine else (vec, zero)
    exact = _exact_trajectory(Hx, w0, b, eta, t)
    # the reference w_t(H~) is computed at twice the precision, so its own rounding (~2^-600)
    # is far below the decomposition error eps (~2^-297) that the bounds are about
    with ctx.workprec(2 * prec):
        e = arb(fmpq(eta.numerator, eta.denominator))
        D = arb_mat(3, 3)
        for i, m in enumerate(eig.mu):
            D[i, i] = m
        Ht = eig.Q * D * eig.Q.inv()
        approx = _arb_trajectory(Ht, w0, b, e, t)
        n = math.sqrt(sum(float(x) ** 2 for x in vec))
        nb = arb(n) * (1 + arb(2) ** -50)  # an upper bound of ||vec||
        radii = engine._perturbation_radii(
            eig, e, t, 2, arb(0) if affine else nb, nb if affine else None
        )
        for j in range(3):
            diff = arb(0)
            for i in range(3):
                x = exact[j][i]
                di = approx[j][i, 0] - arb(fmpq(x.numerator, x.denominator))
                diff += di * di
            upper = diff.abs_upper().sqrt().abs_upper()
            assert upper <= radii[j], (j, upper.str(5), radii[j].str(5))
            lower = diff.lower()
            if lower > arb(10) ** -40:  # column scaling leaves H~ = H: nothing to compare to
                assert radii[j] <= 1e6 * lower.sqrt(), (j, upper.str(5), radii[j].str(5))
