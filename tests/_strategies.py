"""Hypothesis strategies for the core tests: small problems with dyadic data.

Every value drawn is a dyadic rational with few significant bits, so it is exactly
representable in float64 and the exact-rational oracle sees bit-identical inputs.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import strategies as st

from verify.problems import LeastSquares, Quadratic

# k / 8 with |k| <= 8: three fractional bits, so products and short sums stay exact in float64
small_dyadic = st.integers(-8, 8).map(lambda k: k / 8)


@st.composite
def dyadic_quadratics(draw: st.DrawFn, max_dim: int = 4, affine: bool = False) -> Quadratic:
    """A positive definite quadratic H = B^T B + I/4 with dyadic data (exact in float64)."""
    d = draw(st.integers(1, max_dim))
    B = np.array([[draw(small_dyadic) for _ in range(d)] for _ in range(d)])
    H = B.T @ B + 0.25 * np.eye(d)
    w0 = np.array([draw(small_dyadic) for _ in range(d)])
    if not np.any(w0):
        w0[0] = 1.0
    b = np.array([draw(small_dyadic) for _ in range(d)]) if affine else None
    c = draw(small_dyadic) + 4.0 if affine else 0.0
    return Quadratic(H, w0, b, c)


@st.composite
def dyadic_least_squares(draw: st.DrawFn, d: int, max_n: int = 5) -> LeastSquares:
    """A least-squares data set of dimension ``d`` with dyadic data and nonzero targets."""
    n = draw(st.integers(1, max_n))
    X = np.array([[draw(small_dyadic) for _ in range(d)] for _ in range(n)])
    y = np.array([draw(small_dyadic) for _ in range(n)])
    y[0] = y[0] + 2.0  # keeps the residual, hence the loss, away from zero
    return LeastSquares(X, y)


# step sizes k/64 in [0, 1/2]: covers contraction and (for the larger eigenvalues) explosion
step_sizes = st.integers(0, 32).map(lambda k: Fraction(k, 64))


@st.composite
def diagonal_quadratics(
    draw: st.DrawFn, max_dim: int = 5, max_condition: float = 1e3
) -> tuple[Quadratic, list[float], list[float]]:
    """A diagonal quadratic with its exact eigen-data: (problem, eigenvalues, c = w0).

    On a diagonal H the eigenbasis is the standard basis, so c_i = <w0, e_i> = w0_i exactly;
    the theorems are rotation invariant, so nothing is lost. Eigenvalues are dyadic in
    [1, max_condition] (so the condition number is at most max_condition); w0 entries dyadic,
    nonzero.
    """
    d = draw(st.integers(2, max_dim))
    top = int(max_condition)
    eigs = sorted({float(draw(st.integers(1, top))) for _ in range(d)})
    if len(eigs) < 2:
        eigs.append(eigs[0] + 1.0)
    c = [draw(st.integers(1, 16)) / 16 * draw(st.sampled_from([-1.0, 1.0])) for _ in eigs]
    n = len(eigs)
    H = [[eigs[i] if i == j else 0.0 for j in range(n)] for i in range(n)]
    return Quadratic(H, c), eigs, c


@st.composite
def rotated_quadratics(
    draw: st.DrawFn, max_dim: int = 8, max_log10_condition: float = 4.0
) -> Quadratic:
    """A quadratic with a random spectrum (log-uniform in [1, 10^k]) in a random basis, unit w0."""
    d = draw(st.integers(2, max_dim))
    k = draw(st.floats(0.5, max_log10_condition))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    eigs = 10.0 ** rng.uniform(0.0, k, size=d)
    return Quadratic.from_spectrum(eigs, seed=seed)
