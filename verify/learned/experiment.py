"""Train-by-train vs train-by-validation for the MLP learned optimizer (paper Figs. 5-7).

For each setting (label noise 0 or 0.2; small data or all samples) three optimizers are
meta-trained with the naive average-loss objective, as in the authors' code:

* ``TbT(n)`` -- meta-objective on the ``n`` training samples;
* ``TbV(n+n)`` -- ``n`` training and ``n`` further validation samples, meta-objective on the
  validation samples;
* ``TbT(2n)`` -- train-by-train with all ``2n`` samples (the paper's fairness control);

and an SGD baseline whose step size is chosen by grid search on the validation loss. Every
method is then tested on fresh training sets of ``n`` samples (label noise as in the
setting): ``test_steps`` inner iterations with mini-batches of 32, recording training
accuracy (on the possibly noisy training labels), test accuracy and test loss on the clean
held-out test set, and test accuracy on a noised copy of the test set (what the authors' code
reports). Seeds: meta-training seed ``seed + 1000 s`` for replicate ``s``.

Parallelism: meta-training jobs run in ``jobs`` worker processes (spawned, single-threaded
torch); results do not depend on ``jobs``.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from typing import Any

import numpy as np

from ..errors import ArgumentError, UnknownOptionError
from ..floats import json_ready
from ..progress import progress
from . import torch_threads
from .data import LABEL_NOISE, Dataset, add_label_noise, sample_sizes
from .inner import MLPLayout, batch_indices, init_params
from .meta import MetaObjective, MetaTrainConfig, MetaTrainResult, meta_train, stderr_progress

__all__ = [
    "PRESETS",
    "SGD_GRID",
    "ExperimentConfig",
    "MethodSpec",
    "evaluate_method",
    "methods_for",
    "run_experiment",
    "tune_sgd",
]

#: SGD step sizes of the baseline's grid search.
SGD_GRID = (0.01, 0.0316, 0.1, 0.316, 1.0)


@dataclass(frozen=True)
class ExperimentConfig:
    """Sizes of one TbT/TbV comparison (see :data:`PRESETS`)."""

    meta: MetaTrainConfig
    n_seeds: int = 3
    test_runs: int = 2
    test_steps: int = 200
    checkpoints: int = 11
    sgd_tuning_runs: int = 2
    settings: tuple[str, ...] = ("small-clean", "small-noisy")

    def __post_init__(self) -> None:
        for name in ("n_seeds", "test_runs", "test_steps", "sgd_tuning_runs"):
            if int(getattr(self, name)) < 1:
                raise ArgumentError(name, getattr(self, name), "must be >= 1")
        for s in self.settings:
            if s not in SETTINGS:
                raise UnknownOptionError("settings", s, f"expected names from {sorted(SETTINGS)}")


#: setting name -> (uses all samples, label noise)
SETTINGS: dict[str, tuple[bool, float]] = {
    "small-clean": (False, 0.0),
    "small-noisy": (False, LABEL_NOISE),
    "all-clean": (True, 0.0),
}

#: Named sizes. ``paper`` is the authors' meta-training schedule (days of CPU); ``full`` and
#: ``quick`` shorten it (listed as deviations in the report); ``tiny`` is for tests.
PRESETS: dict[str, ExperimentConfig] = {
    "tiny": ExperimentConfig(
        meta=MetaTrainConfig(
            n_problems=2,
            meta_iters=1,
            unrolls_base=5,
            unrolls_exp_mean=0.0,
            length_base=4,
            length_exp_mean=0.0,
            learning_rate=3e-2,
        ),
        n_seeds=2,
        test_runs=1,
        test_steps=40,
        checkpoints=3,
        sgd_tuning_runs=1,
        settings=("small-noisy",),
    ),
    "quick": ExperimentConfig(
        meta=MetaTrainConfig(
            n_problems=10,
            meta_iters=1,
            unrolls_base=12,
            unrolls_exp_mean=4.0,
            length_base=10,
            length_exp_mean=5.0,
            learning_rate=3e-2,
        ),
        n_seeds=4,
        test_runs=2,
        test_steps=200,
        checkpoints=11,
        sgd_tuning_runs=2,
    ),
    "full": ExperimentConfig(
        meta=MetaTrainConfig(
            n_problems=30,
            meta_iters=2,
            unrolls_base=10,
            unrolls_exp_mean=10.0,
            length_base=20,
            length_exp_mean=20.0,
            learning_rate=1e-2,
        ),
        n_seeds=5,
        test_runs=5,
        test_steps=1000,
        checkpoints=21,
        sgd_tuning_runs=3,
        settings=("small-clean", "small-noisy", "all-clean"),
    ),
    "paper": ExperimentConfig(
        meta=MetaTrainConfig(),
        n_seeds=5,
        test_runs=5,
        test_steps=4000,
        checkpoints=41,
        sgd_tuning_runs=5,
        settings=("small-clean", "small-noisy", "all-clean"),
    ),
}


@dataclass(frozen=True)
class MethodSpec:
    """One compared method: a meta-trained optimizer or the tuned SGD baseline."""

    name: str
    n_train: int
    n_valid: int
    objective: MetaObjective | None  # None: SGD baseline


def methods_for(setting: str, dataset: Dataset) -> tuple[MethodSpec, ...]:
    """The paper's methods for ``setting`` with sizes from :func:`data.sample_sizes`."""
    if setting not in SETTINGS:
        raise UnknownOptionError("setting", setting, f"expected one of {sorted(SETTINGS)}")
    sizes = sample_sizes(dataset.name, dataset.x_pool.shape[0])
    use_all, _ = SETTINGS[setting]
    tbt = MetaObjective("average", "train")
    tbv = MetaObjective("average", "valid")
    if use_all:
        n, v = sizes.all_train, sizes.all_valid
        return (
            MethodSpec(f"TbT{n + v}", n + v, 0, tbt),
            MethodSpec(f"TbV{n}+{v}", n, v, tbv),
            MethodSpec("SGD", n, v, None),
        )
    n = sizes.small
    return (
        MethodSpec(f"TbT{n}", n, 0, tbt),
        MethodSpec(f"TbV{n}+{n}", n, n, tbv),
        MethodSpec(f"TbT{2 * n}", 2 * n, 0, tbt),
        MethodSpec("SGD", n, n, None),
    )


