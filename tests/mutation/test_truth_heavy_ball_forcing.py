"""The heavy-ball engine's forcing radius: a degraded decomposition on a singular problem.

Mutation testing of :func:`verify.truth.engine._trajectory_heavy_ball` found that dropping the
forcing norm it passes to :func:`verify.truth.momentum.perturbation_radii` (``bn = None``: the
radius then covers the start's error only) passed every test: the engine-level heavy-ball tests
run on well-refined decompositions, where the forcing term of the radius is far below the
other radii. Here the decomposition of a singular least-squares problem (H = X^T X, rank 2 of
3, so the iteration is affine: forcing b != 0 in H's null space is not removable) is degraded
through the documented hook :data:`verify.certified.eigen._DEGRADE`. Every enclosure must
contain the exact heavy-ball oracle's value or be refused; measured: 16 of 18 points enclosed
and 2 refused, and with ``bn = None`` 18 of 18 enclosures miss the exact value.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from verify import LeastSquares, truth
from verify.certified import eigen
from verify.errors import NotCertifiedError
from verify.truth import momentum, rational

X_SING = np.array([[1.0, 0.5, -0.25], [0.25, -1.0, 0.5]])
Y_SING = np.array([1.0, -0.5])
BETA = Fraction(1, 2)
POINTS = [(Fraction(k, 16), t) for k in (1, 2, 4) for t in (5, 10, 20)]
# the eigenvalues' relative error injected: far above the refined decomposition's (~2^-100)
DELTA = 1e-12
# a tolerance the degraded decomposition can still meet at most points
REL_TOL = 2.0**-12


def _eigenvalues_off(Q: Any, mu: list[Any], prec: int) -> tuple[Any, list[Any]]:
    return Q, [m * (1 + DELTA) for m in mu]


def _enclosed(wrt: str) -> tuple[int, int, list[str]]:
    hits, refused, misses = 0, 0, []
    for eta, t in POINTS:
        p = LeastSquares(X_SING, Y_SING)  # fresh: decompositions are cached per problem
        exact = rational.heavy_ball_forward(p, eta, t, wrt=wrt, objective="naive", beta=BETA)
        try:
            enc = truth.meta_gradient(
                p,
                eta,
                t,
                objective="naive",
                optimizer="heavy_ball",
                beta=BETA,
                wrt=wrt,
                rel_tol=REL_TOL,
            )
        except NotCertifiedError:
            refused += 1
            continue
        if enc.contains(exact["dF"]):
            hits += 1
        else:
            misses.append(f"eta={eta} t={t}: {float(exact['dF'])!r} not in {enc}")
    return hits, refused, misses


@pytest.mark.parametrize("wrt", ["eta", "beta"])
def test_degraded_singular_problem_encloses_or_refuses(
    wrt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(eigen, "_DEGRADE", _eigenvalues_off)
    hits, refused, misses = _enclosed(wrt)
    assert not misses
    assert hits >= len(POINTS) // 2, (hits, refused)  # the check is not vacuous


@pytest.mark.parametrize("wrt", ["eta", "beta"])
def test_dropping_the_forcing_radius_is_caught(wrt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The mutant itself: ``bn = None`` makes enclosures that miss the exact value."""
    original: Callable[..., Any] = momentum.perturbation_radii
    monkeypatch.setattr(eigen, "_DEGRADE", _eigenvalues_off)
    monkeypatch.setattr(momentum, "perturbation_radii", lambda *a: original(*a[:-1], None))
    _, _, misses = _enclosed(wrt)
    assert misses
