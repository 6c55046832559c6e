"""The paper's experimental claims as :class:`~verify.claims.Claim` records (issue 16).

Every verdict on the paper's Figures 1, 3, 4 and Theorems 5, 6 is built here from
distributions over instances or tasks, with the paper's setting and ours side by side:

* Figure 1 / Theorem 4 (meta-GD on the step size): :func:`figure1_distribution` runs the
  paper's experiment on ``instances`` random quadratics (float64 normalized closed-form
  gradients and eta* per instance) at the paper's start, at larger t and larger eta0,
  and with Theorem 4's own schedule mu_k = 1/sqrt(k); the settle steps are summarized by
  quantiles with order-statistic intervals and by exact binomial proportions.
* Figure 3 / Theorem 5 (few samples): :func:`ls_record`, :func:`figure3_claims`,
  :func:`theorem5_claims` (including eta_valid = Theta(1/t) from :func:`valid_step_scaling`).
* Figure 4 / Theorem 6 (many samples): :func:`figure4_claims`, :func:`theorem6_claim` and the
  n <= d interpolation peak (:func:`interpolation_peak`, a finding beyond the paper).

Every interval is from :mod:`verify.claims` (scipy.stats; no normal approximation); every
threshold is a named constant fixed before measuring, with its derivation.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..claims import (
    CONFIDENCE,
    Claim,
    Interval,
    Verdict,
    aggregate,
    conjunction,
    decide,
    difference_interval,
    mean_interval,
    proportion_interval,
    quantile_interval,
)
from ..floats import json_float
from ..problems import Quadratic
from . import metaopt
from .trainval import (
    DEFAULT_GRID,
    ExperimentResult,
    LeastSquaresConfig,
    erm_expected_error,
    fastest_contraction_step,
    grid_search,
    interpolant_expected_error,
    run_experiment,
    sample_task_pair,
)

__all__ = [
    "FIG1_ETA0",
    "FIG1_STEPS_CLAIM",
    "FIG1_T",
    "FIG1_TOLERANCES",
    "THEOREM5_C",
    "THEOREM6_SLACK",
    "figure1_distribution",
    "figure3_claims",
    "figure4_claims",
    "figure_verdict",
    "interpolation_peak",
    "ls_record",
    "shrink_verdict",
    "theorem5_claims",
    "theorem6_claim",
    "theorem6_eps",
    "theta_verdict",
    "valid_step_scaling",
]

# ------------------------------------------------------------------------------ Figure 1
#: The paper's Figure 1: t = 80, eta0 = 0.1, mu_k = 1/(100 sqrt k), "converges within 300".
FIG1_T = 80
FIG1_ETA0 = 0.1
FIG1_STEPS_CLAIM = 300
#: The paper states no tolerance for "converged": three readings, relative to eta*.
FIG1_TOLERANCES: tuple[float, ...] = (0.01, 0.05, 0.10)
#: Quantile levels of the settle-step distribution reported in data.json.
FIG1_QUANTILES: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75, 0.9)
#: Readings of "similar convergence also holds for larger t or much larger eta0" (the paper
#: gives neither value): t = 320 (4x) at eta0 = 0.1; eta0 = 1 and 10 (10x, 100x) at t = 80.
FIG1_LARGER_T = 320
FIG1_LARGER_ETA0: tuple[float, ...] = (1.0, 10.0)

_PAPER_FIG1 = (
    "one fixed 20-dimensional quadratic (H = X^T X, X 20 x 20 Gaussian; no seed), t = 80, "
    "eta0 = 0.1, mu_k = 1/(100 sqrt k), meta-gradient from the closed form (Appendix A); one run"
)
_FIG1_UNIT = "instances"


def _tol(rel: float) -> str:
    return f"{100 * rel:g}%"


def _settle_summary(steps: np.ndarray[Any, Any], confidence: float) -> dict[str, Any]:
    """Quantiles (with the median's interval) and the fraction within the paper's 300 steps."""
    n = int(steps.size)
    within = int((steps <= FIG1_STEPS_CLAIM).sum())
    settled = int(np.isfinite(steps).sum())
    return {
        "quantiles": {
            f"{q:g}": json_float(float(np.quantile(steps, q, method="inverted_cdf")))
            for q in FIG1_QUANTILES
        },
        "median": quantile_interval(steps, 0.5, confidence=confidence).to_json(),
        f"within_{FIG1_STEPS_CLAIM}": {
            "count": within,
            "of": n,
            **proportion_interval(within, n, confidence=confidence).to_json(),
        },
        "settled_in_run": {"count": settled, "of": n},
    }


def _median_readings(
    label: str,
    runs: dict[float, np.ndarray[Any, Any]],
    budget: int,
    confidence: float,
    *,
    can_fail: bool = True,
) -> list[tuple[str, Interval, str]]:
    """One reading per tolerance: the median settle step against ``budget``."""
    out: list[tuple[str, Interval, str]] = []
    for rel, steps in runs.items():
        iv = quantile_interval(steps, 0.5, confidence=confidence)
        v = decide(iv, at_most=budget, can_fail=can_fail)
        out.append((f"{label}, median settle step within {_tol(rel)}", iv, v))
    return out


def figure1_distribution(
    d: int,
    seed: int,
    instances: int,
    steps: int,
    *,
    confidence: float = CONFIDENCE,
) -> dict[str, Any]:
    """Figure 1 and Theorem 4's meta-GD over ``instances`` random quadratics.

    Instances are ``Quadratic.random(d, seed=seed + k)``, k = 0..instances-1 (the report's
    problem is k = 0). Each run is ``steps`` meta-steps of eta_{k+1} = max(0, eta_k - mu_k
    F'_log(eta_k)); a run *settles* at the first k after which eta stays within a relative
    tolerance of the instance's certified eta*(t); a run that is not within the tolerance at
    its last step counts as never settled (infinite). The report's own instance (k = 0) is also
    run with certified gradients and a certified eta* by :func:`verify.report.sections.figure1`.

    Returns
    -------
    dict
        ``instances``, ``seeds``, ``settle_steps`` (tolerance -> quantiles, the median's
        interval, the fraction within 300 steps), ``runs`` (the other starts and schedules),
        ``per_instance`` (settle steps of every instance and tolerance), and ``claims`` (JSON
        of the :class:`~verify.claims.Claim` records).

    Accuracy
    --------
    eta*(t) per instance by float64 bisection (:func:`verify.paper.metaopt.batch_optimal_step_size`,
    within ~1e-10 relative of the certified value, tested). The gradients are float64
    (:func:`verify.paper.metaopt.stable_log_gradient`), not certified: the trajectories can differ
    from certified-gradient runs by a few meta-steps where eta bounces off 0 (seed 0: 545 vs
    542 steps to settle within 1%), far below the spread of the distribution. The statistics
    are Monte Carlo statistics over instances.
    """
    runs = _figure1_runs(d, seed, instances, steps, confidence)
    claims = [
        _figure1_within_claim(runs),
        _figure1_larger_t_claim(runs),
        _figure1_larger_eta0_claim(runs),
        _theorem4_claim(runs),
    ]
    return _figure1_json(runs, claims)


@dataclass(frozen=True)
class _Figure1Runs:
    """Settle steps of every Figure 1 run (tolerance -> steps per instance) and our setting."""

    instances: int
    seed: int
    steps: int
    confidence: float
    main: dict[float, np.ndarray[Any, Any]]
    larger_t: dict[float, np.ndarray[Any, Any]]
    larger_eta: dict[float, dict[float, np.ndarray[Any, Any]]]
    theorem: dict[float, np.ndarray[Any, Any]]
    ours: str
    deviations: tuple[str, ...]


def _figure1_runs(d: int, seed: int, instances: int, steps: int, confidence: float) -> _Figure1Runs:
    """Run meta-GD on every instance: the paper's start, larger t, larger eta0, Theorem 4."""
    problems = [Quadratic.random(d, seed=seed + k) for k in range(instances)]
    batch = metaopt.SpectralBatch.from_problems(problems)  # type: ignore[arg-type]
    stars = {t: metaopt.batch_optimal_step_size(batch, t) for t in (FIG1_T, FIG1_LARGER_T)}

    def settle(t: int, eta0: float, schedule: str) -> dict[float, np.ndarray[Any, Any]]:
        etas = metaopt.batch_meta_gradient_descent(
            batch,
            t,
            eta0=eta0,
            steps=steps,
            schedule=schedule,  # type: ignore[arg-type]
        )
        return {rel: metaopt.settle_steps(etas, stars[t], rel) for rel in FIG1_TOLERANCES}

    main = settle(FIG1_T, FIG1_ETA0, "experiment")
    larger_t = settle(FIG1_LARGER_T, FIG1_ETA0, "experiment")
    larger_eta = {e0: settle(FIG1_T, e0, "experiment") for e0 in FIG1_LARGER_ETA0}
    theorem = settle(FIG1_T, FIG1_ETA0, "theorem")
    ours = (
        f"{instances} instances Quadratic.random({d}, seed={seed}..{seed + instances - 1}) "
        f"(H = X^T X, X {d} x {d} Gaussian, unit w0), {steps} meta-steps per run, float64 "
        "normalized closed-form gradients and eta* (within 1e-10 of the certified values)"
    )
    devs_common = (
        "a distribution over instances instead of one instance (the paper's instance is unknown)",
        "'converged' is not defined in the paper: read at tolerances "
        + ", ".join(_tol(r) for r in FIG1_TOLERANCES)
        + " of eta*",
    )
    return _Figure1Runs(
        instances, seed, steps, confidence, main, larger_t, larger_eta, theorem, ours, devs_common
    )


def _figure1_within_claim(runs: _Figure1Runs) -> Claim:
    """Claim A: a typical run converges within 300 meta-steps (t = 80, eta0 = 0.1)."""
    instances, confidence, main = runs.instances, runs.confidence, runs.main
    ra = _median_readings("t = 80, eta0 = 0.1", main, FIG1_STEPS_CLAIM, confidence)
    info = [
        (
            f"fraction settled within {FIG1_STEPS_CLAIM} steps at {_tol(rel)}",
            proportion_interval(
                int((s <= FIG1_STEPS_CLAIM).sum()), instances, confidence=confidence
            ),
            "-",
        )
        for rel, s in main.items()
    ]
    va = aggregate([v for _, _, v in ra])
    med = {rel: iv for (_, iv, _), rel in zip(ra, FIG1_TOLERANCES, strict=True)}
    return Claim(
        claim="Figure 1: eta converges within 300 meta-steps",
        statement="eta converges quickly, within 300 meta-steps (t = 80, eta0 = 0.1)",
        source="paper",
        paper_setting=_PAPER_FIG1,
        our_setting=runs.ours,
        deviations=runs.deviations,
        instances=instances,
        unit=_FIG1_UNIT,
        statistic=(
            "median number of meta-steps until eta stays within the tolerance of eta* "
            "(order-statistic interval; never settled = infinite); a typical run converges "
            "within 300 steps when the interval is <= 300 (matches), does not when it is > 300 "
            "(differs); the verdict is matches/differs only if all tolerance readings agree"
        ),
        interval=med[0.05],
        verdict=va,
        evidence="statistic",
        can_fail=True,
        margin=", ".join(f"{_tol(rel)}: {iv}" for rel, iv in med.items()) + " vs 300",
        note="instance-dependent: "
        + ", ".join(
            f"{_tol(rel)}: {int((s <= FIG1_STEPS_CLAIM).sum())}/{instances} within 300"
            for rel, s in main.items()
        )
        + (
            "; the verdict depends on the tolerance the paper does not state"
            if va == "inconclusive"
            else ""
        ),
        readings=tuple(ra + info),
    )


def _figure1_larger_t_claim(runs: _Figure1Runs) -> Claim:
    """Claim B: similar convergence for larger t (read as t = 320)."""
    rb = _median_readings(
        f"t = {FIG1_LARGER_T}, eta0 = 0.1", runs.larger_t, FIG1_STEPS_CLAIM, runs.confidence
    )
    return Claim(
        claim="Figure 1: similar convergence for larger t",
        statement="similar convergence also holds for larger t",
        source="paper",
        paper_setting=_PAPER_FIG1 + "; the larger t is not stated",
        our_setting=runs.ours + f"; t = {FIG1_LARGER_T}",
        deviations=(*runs.deviations, f"larger t read as t = {FIG1_LARGER_T} (4x)"),
        instances=runs.instances,
        unit=_FIG1_UNIT,
        statistic="as for Figure 1 (median settle step <= 300 at every tolerance)",
        interval=rb[1][1],
        verdict=aggregate([v for _, _, v in rb]),
        evidence="statistic",
        can_fail=True,
        margin=", ".join(f"{r.split(', ')[-1]}: {iv}" for r, iv, _ in rb),
        note="",
        readings=tuple(rb),
    )


def _figure1_larger_eta0_claim(runs: _Figure1Runs) -> Claim:
    """Claim C: similar convergence for much larger eta0 (read as 10x and 100x)."""
    instances = runs.instances
    rc: list[tuple[str, Interval, str]] = []
    for e0, settled in runs.larger_eta.items():
        rc += _median_readings(f"t = 80, eta0 = {e0:g}", settled, FIG1_STEPS_CLAIM, runs.confidence)
    frac10 = {e0: int(np.isfinite(r[0.10]).sum()) for e0, r in runs.larger_eta.items()}
    return Claim(
        claim="Figure 1: similar convergence for much larger eta0",
        statement="similar convergence also holds for much larger eta0",
        source="paper",
        paper_setting=_PAPER_FIG1 + "; the larger eta0 is not stated",
        our_setting=runs.ours + "; eta0 in {" + ", ".join(f"{e:g}" for e in FIG1_LARGER_ETA0) + "}",
        deviations=(
            *runs.deviations,
            "much larger eta0 read as "
            + " and ".join(f"{e:g} ({e / FIG1_ETA0:g}x)" for e in FIG1_LARGER_ETA0),
        ),
        instances=instances,
        unit=_FIG1_UNIT,
        statistic="as for Figure 1, for each eta0; matches/differs only if every eta0 agrees",
        interval=rc[-2][1],
        verdict=aggregate([v for _, _, v in rc]),
        evidence="statistic",
        can_fail=True,
        margin="; ".join(f"{r}: {iv} ({v})" for r, iv, v in rc if "10%" in r),
        note="settled within 10% at all within the run: "
        + ", ".join(f"eta0 = {e:g}: {k}/{instances}" for e, k in frac10.items())
        + " (far from eta*, F'_log ~ 2/eta is tiny and eta drifts slowly)",
        readings=tuple(rc),
    )


def _theorem4_claim(runs: _Figure1Runs) -> Claim:
    """Claim D: Theorem 4's own schedule (asymptotic: cannot fail at finite K)."""
    instances = runs.instances
    th = runs.theorem[0.10]
    settled_th = int(np.isfinite(th).sum())
    iv_th = proportion_interval(settled_th, instances, confidence=runs.confidence)
    return Claim(
        claim="Theorem 4: meta-GD with mu_k = 1/sqrt(k) converges to eta*",
        statement="GD on the log objective with mu_k = 1/sqrt(k) (reset at 0), eta0 <= M: "
        "|eta_k - eta*| <= eps for all k >= k' = M^6/eps^2 poly(1/c_min, L, 1/alpha, 1/(L-alpha))",
        source="paper",
        paper_setting="any instance; k' is a polynomial with unstated degree and constants",
        our_setting=runs.ours + ", the theorem's schedule mu_k = 1/sqrt(k), eta0 = 0.1, t = 80",
        deviations=(f"a finite run of {runs.steps} meta-steps; the theorem bounds no finite k",),
        instances=instances,
        unit=_FIG1_UNIT,
        statistic="fraction of runs settled within 10% of eta* within the run (exact binomial)",
        interval=iv_th,
        verdict="matches" if iv_th.low > 0.5 else "inconclusive",
        evidence="statistic",
        can_fail=False,
        margin=f"{settled_th}/{instances} settled",
        note="asymptotic: k' is not computable (unstated polynomial), so a finite run cannot "
        "contradict it; with the unscaled schedule eta bounces between 0 and large values "
        "(the paper's experiment divides mu_k by 100)",
        readings=tuple(
            _median_readings(
                "mu_k = 1/sqrt(k)", runs.theorem, runs.steps, runs.confidence, can_fail=False
            )
        ),
    )


def _figure1_json(runs: _Figure1Runs, claims: Sequence[Claim]) -> dict[str, Any]:
    """The data.json block of :func:`figure1_distribution`."""
    confidence, seed = runs.confidence, runs.seed

    def runs_json(r: dict[float, np.ndarray[Any, Any]]) -> dict[str, Any]:
        return {f"{rel:g}": _settle_summary(s, confidence) for rel, s in r.items()}

    return {
        "instances": runs.instances,
        "seeds": [seed, seed + runs.instances - 1],
        "settle_steps": runs_json(runs.main),
        "runs": {
            f"t={FIG1_LARGER_T} eta0={FIG1_ETA0:g}": runs_json(runs.larger_t),
            **{f"t={FIG1_T} eta0={e0:g}": runs_json(r) for e0, r in runs.larger_eta.items()},
            f"t={FIG1_T} eta0={FIG1_ETA0:g} mu_k=1/sqrt(k)": runs_json(runs.theorem),
        },
        "per_instance": {
            f"{rel:g}": [json_float(float(x)) for x in s] for rel, s in runs.main.items()
        },
        "claims": [c.to_json() for c in claims],
    }


def figure_verdict(claims: Sequence[dict[str, Any]]) -> str:
    """A figure's verdict from its paper claims that can fail: every one must match.

    ``differs`` when one of them differs, ``matches`` when all match, else ``inconclusive``.
    Findings beyond the paper and consistency checks do not count, unless the figure has only
    consistency checks (Figure 2): then their verdict, which the pages label as such.
    """
    paper = [c for c in claims if c["source"] == "paper"]
    tests = [c["verdict"] for c in paper if c["can_fail"]]
    if tests:
        return conjunction(tests)
    return conjunction([c["verdict"] for c in paper]) if paper else "inconclusive"


# ------------------------------------------------------------------------------ least squares
#: The paper's Figure 3 / Theorem 5 setting (ICLR text and the authors' code, notes §5.2).
PAPER_LS = {"d": 1000, "n": 500, "t": 40, "tasks": 300, "test_tasks": 10}
_PAPER_LS_TEXT = (
    "d = 1000, n = 500 (TbV 250 + 250), t = 40, grid logspace(-6, 0, 25), 300 meta-training "
    "tasks (code default), 10 test tasks, mean and range over the 10 tests"
)
#: Theorem 5's Omega(sigma^2): TbT error >= THEOREM5_C sigma^2, fixed before measuring. As
#: t -> infinity TbT tends to the min-norm interpolant, whose noise part alone is
#: sigma^2 n/(d - n - 1) ~ 1.01 sigma^2 at n = d/2 (interpolant_expected_error); at t = 40
#: the slowest modes (edge (1 - sqrt(n/d))^2 ~ 0.09 at d/n = 2) have fitted most but not all of
#: it, so we claim half.
THEOREM5_C = 0.5
#: Theta(1/t) vs Theta(1): over a 16-fold range of t, t eta_valid is constant within a factor
#: THETA_MATCH (matches) or varies by at least THETA_DIFFER = sqrt(16), the geometric midpoint
#: between the two predictions (1 and 16): closer to eta_valid = const (differs).
THETA_MATCH = 2.0
THETA_DIFFER = 4.0
#: A finer grid (ratio 10^(1/10)) for eta_valid's scaling in t (the authors' 10^(1/4) is too
#: coarse for a factor-2 test; the notes' own check used logspace(-4, 0, 41)), reaching down to
#: 1e-5 so that eta_valid ~ 0.03/t at t = 160 is not at the grid's edge.
SCALING_GRID: tuple[float, ...] = tuple(float(v) for v in np.logspace(-5, 0, 51))
SCALING_HORIZONS: tuple[int, ...] = (10, 20, 40, 80, 160)
SCALING_SIGMA = 2.0
#: Theorem 6's eps at each n, fixed before measuring: the exact excess of the ERM itself,
#: d sigma^2/(n - d - 1) = (1 + (d + 1)/(n - d - 1)) d sigma^2/n, plus THEOREM6_SLACK (the
#: notes' "eps ~ 0.1", claim 14). Theorem 6 needs eps < 1: sizes where this eps >= 1 (n = 2d)
#: are outside its range and shown, not judged.
THEOREM6_SLACK = 0.1
#: Horizons of the interpolation-peak finding at n = d (its growth with t).
PEAK_HORIZONS: tuple[int, ...] = (20, 40, 80)


def theorem6_eps(d: int, n: int) -> float:
    """eps(n) = (d + 1)/(n - d - 1) + THEOREM6_SLACK (see :data:`THEOREM6_SLACK`)."""
    return (d + 1) / (n - d - 1) + THEOREM6_SLACK


def _samples(r: ExperimentResult) -> dict[str, np.ndarray[Any, Any]]:
    return {
        "tbt_error": r.tbt_test.errors,
        "tbv_error": r.tbv_test.errors,
        "tbt_train_rmse": r.tbt_test.train_rmse,
        "tbv_train_rmse": r.tbv_test.train_rmse,
        "tbt_test_rmse": r.tbt_test.test_rmse,
        "tbv_test_rmse": r.tbv_test.test_rmse,
    }


def _iv_json(iv: Interval) -> dict[str, Any]:
    """The record's interval shape: mean/low/high (rounded) plus count, confidence, method."""
    return {
        "mean": round(iv.estimate, 6),
        "low": round(iv.low, 6),
        "high": round(iv.high, 6),
        "confidence": iv.confidence,
        "method": iv.method,
        "nonnegative": iv.nonnegative,
    }


def ls_record(r: ExperimentResult, *, seed: int, confidence: float = CONFIDENCE) -> dict[str, Any]:
    """One least-squares experiment for data.json: settings and bootstrap intervals.

    Non-negative quantities (errors, RMSEs) get BCa bootstrap intervals of the mean (never below
    zero); the TbT - TbV gaps are paired bootstrap differences over the common test tasks.
    Each interval records its count (test tasks) and method.
    """
    c = r.config
    s = _samples(r)
    k = c.num_test_tasks
    out: dict[str, Any] = {
        "d": c.d,
        "n": c.n,
        "n1": c.n1,
        "n2": c.n2,
        "sigma": c.sigma,
        "t": c.t,
        "tasks": c.num_tasks,
        "test_tasks": k,
        "eta_tbt": r.tbt.eta,
        "eta_tbv": r.tbv.eta,
        "eta_tbt_interval": [r.tbt.eta_low, r.tbt.eta_high],
        "eta_tbv_interval": [r.tbv.eta_low, r.tbv.eta_high],
        "fastest_contraction_step": round(fastest_contraction_step(c.d, c.n), 6),
        "tbt_truncated": int(r.tbt_test.truncated.sum()),
    }
    for i, (key, x) in enumerate(s.items()):
        iv = mean_interval(x, confidence=confidence, seed=seed + i, nonnegative=True)
        out[key] = {**_iv_json(iv), "count": k, "median": round(float(np.median(x)), 6)}
    for key, (a, b) in {
        "error_gap": ("tbt_error", "tbv_error"),
        "test_rmse_gap": ("tbt_test_rmse", "tbv_test_rmse"),
    }.items():
        iv = difference_interval(s[a], s[b], paired=True, confidence=confidence, seed=seed + 7)
        out[key] = {
            **_iv_json(iv),
            "count": k,
            "median": round(float(np.median(s[a] - s[b])), 6),
        }
    return out


def _ls_setting(rows: Sequence[dict[str, Any]], label: str) -> str:
    r = rows[0]
    return (
        f"d = {r['d']}, {label}, t = {r['t']}, grid logspace(-6, 0, 25), {r['tasks']} "
        f"meta-training tasks, {r['test_tasks']} test tasks per point, 99% bootstrap intervals"
    )


def _ls_deviations(rows: Sequence[dict[str, Any]], *, n_is_paper: bool) -> tuple[str, ...]:
    r = rows[0]
    devs = []
    if r["d"] != PAPER_LS["d"]:
        devs.append(f"d = {r['d']} (paper {PAPER_LS['d']})")
    if n_is_paper and r["n"] != PAPER_LS["n"]:
        devs.append(f"n = {r['n']} (paper {PAPER_LS['n']}; same ratio n/d = {r['n'] / r['d']:g})")
    if r["tasks"] != PAPER_LS["tasks"]:
        devs.append(f"{r['tasks']} meta-training tasks (paper {PAPER_LS['tasks']})")
    if r["test_tasks"] != PAPER_LS["test_tasks"]:
        devs.append(f"{r['test_tasks']} test tasks (paper {PAPER_LS['test_tasks']})")
    devs.append("99% bootstrap intervals over test tasks (the paper shows the range of 10 tests)")
    return tuple(devs)


def figure3_claims(
    rows: Sequence[dict[str, Any]], results: Sequence[ExperimentResult], *, seed: int
) -> list[Claim]:
    """Figure 3's three findings over sigma (TbT overfits; TbV better; the gap grows)."""
    sig = [r["sigma"] for r in rows]
    sig_txt = "sigma in {" + ", ".join(f"{s:g}" for s in sig) + "}"
    setting = _ls_setting(rows, f"n = {rows[0]['n']} (TbV {rows[0]['n1']} + {rows[0]['n2']})")
    setting += ", " + sig_txt
    devs = (
        *_ls_deviations(rows, n_is_paper=True),
        "the paper's sigma values are not recovered; " + sig_txt + " here",
    )
    k = rows[0]["test_tasks"]
    # (a) TbT overfits: test RMSE - train RMSE > 0 (paired)
    ra = []
    for r, res in zip(rows, results, strict=True):
        iv = difference_interval(
            res.tbt_test.test_rmse, res.tbt_test.train_rmse, paired=True, seed=seed
        )
        ra.append((f"sigma = {r['sigma']:g}: TbT test - train RMSE", iv, decide(iv, at_least=0.0)))
    # (b) TbV better: TbT - TbV test RMSE > 0 (paired)
    rb = []
    for r, res in zip(rows, results, strict=True):
        iv = difference_interval(
            res.tbt_test.test_rmse, res.tbv_test.test_rmse, paired=True, seed=seed + 1
        )
        rb.append((f"sigma = {r['sigma']:g}: TbT - TbV test RMSE", iv, decide(iv, at_least=0.0)))
    # (c) the gap grows with sigma: paired over the common test tasks (same w*, X, xi at
    # every sigma: common random numbers)
    rc = []
    gaps = [res.tbt_test.test_rmse - res.tbv_test.test_rmse for res in results]
    for (ra_, ga), (rb_, gb) in itertools.pairwise(zip(rows, gaps, strict=True)):
        iv = difference_interval(gb, ga, paired=True, seed=seed + 2)
        rc.append(
            (
                f"gap(sigma = {rb_['sigma']:g}) - gap(sigma = {ra_['sigma']:g})",
                iv,
                decide(iv, at_least=0.0),
            )
        )

    def claim(name: str, statement: str, stat: str, rd: list[Any]) -> Claim:
        worst = min(rd, key=lambda x: x[1].low)
        return Claim(
            claim=name,
            statement=statement,
            source="paper",
            paper_setting=_PAPER_LS_TEXT + "; several sigma (values not recovered)",
            our_setting=setting,
            deviations=devs,
            instances=k,
            unit="test tasks per sigma",
            statistic=stat + "; for every sigma (differs if one differs)",
            interval=worst[1],
            verdict=conjunction([v for _, _, v in rd]),
            evidence="statistic",
            can_fail=True,
            margin=f"lowest: {worst[0]} {worst[1]}",
            readings=tuple(rd),
        )

    return [
        claim(
            "Figure 3: TbT overfits",
            "TbT overfits in all cases (training RMSE far below test RMSE)",
            "paired mean of TbT test RMSE - TbT training RMSE > 0",
            ra,
        ),
        claim(
            "Figure 3: TbV performs better",
            "TbV performs much better than TbT and does not overfit",
            "paired mean of TbT - TbV test RMSE > 0",
            rb,
        ),
        claim(
            "Figure 3: the gap grows with sigma",
            "the gap between TbT and TbV grows with sigma",
            "paired increase of the TbT - TbV test RMSE gap between consecutive sigma > 0",
            rc,
        ),
    ]


def valid_step_scaling(
    d: int, n: int, tasks: int, seed: int, *, confidence: float = CONFIDENCE, bootstrap: int = 200
) -> dict[str, Any]:
    """eta*_valid and eta*_train at t in SCALING_HORIZONS on common tasks (sigma = 2).

    Grid search over :data:`SCALING_GRID`; TbV n/2 + n/2, TbT n. Besides the per-t bootstrap
    interval of each grid argmin, the spread max_t / min_t of t eta*_valid(t) (and of
    eta*_train(t)) gets one bootstrap interval from common task resamples
    (:func:`scipy.stats.bootstrap`, percentile): the argmins at all t move together when the
    same tasks are resampled, so the spread is estimated far more tightly than by combining
    the per-t intervals.
    """
    from scipy import stats

    tbt, tbv = sample_task_pair(
        d, n, n // 2, n - n // 2, sigma=SCALING_SIGMA, num_tasks=tasks, seed=seed
    )
    rows = []
    values: dict[str, list[np.ndarray[Any, Any]]] = {"tbv": [], "tbt": []}
    grid = np.array(SCALING_GRID)
    for t in SCALING_HORIZONS:
        opts = {"confidence": confidence, "bootstrap_resamples": bootstrap, "bootstrap_seed": seed}
        gv = grid_search(tbv, "tbv", t, SCALING_GRID, **opts)  # type: ignore[arg-type]
        gt = grid_search(tbt, "tbt", t, SCALING_GRID, **opts)  # type: ignore[arg-type]
        values["tbv"].append(gv.values)
        values["tbt"].append(gt.values)
        rows.append(
            {
                "t": t,
                "eta_tbv": gv.eta,
                "eta_tbv_interval": [gv.eta_low, gv.eta_high],
                "eta_tbt": gt.eta,
                "eta_tbt_interval": [gt.eta_low, gt.eta_high],
            }
        )
    hs = np.array(SCALING_HORIZONS, dtype=np.float64)
    spread: dict[str, Any] = {}
    for kind, power in (("tbv", 1), ("tbt", 0)):
        stack = np.stack(values[kind])  # (horizons, tasks, grid)

        def ratio(idx: np.ndarray[Any, Any], _stack: Any = stack, _p: int = power) -> float:
            mean = _stack[:, idx.astype(int), :].mean(axis=1)  # (horizons, grid)
            scaled = hs**_p * grid[np.argmin(mean, axis=1)]
            return float(scaled.max() / scaled.min())

        est = ratio(np.arange(tasks))
        res = stats.bootstrap(
            (np.arange(tasks, dtype=np.float64),),
            ratio,
            vectorized=False,
            confidence_level=confidence,
            n_resamples=bootstrap,
            method="percentile",
            random_state=np.random.default_rng(seed),
        )
        spread[kind] = Interval(
            est,
            min(float(res.confidence_interval.low), est),
            max(float(res.confidence_interval.high), est),
            confidence,
            "bootstrap percentile over common task resamples (scipy.stats.bootstrap)",
            nonnegative=True,
        ).to_json()
    return {
        "d": d,
        "n": n,
        "sigma": SCALING_SIGMA,
        "tasks": tasks,
        "bootstrap": bootstrap,
        "rows": rows,
        "spread": spread,
    }


def _interval(j: dict[str, Any]) -> Interval:
    """An :class:`Interval` back from its JSON."""
    return Interval(
        float(j["estimate"]),
        float(j["low"]),
        float(j["high"]),
        float(j["confidence"]),
        str(j["method"]),
        bool(j["nonnegative"]),
    )


def theta_verdict(spread: Interval) -> Verdict:
    """eta_valid = Theta(1/t) from the spread max/min of t eta_valid over a 16-fold range of t:
    matches when <= THETA_MATCH, differs when >= THETA_DIFFER, else inconclusive."""
    if spread.low >= THETA_DIFFER:
        return "differs"
    return "matches" if spread.high <= THETA_MATCH else "inconclusive"


def shrink_verdict(steps: Sequence[Interval], overall: Interval | None) -> Verdict:
    """ "The gap shrinks as n grows" from the differences gap(n) - gap(n') (n < n'):
    differs when a consecutive step or the overall change is a significant rise, matches when
    the overall drop (smallest to largest n) is significant, else inconclusive."""
    if overall is None:
        return "inconclusive"
    if overall.high < 0 or any(iv.high < 0 for iv in steps):
        return "differs"
    return "matches" if overall.low > 0 else "inconclusive"


def theorem5_claims(
    rows: Sequence[dict[str, Any]],
    results: Sequence[ExperimentResult],
    scaling: dict[str, Any],
    *,
    seed: int,
) -> list[Claim]:
    """Theorem 5's four parts: eta_train = Theta(1), TbT error >= c sigma^2,
    eta_valid = Theta(1/t), TbV error < ||w*||^2 = 1 (sigma >= 1 rows of Figure 3)."""
    big = [(r, res) for r, res in zip(rows, results, strict=True) if r["sigma"] >= 1]
    n = rows[0]["n"]
    setting = _ls_setting(rows, f"n = {n} (TbV {rows[0]['n1']} + {rows[0]['n2']})")
    setting += ", sigma in {" + ", ".join(f"{r['sigma']:g}" for r, _ in big) + "}"
    paper = (
        "n, n1, n2 in [d/4, 3d/4], sigma a large constant, t >= c2, m >= c3 log(mt), "
        "d >= c4 log(mt) (constants unstated); experiment: " + _PAPER_LS_TEXT
    )
    ls = _Theorem5Setting(rows, big, paper, setting, _ls_deviations(rows, n_is_paper=True))
    return [
        _eta_train_claim(ls),
        _tbt_error_claim(ls, seed=seed),
        _eta_valid_claim(scaling, paper),
        _tbv_error_claim(ls, seed=seed),
    ]


@dataclass(frozen=True)
class _Theorem5Setting:
    """What Theorem 5's claims share: Figure 3's rows, the sigma >= 1 ones, both settings."""

    rows: Sequence[dict[str, Any]]
    big: list[tuple[dict[str, Any], ExperimentResult]]
    paper: str
    setting: str
    deviations: tuple[str, ...]


def _eta_train_claim(ls: _Theorem5Setting) -> Claim:
    """eta_train = Theta(1): the grid argmin's bootstrap interval within one grid ratio of
    2/(s_min + s_max) (notes §4.7)."""
    ratio = 10**0.25
    ra = []
    for r, _ in ls.big:
        step = r["fastest_contraction_step"]
        lo, hi = r["eta_tbt_interval"]
        iv = Interval(
            r["eta_tbt"],
            lo,
            hi,
            CONFIDENCE,
            "bootstrap percentile of the grid argmin (tasks resampled)",
            nonnegative=True,
        )
        ra.append(
            (
                f"sigma = {r['sigma']:g}: eta_TbT vs 2/(s_min+s_max) = {step:.3g}",
                iv,
                decide(iv, at_least=step / ratio, at_most=step * ratio),
            )
        )
    return Claim(
        claim="Theorem 5: eta*_train = Theta(1)",
        statement="eta*_train = Theta(1) for every minimizer of the TbT meta-objective",
        source="paper",
        paper_setting=ls.paper,
        our_setting=ls.setting,
        deviations=ls.deviations,
        instances=ls.rows[0]["tasks"],
        unit="meta-training tasks",
        statistic="bootstrap interval of the grid argmin within one grid ratio (10^(1/4)) of "
        "the fastest contraction step 2/(s_min + s_max) = 1/(1 + d/n) (our sharpening of "
        "Theta(1), notes §4.7), for every sigma",
        interval=ra[0][1],
        verdict=conjunction([v for _, _, v in ra]),
        evidence="statistic",
        can_fail=True,
        margin="; ".join(f"{a}: {b}" for a, b, _ in ra),
        readings=tuple(ra),
    )


def _tbt_error_claim(ls: _Theorem5Setting, *, seed: int) -> Claim:
    """TbT error >= c sigma^2 at every sigma >= 1."""
    d, n = ls.rows[0]["d"], ls.rows[0]["n"]
    rb = []
    for r, res in ls.big:
        iv = mean_interval(res.tbt_test.errors / r["sigma"] ** 2, seed=seed, nonnegative=True)
        rb.append(
            (
                f"sigma = {r['sigma']:g}: E||w_TbT - w*||^2 / sigma^2",
                iv,
                decide(iv, at_least=THEOREM5_C),
            )
        )
    noise = interpolant_expected_error(d, n, 1.0) - (1 - n / d)
    return Claim(
        claim="Theorem 5: TbT error = Omega(sigma^2)",
        statement="E||w_{t,eta*_train} - w*||^2 = Omega(1) sigma^2",
        source="paper",
        paper_setting=ls.paper,
        our_setting=ls.setting,
        deviations=(
            *ls.deviations,
            f"Omega(1) read as the constant c = {THEOREM5_C:g}, fixed before measuring",
        ),
        instances=ls.rows[0]["test_tasks"],
        unit="test tasks per sigma",
        statistic=f"mean of ||w_TbT - w*||^2 / sigma^2 >= c = {THEOREM5_C:g} for every sigma "
        f"(half the min-norm interpolant's noise term n/(d - n - 1) = {noise:.3g})",
        interval=min(rb, key=lambda x: x[1].low)[1],
        verdict=conjunction([v for _, _, v in rb]),
        evidence="statistic",
        can_fail=True,
        margin="lowest: " + str(min(rb, key=lambda x: x[1].low)[1]) + f" vs c = {THEOREM5_C:g}",
        readings=tuple(rb),
    )


def _eta_valid_claim(scaling: dict[str, Any], paper: str) -> Claim:
    """eta_valid = Theta(1/t) from the spread of t eta*_valid(t) over the horizons."""
    srows = scaling["rows"]
    iv_v = _interval(scaling["spread"]["tbv"])
    iv_t = _interval(scaling["spread"]["tbt"])
    verdict_v = theta_verdict(iv_v)
    hs = [r["t"] for r in srows]
    return Claim(
        claim="Theorem 5: eta*_valid = Theta(1/t)",
        statement="eta*_valid = Theta(1/t) for every minimizer of the TbV meta-objective",
        source="paper",
        paper_setting=paper,
        our_setting=f"d = {scaling['d']}, n = {scaling['n']} (TbV {scaling['n'] // 2} + "
        f"{scaling['n'] - scaling['n'] // 2}), sigma = {scaling['sigma']:g}, t in "
        f"{{{', '.join(str(t) for t in hs)}}}, {scaling['tasks']} common meta-training "
        "tasks, grid logspace(-5, 0, 51)",
        deviations=(
            f"d = {scaling['d']} (paper 1000)",
            "a finer grid than the authors' (ratio 10^(1/10) instead of 10^(1/4))",
            "Theta(1/t) is asymptotic; read over a 16-fold range of t",
        ),
        instances=scaling["tasks"],
        unit="meta-training tasks",
        statistic=f"max/min over t of t eta*_valid(t): matches when <= {THETA_MATCH:g} "
        f"(constant within a factor 2), differs when >= {THETA_DIFFER:g} = sqrt(16) (closer "
        "to eta_valid = const, which gives 16)",
        interval=iv_v,
        verdict=verdict_v,
        evidence="statistic",
        can_fail=True,
        margin="t eta_valid: "
        + ", ".join(f"t={r['t']}: {r['t'] * r['eta_tbv']:.3g}" for r in srows)
        + f"; eta_train max/min over t {iv_t}",
        note="eta*_train stays Theta(1) across t: "
        + ", ".join(f"{r['eta_tbt']:.3g}" for r in srows),
        readings=(("max/min over t of eta*_train (Theta(1): near 1)", iv_t, "-"),),
    )


def _tbv_error_claim(ls: _Theorem5Setting, *, seed: int) -> Claim:
    """TbV error < ||w*||^2 = 1 at every sigma >= 1."""
    rd = []
    for r, res in ls.big:
        iv = mean_interval(res.tbv_test.errors, seed=seed + 3, nonnegative=True)
        rd.append((f"sigma = {r['sigma']:g}: E||w_TbV - w*||^2", iv, decide(iv, at_most=1.0)))
    return Claim(
        claim="Theorem 5: TbV error < ||w*||^2",
        statement="E||w_{t,eta*_valid} - w*||^2 = ||w*||^2 - Omega(1) (||w*|| = 1)",
        source="paper",
        paper_setting=ls.paper,
        our_setting=ls.setting,
        deviations=ls.deviations,
        instances=ls.rows[0]["test_tasks"],
        unit="test tasks per sigma",
        statistic="mean of ||w_TbV - w*||^2 below ||w*||^2 = 1 for every sigma",
        interval=max(rd, key=lambda x: x[1].high)[1],
        verdict=conjunction([v for _, _, v in rd]),
        evidence="statistic",
        can_fail=True,
        margin="highest: " + str(max(rd, key=lambda x: x[1].high)[1]) + " vs 1",
        readings=tuple(rd),
    )


def interpolation_peak(
    d: int, tasks: int, test_tasks: int, seed: int, *, confidence: float = CONFIDENCE
) -> dict[str, Any]:
    """TbT - TbV test RMSE gap at n = d for t in PEAK_HORIZONS, and at n = d/2 (sigma = 1)."""
    out = []
    for n, t in [(d // 2, 40)] + [(d, t) for t in PEAK_HORIZONS]:
        cfg = LeastSquaresConfig(
            d=d,
            n=n,
            n1=n // 2,
            n2=n - n // 2,
            sigma=1.0,
            t=t,
            num_tasks=tasks,
            num_test_tasks=test_tasks,
            grid=DEFAULT_GRID,
            refine=False,
            confidence=confidence,
            bootstrap_resamples=200,
            seed=seed,
        )
        res = run_experiment(cfg)
        gap = res.tbt_test.test_rmse - res.tbv_test.test_rmse
        out.append({"n": n, "t": t, "gap": [float(x) for x in gap]})
    return {"d": d, "tasks": tasks, "test_tasks": test_tasks, "rows": out}


def figure4_claims(
    rows: Sequence[dict[str, Any]],
    results: Sequence[ExperimentResult],
    peak: dict[str, Any],
    *,
    seed: int,
) -> list[Claim]:
    """Figure 4: "the gap shrinks" judged for n >= 2d; the n <= d peak as a separate finding."""
    d = rows[0]["d"]
    big = [(r, res) for r, res in zip(rows, results, strict=True) if r["n"] >= 2 * d]
    ns = [r["n"] for r, _ in big]
    setting = _ls_setting(
        rows, "n in {" + ", ".join(str(r["n"]) for r in rows) + "} (TbV n/2 + n/2)"
    )
    devs = (
        "the paper's Figure 4 sample sizes are not recovered",
        f"d = {d} (paper 1000)",
        "judged for n >= 2d only (Theorem 6 concerns n >> d); n <= d is a separate finding",
        *[
            x
            for x in _ls_deviations(rows, n_is_paper=False)
            if "test tasks" in x or "bootstrap" in x
        ],
    )
    gaps = {r["n"]: res.tbt_test.test_rmse - res.tbv_test.test_rmse for r, res in big}
    readings = []
    for a, b in itertools.pairwise(ns):
        iv = difference_interval(gaps[a], gaps[b], paired=False, seed=seed + 4)
        readings.append((f"gap(n = {a}) - gap(n = {b})", iv, decide(iv, at_least=0.0)))
    overall: Interval | None = None
    if len(ns) >= 2:
        overall = difference_interval(gaps[ns[0]], gaps[ns[-1]], paired=False, seed=seed + 5)
    verdict = shrink_verdict([iv for _, iv, _ in readings], overall)
    claims = []
    if overall is not None:
        claims.append(
            Claim(
                claim="Figure 4: the gap shrinks as n grows",
                statement="with sigma = 1, the TbT - TbV gap shrinks as the sample size grows "
                "(as Theorem 6 predicts)",
                source="paper",
                paper_setting="d = 1000, sigma = 1, t = 40, TbV n/2 + n/2; sample sizes not "
                "recovered",
                our_setting=setting,
                deviations=devs,
                instances=rows[0]["test_tasks"],
                unit="test tasks per n",
                statistic=f"difference of the mean test RMSE gaps between n = {ns[0]} and "
                f"n = {ns[-1]} (independent test tasks) > 0, and no consecutive n with a "
                "significant rise",
                interval=overall,
                verdict=verdict,
                evidence="statistic",
                can_fail=True,
                margin="; ".join(f"{a}: {b}" for a, b, _ in readings),
                readings=tuple(readings),
            )
        )
    claims.append(_interpolation_peak_claim(d, peak, seed=seed))
    return claims


def _interpolation_peak_claim(d: int, peak: dict[str, Any], *, seed: int) -> Claim:
    """The n <= d finding: TbT's gap peaks at the interpolation threshold n = d."""
    prow = {(r["n"], r["t"]): np.array(r["gap"]) for r in peak["rows"]}
    half, full = prow[(d // 2, 40)], prow[(d, 40)]
    # medians: one test task whose TbT run nearly diverges can dominate a mean here
    iv_peak = difference_interval(full, half, paired=False, seed=seed + 6, statistic="median")
    hs = [t for (n, t) in prow if n == d]
    iv_t = difference_interval(
        prow[(d, max(hs))], prow[(d, min(hs))], paired=False, seed=seed + 8, statistic="median"
    )
    v_peak = decide(iv_peak, at_least=0.0)
    v_t = decide(iv_t, at_least=0.0)
    ie = interpolant_expected_error(d, d // 2, 1.0)
    return Claim(
        claim="Finding (n <= d): the gap peaks at n = d and grows with t",
        statement="not in the paper: for n <= d TbT's gap is largest at the interpolation "
        "threshold n = d and grows with the horizon t",
        source="finding",
        paper_setting="not covered by the paper (Theorem 5 takes n in [d/4, 3d/4], Theorem 6 "
        "n >> d)",
        our_setting=f"d = {d}, sigma = 1, n in {{{d // 2}, {d}}}, t in "
        f"{{{', '.join(str(t) for t in hs)}}}, "
        f"{peak['tasks']} meta-training and {peak['test_tasks']} test tasks",
        deviations=(),
        instances=peak["test_tasks"],
        unit="test tasks per point",
        statistic="median gap(n = d) - median gap(n = d/2) > 0 at t = 40, and median "
        f"gap(n = d, t = {max(hs)}) - median gap(n = d, t = {min(hs)}) > 0 (independent "
        "test tasks; medians, since a nearly diverged TbT run can dominate a mean)",
        interval=iv_peak,
        verdict=conjunction([v_peak, v_t]),
        evidence="statistic",
        can_fail=True,
        margin=f"peak {iv_peak}; growth with t {iv_t}",
        note="why: for n < d TbT tends to the min-norm interpolant, whose error "
        f"(1 - n/d) + sigma^2 n/(d - n - 1) ({ie:.3g} at n = d/2) diverges as n -> d; at n = d "
        "the smallest eigenvalue of X^T X/n tends to 0 (Marchenko-Pastur edge "
        "(1 - sqrt(d/n))^2), so the noise in those directions is fitted more with every step",
        readings=(
            ("gap(n = d) - gap(n = d/2), t = 40", iv_peak, v_peak),
            (f"gap at n = d: t = {max(hs)} minus t = {min(hs)}", iv_t, v_t),
        ),
    )


def theorem6_claim(
    rows: Sequence[dict[str, Any]], results: Sequence[ExperimentResult], *, seed: int
) -> Claim:
    """Theorem 6 at every n/d >= 2 of Figure 4, eps(n) fixed before measuring."""
    d = rows[0]["d"]
    readings = []
    judged = []
    for r, res in zip(rows, results, strict=True):
        n = r["n"]
        if n < 2 * d:
            continue
        eps = theorem6_eps(d, n)
        rate = d * r["sigma"] ** 2 / n
        iv = mean_interval(res.tbt_test.errors / rate, seed=seed + 9, nonnegative=True)
        label = f"n/d = {n / d:g}: E||w_TbT - w*||^2 / (d sigma^2/n), eps = {eps:.3g}"
        if eps >= 1:
            readings.append((label + " (eps >= 1: outside the theorem's range)", iv, "-"))
            continue
        v = decide(iv, at_most=1 + eps)
        readings.append((label, iv, v))
        judged.append((n, eps, iv, v))
    if not judged:
        raise ValueError("no Figure 4 size is inside Theorem 6's range (eps < 1)")
    tight = min(judged, key=lambda x: (1 + x[1]) - x[2].high)
    erm = ", ".join(
        f"n/d = {n / d:g}: {erm_expected_error(d, n, 1.0) * n / d:.3g}" for n, *_ in judged
    )
    return Claim(
        claim="Theorem 6: TbT near-optimal for n >> d",
        statement="E||w_{t,eta*_train} - w*||^2 <= (1 + eps) d sigma^2 / n for n >= c d/eps^2 "
        "log(nm/(eps d)), t >= c2 log(n/(eps d)), m large",
        source="paper",
        paper_setting="noise a constant, constants c, c2, c3, c4 unstated; experiment sizes not "
        "recovered (the notes' check: d = 100, n = 2000)",
        our_setting=_ls_setting(
            rows, "n/d in {" + ", ".join(f"{r['n'] / d:g}" for r in rows if r["n"] >= 2 * d) + "}"
        )
        + ", sigma = 1",
        deviations=(
            f"eps fixed before measuring: eps(n) = (d + 1)/(n - d - 1) + {THEOREM6_SLACK:g} "
            "(the ERM's own excess plus the notes' 0.1)",
            "the theorem's constants are unknown: we cannot check its size conditions",
        ),
        instances=rows[0]["test_tasks"],
        unit="test tasks per n",
        statistic="mean TbT error in units of d sigma^2/n <= 1 + eps(n) at every n/d with "
        "eps(n) < 1 (differs if one differs)",
        interval=tight[2],
        verdict=conjunction([v for *_, v in judged]),
        evidence="statistic",
        can_fail=True,
        margin=f"tightest at n/d = {tight[0] / d:g}: {tight[2]} vs {1 + tight[1]:.4g}",
        note="the exact ERM error in the same units: " + erm,
        readings=tuple(readings),
    )
