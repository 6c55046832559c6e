"""The float64 eigen engine's refinement schedule: its accuracy and its cost, pinned.

Mutation testing of :mod:`verify.certified.fasteig` (docs/mutation-survivors.md) left the
untrusted part of the engine unpinned: the Ogita--Aishima update (:func:`fasteig._update`) and
the schedule of :func:`fasteig.fast_refine` (the coarse first round, the stopping floor, the
"shrinks by 2^8 a round" rule). None of them can break a proven bound (``residual_bounds``
proves whatever it is given), so the earlier tests, which accept any decomposition with a
proven residual below 2^-90 ||A||, let them pass. What they can break is what the engine is
for: reaching the double-double floor from LAPACK's output in the documented number of rounds.
These tests pin both, on random symmetric matrices (fixed seeds):

* accuracy: the returned proven residual is below ``RESID_TARGET`` ||A||_F and nu below
  ``NU_TARGET`` -- measured (seeds 0-5) 2^-99.2..2^-100.1 and nu 2^-97.1..2^-98.3 at d = 8,
  where one update already lands under the stopping floor, and 2^-107.8 (nu 2^-104.6) at
  d = 120, where it takes two; the targets leave >= 2^4 of room for another machine's LAPACK.
  The matrices are chosen away from the floor (after one update d = 8 sits >= 2^7 below it
  and d = 120, seed 2, nu 2^-84.4, 2^5.6 above it; d = 40 straddles it and is not used);
* cost: one proof of LAPACK's output, one update reaching ~2^-96 (quadratic convergence from
  ~2^-50), and, unless that is already under the stopping floor of 2^-90, a second update to
  the double-double resolution: ``residual_bounds`` runs ``PROOFS`` times. A
  first-order mistake in the update gains ~50 bits a round instead of ~2x and needs more
  rounds; a broken stopping rule runs a useless extra round or stops above the floor.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from verify.certified import fasteig
from verify.certified.floatbounds import frobenius_upper

# proven residual / ||A||_F and nu after refinement (measured values in the module docstring,
# each target 2^4 above them)
RESID_TARGET = {8: 2.0**-95, 120: 2.0**-103}
NU_TARGET = {8: 2.0**-93, 120: 2.0**-100}
# proofs run: LAPACK's output, then one per update (quadratic convergence 2^-50 -> 2^-95 ->
# 2^-108); d = 8 stops after one update (under the floor), d = 120 after two
PROOFS = {8: 2, 120: 3}
SEED = {8: 0, 120: 2}


def _random_symmetric(d: int, seed: int) -> np.ndarray[Any, np.dtype[np.float64]]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((d, d))
    return (X + X.T) / 2


@pytest.mark.parametrize("d", [8, 120])
def test_refinement_reaches_the_double_double_floor_in_two_updates(
    d: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kills: the update's corrections (eigenvalue, gap, separation) broken to first order, the
    stopping floor or the 2^8 rule changed, the coarse round's level count changed."""
    A = _random_symmetric(d, seed=SEED[d])
    lam, Q = np.linalg.eigh(A)
    proofs: list[tuple[float, float]] = []
    original = fasteig.residual_bounds

    def counted(*args: Any, **kwargs: Any) -> Any:
        out = original(*args, **kwargs)
        if out is not None:
            resid, nu = fasteig.proven_norms(*out)
            proofs.append((float(resid.upper()), float(nu.upper())))
        return out

    monkeypatch.setattr(fasteig, "residual_bounds", counted)
    res = fasteig.fast_refine(A, Q, lam)
    assert res is not None
    anorm = float(frobenius_upper(A).upper())
    assert float(res.resid.upper()) <= RESID_TARGET[d] * anorm, proofs
    assert float(res.nu.upper()) <= NU_TARGET[d], proofs
    assert len(proofs) == PROOFS[d], proofs
    # each update gains at least 40 bits until the floor (quadratic convergence from 2^-50)
    for (before, _), (after, _) in itertools.pairwise(proofs):
        assert after <= before * 2.0**-40 or after <= anorm * 2.0**-100, proofs
    # the returned data are the last (best) proof's
    assert float(res.resid.upper()) == min(p[0] for p in proofs)
