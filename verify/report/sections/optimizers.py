"""Sections of the report for the inner optimizers beyond GD: heavy-ball momentum and Adam.

Outcome maps of float meta-gradients against certified truth, as in section 2, for

* heavy ball, w_{k+1} = w_k - eta grad f(w_k) + beta (w_k - w_{k-1}) (w_{-1} = w_0): over
  (eta, beta) at one horizon and over (eta, t) at one momentum, both objectives, with the
  spectral radius rho(eta, beta) of the iteration and the boundary rho = 1
  (:func:`momentum_section`);
* Adam with bias correction (torch's defaults; RMSProp is beta1 = 0): over (eta, t) on the
  report's problem, and on the same problem with one coordinate that no gradient reaches (its
  second moment is exactly 0 at every step), with the certified verdict (the derivative
  exists, or :class:`~verify.errors.NotDifferentiableError`) where a system returns NaN, and
  the kink where no derivative exists (:func:`adam_section`).

Classes. The judge (:mod:`verify.judge`) refuses non-GD results: its error model is GD's.
Cells are classified by the outcome rules of :func:`verify.compare.judge_value` with *no*
error model (:data:`NO_BOUND`): ``accurate`` means at most 1 ulp from the certified value
rounded once to the dtype, everything else finite with the right sign and within a factor 2
is ``inaccurate``; the failure classes (nan, overflow, underflow, silently_wrong) follow the
same rules as section 2 and need no error model. Cells without a class carry a status of
:data:`CELL_STATUSES`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from ... import truth
from ...backprop import BackendUnavailableError, UnsupportedOptionError, meta_gradient
from ...compare import ErrorBound, judge_value
from ...errors import NotCertifiedError, NotDifferentiableError, ZeroLossError
from ...floats import FORMATS
from ...problems import Quadratic
from ..settings import BACKEND_CHOICES, FAILURE_CLASSES, OUTCOME_CLASSES, Progress, eta_fractions

__all__ = [
    "ADAM_SETTINGS",
    "CELL_STATUSES",
    "KINK",
    "MOMENTUM_MARGIN_NATS",
    "NOT_RUN",
    "NO_BOUND",
    "adam_section",
    "classify_cell",
    "fails_level",
    "ln_loss_model",
    "momentum_section",
    "predict_cell",
    "rho",
    "rho_one",
    "zero_moment_problem",
]

#: Cells that carry no outcome class: the certified truth says there is nothing to compare.
CELL_STATUSES: dict[str, str] = {
    "no_derivative": "the meta-gradient does not exist (certified NotDifferentiableError: the "
    "one-sided derivatives differ); a NaN there misses no true value",
    "no_truth": "no certified value (NotCertifiedError within the precision cap, or the log "
    "objective at f(w_t) = 0 exactly)",
}
#: Adam's settings of the maps: torch's defaults (beta1, beta2, eps) as float64 numbers.
ADAM_SETTINGS: dict[str, float] = {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
#: The point where Adam has no meta-gradient (tests/truth/test_adam.py): d = 1, H = [[1]],
#: w0 = 1, beta2 = 0 < beta1 = 1/2, eps = 1, eta = 2, t = 2, naive objective: w_1 = 0 exactly,
#: so vhat = g_1^2 = 0 with mhat = 1/3 and sqrt(vhat) = |g_1| has a kink (one-sided
#: derivatives -1/9 and 1/3). With beta1 = 0 (RMSProp) mhat = 0 there and the derivative
#: exists.
KINK: dict[str, Any] = {"eta": 2.0, "t": 2, "beta2": 0.0, "eps": 1.0, "beta1": (0.5, 0.0)}
#: Why a framework or library map is missing in a mode that runs it in fewer dtypes.
NOT_RUN = "this mode runs the frameworks and libraries in float32 only (--full: every dtype)"
#: No error model: only a result within 1 ulp of the correctly rounded truth is accurate.
NO_BOUND = "none"
#: Safety margin (nats) of the rho-growth model of ln f(w_t), before the t-dependent part:
#: MARGIN_NATS of :mod:`verify.backprop.boundaries` (ln 2 + 2: the 1/2 in f, rounding over
#: t u <= 1) plus ln d (the sum over modes); :func:`predict_cell` adds 2 ln(t + 1), the
#: polynomial factor of a double companion root (x_t ~ (t + 1) rho^t).
MOMENTUM_MARGIN_NATS = math.log(2.0) + 2.0


# ------------------------------------------------------------------------------ theory
def rho(lams: Sequence[float], eta: float, beta: float) -> float:
    """Spectral radius of heavy ball's iteration on the eigenvalues ``lams``.

    Per eigenvalue lambda the mode follows x_{k+1} = a x_k - beta x_{k-1},
    a = 1 + beta - eta lambda, whose companion roots z solve z^2 - a z + beta = 0:
    |z| = sqrt(beta) when a^2 < 4 beta (complex pair), else (|a| + sqrt(a^2 - 4 beta)) / 2.
    |z| is non-decreasing in |a| and |a| is convex in lambda, so the maximum over a spectrum
    in [alpha, L] is attained at alpha or L: pass ``(alpha, L)``.

    Accuracy
    --------
    float64 (a model quantity for the predicted boundary, not a certified one).

    Examples
    --------
    >>> rho([1.0], 3.375, 1.0 / 4)  # a = -2.125: the roots -2 and -1/8
    2.0
    >>> rho([1.0], 1.0, 1.0 / 4)  # a = 0.25 < 2 sqrt(beta): complex pair of modulus 1/2
    0.5
    """
    out = 0.0
    for lam in lams:
        a = 1.0 + beta - eta * lam
        disc = a * a - 4.0 * beta
        out = max(out, math.sqrt(beta) if disc < 0 else (abs(a) + math.sqrt(disc)) / 2.0)
    return out


def rho_one(lams: Sequence[float], beta: float, eta_max: float, level: float = 1.0) -> float | None:
    """The smallest eta in (0, eta_max] past the minimum of rho(., beta) with
    rho(eta, beta) >= ``level`` (bisection, 60 halvings), or None when rho < ``level`` up to
    ``eta_max``.

    For ``level = 1`` and the top eigenvalue L this is eta = 2 (1 + beta) / L (a = -(1 + beta)
    makes -1 a companion root); the bisection finds it from :func:`rho` itself, so the line
    drawn is the model the cells use. rho < 1 for every 0 < eta below it (the mode alpha
    keeps rho just below 1 as eta -> 0), so the search starts at the grid minimum of rho.
    """
    if rho(lams, eta_max, beta) < level:
        return None
    etas = np.linspace(0.0, eta_max, 257)[1:]
    k = int(np.argmin([rho(lams, float(e), beta) for e in etas]))
    lo, hi = float(etas[k]), eta_max
    if rho(lams, lo, beta) >= level:
        return lo
    for _ in range(60):
        mid = (lo + hi) / 2
        if rho(lams, mid, beta) >= level:
            hi = mid
        else:
            lo = mid
    return hi


def fails_level(ln_f0: float, t: int, d: int, dtype: str) -> float:
    """The rho above which :func:`predict_cell` says ``fails`` by overflow at horizon t:
    ln f(w_0) + 2 t ln rho > ln(max finite) + margin."""
    fmt = FORMATS[dtype]
    m = MOMENTUM_MARGIN_NATS + math.log(d) + 2.0 * math.log(t + 1.0)
    return math.exp((fmt.ln_max + m - ln_f0) / (2.0 * t))


def ln_loss_model(ln_f0: float, r: float, t: int) -> float:
    """The rho-growth model of ln f(w_t): ln f(w_0) + 2 t ln rho (every mode's weight and the
    companion's polynomial factor ignored; see :data:`MOMENTUM_MARGIN_NATS`)."""
    return ln_f0 + 2.0 * t * math.log(r) if r > 0 else -math.inf


def predict_cell(ln_f: float, t: int, d: int, dtype: str) -> str:
    """The rho-growth prediction for plain backprop of the log objective at one cell.

    ``"fails"``: the model's f(w_t) lies beyond the largest finite number or below the
    smallest subnormal of ``dtype`` by more than the margin (f(w_t) = inf or 0 makes
    (1/t) log f and its gradient inf, NaN or 0); ``"safe"``: inside the normal range by more
    than the margin; ``"boundary"`` otherwise. Margin: :data:`MOMENTUM_MARGIN_NATS` + ln d +
    2 ln(t + 1).

    Accuracy
    --------
    A model, not a bound: the overflow side is exact up to the margin where the dominant
    root is real; with complex roots f(w_t) oscillates and can fall far below the model, so
    a ``"fails"`` from underflow or a ``"safe"`` can be contradicted (the counts say so).
    """
    fmt = FORMATS[dtype]
    m = MOMENTUM_MARGIN_NATS + math.log(d) + 2.0 * math.log(t + 1.0)
    ln_min_normal = fmt.emin * math.log(2.0)
    if ln_f > fmt.ln_max + m or ln_f < fmt.ln_min_subnormal - m:
        return "fails"
    if ln_min_normal + m < ln_f < fmt.ln_max - m:
        return "safe"
    return "boundary"


# ------------------------------------------------------------------------------ cells
def classify_cell(
    grad: float,
    value: float,
    enc: truth.Enclosure,
    dtype: str,
    objective: str,
    diagnostics: Any = None,
) -> tuple[str, float]:
    """Outcome class and bits of error of one float result against its certified truth.

    The rules of :func:`verify.compare.judge_value` with no error model (``rel=None``): a
    result is ``accurate`` only within 1 ulp of the truth rounded once to ``dtype``; the
    failure classes need no model. ``value`` (the reported F, NaN ignored) and the backend's
    diagnostics are evidence of underflow, as in section 2.

    Guarantee
    ---------
    The truth is a proven enclosure; ulps are counted in ``dtype`` after rounding once.
    """
    bound = ErrorBound(FORMATS[dtype].name, None, math.nan)
    v = None if math.isnan(value) else value
    j = judge_value(grad, enc, bound, value=v, objective=objective, diagnostics=diagnostics)
    return j.outcome.value, j.accuracy.bits


def _truth_cell(compute: Callable[[], truth.Enclosure]) -> tuple[truth.Enclosure | None, str]:
    """The certified meta-gradient of one cell, or the reason there is none (a cell status)."""
    try:
        return compute(), "ok"
    except NotDifferentiableError:
        return None, "no_derivative"
    except (NotCertifiedError, ZeroLossError):
        return None, "no_truth"


def _hb_truth(
    problem: Quadratic, eta: float, t: int, objective: str, beta: float
) -> tuple[truth.Enclosure | None, str]:
    """The certified heavy-ball F'(eta) of one cell (eta and beta exact), or its status."""
    return _truth_cell(
        lambda: truth.meta_gradient(
            problem,
            Fraction(eta),
            t,
            objective=objective,
            optimizer="heavy_ball",
            beta=Fraction(beta),
        )
    )


def _hex(enc: truth.Enclosure | None, status: str) -> str:
    return enc.to_float("float64").hex() if enc is not None else status


def _run_map(
    problem: Quadratic,
    etas: list[float],
    rows: Sequence[tuple[int, dict[str, Any]]],
    truths: dict[str, list[list[tuple[truth.Enclosure | None, str]]]],
    name: str,
    dtype: str,
    objective: str,
    optimizer: str,
) -> dict[str, Any]:
    """One backend x dtype x objective map: one batched call per row (t and settings),
    each cell classified against its truth; ``unavailable`` / ``unsupported`` with the reason
    when the backend refuses."""
    backend, mode = BACKEND_CHOICES[name]
    classes: list[list[str]] = []
    grads: list[list[str]] = []
    zero: list[list[int | None]] = []
    for i, (t, settings) in enumerate(rows):
        try:
            res = meta_gradient(
                problem,
                np.array(etas),
                t,
                objective=objective,
                dtype=dtype,
                backend=backend,
                mode=mode,
                optimizer=optimizer,
                **settings,
            )
        except (BackendUnavailableError, UnsupportedOptionError) as exc:
            status = "unavailable" if isinstance(exc, BackendUnavailableError) else "unsupported"
            return {"status": status, "reason": str(exc)}
        row_c: list[str] = []
        for p, (enc, why) in zip(res.points(), truths[objective][i], strict=True):
            g, v = float(p.grad), float(p.value)
            row_c.append(
                why if enc is None else classify_cell(g, v, enc, dtype, objective, p.diagnostics)[0]
            )
        classes.append(row_c)
        grads.append([float(p.grad).hex() for p in res.points()])
        zero.append([getattr(p.diagnostics, "sqrt_at_zero", None) for p in res.points()])
    out: dict[str, Any] = {"status": "ok", "reason": None, "classes": classes, "grad": grads}
    if optimizer == "adam":
        out["sqrt_at_zero"] = zero
    return out


def _maps(
    problem: Quadratic,
    etas: list[float],
    rows: Sequence[tuple[int, dict[str, Any]]],
    truths: dict[str, list[list[tuple[truth.Enclosure | None, str]]]],
    run: tuple[Sequence[str], Sequence[str], Sequence[str]],
    optimizer: str,
    tick: Callable[[int], None],
) -> dict[str, Any]:
    """maps[backend][dtype][objective] for every backend, dtype and objective of ``truths``;
    ``run`` = (backends, dtypes, library_dtypes): a backend other than numpy runs only the
    library dtypes (status ``not_run`` elsewhere, with the reason)."""
    backends, dtypes, library_dtypes = run
    out: dict[str, Any] = {}
    for name in backends:
        out[name] = {}
        numpy = BACKEND_CHOICES[name][0] == "numpy"
        for dt in dtypes:
            out[name][dt] = {}
            for obj in truths:
                if numpy or dt in library_dtypes:
                    entry = _run_map(problem, etas, rows, truths, name, dt, obj, optimizer)
                else:
                    entry = {"status": "not_run", "reason": NOT_RUN}
                out[name][dt][obj] = entry
                tick(len(rows))
    return out


def _counts(classes: list[list[str]]) -> dict[str, int]:
    flat = [c for row in classes for c in row]
    out = {"cells": len(flat)}
    for c in (*OUTCOME_CLASSES, *CELL_STATUSES):
        out[c] = flat.count(c)
    return out


def _agreement(classes: list[list[str]], predicted: list[list[str]]) -> dict[str, int]:
    """Prediction against observation, in cells ("failed": a failure class; "ok": accurate
    or inaccurate; cells without a class are left out)."""
    out = dict.fromkeys(
        (
            "predicted_fails_and_failed",
            "predicted_fails_but_ok",
            "predicted_safe_and_ok",
            "predicted_safe_but_failed",
            "predicted_boundary",
        ),
        0,
    )
    for crow, prow in zip(classes, predicted, strict=True):
        for c, p in zip(crow, prow, strict=True):
            if c in CELL_STATUSES:
                continue
            failed = c in FAILURE_CLASSES
            if p == "boundary":
                out["predicted_boundary"] += 1
            elif p == "fails":
                out["predicted_fails_and_failed" if failed else "predicted_fails_but_ok"] += 1
            else:
                out["predicted_safe_but_failed" if failed else "predicted_safe_and_ok"] += 1
    return out


def _summary(
    maps: dict[str, Any], predicted: dict[str, Any] | None, rho_grid: list[list[float]] | None
) -> list[dict[str, Any]]:
    """Per backend x dtype x objective: the class counts; for the log objective the
    agreement with the rho-growth prediction; with ``rho_grid`` the failures where rho < 1
    and the cells that did not fail where rho > 1."""
    rows = []
    for name, per_dtype in maps.items():
        for dt, per_obj in per_dtype.items():
            for obj, entry in per_obj.items():
                row: dict[str, Any] = {
                    "backend": name,
                    "dtype": dt,
                    "objective": obj,
                    "status": entry["status"],
                }
                if entry["status"] == "ok":
                    row.update(_counts(entry["classes"]))
                    if predicted is not None and obj == "log":
                        row.update(_agreement(entry["classes"], predicted[dt]))
                    if rho_grid is not None:
                        row.update(_rho_counts(entry["classes"], rho_grid))
                rows.append(row)
    return rows


def _rho_counts(classes: list[list[str]], rho_grid: list[list[float]]) -> dict[str, int]:
    """Failures inside the stable region (rho < 1) and cells that did not fail beyond it."""
    inside = outside = ok_outside = 0
    for crow, rrow in zip(classes, rho_grid, strict=True):
        for c, r in zip(crow, rrow, strict=True):
            if c in CELL_STATUSES:
                continue
            if r < 1.0:
                inside += c in FAILURE_CLASSES
            else:
                outside += c in FAILURE_CLASSES
                ok_outside += c not in FAILURE_CLASSES
    return {
        "failed_rho_below_1": inside,
        "failed_rho_at_least_1": outside,
        "ok_rho_at_least_1": ok_outside,
    }


# ------------------------------------------------------------------------------ heavy ball
def _exact_etas(fractions: list[float], L: float) -> list[float]:
    """eta = fraction x 2/L rounded to float32 (then exact in float32 and float64, so every
    backend and the truth see the same step size)."""
    return [float(np.float32(f * 2 / L)) for f in fractions]


def momentum_section(
    problem: Quadratic, params: dict[str, Any], progress: Progress
) -> dict[str, Any]:
    """Heavy-ball outcome maps over (eta, beta) and (eta, t), both objectives, with rho.

    ``beta_map``: horizon ``params["beta_t"]``, momenta ``params["betas"]``; ``t_map``:
    momentum ``params["t_beta"]``, horizons ``params["horizons"]``. Each map holds, per cell,
    the spectral radius rho(eta, beta) (:func:`rho` on the certified alpha, L), the certified
    F' (relative radius <= 2^-80, rounded once to float64; hex) per objective, the rho-growth
    prediction per dtype (:func:`predict_cell`), and per backend x dtype x objective the
    class (:func:`classify_cell`) and the float result (hex; bits of error are not stored:
    the committed report must stay under 5 MB, and the class already says <= 1 ulp or not).
    ``boundary`` holds the line rho = 1 over beta (:func:`rho_one`).

    Guarantee
    ---------
    Truth from :func:`verify.truth.meta_gradient` (``optimizer="heavy_ball"``, beta and eta
    exact); rho and the prediction are float64 models.
    """
    spec = problem.spectral_enclosures()
    L, alpha = spec["L"].to_float("float64"), spec["alpha"].to_float("float64")
    lams = (alpha, L)
    fracs = eta_fractions(params["eta_step"], params["eta_max"])
    etas = _exact_etas(fracs, L)
    w0 = np.asarray(problem.w0, dtype=float)
    ln_f0 = math.log(problem.loss(w0))
    backends, dtypes = list(params["backends"]), list(params["dtypes"])
    run = (backends, dtypes, list(params["library_dtypes"]))
    betas = [float(b) for b in params["betas"]]
    horizons = list(params["horizons"])
    rows_beta = [(int(params["beta_t"]), {"beta": b}) for b in betas]
    rows_t = [(t, {"beta": float(params["t_beta"])}) for t in horizons]
    total = 2 * (len(rows_beta) + len(rows_t)) * (1 + len(backends) * len(dtypes))
    done = 0

    def tick(steps: int) -> None:
        nonlocal done
        done += steps
        progress(done, total)

    out: dict[str, Any] = {
        "optimizer": "heavy_ball",
        "backends": backends,
        "dtypes": dtypes,
        "library_dtypes": run[2],
        "objectives": ["naive", "log"],
        "classification": NO_BOUND,
        "eta_times_L_over_2": fracs,
        "eta": [e.hex() for e in etas],
        "ln_f0": round(ln_f0, 6),
        "margin_nats": round(MOMENTUM_MARGIN_NATS + math.log(problem.d), 6),
    }
    for key, rows in (("beta_map", rows_beta), ("t_map", rows_t)):
        truths = {
            obj: [[_hb_truth(problem, e, t, obj, s["beta"]) for e in etas] for t, s in rows]
            for obj in ("naive", "log")
        }
        tick(2 * len(rows))
        rho_grid = [[rho(lams, e, s["beta"]) for e in etas] for _, s in rows]
        predicted = {
            dt: [
                [predict_cell(ln_loss_model(ln_f0, r, t), t, problem.d, dt) for r in rrow]
                for (t, _), rrow in zip(rows, rho_grid, strict=True)
            ]
            for dt in dtypes
        }
        maps = _maps(problem, etas, rows, truths, run, "heavy_ball", tick)
        out[key] = {
            "t": [t for t, _ in rows],
            "beta": [s["beta"] for _, s in rows],
            "rho": [[round(r, 6) for r in rrow] for rrow in rho_grid],
            "truth": {
                obj: [[_hex(enc, why) for enc, why in row] for row in truths[obj]] for obj in truths
            },
            "predicted": predicted,
            "maps": maps,
            "summary": _summary(maps, predicted, rho_grid),
        }
    fine = [k / 64 for k in range(64)]
    eta_top = 2 * params["eta_max"] * 2 / L

    def line(level: float) -> list[float | None]:
        return [
            None if (e := rho_one(lams, b, eta_top, level)) is None else round(e * L / 2, 6)
            for b in fine
        ]

    t_fix = int(params["beta_t"])
    out["boundary"] = {
        "beta": fine,
        "rho_1": line(1.0),
        "fails": {dt: line(fails_level(ln_f0, t_fix, problem.d, dt)) for dt in dtypes},
    }
    beta_t = float(params["t_beta"])
    out["t_boundary"] = _t_boundary(lams, ln_f0, beta_t, fracs, L, problem.d, dtypes)
    return out


def _t_boundary(
    lams: tuple[float, float],
    ln_f0: float,
    beta: float,
    fracs: list[float],
    L: float,
    d: int,
    dtypes: Sequence[str],
) -> dict[str, Any]:
    """Per dtype and step size (a 4x finer grid than the map's): the horizon from which the
    rho-growth model predicts ``fails`` (None: none up to 10^6); and the step size where
    rho(eta, beta) = 1 (``rho_1``, in multiples of 2/L)."""
    step = fracs[0] / 4
    fine = [round(step * k, 6) for k in range(1, 4 * len(fracs) + 1)]
    one = rho_one(lams, beta, 2 * fracs[-1] * 2 / L)
    out: dict[str, Any] = {
        "eta_times_L_over_2": fine,
        "rho_1": None if one is None else round(one * L / 2, 6),
    }
    for dt in dtypes:
        firsts: list[int | None] = []
        for f in fine:
            r = rho(lams, f * 2 / L, beta)
            firsts.append(_first_fail(ln_f0, r, d, dt))
        out[dt] = firsts
    return out


def _first_fail(ln_f0: float, r: float, d: int, dtype: str) -> int | None:
    """Smallest t <= 10^6 with :func:`predict_cell` = ``fails`` (bisection on t: the margin
    grows like ln t, the model linearly, so past the crossing it stays ``fails``)."""
    top = 10**6
    if r == 1.0 or predict_cell(ln_loss_model(ln_f0, r, top), top, d, dtype) != "fails":
        return None
    lo, hi = 0, top
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if predict_cell(ln_loss_model(ln_f0, r, mid), mid, d, dtype) == "fails":
            hi = mid
        else:
            lo = mid
    return hi


# ------------------------------------------------------------------------------ Adam
def zero_moment_problem(problem: Quadratic, lam: float = 1.0) -> Quadratic:
    """``problem`` with one more coordinate that no gradient reaches: H' = diag(H, lam),
    w0' = (w0, 0). Its gradient entry is exactly 0 at every step, so Adam's second moment
    there is exactly 0 and autodiff differentiates sqrt at 0 (d sqrt(v)/dv = inf, times an
    adjoint or tangent 0: NaN); the exact meta-gradient exists (Case A of
    :mod:`verify.truth.adam`) and equals the original problem's."""
    d = problem.d
    H = np.zeros((d + 1, d + 1))
    H[:d, :d] = problem.H
    H[d, d] = lam
    w0 = np.append(np.asarray(problem.w0, dtype=float), 0.0)
    b = None if problem.b is None else np.append(problem.b, 0.0)
    return Quadratic(H, w0=w0, b=b, c=problem.c)


def _adam_truths(
    problem: Quadratic, etas: list[float], horizons: list[int], objectives: Sequence[str]
) -> dict[str, list[list[tuple[truth.Enclosure | None, str]]]]:
    def one(e: float, t: int, obj: str) -> tuple[truth.Enclosure | None, str]:
        s = ADAM_SETTINGS
        return _truth_cell(
            lambda: truth.adam_meta_gradient(
                problem, e, t, objective=obj, beta1=s["beta1"], beta2=s["beta2"], eps=s["eps"]
            )
        )

    return {obj: [[one(e, t, obj) for e in etas] for t in horizons] for obj in objectives}


def _adam_map(
    problem: Quadratic,
    etas: list[float],
    horizons: list[int],
    objectives: Sequence[str],
    run: tuple[Sequence[str], Sequence[str], Sequence[str]],
    tick: Callable[[int], None],
) -> dict[str, Any]:
    truths = _adam_truths(problem, etas, horizons, objectives)
    tick(len(objectives) * len(horizons))
    rows = [(t, dict(ADAM_SETTINGS)) for t in horizons]
    maps = _maps(problem, etas, rows, truths, run, "adam", tick)
    return {
        "t": horizons,
        "truth": {
            obj: [[_hex(enc, why) for enc, why in row] for row in truths[obj]] for obj in truths
        },
        "maps": maps,
        "summary": _summary(maps, None, None),
        "nan": _nan_verdicts(maps),
    }


def _nan_verdicts(maps: dict[str, Any]) -> list[dict[str, Any]]:
    """Per backend x dtype x objective: the NaN cells, how many had vhat = 0 in the float
    run (``sqrt_at_zero``), and the certified verdict there (how many have a derivative:
    the NaN is a failure; how many have none: the NaN misses nothing)."""
    rows = []
    for name, per_dtype in maps.items():
        for dt, per_obj in per_dtype.items():
            for obj, entry in per_obj.items():
                if entry["status"] != "ok":
                    continue
                nan = exists = none = at_zero = 0
                for crow, grow, zrow in zip(
                    entry["classes"], entry["grad"], entry["sqrt_at_zero"], strict=True
                ):
                    for c, g, z in zip(crow, grow, zrow, strict=True):
                        if not math.isnan(float.fromhex(g)):
                            continue
                        nan += 1
                        at_zero += z is not None
                        exists += c == "nan"
                        none += c == "no_derivative"
                rows.append(
                    {
                        "backend": name,
                        "dtype": dt,
                        "objective": obj,
                        "nan": nan,
                        "nan_sqrt_at_zero": at_zero,
                        "nan_derivative_exists": exists,
                        "nan_no_derivative": none,
                    }
                )
    return rows


def _kink(run: tuple[Sequence[str], Sequence[str], Sequence[str]]) -> dict[str, Any]:
    """The kink of :data:`KINK` (beta1 = 1/2: no derivative) beside RMSProp (beta1 = 0: the
    derivative exists), evaluated by every backend: the float result, vhat = 0 in the run,
    the certified verdict and the cell's class or status (frameworks and libraries in the
    library dtypes of ``run`` only)."""
    backends, dtypes, library_dtypes = run
    p = Quadratic([[1.0]], w0=[1.0])
    k = KINK
    rows = []
    for b1 in k["beta1"]:
        try:
            enc: truth.Enclosure | None = truth.adam_meta_gradient(
                p, k["eta"], k["t"], beta1=b1, beta2=k["beta2"], eps=k["eps"], objective="naive"
            )
            verdict = f"exists: F' = {enc.to_float('float64')!r}"  # type: ignore[union-attr]
        except NotDifferentiableError as exc:
            enc = None
            verdict = (
                f"no derivative: right {exc.right.to_float('float64')!r}, "
                f"left {exc.left.to_float('float64')!r}"
            )
        for name in backends:
            backend, mode = BACKEND_CHOICES[name]
            for dt in dtypes:
                if backend != "numpy" and dt not in library_dtypes:
                    continue
                row: dict[str, Any] = {"beta1": b1, "backend": name, "dtype": dt}
                row["certified"] = verdict
                try:
                    r = meta_gradient(
                        p,
                        k["eta"],
                        k["t"],
                        objective="naive",
                        dtype=dt,
                        backend=backend,
                        mode=mode,
                        optimizer="adam",
                        beta1=b1,
                        beta2=k["beta2"],
                        eps=k["eps"],
                    )
                except (BackendUnavailableError, UnsupportedOptionError) as exc:
                    row.update(status="unavailable", reason=str(exc))
                    rows.append(row)
                    continue
                g = float(r.grad)
                row.update(status="ok", grad=g.hex(), sqrt_at_zero=r.diagnostics.sqrt_at_zero)
                row["cell"] = (
                    "no_derivative"
                    if enc is None
                    else classify_cell(g, float(r.value), enc, dt, "naive", r.diagnostics)[0]
                )
                rows.append(row)
    return {**{key: v for key, v in k.items() if key != "beta1"}, "rows": rows}


def adam_section(problem: Quadratic, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Adam outcome maps over (eta, t): the report's problem (both objectives) and the
    zero-second-moment problem (:func:`zero_moment_problem`, log objective), with the
    certified verdict at every NaN; and the kink (:data:`KINK`).

    Learning rates 2^-k, k in ``params["lr_exponents"]`` (exact in every dtype); settings
    :data:`ADAM_SETTINGS`.

    Guarantee
    ---------
    Truth from :func:`verify.truth.adam_meta_gradient` (forward mode in Arb, relative radius
    <= 2^-80), or a certified :class:`NotDifferentiableError`; classes by
    :func:`classify_cell`.
    """
    etas = [2.0 ** -int(k) for k in params["lr_exponents"]]
    backends, zero_backends = list(params["backends"]), list(params["zero_backends"])
    dtypes = list(params["dtypes"])
    run = (backends, dtypes, list(params["library_dtypes"]))
    horizons, zero_h = list(params["horizons"]), list(params["zero_horizons"])
    total = 2 * len(horizons) * (1 + len(backends) * len(dtypes)) + len(zero_h) * (
        1 + len(zero_backends) * len(dtypes)
    )
    done = 0

    def tick(steps: int) -> None:
        nonlocal done
        done += steps
        progress(done, total)

    zp = zero_moment_problem(problem)
    return {
        "optimizer": "adam",
        "settings": dict(ADAM_SETTINGS),
        "classification": NO_BOUND,
        "backends": backends,
        "zero_backends": zero_backends,
        "dtypes": dtypes,
        "library_dtypes": run[2],
        "lr_exponents": [int(k) for k in params["lr_exponents"]],
        "eta": [e.hex() for e in etas],
        "t_map": _adam_map(problem, etas, horizons, ("naive", "log"), run, tick),
        "zero_map": {
            "fingerprint": zp.fingerprint,
            **_adam_map(zp, etas, zero_h, ("log",), (zero_backends, *run[1:]), tick),
        },
        "kink": _kink((zero_backends, *run[1:])),
    }
