"""The known-failure registry's membership rules pinned where tests/test_edges.py does not reach:
which arguments :meth:`KnownFailure.covers` checks, the early exits of each predicate, the
cancellation correction of the flush-to-zero region, and :func:`lookup`'s order and variants.

Found unpinned by mutation testing (``mutmut run``, README "Tests and benchmarks"). Every
problem here is 1- or 2-dimensional, so the module runs in well under a second.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

import verify.known_failures as kf
from verify import LeastSquares, Quadratic
from verify.backprop import Sensitivity
from verify.floats import get_format

E_LOG = 1e-6  # log-space thresholds, as in tests/test_edges.py (float64 noise ~1e-13)

#: H = diag(1, 4): np.linalg.eig returns (1, 4), so the published code reads L = 1, alpha = 4.
UNSORTED = Quadratic([[1.0, 0.0], [0.0, 4.0]], [0.6, 0.8])


class _Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []

    def __call__(self, problem: object, eta: float, t: int, dtype: str) -> bool:
        self.calls.append((problem, eta, t, dtype))
        return True


def _region(variants: tuple[str, ...] | None = None) -> tuple[kf.KnownFailure, _Recorder]:
    rec = _Recorder()
    region = kf.KnownFailure(
        name="probe",
        backends=("numpy",),
        dtypes=("float32",),
        objectives=("log",),
        predicate=rec,
        reason="probe",
        variants=variants,
    )
    return region, rec


# --------------------------------------------------------------------------- covers
def test_covers_checks_every_coordinate_and_passes_the_point_on() -> None:
    region, rec = _region()
    assert region.covers("numpy", "float32", "log", UNSORTED, 0.25, 7)
    assert rec.calls == [(UNSORTED, 0.25, 7, "float32")]
    assert region.covers("numpy", np.float32, "log", UNSORTED, 0.25, 7)  # type: ignore[arg-type]
    assert region.covers("numpy", np.dtype("float32"), "log", UNSORTED, 0.25, 7)  # type: ignore[arg-type]
    assert not region.covers("torch", "float32", "log", UNSORTED, 0.25, 7)
    assert not region.covers("numpy", "float64", "log", UNSORTED, 0.25, 7)
    assert not region.covers("numpy", "float32", "naive", UNSORTED, 0.25, 7)
    assert len(rec.calls) == 3  # the predicate runs only where the coordinates match
    rec_false = kf.KnownFailure("f", ("numpy",), ("float32",), ("log",), lambda *a: False, "r")
    assert not rec_false.covers("numpy", "float32", "log", UNSORTED, 0.25, 7)


@pytest.mark.parametrize(
    ("variant", "inside"), [(None, True), ("published", True), ("sorted", False)]
)
def test_covers_variants(variant: str | None, inside: bool) -> None:
    """variants=("published",): a point without a variant runs the paper's default, published."""
    region, _ = _region(("published",))
    assert region.covers("numpy", "float32", "log", UNSORTED, 0.25, 7, variant=variant) is inside
    anyv, _ = _region(None)
    assert anyv.covers("numpy", "float32", "log", UNSORTED, 0.25, 7, variant="sorted")


def test_covers_default_variant_is_the_first_declared() -> None:
    region, _ = _region(("sorted",))
    assert not region.covers("numpy", "float32", "log", UNSORTED, 0.25, 7)
    assert region.covers("numpy", "float32", "log", UNSORTED, 0.25, 7, variant="sorted")


# --------------------------------------------------------------------------- unsorted eig
def test_unsorted_eig_nonpositive_scale_edges() -> None:
    """s = 1 - 4 eta (eta <= 2/5) or eta - 1: s = 0 at eta = 1/4 and s < 0 on (1/4, 1) are in
    the region (a NaN by log or 0/0) at any t; a problem with b is never in it."""
    assert list(np.linalg.eig(UNSORTED.H)[0]) == [1.0, 4.0]
    for eta in (0.25, 0.3, 0.4, 0.5, 0.99):
        assert kf._published_scale_mismatch(UNSORTED, eta, 1, "float64") is True
    assert not kf._published_scale_mismatch(UNSORTED, 0.2, 1, "float64")
    with_b = Quadratic(UNSORTED.H, [0.6, 0.8], b=[0.1, 0.0])
    for eta in (0.25, 0.3):
        assert kf._published_scale_mismatch(with_b, eta, 1, "float64") is False


