"""Benchmark the batched numpy backprop against its named baseline; prints the ratio.

Run: ``python benchmarks/bench_backprop.py [--steps N] [--grid G] [--dim D] [--blas-threads K]``

BLAS runs single-threaded by default for both sides (``--blas-threads``): at d = 100 a
two-thread OpenBLAS gemm was measured *slower* than a one-thread one on the 2-core machine
(37 vs 19 us), so thread scheduling would otherwise dominate what is meant to measure batching.

Case (issue 3): a grid of G = 64 step sizes x t = 1e4 GD steps, float32, on one d = 100
quadratic, reverse mode (trajectory stored, adjoint pass), log objective.

Baseline
--------
* ``unbatched``: the same backend called once per step size (64 separate calls), each doing
  matrix-vector work per step -- what a loop over a grid does.

The batched call advances all step sizes together as a (G, d) array, so every step is one
matrix-matrix product. Target (issue 3): unbatched / batched >= 20.

What bounds the ratio: a reverse-mode step pair (one forward, one adjoint step) costs two
products with H plus elementwise work and diagnostics. The script prints the cost per step
pair of both sides and two ceilings: what BLAS alone allows (G matrix-vector products vs one
G x d by d x d product -- at d = 100 a 64-row sgemm costs ~9 gemvs, so ~7x), and what a batched
loop doing *nothing but* its two gemms per step pair would reach against the measured
unbatched loop. Both sides run the same code, so every saving in the per-step overhead
(Python dispatch, diagnostics) speeds up the baseline too: the ratio is
64 (gemv + o_1) / (gemm + o_64), and it reaches 20 only when the unbatched per-step overhead
o_1 is large. On the 2-core development machine (AMD EPYC, OpenBLAS Haswell kernels) it
measured 13-16x; see the closing note of issue 3.
The stable closed form is timed too, for scale (no target).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable


def _blas_threads_from_argv() -> str:
    """The BLAS thread count must be fixed before numpy is imported."""
    argv = sys.argv[1:]
    for i, arg in enumerate(argv):
        if arg == "--blas-threads" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--blas-threads="):
            return arg.split("=", 1)[1]
    return "1"


for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = _blas_threads_from_argv()

import numpy as np  # noqa: E402

from verify import Quadratic  # noqa: E402
from verify.backprop import meta_gradient  # noqa: E402


def timed(fn: Callable[[], object], repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=10_000, help="horizon t")
    parser.add_argument("--grid", type=int, default=64, help="number of step sizes")
    parser.add_argument("--dim", type=int, default=100, help="dimension d")
    parser.add_argument("--blas-threads", type=int, default=1, help="BLAS threads (both sides)")
    args = parser.parse_args()
    q = Quadratic.random(args.dim, seed=0, kind="wishart2")
    L = float(np.linalg.eigvalsh(q.H)[-1])  # float64 estimate suffices to place the grid
    etas = np.linspace(0.01, 2.5, args.grid) / L
    t = args.steps

    def batched() -> object:
        return meta_gradient(q, etas, t, dtype="float32")

    def unbatched() -> object:
        return [meta_gradient(q, float(e), t, dtype="float32") for e in etas]

    batched()  # warm-up (BLAS threads, allocations)
    tb = timed(batched, repeat=3)
    tu = timed(unbatched)
    ts = timed(lambda: meta_gradient(q, etas, t, dtype="float32", backend="stable"), repeat=3)
    # what batching can buy at most here: a step of reverse mode is two products with H; a
    # lone matrix-vector product also pays the per-call overhead that batching removes
    Hf = q.H.astype(np.float32)
    Wf = np.ones((args.grid, args.dim), dtype=np.float32)
    wf = Wf[:1].copy()
    n = 2000
    out_mm, out_mv = np.empty_like(Wf), np.empty_like(wf)

    def products(A: np.ndarray, out: np.ndarray) -> None:
        for _ in range(n):  # into one buffer, as the backend does (fresh pages would be timed)
            np.matmul(A, Hf, out=out)

    t_mm = timed(lambda: products(Wf, out_mm), repeat=5) / n
    t_mv = timed(lambda: products(wf, out_mv), repeat=5) / n
    ratio = tu / tb
    pair_b = 1e6 * tb / t  # us per step pair (forward + adjoint step), all step sizes
    pair_u = 1e6 * tu / t / args.grid  # us per step pair of one unbatched call
    gemm_only = args.grid * pair_u / (2 * 1e6 * t_mm)
    print(
        f"d={args.dim}, t={t}, {args.grid} step sizes, float32, reverse mode,"
        f" {args.blas_threads} BLAS thread(s)"
    )
    print(f"  batched numpy backprop      {tb:8.3f} s   ({pair_b:6.1f} us per step pair)")
    print(
        f"  unbatched (baseline)        {tu:8.3f} s   ({pair_u:6.1f} us per step pair and call,"
        f" {args.grid} separate calls)"
    )
    print(f"  stable closed form, batched {ts:8.3f} s")
    print(
        f"  BLAS alone: {args.grid} x ({1e6 * t_mv:.1f} us gemv) vs 1 x ({1e6 * t_mm:.1f} us gemm)"
        f" = {args.grid * t_mv / t_mm:.1f}x"
    )
    print(
        f"  ceiling: a batched loop doing only its 2 gemms per step pair"
        f" ({2e6 * t_mm:.1f} us) would reach {gemm_only:.1f}x against this baseline;"
        f" the batched loop spends {pair_b - 2e6 * t_mm:.1f} us per step pair beyond them"
    )
    status = "meets" if ratio >= 20 else "MISSES"
    print(f"unbatched / batched = {ratio:.1f}x  ({status} target >= 20x)")


if __name__ == "__main__":
    main()
