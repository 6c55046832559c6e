"""Inputs that once made the certified engine refuse (NotCertifiedError), now certified.

* Nearly multiple eigenvalues: H = I + 5e-17 off the diagonal. The float64 eigenvectors are
  arbitrary inside the cluster and Ogita--Aishima's update cannot separate it; the cluster is
  rotated apart at working precision first (``verify.certified.eigen._rotate_clusters``).
* b != 0 with an exponentially small meta-gradient: a converged least-squares run
  (rho^(2t) ~ 1e-1500). The trajectory is computed in the deviation w - w* from the enclosed
  minimizer, so no cancellation between H w_t and b destroys the relative accuracy.
"""

from __future__ import annotations

import functools
from fractions import Fraction

import mpmath
import numpy as np
import pytest

from verify import LeastSquares, Quadratic, truth
from verify.truth import mpmath_ref, rational

# The converged-run reference (``_deviation_reference``) unrolls the homogeneous deviation
# recurrence e_{k+1} = (I - eta H) e_k in mpmath: every quantity keeps its relative accuracy
# (no cancellation), so after t = 10^4 steps at this precision about
# REFERENCE_BITS - log2(t) - 20 ~ 166 bits are right: far below the enclosure's 2^-80.
REFERENCE_BITS = 200
REFERENCE_REL_ERR = Fraction(1, 2**120)


def _deviation_reference(problem: LeastSquares, eta: float, t: int) -> dict[str, Fraction]:
    """F'(eta), naive and log, for a least-squares problem from the unrolled deviation
    recurrence (mpmath).

    Not certified: an independent algorithm (no eigendecomposition, no perturbation bounds)
    whose rounding error is bounded by the comment on REFERENCE_BITS. Returned exactly as the
    rational value of the mpmath result, so that containment is checked without rounding.
    """
    ctx = mpmath.mp.clone()
    ctx.prec = REFERENCE_BITS  # a private context: the global mpmath.mp is never touched
    X = ctx.matrix(problem.X.tolist())
    y = ctx.matrix(problem.y.tolist())
    n, d = problem.n, problem.d
    H = (X.T * X) / n
    wstar = ctx.lu_solve(H, (X.T * y) / n)
    e = ctx.matrix(problem.w0.tolist()) - wstar
    e1 = ctx.matrix(d, 1)  # de/deta
    h = ctx.mpf(eta)
    for _ in range(t):
        He = H * e
        e1 = e1 - h * (H * e1) - He
        e = e - h * He
    res = X * wstar - y
    fstar = sum(r * r for r in res) / (2 * n)
    He = H * e
    g = fstar + sum(a * b for a, b in zip(e, He, strict=True)) / 2
    g1 = sum(a * b for a, b in zip(He, e1, strict=True))

    def exact(value: mpmath.mpf) -> Fraction:
        sign, man, exp, _ = ctx.mpf(value)._mpf_  # mpmath's man_exp drops the sign
        return (-1) ** sign * Fraction(int(man)) * Fraction(2) ** int(exp)

    return {"naive": exact(g1), "log": exact(g1 / (t * g))}


@functools.cache
def _converged_case(factor: float) -> tuple[LeastSquares, float, int, dict[str, Fraction]]:
    rng = np.random.default_rng(1)
    X = rng.standard_normal((25, 6))
    y = X @ rng.standard_normal(6) + 0.3 * rng.standard_normal(25)
    train = LeastSquares(X, y)
    eta, t = factor / train.L, 10_000
    return train, eta, t, _deviation_reference(train, eta, t)


@pytest.fixture(scope="module")
def near_identity() -> Quadratic:
    H = np.eye(3)
    H[0, 1] = H[1, 0] = 5e-17
    H[1, 2] = H[2, 1] = -3e-17
    return Quadratic(H, [0.5, 0.25, 0.125])


