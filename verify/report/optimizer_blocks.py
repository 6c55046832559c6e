"""The pages and CSV files of the heavy-ball and Adam sections (data from
:mod:`verify.report.sections.optimizers`, figures from :mod:`verify.report.figures`)."""

from __future__ import annotations

from typing import Any

from .doc import Doc
from .doc import fmt as _f
from .sections.optimizers import CELL_STATUSES
from .settings import FAILURE_CLASSES, OUTCOME_CLASSES

__all__ = [
    "SUMMARY_COLUMNS",
    "adam_block",
    "momentum_block",
    "optimizer_csvs",
]

_PREDICTION = (
    "predicted_fails_and_failed",
    "predicted_fails_but_ok",
    "predicted_safe_and_ok",
    "predicted_safe_but_failed",
    "predicted_boundary",
)
_RHO = ("failed_rho_below_1", "failed_rho_at_least_1", "ok_rho_at_least_1")
_NAN = ("nan_sqrt_at_zero", "nan_derivative_exists", "nan_no_derivative")
#: Columns of csv/momentum_summary.csv and csv/adam_summary.csv (one row per map x backend x
#: dtype x objective; a column a map does not have is empty).
SUMMARY_COLUMNS: tuple[str, ...] = (
    "map",
    "backend",
    "dtype",
    "objective",
    "status",
    "cells",
    *OUTCOME_CLASSES,
    *CELL_STATUSES,
    *_PREDICTION,
    *_RHO,
    *_NAN,
)
_KINK_COLUMNS = ("beta1", "backend", "dtype", "status", "grad", "sqrt_at_zero", "certified", "cell")


