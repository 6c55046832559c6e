"""Verdict rules of the paper claims (issue 16): each can fail, and its inputs are sound.

For every rule that changed, a deliberately broken claim flips the verdict:

* Figure 1: "within 300 meta-steps" read at 1%, 5%, 10%; a claim of 30 steps differs, one of
  5000 matches; the float64 batch (gradient, eta*, trajectory) agrees with certified numbers;
* Theorem 3's explosion side: decided at every grid point from the eigenbasis difference;
  the bound with +L^2 t instead of -L^2 t is proven violated (and ``l2l-verify theorems``
  exits 1);
* Theorem 5: c = 5 instead of 0.5 differs; the Theta(1/t) rule flips with the spread;
* Theorem 6: eps below the ERM's own excess differs;
* Figure 4: "the gap shrinks" differs on a significant rise.

Sizes are the report's quick sizes (seconds); the report's default sizes are exercised by
``l2l-verify theorems`` (README).
"""

from __future__ import annotations

import functools
import itertools
import json
import math
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from verify import truth
from verify.claims import Interval
from verify.paper import checks as paper_claims
from verify.paper import metaopt, theory
from verify.paper.trainval import ExperimentResult, run_experiment
from verify.problems import Quadratic
from verify.report import sections

U = 2.0**-53
SEED = 0


# ------------------------------------------------------------------------------ Figure 1
@functools.cache
def fig1(instances: int = 40, steps: int = 2000) -> dict[str, Any]:
    return paper_claims.figure1_distribution(20, SEED, instances, steps)


def test_figure1_distribution_records_instances_and_quantiles() -> None:
    f = fig1()
    assert f["instances"] == 40 and f["seeds"] == [0, 39]
    assert set(f["settle_steps"]) == {"0.01", "0.05", "0.1"}
    for s in f["settle_steps"].values():
        assert set(s["quantiles"]) == {"0.1", "0.25", "0.5", "0.75", "0.9"}
        assert 0 <= s["within_300"]["low"] <= s["within_300"]["high"] <= 1
    # looser tolerances settle no later, instance by instance
    per = {k: np.array(v, dtype=float) for k, v in f["per_instance"].items()}
    assert (per["0.1"] <= per["0.05"]).all() and (per["0.05"] <= per["0.01"]).all()
    names = [c["claim"] for c in f["claims"]]
    assert any("mu_k = 1/sqrt(k)" in n for n in names)  # Theorem 4's own schedule
    assert any("much larger eta0" in n for n in names)
    for c in f["claims"]:
        assert c["instances"] == 40 and c["interval"] is not None


@pytest.mark.parametrize(("budget", "verdict"), [(30, "differs"), (2000, "matches")])
def test_figure1_rule_flips_with_a_broken_claim(budget: int, verdict: str) -> None:
    per = {float(k): np.array(v, dtype=float) for k, v in fig1()["per_instance"].items()}
    readings = paper_claims._median_readings("broken", per, budget, 0.99)
    assert {v for _, _, v in readings} == {verdict}


def test_figure1_paper_start_eta0_0_1_settles_with_certified_gradients() -> None:
    # the paper's own start (absolute eta0 = 0.1), certified gradients, two instances
    for seed, expected in ((0, 542), (1, 101)):
        q = Quadratic.random(20, seed=seed)
        star = float(metaopt.optimal_step_size(q, 80).mid)
        run = metaopt.meta_gradient_descent(q, 80, eta0=0.1, steps=1000)
        assert run.steps_to_settle(star, 1e-2) == expected


# The float64 normalized gradient (notes §4.6): each r_i carries ~2t u relative error from the
# power, and eigh's eigenvalues carry d u L absolute error, i.e. d u L/alpha relative for the
# smallest mode; STABLE_REL = 8 (2t + d L/alpha) u bounds both with a factor 8 of room.
def _stable_rel(q: Quadratic, t: int) -> float:
    return 8 * (2 * t + q.d * q.L / q.alpha) * U


