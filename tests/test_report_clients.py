"""The report's close-ups of the meta-learning libraries: flush-to-zero traces, the NaN
masking audit, and the answers that name which library fails where."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from verify import Quadratic
from verify.report.answers import libraries, library_text
from verify.report.sections import clients_section, section_params


@pytest.fixture(scope="module")
def clients() -> dict[str, object]:
    params = section_params("clients", "quick", seed=0, d=20)
    return clients_section(Quadratic.random(4, seed=0), params, lambda done, total: None)


def test_flush_to_zero_traces(clients: dict[str, object]) -> None:
    pytest.importorskip("jax")
    ftz = clients["ftz"]  # type: ignore[index]
    traces = ftz["traces"]
    truth = float.fromhex(ftz["truth"])
    assert truth < 0 and abs(truth) < 2.0**-126  # a float32 subnormal
    # XLA flushes: its adjoint stops decaying at a normal-size floor, numpy's keeps going
    assert traces["jax"]["floor"] > 2.0**-126 > traces["numpy"]["floor"]
    assert traces["jax"]["outcome"] == "silently_wrong"
    assert traces["numpy"]["outcome"] == "underflow"  # a gradual-underflow leftover
    assert float.fromhex(traces["jax"]["grad"]) < -1e-36  # seven decades too large


def test_masking_audit_against_certified_eta_star(clients: dict[str, object]) -> None:
    runs = {r["mask"]: r for r in clients["masking"]["runs"]}  # type: ignore[index]
    assert set(runs) == {"nan_to_zero", "nan_to_num", "clip"}
    for r in runs.values():
        assert r["eta_star_lower"] <= r["eta_star"] <= r["eta_star_upper"]
        assert r["reference_verdict"] == "converges"  # the budget is not to blame
    # masked silent failures freeze eta far from eta*; clipping keeps the steps short
    assert runs["nan_to_zero"]["verdict"] == "stalls"
    assert abs(runs["nan_to_zero"]["eta_final"] / runs["nan_to_zero"]["eta_star"] - 1) > 0.5
    assert runs["clip"]["verdict"] == "recovers"


def test_answers_name_the_libraries_and_their_failures() -> None:
    maps = {
        "optax": {
            "float64": {
                "status": "ok",
                "classes": [["accurate", "accurate"], ["accurate", "silently_wrong"]],
                "grad": [["0x1p+0", "0x1p+0"], ["0x1p+0", "0x0.0p+0"]],
            },
            "float32": {"status": "unsupported"},
        },
        "higher": {
            "float32": {
                "status": "ok",
                "classes": [["nan", "silently_wrong"], ["accurate", "accurate"]],
                "grad": [["nan", "0x1p-10"], ["0x1p+0", "0x1p+0"]],
            }
        },
        "numpy-reverse": {"float32": {"status": "ok", "classes": [["nan"]], "grad": [["nan"]]}},
    }
    libs = libraries(maps, [10, 100], [0.5, 1.2])
    assert set(libs) == {"optax", "higher"}  # only libraries, only maps that ran
    assert libs["optax"]["float64"]["silent_zero"] == 1
    assert libs["optax"]["float64"]["first"] == {
        "t": 100,
        "eta_times_L_over_2": 1.2,
        "class": "silently_wrong",
    }
    assert libs["higher"]["float32"]["nan"] == 1 and libs["higher"]["float32"]["spurious"] == 1
    text = library_text("optax", libs["optax"])
    assert text == "optax: float64 1 silent zeros (first at t = 100, eta = 1.2 x 2/L)"


def test_quick_report_has_the_clients_section(tmp_path: Path) -> None:
    from verify.report import build_report

    pytest.importorskip("jax")
    out = tmp_path / "r"
    data = build_report(out, mode="quick", backends=("numpy-reverse",), dtypes=("float32",))
    assert "clients" in data["sections"]
    md = (out / "report.md").read_text()
    assert "Flush-to-zero" in md and "NaN masking" in md
    for name in ("ftz_adjoint.png", "masking.png"):
        assert (out / "figures" / name).stat().st_size > 1000
    header = (out / "csv" / "masking.csv").read_text().splitlines()[0]
    assert header.startswith("t,eta0,dtype,schedule,mask,verdict")
    assert not math.isnan(data["sections"]["clients"]["masking"]["runs"][0]["eta_star"])