def test_size(setting: str, dataset: Dataset) -> int:
    """Training-set size every method is tested with (the paper: 1000, or all samples)."""
    sizes = sample_sizes(dataset.name, dataset.x_pool.shape[0])
    return sizes.all_train + sizes.all_valid if SETTINGS[setting][0] else sizes.small


def _checkpoints(steps: int, count: int) -> list[int]:
    return sorted({round(steps * k / (count - 1)) for k in range(count)}) if count > 1 else [steps]


def evaluate_method(
    dataset: Dataset,
    n_train: int,
    noise: float,
    steps: int,
    checkpoints: list[int],
    seed: int,
    *,
    theta: np.ndarray | None = None,
    sgd_eta: float | None = None,
) -> dict[str, list[float]]:
    """Train the inner MLP on a fresh task with a learned optimizer or SGD; record curves.

    Exactly one of ``theta`` (learned optimizer) and ``sgd_eta`` is given. Returns lists
    (one entry per checkpoint) ``train_acc``, ``test_acc``, ``test_loss``,
    ``noisy_test_acc`` and ``train_loss``; a diverged run records NaN losses and chance-free
    accuracies as computed (argmax of NaN logits is class 0).
    """
    import torch

    from .inner import accuracy, loss
    from .optimizer import init_state, opt_step, segment_matrix

    if (theta is None) == (sgd_eta is None):
        raise ArgumentError("theta", theta, "give exactly one of theta and sgd_eta")
    torch.set_num_threads(torch_threads())
    rng = np.random.default_rng(seed)
    dtype = torch.float32
    idx = rng.choice(dataset.x_pool.shape[0], size=n_train, replace=False)
    y_np = dataset.y_pool[idx]
    if noise > 0:
        y_np = add_label_noise(y_np, noise, rng)
    x = torch.as_tensor(dataset.x_pool[idx], dtype=dtype)
    y = torch.as_tensor(y_np)
    xt = torch.as_tensor(dataset.x_test, dtype=dtype)
    yt = torch.as_tensor(dataset.y_test)
    yt_noisy = torch.as_tensor(
        add_label_noise(dataset.y_test, noise, rng) if noise > 0 else dataset.y_test
    )
    layout = MLPLayout(dataset.n_features)
    w = torch.as_tensor(init_params(layout, rng), dtype=dtype)
    batches = batch_indices(n_train, steps, rng)
    segments = torch.as_tensor(layout.segments())
    seg_mean = segment_matrix(layout.segments(), dtype)
    state = init_state(layout.n_params, dtype)
    th = None if theta is None else torch.as_tensor(theta, dtype=dtype)
    out: dict[str, list[float]] = {
        k: [] for k in ("train_acc", "train_loss", "test_acc", "test_loss", "noisy_test_acc")
    }
    marks = set(checkpoints)

    def record() -> None:
        with torch.no_grad():
            out["train_acc"].append(accuracy(layout, w, x, y))
            out["train_loss"].append(float(loss(layout, w, x, y)))
            out["test_acc"].append(accuracy(layout, w, xt, yt))
            out["test_loss"].append(float(loss(layout, w, xt, yt)))
            out["noisy_test_acc"].append(accuracy(layout, w, xt, yt_noisy))

    if 0 in marks:
        record()
    for step in range(steps):
        rows = torch.as_tensor(batches[step])
        wd = w.detach().requires_grad_()
        (g,) = torch.autograd.grad(loss(layout, wd, x[rows], y[rows]), wd)
        with torch.no_grad():
            if th is not None:
                w, state = opt_step(th, w, g, state, segments, seg_mean)
            else:
                assert sgd_eta is not None
                w = w - sgd_eta * g
        if step + 1 in marks:
            record()
    return out


