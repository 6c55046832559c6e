"""The heavy-ball and Adam sections of the report (verify.report.sections.optimizers).

Each section is called with tiny grids on small problems; the checks are ones a wrong section
fails: every class is one of the outcome registry (or a documented cell status), a cell's class
is the one its own certified truth gives (a transposed or shifted grid is caught), the counts
add up to the grid, rho and the boundary rho = 1 agree with the companion matrices'
eigenvalues computed independently by numpy (a wrong boundary is caught, shown on one), the
agreement counts count contradictions, and Adam's NaN cells carry the certified verdict.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from verify import truth
from verify.certified.enclosure import Enclosure
from verify.outcomes import OUTCOME_NAMES
from verify.problems import Quadratic
from verify.report import REPORT_FORMAT_VERSION, sections
from verify.report.sections import optimizers as opt

PROBLEM = Quadratic.random(4, seed=3)
CLASSES = set(OUTCOME_NAMES) | set(opt.CELL_STATUSES)
# rho is a float64 model: independent float64 eigenvalue routes agree to a few ulps of the
# root's modulus (np.roots is a companion-matrix eigensolver, backward stable), so 1e-12
# relative is ~5000 ulps of slack; a wrong formula is off by O(1).
RHO_RTOL = 1e-12


def _quiet(done: int, total: int) -> None:
    pass


def _momentum(**over: Any) -> dict[str, Any]:
    params = {
        "seed": 3,
        "d": 4,
        "mode": "quick",
        "eta_step": 0.5,
        "eta_max": 2.0,
        "betas": (0.0, 0.5),
        "beta_t": 40,
        "t_beta": 0.5,
        "horizons": (1, 40),
        "backends": ["numpy-reverse"],
        "dtypes": ["float32"],
        "library_dtypes": ["float32"],
        **over,
    }
    data = opt.momentum_section(PROBLEM, params, _quiet)
    return dict(json.loads(json.dumps(data, allow_nan=False)))


@pytest.fixture(scope="module")
def momentum() -> dict[str, Any]:
    return _momentum()


def _grid_classes(m: dict[str, Any]) -> list[str]:
    return [
        c
        for per_dtype in m["maps"].values()
        for per_obj in per_dtype.values()
        for entry in per_obj.values()
        if entry["status"] == "ok"
        for row in entry["classes"]
        for c in row
    ]


def test_momentum_structure_classes_and_counts(momentum: dict[str, Any]) -> None:
    n_eta = len(momentum["eta_times_L_over_2"])
    assert n_eta == 4 and momentum["objectives"] == ["naive", "log"]
    for key, rows in (("beta_map", 2), ("t_map", 2)):
        m = momentum[key]
        assert len(m["rho"]) == rows and all(len(r) == n_eta for r in m["rho"])
        entry = m["maps"]["numpy-reverse"]["float32"]["log"]
        assert entry["status"] == "ok"
        assert [len(r) for r in entry["classes"]] == [n_eta] * rows
        assert set(_grid_classes(m)) <= CLASSES
        for row in m["summary"]:
            counted = sum(row[c] for c in CLASSES)
            assert counted == row["cells"] == rows * n_eta, row
    # the explosive corner (eta = 2 x 2/L, rho > 1 at t = 40) fails in float32: the map
    # is not all one class
    log = momentum["beta_map"]["maps"]["numpy-reverse"]["float32"]["log"]["classes"]
    assert log[0][-1] in sections.FAILURE_CLASSES and log[0][0] not in sections.FAILURE_CLASSES


def test_cells_are_classified_against_their_own_truth(momentum: dict[str, Any]) -> None:
    """Recompute the certified truth of every log cell of the (eta, t) map and classify the
    stored float result: a transposed, shifted or mis-keyed grid disagrees."""
    m = momentum["t_map"]
    entry = m["maps"]["numpy-reverse"]["float32"]["log"]
    for i, t in enumerate(m["t"]):
        for j, e in enumerate(momentum["eta"]):
            enc = truth.meta_gradient(
                PROBLEM,
                Fraction(float.fromhex(e)),
                t,
                objective="log",
                optimizer="heavy_ball",
                beta=Fraction(m["beta"][i]),
            )
            assert m["truth"]["log"][i][j] == enc.to_float("float64").hex()
            g = float.fromhex(entry["grad"][i][j])
            if math.isnan(g) or entry["classes"][i][j] in opt.CELL_STATUSES:
                continue
            # the stored class needs the run's diagnostics only for zero results
            if g != 0:
                assert (
                    opt.classify_cell(g, math.nan, enc, "float32", "log")[0]
                    == (entry["classes"][i][j])
                ), (i, j)


def test_classification_without_gd_error_model() -> None:
    """1 ulp is accurate, 2 ulps is inaccurate (no bound), the failure classes as the judge."""
    x = 1.0 + 2.0**-20  # exact in float32
    enc = Enclosure.exact(Fraction(x))
    two_ulps = x + 2 * 2.0**-23
    assert opt.classify_cell(x, 0.0, enc, "float32", "log")[0] == "accurate"
    assert opt.classify_cell(x + 2.0**-23, 0.0, enc, "float32", "log")[0] == "accurate"
    assert opt.classify_cell(two_ulps, 0.0, enc, "float32", "log")[0] == "inaccurate"
    assert opt.classify_cell(math.nan, 0.0, enc, "float32", "log")[0] == "nan"
    assert opt.classify_cell(math.inf, 0.0, enc, "float32", "log")[0] == "overflow"
    assert opt.classify_cell(-x, 0.0, enc, "float32", "log")[0] == "silently_wrong"
    assert opt.classify_cell(3 * x, 0.0, enc, "float32", "log")[0] == "silently_wrong"
    # bits of error are log2(1 + ulps) in the dtype
    assert opt.classify_cell(two_ulps, 0.0, enc, "float32", "log")[1] == pytest.approx(
        math.log2(3.0), rel=0, abs=1e-12
    )


def _numpy_rho(lams: Sequence[float], eta: float, beta: float) -> float:
    """rho from the companion matrices' roots (numpy), independent of :func:`opt.rho`."""
    return max(
        float(np.max(np.abs(np.roots([1.0, -(1 + beta - eta * lam), beta])))) for lam in lams
    )


