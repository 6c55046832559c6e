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


def _tbv_at_least_tbt_on_noisy_small_data(meta_preset: str) -> None:
    """Paper Fig. 6 direction: with 20% label noise and few samples, wherever both
    meta-trainings yield an optimizer that trains the inner MLP, the TbV-trained one reaches
    at least the TbT-trained one's test accuracy (quick preset's evaluation, small-noisy, seed 0,
    meta-training budget of ``meta_preset``)."""
    from dataclasses import replace

    from verify.learned.cli import MIN_SEEDS, TRAINED_ACC
    from verify.learned.data import load_digits
    from verify.learned.experiment import PRESETS, run_experiment

    cfg = replace(PRESETS["quick"], meta=PRESETS[meta_preset].meta, settings=("small-noisy",))
    res = run_experiment(load_digits(), cfg, seed=0, jobs=2, progress=lambda m: None)
    methods = res["settings"]["small-noisy"]["methods"]
    tbt, tbv = methods["TbT100"]["final"], methods["TbV100+100"]["final"]
    ok = [
        i
        for i in range(cfg.n_seeds)
        if min(tbt["train_acc"]["per_seed"][i], tbv["train_acc"]["per_seed"][i]) >= TRAINED_ACC
    ]
    assert len(ok) >= MIN_SEEDS, (tbt["train_acc"], tbv["train_acc"])
    acc_t = [tbt["test_acc"]["per_seed"][i] for i in ok]
    acc_v = [tbv["test_acc"]["per_seed"][i] for i in ok]
    assert all(v >= t for v, t in zip(acc_v, acc_t, strict=True)), (acc_t, acc_v)


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason=(
        "not reproduced at the quick meta-training budget (~1/1000 of the authors'): in "
        "reports/default/learned seed 3's TbV optimizer trains only partly (train acc 0.38, "
        "test 0.38 < TbT 0.60); reproduced at the full preset's budget (paper_scale test "
        "below); strict so that a quick budget that reproduces the claim is noticed"
    ),
)
def test_tbv_generalizes_better_with_noisy_small_data() -> None:
    """The claim at the quick preset's meta-training budget (about 4 minutes on 2 cores)."""
    _tbv_at_least_tbt_on_noisy_small_data("quick")


@pytest.mark.paper_scale
def test_tbv_generalizes_better_with_noisy_small_data_at_full_budget() -> None:
    """The claim at the full preset's meta-training budget (20x quick; 39 min on 2 cores).

    Measured (seed 0): TbT100 trains to 0.975-1.0 train accuracy on the noisy labels and tests
    at 0.60-0.64; TbV100+100 tests at 0.68, 0.75, 0.80 on the three seeds where it trains (the
    fourth stays at train accuracy 0.145 and is left out, as the claim is about optimizers that
    train); tuned SGD 0.72-0.78.
    """
    _tbv_at_least_tbt_on_noisy_small_data("full")