def tune_sgd(
    dataset: Dataset,
    n_train: int,
    n_valid: int,
    noise: float,
    steps: int,
    runs: int,
    seed: int,
    grid: tuple[float, ...] = SGD_GRID,
) -> tuple[float, dict[str, float]]:
    """Grid-search the SGD step size on the final validation loss (mean over ``runs`` tasks).

    Each run trains on ``n_train`` fresh samples and validates on ``n_valid`` further samples
    (same label noise). Returns the best step size and the mean validation loss per grid
    value (NaN/inf losses rank last).
    """
    import torch

    from .inner import loss

    torch.set_num_threads(torch_threads())
    scores: dict[str, float] = {}
    for eta in grid:
        vals = []
        for r in range(runs):
            rng = np.random.default_rng([seed, r])
            idx = rng.choice(dataset.x_pool.shape[0], size=n_train + n_valid, replace=False)
            y_np = dataset.y_pool[idx]
            if noise > 0:
                y_np = add_label_noise(y_np, noise, rng)
            x = torch.as_tensor(dataset.x_pool[idx], dtype=torch.float32)
            y = torch.as_tensor(y_np)
            layout = MLPLayout(dataset.n_features)
            w = torch.as_tensor(init_params(layout, rng), dtype=torch.float32)
            batches = batch_indices(n_train, steps, rng)
            for step in range(steps):
                rows = torch.as_tensor(batches[step])
                wd = w.detach().requires_grad_()
                (g,) = torch.autograd.grad(loss(layout, wd, x[rows], y[rows]), wd)
                w = (w - eta * g).detach()
            with torch.no_grad():
                vals.append(float(loss(layout, w, x[n_train:], y[n_train:])))
        mean = float(np.mean(vals))
        scores[repr(eta)] = mean if np.isfinite(mean) else float("inf")
    best = min(grid, key=lambda e: scores[repr(e)])
    return best, scores


