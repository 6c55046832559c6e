"""``l2l-verify learned-optimizer``: the report folder contract, and claim direction (slow)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from verify.cli import COMMANDS

pytest.importorskip("torch")
pytest.importorskip("sklearn")


def test_registered() -> None:
    assert COMMANDS["learned-optimizer"][0] == "verify.learned.cli"


def test_package_imports_without_torch() -> None:
    code = (
        "import sys; sys.modules['torch'] = None; sys.modules['sklearn'] = None\n"
        "import verify.learned.cli, verify.learned.experiment, verify.learned.explosion\n"
        "import verify.learned.meta, verify.learned.optimizer, verify.learned.inner\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_tiny_run_writes_the_contracted_folder(tmp_path: Path) -> None:
    from verify.learned.cli import build

    out = tmp_path / "learned"
    data = build(out, preset="tiny", seed=0, jobs=1)
    summary = (out / "summary.md").read_text()
    assert summary.startswith("## ")
    assert "### Deviations from the paper" in summary
    for link in ("figures/explosion.png", "figures/tbt_tbv_small-noisy.png"):
        assert f"]({link})" in summary and (out / link).stat().st_size > 0
    text = (out / "data.json").read_text()
    loaded = json.loads(text)
    assert json.dumps(loaded, sort_keys=True, indent=1) + "\n" == text
    assert "wall_times" not in text and "wall_times" in (out / "provenance.json").read_text()
    assert loaded["verdicts"]["tbt_vs_tbv"]["small-noisy"]["seeds"] == 2
    assert data["seed"] == 0


def test_results_do_not_depend_on_torch_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same seed, 1 and 2 torch threads: byte-identical data.json, so the verdicts are the
    same on any machine (issue 16; the quick preset was compared the same way, see the
    closing note of that issue)."""
    from verify.learned import THREADS_ENV
    from verify.learned.cli import build

    texts = []
    for threads in (1, 2):
        monkeypatch.setenv(THREADS_ENV, str(threads))
        out = tmp_path / f"t{threads}"
        build(out, preset="tiny", seed=3, jobs=1)
        texts.append((out / "data.json").read_text())
        prov = json.loads((out / "provenance.json").read_text())
        assert prov["torch_threads"] == threads
    assert texts[0] == texts[1]


def test_bad_thread_count_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from verify.errors import ArgumentError
    from verify.learned import THREADS_ENV, torch_threads

    monkeypatch.setenv(THREADS_ENV, "0")
    with pytest.raises(ArgumentError, match=THREADS_ENV):
        torch_threads()


def _tbv_at_least_tbt_on_noisy_small_data(meta_preset: str) -> None:
    """Paper Fig. 6 direction: with 20% label noise and few samples the TbV-trained optimizer
    reaches at least the TbT-trained one's test accuracy on every seed -- all seeds counted (a
    seed whose meta-training fails counts against its method; issue 16). Quick preset's
    evaluation, small-noisy, seed 0, meta-training budget of ``meta_preset``."""
    from dataclasses import replace

    from verify.learned.data import load_digits
    from verify.learned.experiment import PRESETS, run_experiment

    cfg = replace(PRESETS["quick"], meta=PRESETS[meta_preset].meta, settings=("small-noisy",))
    res = run_experiment(load_digits(), cfg, seed=0, jobs=2, progress=lambda m: None)
    methods = res["settings"]["small-noisy"]["methods"]
    tbt, tbv = methods["TbT100"]["final"], methods["TbV100+100"]["final"]
    acc_t = tbt["test_acc"]["per_seed"]
    acc_v = tbv["test_acc"]["per_seed"]
    assert all(v >= t for v, t in zip(acc_v, acc_t, strict=True)), (acc_t, acc_v)


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason=(
        "not reproduced at the quick meta-training budget (~1/1000 of the authors'): in "
        "reports/default/learned (small-noisy) TbV100+100 trains on 2 of 4 seeds only (train "
        "acc 0.13, 0.165, 0.93, 0.555) and tests at or above TbT100 on 1 of 4 seeds (0.692 vs "
        "0.673); strict so that a quick budget that reproduces the claim is noticed"
    ),
)
@pytest.mark.paper_scale
@pytest.mark.xfail(
    strict=True,
    reason=(
        "all seeds counted (issue 16): at the full budget TbV100+100's fourth seed stays at "
        "train accuracy 0.145 (measured before issue 16, when it was left out)"
    ),
)
def test_tbv_generalizes_better_with_noisy_small_data_at_full_budget() -> None:
    """The claim at the full preset's meta-training budget (20x quick; 39 min on 2 cores).

    Measured (seed 0): TbT100 trains to 0.975-1.0 train accuracy on the noisy labels and tests
    at 0.60-0.64; TbV100+100 tests at 0.68, 0.75, 0.80 on the three seeds where it trains, and
    the fourth stays at train accuracy 0.145 (it counts against TbV); tuned SGD 0.72-0.78.
    """
    _tbv_at_least_tbt_on_noisy_small_data("full")


LEARNED_DATA = Path(__file__).resolve().parents[2] / "reports" / "default" / "learned" / "data.json"


def _with_seeds(acc_t: list[float], acc_v: list[float], train_v: list[float]) -> dict[str, object]:
    data = json.loads(LEARNED_DATA.read_text())
    methods = data["tbt_tbv"]["settings"]["small-noisy"]["methods"]
    for name, test, train in (
        ("TbT100", acc_t, [1.0] * len(acc_t)),
        ("TbV100+100", acc_v, train_v),
    ):
        methods[name]["final"]["test_acc"]["per_seed"] = test
        methods[name]["final"]["train_acc"]["per_seed"] = train
    for name in list(methods):
        if name not in ("TbT100", "TbV100+100"):
            del methods[name]
    return data  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("acc_v", "train_v", "verdict"),
    [
        ([0.8] * 10, [1.0] * 10, "matches"),
        ([0.5] * 10, [1.0] * 10, "differs"),
        ([0.8] * 6 + [0.5] * 4, [1.0] * 10, "inconclusive"),
        # a seed whose TbV optimizer fails to train counts against TbV (issue 16)
        ([0.8] * 8 + [0.1] * 2, [1.0] * 8 + [0.1] * 2, "inconclusive"),
        ([0.8] * 4, [1.0] * 4, "inconclusive"),  # 4/4 seeds: [0.27, 1] at 99%
    ],
)
def test_tbt_tbv_verdict_counts_every_seed(
    acc_v: list[float], train_v: list[float], verdict: str
) -> None:
    from verify.learned.cli import verdicts

    data = _with_seeds([0.6] * len(acc_v), acc_v, train_v)
    v = verdicts(data)["tbt_vs_tbv"]["small-noisy"]
    assert v["verdict"] == verdict and v["claim"]["instances"] == len(acc_v)
    assert any("inner steps per optimizer" in d for d in v["claim"]["deviations"])


def test_render_only_recomputes_verdicts(tmp_path: Path) -> None:
    import shutil

    from verify.learned.cli import render_only

    out = tmp_path / "learned"
    shutil.copytree(LEARNED_DATA.parent, out)
    data = render_only(out)
    summary = (out / "summary.md").read_text()
    assert "all seeds counted" in summary and "an extension beyond the paper" in summary
    assert data["verdicts"]["tbt_vs_tbv"]["small-noisy"]["tbt"] == "TbT100"
