"""Time the learned-optimizer building blocks on the digits MLP (CPU, single thread).

Run: ``python benchmarks/bench_learned.py [--steps 50] [--mnist]``

Workloads per inner step (8 730 inner parameters for digits, 80 730 with ``--mnist``'s
784-input layout on random inputs):

* ``sgd``: mini-batch gradient and ``w <- w - eta g`` (the baseline's cost);
* ``learned (no grad)``: gradient + one MLP-optimizer update, as in testing;
* ``meta first-order``: the same with the graph kept to theta and the average-loss
  meta-objective, forward + backward (meta-training, the authors' stop-gradient);
* ``meta exact``: second-order (through the inner gradient), forward + backward (the
  explosion measurement).
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main() -> None:
    import torch

    from verify.learned.inner import MLPLayout, batch_indices, init_params, loss
    from verify.learned.meta import Task, unroll
    from verify.learned.optimizer import init_state, init_theta, opt_step, segment_matrix

    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--mnist", action="store_true", help="784-input layout")
    args = parser.parse_args()
    torch.set_num_threads(1)
    n_in = 784 if args.mnist else 64
    rng = np.random.default_rng(0)
    layout = MLPLayout(n_in)
    for dtype in (torch.float32, torch.float64):
        x = torch.as_tensor(rng.random((100, n_in)), dtype=dtype)
        y = torch.as_tensor(rng.integers(0, 10, 100))
        segs = layout.segments()
        task = Task(layout, x, y, x, y, torch.as_tensor(segs), segment_matrix(segs, dtype))
        w0 = torch.as_tensor(init_params(layout, rng), dtype=dtype)
        theta = torch.tensor(init_theta(rng), dtype=dtype, requires_grad=True)
        batches = batch_indices(100, args.steps, rng)
        times = {}

        t = time.perf_counter()
        w = w0
        for rows in batches:
            wd = w.detach().requires_grad_()
            (g,) = torch.autograd.grad(loss(layout, wd, x[rows], y[rows]), wd)
            w = (w - 0.1 * g).detach()
        times["sgd"] = time.perf_counter() - t

        t = time.perf_counter()
        w, state = w0, init_state(layout.n_params, dtype)
        for rows in batches:
            wd = w.detach().requires_grad_()
            (g,) = torch.autograd.grad(loss(layout, wd, x[rows], y[rows]), wd)
            with torch.no_grad():
                w, state = opt_step(theta, w, g, state, task.segments, task.seg_mean)
        times["learned (no grad)"] = time.perf_counter() - t

        for label, exact in (("meta first-order", False), ("meta exact", True)):
            t = time.perf_counter()
            res = unroll(
                theta, w0, init_state(layout.n_params, dtype), task, batches, "average", exact=exact
            )
            torch.autograd.grad(res.meta_loss, theta)
            times[label] = time.perf_counter() - t
        for label, sec in times.items():
            print(f"{dtype!s:14s} {label:20s} {1e3 * sec / args.steps:8.2f} ms/step")


if __name__ == "__main__":
    main()