#: A meta-trained optimizer or a test run: (setting, method name, meta-training replicate).
_Key = tuple[str, str, int]
#: The arguments of one test run (:func:`evaluate_method`).
_EvalArgs = tuple[Dataset, int, float, int, list[int], int, np.ndarray | None, float | None]


def _meta_job(args: tuple[Dataset, MethodSpec, float, MetaTrainConfig, int]) -> MetaTrainResult:
    import torch

    torch.set_num_threads(torch_threads())
    dataset, spec, noise, cfg, seed = args
    assert spec.objective is not None
    stderr_progress(f"meta-training {spec.name} noise={noise} seed={seed} ...")
    res = meta_train(dataset, spec.objective, spec.n_train, spec.n_valid, noise, cfg, seed)
    stderr_progress(
        f"  done {spec.name} noise={noise} seed={seed}: {res.n_updates} updates, "
        f"last meta-loss {res.meta_losses[-1]:.4g}"
    )
    return res


def _eval_job(args: _EvalArgs) -> dict[str, list[float]]:
    dataset, n, noise, steps, marks, seed, theta, eta = args
    return evaluate_method(dataset, n, noise, steps, marks, seed, theta=theta, sgd_eta=eta)


def run_experiment(
    dataset: Dataset,
    config: ExperimentConfig,
    seed: int = 0,
    *,
    jobs: int = 1,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the comparison; returns a JSON-ready dict (deterministic for a fixed seed).

    Keys: ``config``, ``checkpoints``, and ``settings[name]`` with, per method, the per-seed
    curves (mean over test runs) and final-checkpoint summaries (mean, std over seeds).
    """
    say = progress or stderr_progress
    marks = _checkpoints(config.test_steps, config.checkpoints)
    result: dict[str, Any] = {
        "config": json_ready(asdict(config)),
        "checkpoints": marks,
        "settings": {},
    }
    trained = _meta_train_all(dataset, config, seed, jobs, say)
    tests = _test_all(dataset, config, seed, marks, trained, jobs, say)
    for setting in config.settings:
        result["settings"][setting] = _setting_block(setting, dataset, config, trained, tests)
    result["_thetas"] = {f"{k[0]}/{k[1]}/{k[2]}": v.theta for k, v in trained.items()}
    return result


@dataclass(frozen=True)
class _TestRuns:
    """Every test run's curves (with its key, in order) and the SGD tuning per setting."""

    keys: list[_Key]
    curves: list[dict[str, list[float]]]
    sgd: dict[str, dict[str, Any]]


def _pool_map(fn: Callable[[Any], Any], args: list[Any], jobs: int, desc: str) -> list[Any]:
    """``[fn(a) for a in args]``, in ``jobs`` spawned worker processes when ``jobs > 1``, with
    a progress bar (:func:`verify.progress.progress`) counting the finished calls."""
    out: list[Any] = []
    with progress(len(args), desc) as bar:
        if jobs > 1:
            with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
                for res in pool.map(fn, args):
                    out.append(res)
                    bar(len(out))
        else:
            for a in args:
                out.append(fn(a))
                bar(len(out))
    return out


def _meta_train_all(
    dataset: Dataset,
    config: ExperimentConfig,
    seed: int,
    jobs: int,
    say: Callable[[str], None],
) -> dict[_Key, MetaTrainResult]:
    """Meta-train every learned method of every setting, ``n_seeds`` replicates each."""
    meta_jobs: list[_Key] = []
    job_args = []
    for setting in config.settings:
        _, noise = SETTINGS[setting]
        for spec in methods_for(setting, dataset):
            if spec.objective is None:
                continue
            for s in range(config.n_seeds):
                meta_jobs.append((setting, spec.name, s))
                job_args.append((dataset, spec, noise, config.meta, seed + 1000 * s))
    say(f"learned-optimizer: {len(job_args)} meta-training jobs on {jobs} worker(s)")
    results = _pool_map(_meta_job, job_args, jobs, "meta-training")
    return dict(zip(meta_jobs, results, strict=True))


def _test_all(
    dataset: Dataset,
    config: ExperimentConfig,
    seed: int,
    marks: list[int],
    trained: dict[_Key, MetaTrainResult],
    jobs: int,
    say: Callable[[str], None],
) -> _TestRuns:
    """Tune the SGD baseline, then test every method (cheap compared with meta-training)."""
    eval_keys: list[_Key] = []
    eval_args: list[_EvalArgs] = []
    sgd_info: dict[str, dict[str, Any]] = {}
    for setting in config.settings:
        _, noise = SETTINGS[setting]
        n_test = test_size(setting, dataset)
        for spec in methods_for(setting, dataset):
            theta_list: list[np.ndarray | None] = []
            eta: float | None = None
            if spec.objective is None:
                say(f"tuning SGD for {setting} ...")
                eta, scores = tune_sgd(
                    dataset,
                    spec.n_train,
                    spec.n_valid,
                    noise,
                    config.test_steps,
                    config.sgd_tuning_runs,
                    seed,
                )
                sgd_info[setting] = {"eta": eta, "validation_loss": scores}
                theta_list = [None] * config.n_seeds
            else:
                theta_list = [trained[(setting, spec.name, s)].theta for s in range(config.n_seeds)]
            for s, th in enumerate(theta_list):
                for r in range(config.test_runs):
                    eval_keys.append((setting, spec.name, s))
                    run_seed = seed + 1000 * s + 7919 * (r + 1)
                    eval_args.append(
                        (dataset, n_test, noise, config.test_steps, marks, run_seed, th, eta)
                    )
    say(f"evaluating: {len(eval_args)} test runs of {config.test_steps} inner steps")
    return _TestRuns(eval_keys, _pool_map(_eval_job, eval_args, jobs, "testing"), sgd_info)


def _setting_block(
    setting: str,
    dataset: Dataset,
    config: ExperimentConfig,
    trained: dict[_Key, MetaTrainResult],
    tests: _TestRuns,
) -> dict[str, Any]:
    """One setting's data: per method the per-seed curves, final summaries, meta-training."""
    _, noise = SETTINGS[setting]
    block: dict[str, Any] = {
        "noise": noise,
        "test_train_size": test_size(setting, dataset),
        "methods": {},
    }
    if setting in tests.sgd:
        block["sgd_tuning"] = tests.sgd[setting]
    for spec in methods_for(setting, dataset):
        per_seed: list[dict[str, list[float]]] = []
        for s in range(config.n_seeds):
            runs = [
                c
                for k, c in zip(tests.keys, tests.curves, strict=True)
                if k == (setting, spec.name, s)
            ]
            per_seed.append({m: list(np.mean([r[m] for r in runs], axis=0)) for m in runs[0]})
        final = {
            m: {
                "mean": float(np.mean([p[m][-1] for p in per_seed])),
                "std": float(np.std([p[m][-1] for p in per_seed])),
                "per_seed": [float(p[m][-1]) for p in per_seed],
            }
            for m in per_seed[0]
        }
        entry: dict[str, Any] = {
            "n_train": spec.n_train,
            "n_valid": spec.n_valid,
            "curves": per_seed,
            "final": final,
        }
        if spec.objective is not None:
            mt = [trained[(setting, spec.name, s)] for s in range(config.n_seeds)]
            entry["meta_training"] = _meta_training_summary(spec.objective.name, mt)
        block["methods"][spec.name] = entry
    return block


def _meta_training_summary(objective: str, mt: list[MetaTrainResult]) -> dict[str, Any]:
    """Per-seed counters and meta-losses of one method's meta-training runs."""
    return {
        "objective": objective,
        "updates": [r.n_updates for r in mt],
        "inner_steps": [r.n_inner_steps for r in mt],
        "nonfinite_meta_gradients": [r.n_nonfinite_grads for r in mt],
        "inner_resets": [r.n_inner_resets for r in mt],
        "first_meta_loss": [r.meta_losses[0] for r in mt],
        "last_meta_loss": [float(np.mean(r.meta_losses[-5:])) for r in mt],
    }
