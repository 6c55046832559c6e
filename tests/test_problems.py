"""Problem construction: exactness, determinism, certified definiteness and constants."""

from __future__ import annotations

import numpy as np
import pytest

from verify.problems import LeastSquares, Quadratic

# float64 eigh is backward stable: |lambda_hat - lambda| <= c d u ||H|| with c small; we allow
# c = 8 (u = 2^-53); the certified values must agree with eigh within that.
EIGH_BACKWARD_CONSTANT = 8
U64 = 2.0**-53
# eigenvectors move by ~ (backward error) / gap; 1e3 absorbs the constant of that first-order
# bound and the c_i cancellation, while a wrong eigenvector (O(1) change) is still caught.
EIGVEC_SENSITIVITY = 1e3


def test_quadratic_holds_exact_values() -> None:
    H = np.array([[0.1, 0.2], [0.2, 0.7]])
    q = Quadratic(H, [0.6, 0.8])
    assert np.array_equal(q.H, H) and q.H is not H
    with pytest.raises(ValueError):
        q.H[0, 0] = 1.0  # read-only


def test_random_is_deterministic_and_matches_paper_instance() -> None:
    a = Quadratic.random(20, seed=0)
    b = Quadratic.random(20, seed=0)
    assert a.fingerprint == b.fingerprint
    assert abs(np.linalg.norm(a.w0) - 1) <= 4 * U64
    # paper notes §4.3 quote L = 62.7, alpha = 0.0105, c_min = 0.0122 for their d = 20 instance
    assert round(a.L, 1) == 62.7 and round(a.alpha, 4) == 0.0105 and round(a.c_min, 4) == 0.0122
    w2 = Quadratic.random(30, seed=1, kind="wishart2")
    assert w2.definiteness == "positive_definite"


@pytest.mark.parametrize("seed", range(4))
def test_certified_constants_agree_with_eigh(seed: int) -> None:
    q = Quadratic.random(12, seed=seed)
    lam, U = np.linalg.eigh(q.H)
    tol = EIGH_BACKWARD_CONSTANT * q.d * U64 * lam[-1]
    enc = q.spectral_enclosures()
    assert abs(q.L - lam[-1]) <= tol and abs(q.alpha - lam[0]) <= tol
    assert enc["L"].rel_radius() < 2.0**-60 and enc["alpha"].rel_radius() < 2.0**-60
    c_float = min(abs(U[:, 0] @ q.w0), abs(U[:, -1] @ q.w0))
    assert abs(q.c_min - c_float) <= EIGVEC_SENSITIVITY * tol / (lam[1] - lam[0])


def test_from_spectrum() -> None:
    q = Quadratic.from_spectrum([0.5, 1.0, 4.0], seed=3)
    assert abs(q.L - 4.0) <= EIGH_BACKWARD_CONSTANT * 3 * U64 * 4.0
    assert abs(q.alpha - 0.5) <= EIGH_BACKWARD_CONSTANT * 3 * U64 * 4.0


def test_least_squares_quadratic_and_losses() -> None:
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((8, 3)), rng.standard_normal(8)
    ls = LeastSquares(X, y)
    q = ls.as_quadratic()
    w = rng.standard_normal(3)
    # same loss up to float64 roundoff of the two evaluation orders (a few ulps of ||y||^2/2n)
    assert abs(ls.loss(w) - q.loss(w)) <= 64 * U64 * (1 + np.sum(y**2))
    assert ls.definiteness == "positive_definite"
    wide = LeastSquares(rng.standard_normal((3, 8)), rng.standard_normal(3))
    assert wide.definiteness == "positive_semidefinite"
    val = LeastSquares(rng.standard_normal((5, 3)), rng.standard_normal(5))
    assert ls.loss(w, val) == val.loss(w)


def test_exact_psd_check_small_singular() -> None:
    q = Quadratic([[1.0, 1.0], [1.0, 1.0]], [1.0, 0.0])
    assert q.definiteness == "positive_semidefinite"


def test_least_squares_spectral_constants() -> None:
    from verify.errors import NotCertifiedError

    rng = np.random.default_rng(5)
    wide = LeastSquares(rng.standard_normal((10, 20)), rng.standard_normal(10))
    assert wide.alpha == 0.0  # rank <= n < d: exactly zero, proven
    G = wide.X.T @ wide.X / wide.n
    lam = np.linalg.eigvalsh(G)
    assert abs(wide.L - lam[-1]) <= EIGH_BACKWARD_CONSTANT * wide.d * U64 * lam[-1]
    with pytest.raises(NotCertifiedError):
        _ = wide.c_min  # alpha = 0 has multiplicity d - n: no unique eigenvector
    tall = LeastSquares(rng.standard_normal((40, 20)), rng.standard_normal(40), w0=np.ones(20))
    assert tall.alpha > 0 and tall.c_min > 0


def test_cache_computes_once_and_stores_nothing_on_error() -> None:
    q = Quadratic([[2.0]], w0=[1.0])
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return 7

    assert q.cached("test:value", compute) == 7
    assert q.cached("test:value", compute) == 7
    assert calls == [1]

    def fail() -> int:
        raise RuntimeError("not stored")

    with pytest.raises(RuntimeError):
        q.cached("test:failing", fail)
    assert q.cached("test:failing", compute) == 7


def test_certified_spectrum_is_shared_per_problem() -> None:
    """One decomposition serves every lower precision; as_quadratic is built once."""
    q = Quadratic.random(4, seed=3)
    assert q.certified_eig(100) is q.certified_eig(156)  # both at the minimum, 156 bits
    high = q.certified_eig(400)
    assert high.prec == 400 and q.certified_eig(200) is high
    ls = LeastSquares([[1.0, 2.0], [3.0, 4.0], [5.0, 7.0]], [1.0, 2.0, 3.0])
    assert ls.as_quadratic() is ls.as_quadratic()
    assert np.array_equal(ls.as_quadratic().H, ls.hessian_float64())
