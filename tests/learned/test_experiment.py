"""TbT vs TbV experiment plumbing: methods, SGD tuning, evaluation, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from verify.errors import ArgumentError, UnknownOptionError
from verify.learned import experiment as E
from verify.learned.data import load_digits
from verify.learned.meta import MetaTrainConfig
from verify.learned.optimizer import init_theta

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

#: Smallest end-to-end configuration: one seed, 2 meta-updates of 3 steps, 6 test steps.
MICRO = E.ExperimentConfig(
    meta=MetaTrainConfig(
        n_problems=1,
        meta_iters=1,
        unrolls_base=2,
        unrolls_exp_mean=0.0,
        length_base=3,
        length_exp_mean=0.0,
    ),
    n_seeds=1,
    test_runs=1,
    test_steps=6,
    checkpoints=3,
    sgd_tuning_runs=1,
    settings=("small-noisy",),
)


def test_methods_follow_the_paper() -> None:
    ds = load_digits()
    names = [m.name for m in E.methods_for("small-clean", ds)]
    assert names == ["TbT100", "TbV100+100", "TbT200", "SGD"]
    full = [m.name for m in E.methods_for("all-clean", ds)]
    assert full == ["TbT1300", "TbV1084+216", "SGD"]
    with pytest.raises(UnknownOptionError):
        E.methods_for("huge", ds)
    with pytest.raises(UnknownOptionError):
        E.ExperimentConfig(meta=MetaTrainConfig(), settings=("huge",))
    with pytest.raises(ArgumentError):
        E.ExperimentConfig(meta=MetaTrainConfig(), n_seeds=0)


def test_evaluate_is_deterministic_and_sgd_tuning_picks_the_minimum() -> None:
    ds = load_digits()
    theta = init_theta(np.random.default_rng(0))
    a = E.evaluate_method(ds, 50, 0.2, 5, [0, 5], 3, theta=theta)
    b = E.evaluate_method(ds, 50, 0.2, 5, [0, 5], 3, theta=theta)
    assert a == b and len(a["test_acc"]) == 2
    with pytest.raises(ArgumentError):
        E.evaluate_method(ds, 50, 0.0, 5, [5], 3)
    best, scores = E.tune_sgd(ds, 50, 50, 0.0, 20, 1, 0, grid=(0.001, 0.1))
    assert scores[repr(best)] == min(scores.values())
    # on 20 clean steps a step of 0.1 beats 0.001 (0.001 barely moves from the init)
    assert best == 0.1


def test_run_experiment_structure_and_determinism() -> None:
    ds = load_digits()
    r1 = E.run_experiment(ds, MICRO, seed=4, progress=lambda m: None)
    r2 = E.run_experiment(ds, MICRO, seed=4, progress=lambda m: None)
    t1, t2 = r1.pop("_thetas"), r2.pop("_thetas")
    assert r1 == r2
    assert all(np.array_equal(t1[k], t2[k]) for k in t1)
    block = r1["settings"]["small-noisy"]
    assert set(block["methods"]) == {"TbT100", "TbV100+100", "TbT200", "SGD"}
    assert block["sgd_tuning"]["eta"] in E.SGD_GRID
    assert r1["checkpoints"] == [0, 3, 6]