@pytest.mark.parametrize("t", [10, 8192, 100_000])
def test_near_multiple_eigenvalues_at_eta_zero_exact(near_identity: Quadratic, t: int) -> None:
    # at eta = 0: w_t = w0 and dw_t/deta = -t H w0, so F'(0) = -t ||H w0||^2 exactly (naive)
    H = [[Fraction(x) for x in row] for row in near_identity.H.tolist()]
    w0 = [Fraction(x) for x in near_identity.w0.tolist()]
    Hw0 = [sum(h * w for h, w in zip(row, w0, strict=True)) for row in H]
    exact = -t * sum(x * x for x in Hw0)
    enc = truth.meta_gradient(near_identity, 0.0, t, objective="naive")
    assert enc.contains(exact)


@pytest.mark.parametrize("eta", [0.5, 1.0, 1.5])
def test_near_multiple_eigenvalues_match_exact_oracle(near_identity: Quadratic, eta: float) -> None:
    t = 40  # the rational oracle is exact; its numbers grow with t
    exact = rational.forward(near_identity, Fraction(eta), t, objective="naive")["dF"]
    assert truth.meta_gradient(near_identity, eta, t, objective="naive").contains(exact)


# Found by Hypothesis (test_stable_accurate_property): five eigenvalues within 1.5e-15 of 1
_CLUSTER5_UPPER = {  # off-diagonal entries (i, j), i < j; H is symmetric with unit diagonal
    (0, 1): 2.601031452039267e-16, (0, 2): -2.139670737468877e-17,
    (0, 3): 1.7709623247872042e-16, (0, 4): 1.4054501379924365e-16,
    (1, 2): 1.707860355450229e-16, (1, 3): 2.6482858319798084e-16,
    (1, 4): 1.7294782244509348e-16, (2, 3): 1.2296440822761722e-16,
    (2, 4): -3.080636660723474e-17, (3, 4): 6.006636207269345e-17,
}  # fmt: skip
CLUSTER5_H = [
    [1.0 if i == j else _CLUSTER5_UPPER[min(i, j), max(i, j)] for j in range(5)] for i in range(5)
]
CLUSTER5_W0 = [
    -0.37717339396476746, -0.5227826237678528, 0.007375776767730713, -0.6253464818000793,
    0.43968844413757324,
]  # fmt: skip


def test_five_eigenvalue_cluster_is_resolved() -> None:
    q = Quadratic(CLUSTER5_H, CLUSTER5_W0)
    # the decomposition error bound shrinks with the precision (it was stuck at ~2e-16)
    for prec in (156, 312):
        assert q.certified_eig(prec).eps < 2.0 ** (40 - prec)
    eta = 2.0**-23
    exact = rational.forward(q, Fraction(eta), 30, objective="log")["dF"]
    assert truth.meta_gradient(q, eta, 30, objective="log").contains(exact)
    # the horizon Hypothesis drew; F' is ~ -2: certified to the default 2^-80
    enc = truth.meta_gradient(q, eta, 249_400, objective="log")
    assert enc.rel_radius() <= 2**-80


@pytest.mark.parametrize("objective", ["naive", "log"])
@pytest.mark.parametrize("factor", [0.9, 1.8])
def test_converged_least_squares_meta_gradient(objective: str, factor: float) -> None:
    train, eta, t, reference = _converged_case(factor)
    enc = truth.meta_gradient(train, eta, t, objective=objective)
    value = reference[objective]
    slack = abs(value) * REFERENCE_REL_ERR
    assert enc.lower - slack <= value <= enc.upper + slack
    assert value != 0 and abs(value) < Fraction(1, 10**1000)  # the regime once refused


def test_deviation_reference_matches_plain_unrolling() -> None:
    # the reference itself against mpmath_ref's plain unrolling where both are cheap
    rng = np.random.default_rng(1)
    X = rng.standard_normal((25, 6))
    y = X @ rng.standard_normal(6) + 0.3 * rng.standard_normal(25)
    train = LeastSquares(X, y)
    eta, t = 0.9 / train.L, 200
    plain = mpmath_ref.meta_derivatives(train, eta, t, objective="naive", prec_bits=400)[1]
    ours = _deviation_reference(train, eta, t)["naive"]
    assert abs(Fraction(mpmath.nstr(plain, 60)) - ours) <= abs(ours) * Fraction(1, 10**40)
