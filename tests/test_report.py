"""``l2l-verify report``: reproducible, resumable, complete, and the committed copy is fresh.

* A run interrupted in its last section resumes from the cached sections (counted), and gives
  a ``data.json`` byte-identical to an uninterrupted run with the same seed.
* The committed ``reports/default`` has the current :data:`REPORT_FORMAT_VERSION`; its
  certified sections (regime map, Figures 1-2, theorem table) are recomputed here and must
  equal the committed numbers; every CSV column and outcome class is explained in
  ``reports/README.md``; the folder stays small and its pages reference only files it holds.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pytest

from verify.cli import main
from verify.errors import UnknownOptionError
from verify.outcomes import OUTCOME_NAMES
from verify.problems import Quadratic
from verify.report import REPORT_FORMAT_VERSION, build_report, render_only, sections

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "reports" / "default"
README = ROOT / "reports" / "README.md"
# The committed folder must stay small enough to live in git (issue: < 5 MB).
MAX_COMMITTED_BYTES = 5 * 2**20
# A small but complete run: every section, two backends, two dtypes.
SMALL = {"mode": "quick", "backends": ("numpy-reverse", "stable"), "dtypes": ("float32", "float64")}


# Keys of quantities that are non-negative by definition (errors, RMSEs, proportions, step
# counts): their intervals must never reach below zero, whether or not they carry the
# "nonnegative" flag (the report before issue 16 had train RMSE 0.62 [-0.945, 2.18]).
_NONNEGATIVE_KEY = re.compile(r"(error|rmse|within_|median|settle|spread)(?!_gap)")


def _low(value: Any) -> float:
    return float(value)  # finite, or the strings "inf" / "-inf" of a non-finite end


def audit_claims(data: dict[str, Any]) -> list[str]:
    """Problems with the paper verdicts of a data.json (sections paper and theorems): every
    interval of a non-negative quantity has a lower end >= 0, and every verdict rests on an
    instance count (a figure's verdict on its claims, each with instances >= 1)."""
    problems: list[str] = []

    def walk(node: Any, path: str, key: str) -> None:
        if isinstance(node, dict):
            if "low" in node and "high" in node:
                nonneg = node.get("nonnegative") is True or _NONNEGATIVE_KEY.search(key)
                if nonneg and _low(node["low"]) < 0:
                    problems.append(f"{path}: non-negative quantity with low = {node['low']}")
            if "verdict" in node and "reading" not in node:
                if "claims" in node:
                    if not node["claims"]:
                        problems.append(f"{path}: a verdict without claims")
                elif not (isinstance(node.get("instances"), int) and node["instances"] >= 1):
                    problems.append(
                        f"{path}: verdict {node['verdict']!r} without an instance count"
                    )
            for k, v in node.items():
                walk(v, f"{path}.{k}", str(k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}[{i}]", key)

    for name in ("paper", "theorems"):
        walk(data["sections"][name], f"sections.{name}", name)
    return problems


def test_audit_catches_negative_intervals_and_verdicts_without_instances() -> None:
    bad = {
        "sections": {
            "paper": {
                "fig3": {"rows": [{"tbt_train_rmse": {"mean": 0.62, "low": -0.945, "high": 2.18}}]},
                "fig9": {"verdict": "differs", "claims": []},
            },
            "theorems": {
                "rows": [
                    {"claim": "x", "verdict": "matches", "points": 3},
                    {
                        "claim": "y",
                        "verdict": "matches",
                        "instances": 4,
                        "interval": {"low": -0.1, "high": 1, "nonnegative": True},
                    },
                    {
                        "claim": "z",
                        "verdict": "matches",
                        "instances": 2,
                        "interval": {"low": -0.1, "high": 1, "nonnegative": False},
                    },
                ]
            },
        }
    }
    found = audit_claims(bad)
    assert len(found) == 4, found  # the signed interval of row z is fine
    assert any("tbt_train_rmse" in f for f in found)
    assert any("without an instance count" in f for f in found)


class Interrupted(RuntimeError):
    """Raised by the patched theorem section to simulate a killed run."""


def _counting(monkeypatch: pytest.MonkeyPatch, calls: dict[str, int], fail: str | None) -> None:
    for name in ("regime", "backprop", "paper", "theorem"):
        original = getattr(sections, f"{name}_section")

        def wrapper(*args: Any, _name: str = name, _orig: Any = original, **kw: Any) -> Any:
            calls[_name] = calls.get(_name, 0) + 1
            if _name == fail:
                raise Interrupted(_name)
            return _orig(*args, **kw)

        monkeypatch.setattr(sections, f"{name}_section", wrapper)


def test_interrupted_run_resumes_and_output_is_byte_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "a"
    calls: dict[str, int] = {}
    with monkeypatch.context() as m:
        _counting(m, calls, fail="theorem")
        with pytest.raises(Interrupted):
            build_report(out, **SMALL)  # type: ignore[arg-type]
    assert calls == {"regime": 1, "backprop": 1, "paper": 1, "theorem": 1}
    cached = sorted(p.name.split("-")[0] for p in (out / "_cache").glob("*.json"))
    assert cached == ["backprop", "paper", "regime"]
    assert not (out / "data.json").exists()

    calls.clear()
    with monkeypatch.context() as m:
        _counting(m, calls, fail=None)
        build_report(out, **SMALL)  # type: ignore[arg-type]
    assert calls == {"theorem": 1}, f"finished sections were recomputed: {calls}"
    assert not (out / "_cache").exists(), "the cache is removed after a complete run"
    prov = json.loads((out / "provenance.json").read_text())
    assert sorted(s for s, v in prov["sections"].items() if v["cached"]) == [
        "backprop",
        "paper",
        "regime",
    ]

    fresh = tmp_path / "b"
    build_report(fresh, **SMALL)  # type: ignore[arg-type]
    assert (out / "data.json").read_bytes() == (fresh / "data.json").read_bytes()
    # issue 16: the freshly built (quick) report's paper verdicts are sound
    assert audit_claims(json.loads((out / "data.json").read_text())) == []

    # the folder is complete: pages, figures referenced by the page, CSV with every cell
    html = (out / "index.html").read_text()
    md = (out / "report.md").read_text()
    srcs = re.findall(r'<img src="([^"]+)"', html)
    assert len(srcs) >= 10
    for src in srcs:
        assert (out / src).is_file(), src
        assert f"({src})" in md, f"report.md lacks {src}"
    assert "<script" not in html and "http://" not in html and "https://" not in html
    data = json.loads((out / "data.json").read_text())
    bp = data["sections"]["backprop"]
    with (out / "csv" / "backprop.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2 * 2 * len(bp["t"]) * len(bp["eta_times_L_over_2"])
    assert {r["class"] for r in rows} <= set(OUTCOME_NAMES) | {"unsupported", "unavailable"}
    # the answers are derived from the maps, and the first failure is a failure class
    first = data["answers"]["first_failure"]
    assert first is not None and first["class"] in sections.FAILURE_CLASSES
    assert "l2l-verify learned-optimizer" in html  # no learned/ folder here


def test_bad_options_raise_typed_errors(tmp_path: Path) -> None:
    with pytest.raises(UnknownOptionError, match="backends"):
        build_report(tmp_path, mode="quick", backends=("numpy-reverse", "tensorflow"))
    with pytest.raises(UnknownOptionError, match="dtypes"):
        build_report(tmp_path, mode="quick", dtypes=("float8",))
    with pytest.raises(UnknownOptionError, match="mode"):
        build_report(tmp_path, mode="huge")
    with pytest.raises(UnknownOptionError, match="out"):
        render_only(tmp_path / "nothing-here")
    with pytest.raises(SystemExit):
        main(["report", "--quick", "--full"])


# ------------------------------------------------------------------------ the committed report
def _committed() -> dict[str, Any]:
    return dict(json.loads((COMMITTED / "data.json").read_text()))


def test_committed_report_has_current_format_and_is_complete() -> None:
    data = _committed()
    assert data["report_format_version"] == REPORT_FORMAT_VERSION, (
        "reports/default is stale (format "
        f"{data['report_format_version']} < {REPORT_FORMAT_VERSION}): run `l2l-verify report`"
    )
    assert data["options"]["mode"] == "default", "the committed report must be the default one"
    size = sum(p.stat().st_size for p in COMMITTED.rglob("*") if p.is_file())
    assert size < MAX_COMMITTED_BYTES, f"reports/default is {size / 2**20:.1f} MB"
    html = (COMMITTED / "index.html").read_text()
    for src in re.findall(r'<img src="([^"]+)"', html):
        assert (COMMITTED / src).is_file(), src
    if (COMMITTED / "learned" / "summary.md").exists():
        assert "Not produced for this report folder" not in html, (
            "learned/summary.md exists but is not embedded: run `l2l-verify report --render-only`"
        )


def test_committed_certified_sections_are_fresh() -> None:
    """Recompute what is certified (machine independent) and cheap; compare with the commit."""
    data = _committed()
    opts = data["options"]
    problem = Quadratic.random(opts["d"], seed=opts["seed"])
    assert problem.fingerprint == data["problem"]["fingerprint"]
    sec = data["sections"]

    def quiet(done: int, total: int) -> None:
        pass

    params = sections.section_params("regime", opts["mode"], seed=opts["seed"], d=opts["d"])
    regime = json.loads(json.dumps(sections.regime_section(problem, params, quiet)))
    assert regime == sec["regime"], "reports/default regime map is stale: run `l2l-verify report`"
    fig2 = json.loads(json.dumps(sections.figure2(problem)))
    assert fig2 == sec["paper"]["fig2"], "reports/default Figure 2 is stale"
    # Figure 1's certified run (its distribution over instances is float64, not compared)
    fig1 = json.loads(json.dumps(sections.figure1(problem, sec["paper"]["fig1"]["steps"])))
    committed_fig1 = {k: sec["paper"]["fig1"].get(k) for k in fig1}
    assert fig1 == committed_fig1, "reports/default Figure 1 is stale"
    # the theorem table from the committed sections 2-3 and freshly certified numbers
    tparams = sections.section_params("theorems", opts["mode"], seed=opts["seed"], d=opts["d"])
    rows = sections.theorem_section(problem, tparams, quiet, prior=sec)["rows"]
    assert json.loads(json.dumps(rows)) == sec["theorems"]["rows"], "theorem table is stale"


def test_committed_report_claims_are_sound() -> None:
    """No interval of a non-negative quantity reaches below zero, every verdict has N."""
    assert audit_claims(_committed()) == []


def test_readme_explains_every_column_and_class() -> None:
    readme = README.read_text()
    missing = []
    for path in sorted((COMMITTED / "csv").glob("*.csv")):
        with path.open() as fh:
            header = next(csv.reader(fh))
        if path.name not in readme:
            missing.append(path.name)
        for col in header:
            if f"`{col}`" not in readme:
                missing.append(f"{path.name}:{col}")
    for cls in OUTCOME_NAMES:
        if f"`{cls}`" not in readme:
            missing.append(f"class {cls}")
    assert not missing, f"reports/README.md does not explain: {missing}"


def test_truth_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["truth", "--eta", "1/64", "--t", "100", "--d", "4"]) == 0
    out = capsys.readouterr().out
    assert "dF/deta" in out and "float16=" in out


def test_learned_summary_is_embedded(tmp_path: Path) -> None:
    """OUT/learned/summary.md and its figures appear in both pages and in the contents."""
    from verify.report.render import render

    data = _committed()
    prov = json.loads((COMMITTED / "provenance.json").read_text())
    backends = data["sections"]["backprop"]["backends"]
    figures = {
        "regime_naive": "figures/regime_map_naive.png",
        "regime_log": "figures/regime_map_log.png",
        "fig1": "figures/fig1_meta_gd.png",
        "fig2": "figures/fig2_eta_star.png",
        "fig3": "figures/fig3_sigma.png",
        "fig4": "figures/fig4_sample_size.png",
        **{f"{k}_{b}": f"figures/{k}_{b}.png" for b in backends for k in ("outcome", "bits")},
    }
    render(data, prov, tmp_path, figures=figures)  # pages only, no learned/ yet
    assert "l2l-verify learned-optimizer" in (tmp_path / "report.md").read_text()
    learned = tmp_path / "learned"
    (learned / "figures").mkdir(parents=True)
    (learned / "figures" / "curve.png").write_bytes(b"png")
    (learned / "figures" / "extra.png").write_bytes(b"png")
    (learned / "summary.md").write_text(
        "# Learned optimizer: TbT vs TbV\n\n| model | test acc |\n|---|---|\n| TbT | 0.9 |\n\n"
        "![curve](figures/curve.png)\n"
    )
    render(data, prov, tmp_path, figures=figures)
    html = (tmp_path / "index.html").read_text()
    md = (tmp_path / "report.md").read_text()
    assert "Learned optimizer: TbT vs TbV" in html and "<td>0.9</td>" in html
    assert 'src="learned/figures/curve.png"' in html and "(learned/figures/curve.png)" in md
    assert 'src="learned/figures/extra.png"' in html  # unreferenced figures are shown too
    assert '<a href="#learned">' in html
    assert "Not produced for this report folder" not in md


@pytest.mark.parametrize(
    ("observed", "t_safe", "t_fails", "verdict"),
    [
        (100, 93, 113, "agrees"),
        (50, 93, 113, "earlier than predicted"),
        (500, 93, 113, "later than predicted"),  # the grid has 200 in between
        (200, 93, 150, "agrees"),  # 150 is not on the grid: 200 is the first chance
        (None, 93, 113, "none observed"),
        (None, 5000, None, "no failure observed"),
    ],
)
def test_first_failure_agreement(
    observed: int | None, t_safe: int | None, t_fails: int | None, verdict: str
) -> None:
    from verify.report.answers import agreement

    assert verdict in agreement(observed, t_safe, t_fails, [1, 10, 100, 200, 500, 1000])