def _rho_mismatches(rho: Callable[[Sequence[float], float, float], float]) -> list[str]:
    lams = (PROBLEM.alpha, 0.3 * PROBLEM.L, PROBLEM.L)
    bad = []
    for beta in (0.0, 0.25, 0.5, 0.9375):
        for f in np.linspace(0.05, 2.5, 23):
            eta = float(f) * 2 / PROBLEM.L
            want, got = _numpy_rho(lams, eta, beta), rho(lams, eta, beta)
            if not math.isclose(got, want, rel_tol=RHO_RTOL):
                bad.append(f"beta={beta} eta={eta!r}: {got!r} != {want!r}")
    return bad


def test_rho_agrees_with_companion_eigenvalues_and_a_wrong_rho_is_caught() -> None:
    assert _rho_mismatches(opt.rho) == []

    def real_roots_only(lams: Sequence[float], eta: float, beta: float) -> float:
        return max(abs(1 + beta - eta * lam) for lam in lams)  # GD's |1 - eta lam| + beta

    assert len(_rho_mismatches(real_roots_only)) > 10


# The drawn rho = 1 line against the exact crossing eta = (1 + beta) 2/L. At the crossing the
# top mode has |a| = 1 + beta and sqrt(a^2 - 4 beta) = 1 - beta, so eta d(rho)/d(eta) =
# 2 (1 + beta) / (1 - beta) >= 2: a float64 rho accurate to a few ulps (say 16 u, u = 2^-53)
# moves the bisected crossing by at most 8 u relative, and at a relative offset p either side
# rho differs from 1 by at least 2 p. Both constants sit far above that rounding and far below
# any misplacement of the line worth catching (a wrong line is off by a factor, see the test).
LINE_REL_TOL = 2.0**-40
PROBE_REL = 2.0**-30


def _boundary_errors(line: list[float | None], fine: list[float]) -> list[str]:
    """The drawn rho = 1 line against eta = (1 + beta) 2/L from numpy's rho on both sides."""
    L, alpha = PROBLEM.L, PROBLEM.alpha
    bad = []
    for beta, frac in zip(fine, line, strict=True):
        if frac is None:
            bad.append(f"beta={beta}: no crossing")
            continue
        eta = frac * 2 / L
        below, above = (
            _numpy_rho((alpha, L), eta * (1 - PROBE_REL), beta),
            _numpy_rho((alpha, L), eta * (1 + PROBE_REL), beta),
        )
        if not below < 1.0 <= above or not math.isclose(frac, 1 + beta, rel_tol=LINE_REL_TOL):
            bad.append(f"beta={beta}: line at {frac} x 2/L")
    return bad