def test_batch_gradient_and_eta_star_agree_with_certified_values() -> None:
    probs = [Quadratic.random(20, seed=s) for s in range(6)]
    batch = metaopt.SpectralBatch.from_problems(probs)  # type: ignore[arg-type]
    for t in (80, 320):
        stars = metaopt.batch_optimal_step_size(batch, t)
        for q, star in zip(probs, stars, strict=True):
            enc = metaopt.optimal_step_size(q, t)
            assert abs(star - float(enc.mid)) <= _stable_rel(q, t) * 1e3 * float(enc.mid)
        for f in (0.0, 0.5, 0.95, 1.2, 3.0):
            etas = np.array([f * 2 / q.L for q in probs])
            got = metaopt.stable_log_gradient(batch, etas, t)
            for q, eta, g in zip(probs, etas, got, strict=True):
                exact = truth.meta_gradient(q, float(eta), t, objective="log")
                assert abs(g - float(exact.mid)) <= _stable_rel(q, t) * abs(float(exact.mid))


def test_batch_trajectory_follows_the_certified_one_before_chaos() -> None:
    probs = [Quadratic.random(20, seed=s) for s in range(3)]
    batch = metaopt.SpectralBatch.from_problems(probs)  # type: ignore[arg-type]
    etas = metaopt.batch_meta_gradient_descent(batch, 80, eta0=0.1, steps=40)
    for q, row in zip(probs, etas, strict=True):
        ref = metaopt.meta_gradient_descent(q, 80, eta0=0.1, steps=40).etas
        # an error of STABLE_REL per step, amplified by at most mu_k |F''| ~ 1 per step
        assert np.allclose(row, ref, rtol=40 * _stable_rel(q, 80), atol=0)


# ------------------------------------------------------------------------------ Theorem 3
FRACS = (1.02, 1.05, 1.1, 1.25, 1.5)
HORIZONS = (1, 2, 5, 10, 100, 1000, 10_000, 100_000)


def test_explosion_side_is_decided_at_every_point() -> None:
    q = Quadratic.random(20, seed=SEED)
    for f, t in itertools.product(FRACS, HORIZONS):
        eta = f * 2 / q.L
        assert theory.theorem3_explosion_difference(q, eta, t).sign() == 1, (f, t)


@pytest.mark.parametrize(("f", "t"), [(1.02, 200), (1.1, 10), (1.5, 5), (1.25, 50)])
def test_explosion_difference_is_f_prime_minus_bound(f: float, t: int) -> None:
    # independent cross-check: bound + D (eigenbasis) encloses the certified F' (engine)
    q = Quadratic.random(20, seed=SEED)
    eta = f * 2 / q.L
    g = truth.meta_gradient(q, eta, t, objective="naive")
    lb = theory.theorem3_lower_bound(q, eta, t)
    dd = theory.theorem3_explosion_difference(q, eta, t)
    assert lb.lower + dd.lower <= g.upper and g.lower <= lb.upper + dd.upper


_DIFFERENCE = theory.theorem3_explosion_difference


def _broken_difference(q: Quadratic, eta: float, t: int) -> truth.Enclosure:
    """D for the broken bound c_1^2 L^2 t (eta L - 1)^(2t-1) + L^2 t ||w0||^2."""
    dd = _DIFFERENCE(q, eta, t)
    shift = 2 * Fraction(q.L) ** 2 * t * sum(Fraction(float(v)) ** 2 for v in q.w0)
    return truth.Enclosure(dd.lower - shift, dd.upper - shift)


