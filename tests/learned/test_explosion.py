"""Meta-gradient explosion measurement: classification, reference check, claim direction."""

from __future__ import annotations

import math

import numpy as np
import pytest

from verify.errors import ArgumentError
from verify.learned import explosion as X
from verify.learned.data import load_digits
from verify.learned.optimizer import init_theta

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

#: Central differences with h = u^(1/3) |theta|_inf err by O(h^2) on a smooth objective, but
#: the ReLU networks make the unrolled objective only piecewise smooth: a perturbation that
#: crosses a kink errs by O(h) times the jump of the derivative, which is bounded by the
#: gradient's own scale. Relative to the gradient norm, allow 10 h (h ~ 2.4e-5 at theta's
#: scale ~ 1; the measured difference is ~ 3e-7).
FD_H_FACTOR = 10.0
#: The claim "explodes or vanishes" is read as changing by more than this factor over the
#: measured horizons (1..16 here) -- the same threshold as the report's verdict.
FACTOR = 100.0


def test_classify_float32() -> None:
    ref = np.array([1.0, 2.0, 3.0])
    tol = X.float32_tolerance(10, 64)
    assert X.classify_float32(ref * (1 + 1e-7), ref, 1.0, tol)[0] == "accurate"
    assert X.classify_float32(np.array([np.nan, 0, 0]), ref, 1.0, tol)[0] == "nan"
    assert X.classify_float32(np.array([np.inf, 0, 0]), ref, 1.0, tol)[0] == "overflow"
    assert X.classify_float32(np.zeros(3), ref, 1.0, tol)[0] == "underflow"
    assert X.classify_float32(ref, ref, 0.0, tol)[0] == "underflow"
    assert X.classify_float32(-ref, ref, 1.0, tol)[0] == "silently_wrong"
    assert X.classify_float32(ref * 1.01, ref, 1.0, tol)[0] == "inaccurate"
    assert X.float32_tolerance(20, 64) > X.float32_tolerance(10, 64)
    with pytest.raises(ArgumentError):
        X.float32_tolerance(0, 64)


def test_reference_matches_finite_differences() -> None:
    ds = load_digits()
    point = X.OperatingPoint("untrained", init_theta(np.random.default_rng(0)))
    for kind in ("final", "log"):
        chk = X.finite_difference_check(ds, point, 3, kind, seed=0, n_train=50)
        assert chk["difference_over_gradient_norm"] <= FD_H_FACTOR * chk["h"], chk


def test_naive_grows_and_log_stays_bounded_at_untrained_optimizer() -> None:
    """Paper §5.3 / Theorem 3 analogue: the naive meta-gradient changes by orders of
    magnitude with the unroll length, the log objective's does not."""
    ds = load_digits()
    point = X.OperatingPoint("untrained", init_theta(np.random.default_rng(0)))
    res = X.run_explosion(ds, [point], [1, 2, 4, 8, 16], seed=0, n_train=100, fd_horizons=())
    rows = res["points"]["untrained"]["objectives"]
    naive = [r["norm64"] for r in rows["final"]]
    logs = [r["norm64"] for r in rows["log"]]
    assert naive[-1] / naive[0] > FACTOR, naive
    assert max(logs) / min(logs) < FACTOR, logs
    for kind in ("final", "average", "log"):
        for r in rows[kind]:
            assert r["class32"] in ("accurate", "inaccurate"), r
            assert math.isfinite(r["norm32"])