def test_boundary_is_rho_equal_one_and_a_wrong_boundary_is_caught(
    momentum: dict[str, Any],
) -> None:
    bnd = momentum["boundary"]
    assert _boundary_errors(bnd["rho_1"], bnd["beta"]) == []
    assert momentum["t_boundary"]["rho_1"] == pytest.approx(1.5, rel=1e-5)
    wrong = [2.0 / (1.0 + b) for b in bnd["beta"]]  # eta L = 4 / (1 + beta): not rho = 1
    assert len(_boundary_errors(wrong, bnd["beta"])) >= len(bnd["beta"]) - 1  # equal at 0


def test_model_failure_line_is_where_the_prediction_turns() -> None:
    """The dashed line of the (eta, beta) map is the level where predict_cell turns to
    'fails' (just above it: fails; just below: not)."""
    ln_f0 = math.log(PROBLEM.loss(PROBLEM.w0))
    for t in (40, 1000):
        c = opt.fails_level(ln_f0, t, PROBLEM.d, "float32")
        up = opt.predict_cell(opt.ln_loss_model(ln_f0, c * (1 + 1e-9), t), t, PROBLEM.d, "float32")
        down = opt.predict_cell(
            opt.ln_loss_model(ln_f0, c * (1 - 1e-9), t), t, PROBLEM.d, "float32"
        )
        assert (up, down) == ("fails", "boundary")


def test_agreement_counts_contradictions() -> None:
    classes = [["accurate", "nan", "inaccurate"], ["overflow", "no_truth", "accurate"]]
    predicted = [["fails", "fails", "safe"], ["safe", "fails", "boundary"]]
    got = opt._agreement(classes, predicted)
    assert got == {
        "predicted_fails_and_failed": 1,
        "predicted_fails_but_ok": 1,
        "predicted_safe_and_ok": 1,
        "predicted_safe_but_failed": 1,
        "predicted_boundary": 1,
    }
    rho_grid = [[0.5, 0.9, 1.2], [0.99, 1.5, 1.0]]
    assert opt._rho_counts(classes, rho_grid) == {
        "failed_rho_below_1": 2,
        "failed_rho_at_least_1": 0,
        "ok_rho_at_least_1": 2,
    }


# ------------------------------------------------------------------------------ Adam
@pytest.fixture(scope="module")
def adam() -> dict[str, Any]:
    params = {
        "seed": 3,
        "d": 4,
        "mode": "quick",
        "lr_exponents": (2, 6),
        "horizons": (1, 3),
        "zero_horizons": (3,),
        "backends": ["numpy-reverse"],
        "zero_backends": ["numpy-reverse", "numpy-forward"],
        "dtypes": ["float32", "float64"],
        "library_dtypes": ["float32"],
    }
    data = opt.adam_section(PROBLEM, params, _quiet)
    return dict(json.loads(json.dumps(data, allow_nan=False)))


def test_adam_structure_and_classes(adam: dict[str, Any]) -> None:
    assert adam["eta"] == [(0.25).hex(), (2.0**-6).hex()]
    for key in ("t_map", "zero_map"):
        assert set(_grid_classes(adam[key])) <= CLASSES
    zero = adam["zero_map"]["maps"]["numpy-forward"]["float32"]["log"]
    # the idle coordinate: vhat = 0 at every step, forward mode's tangent 0/0 = NaN, while the
    # exact meta-gradient exists (it equals the report problem's): class nan, a failure
    assert zero["classes"] == [["nan", "nan"]]
    assert all(z is not None for row in zero["sqrt_at_zero"] for z in row)
    assert adam["zero_map"]["truth"]["log"][0] == [
        truth.adam_meta_gradient(PROBLEM, e, 3, objective="log").to_float("float64").hex()
        for e in (0.25, 2.0**-6)
    ]
    nan = {(r["backend"], r["dtype"]): r for r in adam["zero_map"]["nan"]}
    fwd = nan[("numpy-forward", "float32")]
    assert fwd["nan"] == fwd["nan_sqrt_at_zero"] == fwd["nan_derivative_exists"] == 2
    assert fwd["nan_no_derivative"] == 0


