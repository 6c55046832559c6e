"""Meta-objectives, unrolls and meta-training (determinism, argument errors)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from verify.errors import ArgumentError, UnknownOptionError
from verify.learned import meta
from verify.learned.data import load_digits

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

#: A micro schedule: 2 problems x 3 partial unrolls of 3 steps (6 meta-updates).
MICRO = meta.MetaTrainConfig(
    n_problems=2,
    meta_iters=1,
    unrolls_base=3,
    unrolls_exp_mean=0.0,
    length_base=3,
    length_exp_mean=0.0,
)


def test_objective_values() -> None:
    losses = [torch.tensor(x, dtype=torch.float64) for x in (4.0, 2.0, math.e)]
    assert float(meta.objective_value("average", losses)) == (4.0 + 2.0 + math.e) / 3
    assert float(meta.objective_value("final", losses)) == math.e
    assert float(meta.objective_value("log", losses)) == 1 / 3
    with pytest.raises(UnknownOptionError):
        meta.objective_value("median", losses)
    with pytest.raises(ArgumentError):
        meta.objective_value("final", [])


def test_meta_objective_validation() -> None:
    assert meta.MetaObjective("log", "valid").name == "TbV-log"
    with pytest.raises(UnknownOptionError) as info:
        meta.MetaObjective("sum", "train")
    assert info.value.argument == "kind"
    with pytest.raises(UnknownOptionError):
        meta.MetaObjective("final", "test")
    with pytest.raises(ArgumentError):
        meta.MetaTrainConfig(n_problems=0)


def test_make_task_tbt_and_tbv() -> None:
    ds = load_digits()
    rng = np.random.default_rng(0)
    tbt = meta.make_task(ds, 50, 0, 0.0, rng, torch.float64)
    assert torch.equal(tbt.x_train, tbt.x_meta)
    tbv = meta.make_task(ds, 50, 30, 0.2, rng, torch.float32)
    assert tbv.x_meta.shape == (30, 64) and tbv.x_train.dtype == torch.float32
    with pytest.raises(ArgumentError):
        meta.make_task(ds, 1000, 1000, 0.0, rng, torch.float64)


@pytest.mark.parametrize(
    "objective,n_valid",
    [(meta.MetaObjective("average", "train"), 0), (meta.MetaObjective("log", "valid"), 40)],
)
def test_meta_train_is_deterministic_and_moves_theta(
    objective: meta.MetaObjective, n_valid: int
) -> None:
    ds = load_digits()
    a = meta.meta_train(ds, objective, 40, n_valid, 0.2, MICRO, seed=5)
    b = meta.meta_train(ds, objective, 40, n_valid, 0.2, MICRO, seed=5)
    assert np.array_equal(a.theta, b.theta) and a.meta_losses == b.meta_losses
    assert a.n_updates == 6 and a.n_inner_steps == 18
    from verify.learned.optimizer import init_theta

    assert not np.array_equal(a.theta, init_theta(np.random.default_rng(5)))
    c = meta.meta_train(ds, objective, 40, n_valid, 0.2, MICRO, seed=6)
    assert not np.array_equal(a.theta, c.theta)


def test_meta_train_argument_errors() -> None:
    ds = load_digits()
    with pytest.raises(ArgumentError) as info:
        meta.meta_train(ds, meta.MetaObjective("average", "valid"), 40, 0, 0.0, MICRO, 0)
    assert info.value.argument == "n_valid"
    with pytest.raises(UnknownOptionError):
        meta.meta_train(ds, meta.MetaObjective(), 40, 0, 0.0, MICRO, 0, dtype="float16")