def test_unsorted_eig_reads_the_last_eigenvalue() -> None:
    """d = 3, H = diag(1, 2, 4): the code's alpha is lam[-1] = 4, so eta = 0.3 gives
    s = 1 - 1.2 < 0 (in the region at t = 1); lam[1] = 2 would give s = 0.4 > 0 (not)."""
    q = Quadratic(np.diag([1.0, 2.0, 4.0]), [0.6, 0.0, 0.8])
    assert list(np.linalg.eig(q.H)[0]) == [1.0, 2.0, 4.0]
    assert kf._published_scale_mismatch(q, 0.3, 1, "float64") is True


def test_sorted_eig_is_never_in_the_region() -> None:
    """H = diag(4, 1): eig returns (4, 1), s = rho exactly, no growth at any horizon."""
    q = Quadratic([[4.0, 0.0], [0.0, 1.0]], [0.6, 0.8])
    for eta in (0.1, 0.4, 0.45, 1.0):
        assert not kf._published_scale_mismatch(q, eta, 10**9, "float32")


@pytest.mark.parametrize(("factor", "inside"), [(1 - E_LOG, False), (1 + E_LOG, True)])
def test_unsorted_eig_above_two_over_l_plus_alpha(factor: float, inside: bool) -> None:
    """eta > 1 = 1/L_code: s = eta L_code - 1 = eta - 1, rho = 4 eta - 1; the edge is at
    2t ln(rho/s) = ln(max) + 10 (float64)."""
    t, dtype = 50, "float64"
    R = math.exp((get_format(dtype).ln_max + 10) * factor / (2 * t))
    eta = (R - 1) / (R - 4)  # rho/s = (4 eta - 1)/(eta - 1) = R
    assert eta > 1
    assert kf._published_scale_mismatch(UNSORTED, eta, t, dtype) is inside


# --------------------------------------------------------------------------- rounding floor
def test_rounding_floor_exact_edge_is_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    """kappa_grad u == ROUNDING_FLOOR_FACTOR exactly is not in the region (strict >)."""
    u = get_format("float32").unit_roundoff
    fake = Sensitivity(scale=1.0, kappa_f=1.0, kappa_eta=1.0, q=0.0, kappa_grad=8.0 / u)
    monkeypatch.setattr(kf, "sensitivity", lambda *a, **k: [fake])
    assert not kf._below_rounding_floor(Quadratic([[1.0]], [1.0], b=[0.5]), 0.5, 3, "float32")


def test_rounding_floor_with_the_real_sensitivity() -> None:
    """The naive kappa_grad is defined at t = 0 (the log one is not): no error there, and a
    least-squares problem deep in the converged regime is in the region in float32, not at
    t = 0 (kappa_grad = ||H w0|| ... is O(1))."""
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    ls = LeastSquares(X, np.array([1.0, 2.0, 0.5]))
    eta = 1 / ls.L
    assert not kf._below_rounding_floor(ls, eta, 0, "float32")
    assert kf._below_rounding_floor(ls, eta, 400, "float32")


# --------------------------------------------------------------------------- flush to zero
def _c_for(ln_target: float, t: int, lam: float, r: float) -> float:
    """c with ln(t lam^2 c^2 |r|^(2t-1)) = ln_target."""
    base = math.log(t) + 2 * math.log(lam) + (2 * t - 1) * math.log(abs(r))
    return math.exp((ln_target - base) / 2)


def _mid(dtype: str) -> float:
    fmt = get_format(dtype)
    return (fmt.ln_min_subnormal + fmt.emin * math.log(2.0)) / 2


def test_flush_region_at_t_one_and_zero() -> None:
    """t = 1 is the first horizon in the region (F' = -lam^2 c^2 (1 - eta lam)); t = 0 never."""
    c = _c_for(_mid("float32"), 1, 1.0, 0.5)
    q = Quadratic([[1.0]], [c])
    assert kf._flushed_subnormal_truth(q, 0.5, 1, "float32") is True
    assert kf._flushed_subnormal_truth(q, 0.5, 0, "float32") is False


