"""The float64 Cholesky test of positive definiteness (Rump's criterion with a rigorous shift).

It may only answer True for a positive definite matrix. The adversaries are exactly singular
Gram matrices X^T X of small dyadic matrices (at d = 30 a float64 Cholesky without the shift
"succeeds" on about half of them, through rounding) and the same matrices pushed indefinite by
a tiny diagonal decrement. Checked by hand (then reverted): with the shift removed and the
Arb check replaced by ``return True``, ``test_singular_gram_matrices_where_plain_cholesky_
succeeds`` fails. Not caught: shrinking the gamma constant of the bound (actual rounding
errors stay far below the worst-case bound, as expected of a worst-case bound).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from verify.certified.definiteness import certified_definiteness, cholesky_proves_positive_definite


@pytest.mark.parametrize("d", [1, 2, 10, 200])
def test_well_conditioned_spd_is_proven(d: int) -> None:
    rng = np.random.default_rng(d)
    B = rng.standard_normal((d, d))
    H = B @ B.T / d + np.eye(d)
    H = (H + H.T) / 2
    assert cholesky_proves_positive_definite(H)
    assert certified_definiteness(H, "H") == "positive_definite"


def test_tiny_but_positive_eigenvalue_is_proven() -> None:
    """lambda_min ~ 2^-41 of ||H|| ~ 2: far above the shift ~ 2 gamma_6 trace ~ 2^-48."""
    H = np.array([[1.0, 1.0], [1.0, 1.0 + 2.0**-40]])
    assert cholesky_proves_positive_definite(H)


@settings(max_examples=60, deadline=None)
@given(
    d=st.integers(2, 8),
    rank_gap=st.integers(1, 3),
    entries=st.lists(st.integers(-4, 4), min_size=64, max_size=64),
    push=st.sampled_from([0.0, 2.0**-45, 2.0**-30]),
)
@example(d=2, rank_gap=1, entries=[1] * 64, push=0.0)
def test_singular_and_indefinite_gram_matrices_are_never_proven(
    d: int, rank_gap: int, entries: list[int], push: float
) -> None:
    """H = X^T X with X of rank < d (exact in float64: small integers) is singular; subtracting
    push * H[0,0] from H[0,0] keeps it singular or makes it indefinite. Never proven PD."""
    r = max(1, d - rank_gap)
    X = np.array(entries[: r * d], dtype=np.float64).reshape(r, d)
    H = X.T @ X
    if H[0, 0] > 0 and push:
        H[0, 0] -= push * H[0, 0]
    assert not cholesky_proves_positive_definite(H)


def test_singular_gram_matrices_where_plain_cholesky_succeeds() -> None:
    """d = 30, rank 29, dyadic entries (X^T X exact in float64): an unshifted LAPACK Cholesky
    "succeeds" on about half of them (93 of 200 measured) through rounding; the certified test
    must prove none."""
    rng = np.random.default_rng(0)
    fooled = 0
    for _ in range(40):
        d = 30
        X = rng.integers(-4, 5, size=(d - 1, d)) * rng.choice([1.0, 0.5, 0.25, 0.375], (d - 1, d))
        H = X.T @ X
        try:
            np.linalg.cholesky(H)
            fooled += 1
        except np.linalg.LinAlgError:
            pass
        assert not cholesky_proves_positive_definite(H)
    assert fooled >= 5  # the adversary is real: plain Cholesky is fooled on this sample


def test_out_of_range_entries_are_not_decided() -> None:
    assert not cholesky_proves_positive_definite(np.array([[2.0**600]]))
    assert not cholesky_proves_positive_definite(np.array([[1.0, 2.0**-600], [2.0**-600, 1.0]]))
    assert certified_definiteness(np.array([[2.0**600]]), "H") == "positive_definite"