def test_zero_moment_problem_is_exactly_the_report_problem_plus_an_idle_coordinate() -> None:
    zp = opt.zero_moment_problem(PROBLEM)
    d = PROBLEM.d
    assert zp.d == d + 1 and zp.w0[d] == 0.0 and not np.any(zp.H[d, :d]) and zp.H[d, d] == 1.0
    assert np.array_equal(zp.H[:d, :d], PROBLEM.H) and np.array_equal(zp.w0[:d], PROBLEM.w0)


def test_kink_no_derivative_and_rmsprop_nan(adam: dict[str, Any]) -> None:
    rows = adam["kink"]["rows"]
    assert {(r["backend"], r["dtype"]) for r in rows} == {
        ("numpy-reverse", "float32"),
        ("numpy-reverse", "float64"),
        ("numpy-forward", "float32"),
        ("numpy-forward", "float64"),
    }
    for r in rows:
        assert math.isnan(float.fromhex(r["grad"])) and r["sqrt_at_zero"] == 2
        if r["beta1"] == 0.5:  # beta2 = 0 < beta1: certified no derivative
            assert r["cell"] == "no_derivative" and r["certified"].startswith("no derivative")
        else:  # RMSProp: the derivative exists (it is 0): the NaN is a failure
            assert r["cell"] == "nan" and r["certified"] == "exists: F' = 0.0"


def test_section_params_select_backends_that_unroll_the_optimizer() -> None:
    every = list(sections.BACKEND_CHOICES)
    p = sections.section_params(
        "momentum", "default", seed=0, d=20, backends=every, dtypes=list(sections.DTYPE_CHOICES)
    )
    assert p["backends"] == ["numpy-reverse", "numpy-forward", "torch"]
    assert p["dtypes"] == ["float32", "float64"] and p["library_dtypes"] == ["float32"]
    a = sections.section_params("adam", "full", seed=0, d=20, backends=every, dtypes=["float64"])
    assert "jax" not in a["zero_backends"] and "stable" not in a["backends"]
    assert a["zero_backends"] == [
        "numpy-reverse",
        "numpy-forward",
        "torch",
        "optax",
        "torchopt",
        "higher",
    ]
    q = sections.section_params("adam", "quick", seed=0, d=20, backends=["torch", "stable"])
    assert q["backends"] == [] and q["zero_backends"] == []
    assert REPORT_FORMAT_VERSION >= 4  # data.json gained the two sections


def test_pages_and_csv_carry_the_counts(momentum: dict[str, Any], adam: dict[str, Any]) -> None:
    """Section 5-6 text states the counts of the data; the CSV has a row per cell."""
    from verify.report.doc import Doc
    from verify.report.optimizer_blocks import adam_block, momentum_block, optimizer_csvs

    figs = {"momentum_beta": "figures/momentum_beta.png"}
    doc = Doc()
    momentum_block(doc, momentum, figs)
    adam_block(doc, adam, {})
    text = "\n".join(str(v) for _, v in doc.blocks)
    rows = momentum["beta_map"]["summary"]
    failed = sum(r[c] for r in rows for c in sections.FAILURE_CLASSES)
    below = sum(r["failed_rho_below_1"] for r in rows)
    assert f"{sum(r['cells'] for r in rows)} cells over all maps" in text
    assert f"; {failed} failed. Failures where rho < 1 (inside the stable region): {below};" in text
    assert "figures/momentum_beta.png" in text and "no derivative: right" in text
    files = optimizer_csvs({"momentum": momentum, "adam": adam})
    header, body = files["momentum_summary.csv"]
    assert len(body) == 2 * 2 and all(len(r) == len(header) for r in body)  # 2 maps x 2 obj
    for r in body:
        row = dict(zip(header, r, strict=True))
        assert sum(int(row[c]) for c in CLASSES) == int(row["cells"]) == 2 * 4
    assert {r[header.index("map")] for r in body} == {"beta_map", "t_map"}
    kink = files["adam_kink.csv"][1]
    assert len(kink) == 2 * 2 * 2  # beta1 x backend x dtype