def test_flush_region_skips_modes_that_do_not_contribute() -> None:
    """A mode with r = 1 - eta lam = 0 or c = 0 adds nothing to F' (and has no logarithm);
    the others decide. All modes silent: F' = 0 exactly, not claimed."""
    t = 70
    c = _c_for(_mid("float32"), t, 1.0, 0.5)
    q = Quadratic([[1.0, 0.0], [0.0, 2.0]], [c, 0.5])  # eta = 1/2: the second mode has r = 0
    assert kf._flushed_subnormal_truth(q, 0.5, t, "float32") is True
    q0 = Quadratic([[1.0, 0.0], [0.0, 3.0]], [c, 0.0])  # second mode c = 0, r = -1/2
    assert kf._flushed_subnormal_truth(q0, 0.5, t, "float32") is True
    null = Quadratic([[0.0, 0.0], [0.0, 1.0]], [0.5, c])  # lambda = 0: no term (no log 0)
    assert kf._flushed_subnormal_truth(null, 0.5, t, "float32") is True
    silent = Quadratic([[2.0]], [1.0])  # r = 0: F' = 0
    assert kf._flushed_subnormal_truth(silent, 0.5, t, "float32") is False
    with_b = Quadratic([[1.0]], [c], b=[1e-30])
    assert kf._flushed_subnormal_truth(with_b, 0.5, t, "float32") is False


@pytest.mark.parametrize(("sign", "inside"), [(-1, True), (1, False)])
def test_flush_region_counts_the_cancellation(sign: int, inside: bool) -> None:
    """|F'| = major - minor: a major term 0.05 nats above the upper edge, cancelled by a minor
    term ln 8 + 1e-3 below it, lands 0.13 - 0.05 nats inside (ln(1 - e^-(ln 8 + 1e-3)) =
    -0.1336); shifting the pair by 0.1 nats up puts it outside. Without the correction both
    would be outside."""
    t, dtype = 70, "float32"
    fmt = get_format(dtype)
    hi = fmt.emin * math.log(2.0) - math.log(kf.FLUSH_MARGIN)
    major = hi + 0.05 + (0.1 if sign > 0 else 0.0)
    minor = major - math.log(kf.FLUSH_MARGIN) - 1e-3
    correction = math.log1p(-math.exp(minor - major))
    assert (major + correction <= hi) is inside
    c1 = _c_for(major, t, 1.0, 0.5)
    c2 = _c_for(minor, t, 3.0, -0.5)
    q = Quadratic([[1.0, 0.0], [0.0, 3.0]], [c1, c2])
    assert kf._flushed_subnormal_truth(q, 0.5, t, dtype) is inside


def test_flush_region_positive_truth_side() -> None:
    """Only r < 0 terms (eta lam > 1, odd power): F' > 0, judged by its magnitude alike."""
    t = 70
    c = _c_for(_mid("float32"), t, 3.0, -0.5)
    q = Quadratic([[3.0]], [c])
    assert kf._flushed_subnormal_truth(q, 0.5, t, "float32") is True


# --------------------------------------------------------------------------- lookup
def test_lookup_order_and_variants() -> None:
    """The first registered region wins; the variant reaches the paper region; None outside."""
    assert kf.lookup("paper", "float32", "log", UNSORTED, 0.3, 10).name == "paper-unsorted-eig"  # type: ignore[union-attr]
    assert kf.lookup("paper", "float32", "log", UNSORTED, 0.3, 10, variant="published") is not None
    assert kf.lookup("paper", "float32", "log", UNSORTED, 0.3, 10, variant="sorted") is None
    assert kf.lookup("paper", "float32", "naive", UNSORTED, 0.3, 10) is None
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    ls = LeastSquares(X, np.array([1.0, 2.0, 0.5]))
    eta = 1 / ls.L
    assert kf.lookup("numpy", "float32", "naive", ls, eta, 400).name == (  # type: ignore[union-attr]
        "backprop-affine-rounding-floor"
    )
    assert kf.lookup("stable", "float32", "naive", ls, eta, 400) is None


def test_lookup_returns_the_first_covering_region(monkeypatch: pytest.MonkeyPatch) -> None:
    first, rec1 = _region()
    second, rec2 = _region()
    monkeypatch.setattr(kf, "REGISTRY", (first, second))
    assert kf.lookup("numpy", "float32", "log", UNSORTED, 0.25, 7) is first
    assert len(rec1.calls) == 1 and not rec2.calls  # the search stops at the first
    monkeypatch.setattr(kf, "REGISTRY", (_region(("sorted",))[0], second))
    assert kf.lookup("numpy", "float32", "log", UNSORTED, 0.25, 7) is second
    assert kf.lookup("numpy", "float32", "log", UNSORTED, 0.25, 7, variant="sorted") is not second


def test_exact_inputs_stay_exact() -> None:
    """The predicates take eta as the caller's float; Fraction step sizes also work."""
    assert kf._published_scale_mismatch(UNSORTED, Fraction(3, 10), 1, "float64") is True  # type: ignore[arg-type]