def _totals(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> dict[str, int]:
    return {k: sum(int(r.get(k, 0)) for r in rows if r["status"] == "ok") for k in keys}


def _count_table(doc: Doc, rows: list[dict[str, Any]], extra: tuple[str, ...]) -> None:
    """Class counts per backend x dtype x objective, then the ``extra`` columns."""
    statuses = tuple(CELL_STATUSES)
    header = ["backend", "dtype", "objective", "N", *OUTCOME_CLASSES, *statuses, *extra]
    body = []
    for r in rows:
        if r["status"] != "ok":
            body.append(
                [r["backend"], r["dtype"], r["objective"], r["status"]] + [""] * (len(header) - 4)
            )
            continue
        body.append(
            [r["backend"], r["dtype"], r["objective"], r["cells"]]
            + [r[c] for c in (*OUTCOME_CLASSES, *statuses)]
            + [_f(r.get(k)) for k in extra]
        )
    doc.table(header, body)


def _classes_note() -> str:
    return (
        "Classes: the outcome rules of section 2 (`verify.compare.judge_value`) without GD's "
        "error model (`verify.judge` refuses non-GD results: its model is GD's). `accurate` "
        "therefore means within 1 ulp of the certified value rounded once to the dtype (the "
        "dtype's representability of the exact value), and everything else finite, of the "
        "right sign and within a factor 2 is `inaccurate`: the split says how close to the last "
        "bit a result is, not whether it is within a derived bound. The failure classes "
        "(`nan`, `overflow`, `underflow`, `silently_wrong`) need no error model and are those "
        "of section 2. Grey cells carry no class: "
        + "; ".join(f"`{k}`: {v}" for k, v in CELL_STATUSES.items())
        + "."
    )


def momentum_block(doc: Doc, mo: dict[str, Any], figs: dict[str, str]) -> None:
    """Section 5: heavy-ball outcome maps, counts, agreement with rho(eta, beta) = 1."""
    bm, tm = mo["beta_map"], mo["t_map"]
    fr = mo["eta_times_L_over_2"]
    doc.h(2, "5. Heavy-ball momentum outcome maps", "momentum")
    doc.p(
        "Heavy ball w_{k+1} = w_k - eta grad f(w_k) + beta (w_k - w_{k-1}), w_{-1} = w_0, on "
        f"the report's problem. Each system computes F'(eta) (beta fixed) for both objectives "
        f"in {', '.join(mo['dtypes'])}, batched over {len(fr)} step sizes ({fr[0]:g} to "
        f"{fr[-1]:g} x 2/L, each rounded to float32 so that every dtype and the truth see the "
        f"same number): over (eta, beta) at t = {bm['t'][0]} for beta in "
        f"{{{', '.join(f'{b:g}' for b in bm['beta'])}}} (dyadic: exact in "
        f"every dtype), and over (eta, t) at beta = {tm['beta'][0]:g} for t in "
        f"{{{', '.join(str(t) for t in tm['t'])}}}. Truth: `verify.truth.meta_gradient(..., "
        "optimizer='heavy_ball')`, relative radius <= 2^-80, beta and eta exact. Systems: "
        f"{', '.join(mo['backends'])}; frameworks and libraries run in "
        f"{', '.join(mo['library_dtypes']) or 'no dtype'} in this mode (`--full`: every "
        "selected library in every dtype). beta = 0 is plain GD (run through the heavy-ball code)."
    )
    doc.p(_classes_note())
    doc.p(
        "Solid line: rho(eta, beta) = 1, where rho is the largest modulus of the roots of "
        "z^2 - (1 + beta - eta lambda) z + beta over the spectrum (attained at alpha or L; "
        "float64 from the certified alpha, L); for the top eigenvalue it is eta = (1 + beta) "
        "2/L. Right of it the iteration explodes and f(w_t) grows like rho^(2t). Dashed (log "
        "objective): the rho-growth model ln f(w_t) ~ ln f(w_0) + 2t ln rho puts f(w_t) "
        "beyond the dtype's largest number by more than a margin (ln 2 + 2 + ln d + "
        "2 ln(t + 1) nats: the model ignores the mode weights and the (t + 1) factor of a "
        "double root), so plain backprop of (1/t) log f must fail there (inf, NaN or a "
        "spurious 0). It is a model: with complex roots f(w_t) oscillates below it, and the "
        "counts below say where it is contradicted."
    )
    for key, label in (("beta_map", "(eta, beta)"), ("t_map", "(eta, t)")):
        m = mo[key]
        rows = m["summary"]
        tot = _totals(rows, ("cells", *FAILURE_CLASSES, *_RHO, *_PREDICTION))
        failed = sum(tot[c] for c in FAILURE_CLASSES)
        doc.h(3, f"Heavy ball over {label}", f"momentum-{key.split('_')[0]}")
        doc.p(
            f"{tot['cells']} cells over all maps ({len(rows)} backend x dtype x objective "
            f"maps); {failed} failed. Failures where rho < 1 (inside the stable region): "
            f"{tot['failed_rho_below_1']}; failures at rho >= 1: "
            f"{tot['failed_rho_at_least_1']}; cells at rho >= 1 that did not fail: "
            f"{tot['ok_rho_at_least_1']}. Log objective against the rho-growth model: "
            f"predicted fails and failed {tot['predicted_fails_and_failed']}, predicted fails "
            f"but did not {tot['predicted_fails_but_ok']}, predicted safe and did not fail "
            f"{tot['predicted_safe_and_ok']}, predicted safe but failed "
            f"{tot['predicted_safe_but_failed']} (contradictions: the two 'but' counts), in "
            f"the margin {tot['predicted_boundary']}."
        )
        _count_table(doc, rows, (*_RHO, *_PREDICTION))
        stem = "momentum_beta" if key == "beta_map" else "momentum_t"
        if stem in figs:
            doc.img(figs[stem], f"heavy ball over {label}: outcome classes")


def adam_block(doc: Doc, ad: dict[str, Any], figs: dict[str, str]) -> None:
    """Section 6: Adam outcome maps, the NaN cells and their certified verdicts, the kink."""
    s = ad["settings"]
    doc.h(2, "6. Adam outcome maps", "adam")
    doc.p(
        "Adam with bias correction (as `torch.optim.Adam` / `optax.adam`; RMSProp is "
        f"beta1 = 0) with torch's defaults beta1 = {s['beta1']:g}, beta2 = {s['beta2']:g}, "
        f"eps = {s['eps']:g}, learning rates eta = 2^-k for k in "
        f"{{{', '.join(str(k) for k in ad['lr_exponents'])}}} (exact in every dtype), over "
        f"(eta, t): on the report's problem (t in {{{', '.join(map(str, ad['t_map']['t']))}}},"
        " both objectives; systems "
        f"{', '.join(ad['backends'])}), and on the zero-second-moment problem: the report's "
        "problem with one more coordinate, w_0 = 0 there and no coupling to the others, so its "
        "gradient is exactly 0 at every step and so is Adam's second moment (a parameter that "
        "never receives a gradient; t in "
        f"{{{', '.join(map(str, ad['zero_map']['t']))}}}, log objective; systems "
        f"{', '.join(ad['zero_backends'])}). The exact meta-gradient exists there and equals "
        "the report's problem's (the sqrt path contributes exactly 0); autodiff forms "
        "d sqrt(v)/dv = inf times an adjoint or tangent 0 = NaN. Truth: "
        "`verify.truth.adam_meta_gradient` (forward mode in Arb, relative radius <= 2^-80) or "
        "a certified `NotDifferentiableError`. Frameworks and libraries run in "
        f"{', '.join(ad['library_dtypes']) or 'no dtype'} in this mode. A ring marks a cell "
        "whose float run had a zero entry of vhat (`diagnostics.sqrt_at_zero`; numpy and "
        "torch report it, the clients do not)."
    )
    doc.p(_classes_note())
    for key, label in (("t_map", "report's problem"), ("zero_map", "zero second moment")):
        m = ad[key]
        rows = m["summary"]
        tot = _totals(rows, ("cells", *FAILURE_CLASSES))
        nan = {k: sum(r[k] for r in m["nan"]) for k in ("nan", *_NAN)}
        doc.h(3, f"Adam, {label}", f"adam-{key.split('_')[0]}")
        doc.p(
            f"{tot['cells']} cells over {len(rows)} maps; "
            f"{sum(tot[c] for c in FAILURE_CLASSES)} failed. NaN results: {nan['nan']}, of "
            f"which {nan['nan_sqrt_at_zero']} had vhat = 0 in the float run; the certified "
            f"verdict there: the derivative exists at {nan['nan_derivative_exists']} (a NaN "
            f"there is a failure, class `nan`), does not exist at {nan['nan_no_derivative']} "
            "(the NaN misses no value)."
        )
        _count_table(doc, rows, ())
        doc.table(
            ["backend", "dtype", "objective", "NaN", *_NAN],
            [
                [r["backend"], r["dtype"], r["objective"], r["nan"], *[r[k] for k in _NAN]]
                for r in m["nan"]
            ],
        )
        stem = "adam_t" if key == "t_map" else "adam_zero"
        if stem in figs:
            doc.img(figs[stem], f"Adam over (eta, t), {label}: outcome classes")
    _kink_block(doc, ad["kink"])


def _kink_block(doc: Doc, k: dict[str, Any]) -> None:
    doc.h(3, "Where no meta-gradient exists: beta2 = 0", "adam-kink")
    doc.p(
        f"d = 1, H = [[1]], w_0 = 1, beta2 = {k['beta2']:g}, eps = {k['eps']:g}, eta = "
        f"{k['eta']:g}, t = {k['t']}, naive objective: w_1 = 0 exactly, so vhat = g_1^2 = 0 at "
        "step 2. With beta1 = 1/2 the first moment remembers g_0 (mhat != 0) and "
        "sqrt(vhat) = |g_1| puts a kink in F: the certified one-sided derivatives differ "
        "(`NotDifferentiableError`) and a NaN there misses no value (`no_derivative`). With "
        "beta1 = 0 (RMSProp) mhat = 0 there and the derivative exists: a NaN is a failure."
    )
    doc.table(
        ["beta1", "backend", "dtype", "result", "vhat = 0 at step", "certified", "cell"],
        [
            [
                _f(r["beta1"], "g"),
                r["backend"],
                r["dtype"],
                float.fromhex(r["grad"]) if r["status"] == "ok" else r["status"],
                _f(r.get("sqrt_at_zero")),
                r["certified"],
                r.get("cell", "-"),
            ]
            for r in k["rows"]
        ],
    )


# ------------------------------------------------------------------------------ CSV
def _summary_rows(sections: dict[str, dict[str, Any]]) -> list[list[Any]]:
    out = []
    for key, m in sections.items():
        nan = {(r["backend"], r["dtype"], r["objective"]): r for r in m.get("nan", [])}
        for r in m["summary"]:
            full = {**r, **nan.get((r["backend"], r["dtype"], r["objective"]), {}), "map": key}
            out.append([full.get(c, "") for c in SUMMARY_COLUMNS])
    return out


def optimizer_csvs(sec: dict[str, Any]) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """The CSV tables of the heavy-ball and Adam sections present in ``sec``: file name ->
    (header, rows): the summaries and the kink. The per-cell values are in ``data.json``
    only (a per-cell CSV would take the committed report past its 5 MB)."""
    files: dict[str, tuple[list[str], list[list[Any]]]] = {}
    if "momentum" in sec:
        mo = sec["momentum"]
        files["momentum_summary.csv"] = (
            list(SUMMARY_COLUMNS),
            _summary_rows({k: mo[k] for k in ("beta_map", "t_map")}),
        )
    if "adam" in sec:
        ad = sec["adam"]
        files["adam_summary.csv"] = (
            list(SUMMARY_COLUMNS),
            _summary_rows({k: ad[k] for k in ("t_map", "zero_map")}),
        )
        files["adam_kink.csv"] = (
            list(_KINK_COLUMNS),
            [[r.get(c, "") for c in _KINK_COLUMNS] for r in ad["kink"]["rows"]],
        )
    return files