def test_broken_explosion_bound_is_proven_violated(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    q = Quadratic.random(20, seed=SEED)
    assert any(_broken_difference(q, f * 2 / q.L, t).upper < 0 for f in FRACS for t in (1, 10, 100))
    monkeypatch.setattr(theory, "theorem3_explosion_difference", _broken_difference)
    from verify.cli import main

    assert main(["theorems", "--quick", "--json"]) == 1
    rows = json.loads(capsys.readouterr().out)
    row = next(r for r in rows if r["claim"] == "Theorem 3 (explosion side)")
    assert row["verdict"] == "differs" and row["proven_violation"]
    assert row["counts"]["violated"] > 0


# ------------------------------------------------------------------------------ least squares
@functools.cache
def ls(d: int, n: int, sigma: float, t: int = 40) -> ExperimentResult:
    return run_experiment(sections.ls_config(d, n, sigma, 30, 30, SEED, t))


def _t5(monkeypatch: pytest.MonkeyPatch | None = None) -> dict[str, str]:
    res = [ls(100, 50, s) for s in (1.0, 2.0)]
    rows = [paper_claims.ls_record(r, seed=SEED) for r in res]
    scaling = paper_claims.valid_step_scaling(100, 50, 30, SEED)
    claims = paper_claims.theorem5_claims(rows, res, scaling, seed=SEED)
    return {c.claim: c.verdict for c in claims}


def test_theorem5_omega_rule_flips_with_a_broken_constant(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = "Theorem 5: TbT error = Omega(sigma^2)"
    assert _t5()[key] == "matches"
    monkeypatch.setattr(paper_claims, "THEOREM5_C", 5.0)  # TbT error is ~1.2 sigma^2
    assert _t5()[key] == "differs"


@pytest.mark.parametrize(
    ("low", "high", "verdict"),
    [(1.0, 1.3, "matches"), (1.0, 6.0, "inconclusive"), (12.0, 20.0, "differs")],
)
def test_theta_rule(low: float, high: float, verdict: str) -> None:
    # eta_valid constant in t would give t eta_valid a spread of 16 over t in [10, 160]
    assert paper_claims.theta_verdict(Interval(low, low, high, 0.99, "x")) == verdict


def test_theorem6_rule_flips_when_eps_is_below_the_erm_excess(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ns = (100, 200, 400, 800)  # n/d = 2, 4, 8, 16 at d = 50
    res = [ls(50, n, 1.0) for n in ns]
    rows = [paper_claims.ls_record(r, seed=SEED) for r in res]
    c = paper_claims.theorem6_claim(rows, res, seed=SEED)
    assert c.verdict in ("matches", "inconclusive")
    assert any("outside the theorem's range" in r for r, _, _ in c.readings)  # n = 2d
    # eps smaller than what the exact ERM itself needs: TbT (which reaches the ERM) differs
    monkeypatch.setattr(paper_claims, "THEOREM6_SLACK", -0.9 * (51 / (800 - 51)))
    monkeypatch.setattr(paper_claims, "theorem6_eps", lambda d, n: 0.0)
    assert paper_claims.theorem6_claim(rows, res, seed=SEED).verdict == "differs"


def _iv(lo: float, hi: float) -> Interval:
    return Interval((lo + hi) / 2, lo, hi, 0.99, "x")


def test_shrink_rule() -> None:
    drop = _iv(0.1, 0.3)
    assert paper_claims.shrink_verdict([drop, _iv(0.0, 0.1)], drop) == "matches"
    assert paper_claims.shrink_verdict([drop, _iv(-0.2, -0.05)], drop) == "differs"
    assert paper_claims.shrink_verdict([_iv(-0.1, 0.2)], _iv(-0.1, 0.2)) == "inconclusive"
    assert paper_claims.shrink_verdict([], None) == "inconclusive"


def test_figure4_judges_n_at_least_2d_and_reports_the_peak_separately() -> None:
    ns = (25, 50, 100, 200, 400)
    res = [ls(50, n, 1.0) for n in ns]
    rows = [paper_claims.ls_record(r, seed=SEED) for r in res]
    peak = paper_claims.interpolation_peak(50, 20, 20, SEED)
    claims = paper_claims.figure4_claims(rows, res, peak, seed=SEED)
    shrink = next(c for c in claims if c.source == "paper")
    assert all("n = 25" not in r and "n = 50)" not in r for r, _, _ in shrink.readings)
    finding = next(c for c in claims if c.source == "finding")
    assert "not in the paper" in finding.statement and finding.can_fail
    assert paper_claims.figure_verdict([c.to_json() for c in claims]) == shrink.verdict


def test_ls_record_intervals_are_bootstrap_and_nonnegative() -> None:
    rec = paper_claims.ls_record(ls(50, 25, 1.0), seed=SEED)
    for key in ("tbt_error", "tbv_error", "tbt_train_rmse", "tbv_test_rmse"):
        assert rec[key]["low"] >= 0 and rec[key]["nonnegative"] and "BCa" in rec[key]["method"]
        assert rec[key]["count"] == 30
    assert math.isfinite(rec["test_rmse_gap"]["low"])
