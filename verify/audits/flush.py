"""Flush-to-zero of subnormals in the frameworks under test: probes, adjoint traces, the table.

XLA's CPU runtime executes every computation with the x86 MXCSR flags FTZ and DAZ set
(``tsl::port::ScopedFlushDenormal`` around each execution), so JAX and optax flush every
subnormal result to 0 -- jitted or not -- while NumPy and (by default) PyTorch keep gradual
underflow. In reverse mode this stops the adjoint's decay at the smallest normal number and
turns an exact meta-gradient that is a subnormal (-4.30e-42) into a spurious normal-size one
(-9.3e-35). The mechanism, the settings tried and the numbers are in the docstring of the
known-failure region ``xla-cpu-flush-to-zero`` (:mod:`verify.known_failures`).

This module measures it:

* :func:`xla_cpu_flushes` / :func:`torch_flushes` -- does the framework flush right now?
* :func:`torch_flush_denormal` -- ``torch.set_flush_denormal`` scoped to a ``with`` block
  (the global setting is restored, as precision is never ambient here);
* :func:`adjoint_trace` -- max |bar w_k| per step of the reverse pass, from NumPy (gradual
  underflow), JAX (XLA CPU, flushed) or PyTorch (optionally flushed): the data of the
  "flushed vs not" figure;
* :func:`characterise` -- every setting at one point, judged against certified truth
  (``python -m verify.audits.flush`` prints the table; ``--xla-flags`` also runs the XLA flag
  settings, each in a fresh process since XLA reads its flags once).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import math
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..backprop import meta_gradient
from ..backprop.registry import optional_import
from ..errors import UnknownOptionError
from ..floats import get_format
from ..problems import Problem, Quadratic
from ..validation import validate_horizon, validate_objective

__all__ = [
    "ENGINES",
    "XLA_FLAG_SETTINGS",
    "AdjointTrace",
    "FlushProbe",
    "adjoint_trace",
    "characterise",
    "ftz_point",
    "torch_flush_denormal",
    "torch_flushes",
    "xla_cpu_flushes",
]

#: Engines of :func:`adjoint_trace`.
ENGINES: tuple[str, ...] = ("numpy", "jax", "torch", "torch-ftz")

#: XLA_FLAGS values tried (each in a fresh process); none stops the flushing (jaxlib 0.10.2).
XLA_FLAG_SETTINGS: tuple[str, ...] = (
    "",
    "--xla_cpu_ftz=false",
    "--xla_cpu_ftz=true",
    "--xla_cpu_enable_fast_math=false",
    "--xla_cpu_enable_fast_math=true",
    "--xla_cpu_use_thunk_runtime=false",
    "--xla_cpu_strict_dot_conv_math=true",
    "--xla_cpu_multi_thread_eigen=false",
)


def ftz_point() -> tuple[Quadratic, float, int]:
    """The issue's point: cond-100 problem (d = 10), eta = float32(1/L), t = 5000 (naive
    objective, float32): the exact meta-gradient -4.30e-42 is a float32 subnormal."""
    q = Quadratic.from_spectrum(np.geomspace(1, 100, 10), seed=0)
    return q, float(np.float32(1 / q.L)), 5000


def _jnp_dtype(dtype: str) -> Any:
    jnp = importlib.import_module("jax.numpy")
    return jnp.dtype(get_format(dtype).name)


def xla_cpu_flushes(dtype: str = "float32") -> bool:
    """Whether XLA's CPU runtime flushes a subnormal product to zero in ``dtype`` (float32 or
    float64): x * y with x, y normal runtime inputs (no constant folding) and x y subnormal.

    Accuracy
    --------
    Exact: one IEEE multiplication whose correctly rounded result is a nonzero subnormal.
    """
    jax = optional_import("jax", "jax", "JAX")
    jnp = importlib.import_module("jax.numpy")
    fmt = get_format(dtype)
    if fmt.name not in ("float32", "float64"):
        raise UnknownOptionError("dtype", dtype, "probe float32 or float64")
    x = math.ldexp(1.0, fmt.emin // 2)  # normal
    y = math.ldexp(1.0, fmt.emin - fmt.emin // 2 - 3)  # x * y = 2^(emin - 3): subnormal
    with jax.enable_x64(fmt.name == "float64"):
        jd = jnp.dtype(fmt.name)
        got = jax.jit(lambda a, b: a * b)(jnp.asarray(x, dtype=jd), jnp.asarray(y, dtype=jd))
        return float(got) == 0.0


def torch_flushes() -> bool:
    """Whether PyTorch currently flushes a subnormal float32 product to zero (CPU)."""
    torch = optional_import("torch", "torch", "PyTorch")
    x = torch.tensor(math.ldexp(1.0, -63), dtype=torch.float32)
    y = torch.tensor(math.ldexp(1.0, -66), dtype=torch.float32)
    return float(x * y) == 0.0


@contextlib.contextmanager
def torch_flush_denormal(enabled: bool = True) -> Iterator[None]:
    """``torch.set_flush_denormal(enabled)`` for the block; the previous setting is restored."""
    torch = optional_import("torch", "torch", "PyTorch")
    before = torch_flushes()
    if not torch.set_flush_denormal(enabled) and enabled:
        raise UnknownOptionError("enabled", enabled, "this CPU cannot flush denormals (no SSE3)")
    try:
        yield
    finally:
        torch.set_flush_denormal(before)


@dataclass(frozen=True)
class AdjointTrace:
    """The reverse pass of one run, step by step.

    Attributes
    ----------
    engine, dtype, objective : str
    t : int
    grad : float
        The meta-gradient the engine returned (exactly, as a Python float).
    adjoint_max : ndarray, shape (t,)
        max_j |bar w_k[j]| for k = 1..t (index k - 1), as a float64 array; 0 where the
        adjoint is exactly zero.
    """

    engine: str
    dtype: str
    objective: str
    t: int
    grad: float
    adjoint_max: NDArray[np.float64]

    @property
    def floor(self) -> float:
        """The smallest nonzero adjoint magnitude (``inf`` if none): where a flushed adjoint
        stops decaying."""
        nz = self.adjoint_max[self.adjoint_max > 0]
        return float(nz.min()) if nz.size else math.inf


def _numpy_trace(q: Quadratic, eta: float, t: int, dtype: str, objective: str) -> Any:
    dt: Any = get_format(dtype).numpy_dtype()
    H, b, w0 = q.H.astype(dt), q.b_vector.astype(dt), q.w0.astype(dt)
    e = dt.type(eta)
    with np.errstate(all="ignore"):
        W = [w0]
        for _ in range(t):
            W.append(W[-1] - e * (H @ W[-1] - b))
        r = H @ W[-1] - b
        f = W[-1] @ (H @ W[-1]) * dt.type(0.5) - b @ W[-1] + dt.type(q.c)
        bar = r * ((dt.type(1) / dt.type(t)) / f) if objective == "log" else r
        grad = dt.type(0)
        mags = np.empty(t)
        for k in range(t, 0, -1):
            mags[k - 1] = float(np.abs(bar).max())
            grad = grad - bar @ (H @ W[k - 1] - b)
            bar = bar - e * (H @ bar)
    return float(grad), mags


def _jax_trace(q: Quadratic, eta: float, t: int, dtype: str, objective: str) -> Any:
    jax = optional_import("jax", "jax", "JAX")
    jnp = importlib.import_module("jax.numpy")
    with jax.enable_x64(get_format(dtype).name == "float64"):
        jd = _jnp_dtype(dtype)
        H, b, w0 = (jnp.asarray(x, dtype=jd) for x in (q.H, q.b_vector, q.w0))
        c = jnp.asarray(q.c, dtype=jd)

        def F(e: Any, eps: Any) -> Any:
            # w_{k+1} = w_k - e (H w_k - b) + eps_k with eps = 0: the cotangent of eps_k is
            # the adjoint bar w_{k+1} of the very same reverse pass
            def step(w: Any, ek: Any) -> Any:
                return w - e * (H @ w - b) + ek, None

            w, _ = jax.lax.scan(step, w0, eps)
            f = 0.5 * jnp.dot(w, H @ w) - jnp.dot(b, w) + c
            return jnp.log(f) / t if objective == "log" else f

        eps = jnp.zeros((t, len(q.w0)), dtype=jd)
        g, bars = jax.jit(jax.grad(F, argnums=(0, 1)))(jnp.asarray(eta, dtype=jd), eps)
        mags = np.abs(np.asarray(bars).astype(np.float64)).max(axis=1)
        return float(np.asarray(g).astype(np.float64)), mags


def _torch_trace(q: Quadratic, eta: float, t: int, dtype: str, objective: str) -> Any:
    torch = optional_import("torch", "torch", "PyTorch")
    tdt = getattr(torch, get_format(dtype).name)

    def tens(a: Any) -> Any:
        return torch.tensor(np.asarray(a, dtype=np.float64), dtype=tdt)

    H, b, w0, c = tens(q.H), tens(q.b_vector), tens(q.w0), tens(q.c)
    e = tens(eta).requires_grad_(True)
    w = w0
    ws = []
    for _ in range(t):
        w = w - e * (H @ w - b)
        w.retain_grad()
        ws.append(w)
    f = 0.5 * (w @ (H @ w)) - b @ w + c
    F = torch.log(f) / t if objective == "log" else f
    F.backward()
    mags = np.array([float(x.grad.abs().max()) for x in ws])
    return float(e.grad), mags


def adjoint_trace(
    problem: Problem,
    eta: float,
    t: int,
    *,
    dtype: str = "float32",
    objective: str = "naive",
    engine: str = "numpy",
) -> AdjointTrace:
    """The adjoint magnitudes of one reverse pass, step by step, from one engine.

    Parameters
    ----------
    problem : Quadratic or LeastSquares
        Training and evaluation problem.
    eta : float
        Step size, used as its value in ``dtype``.
    t : int
        Horizon (>= 1).
    dtype : {"float32", "float64"}
    objective : {"naive", "log"}
    engine : {"numpy", "jax", "torch", "torch-ftz"}
        NumPy (IEEE gradual underflow), JAX on XLA's CPU runtime (flushes), PyTorch as set,
        or PyTorch inside :func:`torch_flush_denormal`.

    Returns
    -------
    AdjointTrace

    Accuracy
    --------
    None promised: these are the systems under test, each unrolled plainly
    (w <- w - eta (H w - b)); the point is how their adjoints behave, which
    :attr:`AdjointTrace.floor` summarizes.
    """
    if engine not in ENGINES:
        raise UnknownOptionError("engine", engine, f"must be one of {ENGINES}")
    if get_format(dtype).name not in ("float32", "float64"):
        raise UnknownOptionError("dtype", dtype, "must be 'float32' or 'float64'")
    objective = validate_objective(objective)
    t = validate_horizon(t, objective="log")  # >= 1: the trace has t steps
    q = problem if isinstance(problem, Quadratic) else problem.as_quadratic()
    if engine == "numpy":
        grad, mags = _numpy_trace(q, eta, t, dtype, objective)
    elif engine == "jax":
        grad, mags = _jax_trace(q, eta, t, dtype, objective)
    elif engine == "torch":
        grad, mags = _torch_trace(q, eta, t, dtype, objective)
    else:
        with torch_flush_denormal(True):
            grad, mags = _torch_trace(q, eta, t, dtype, objective)
    return AdjointTrace(engine, get_format(dtype).name, objective, t, grad, mags)


@dataclass(frozen=True)
class FlushProbe:
    """One setting at the point of :func:`characterise`.

    Attributes
    ----------
    setting : str
        What ran (framework, mode, flags).
    grad, value : float
        The meta-gradient and the meta-objective F = f(w_t) it returned.
    outcome : str
        The judge's outcome class against certified truth (no known-failure regions).
    """

    setting: str
    grad: float
    value: float
    outcome: str


_XLA_PROBE = """
import json, numpy as np, jax, jax.numpy as jnp
from verify.audits.flush import ftz_point
q, eta, t = ftz_point()
H = jnp.asarray(q.H, jnp.float32); w0 = jnp.asarray(q.w0, jnp.float32)
def F(e):
    w, _ = jax.lax.scan(lambda w, _: (w - e * (H @ w), None), w0, None, length=t)
    return 0.5 * jnp.dot(w, H @ w)
value, grad = jax.jit(jax.value_and_grad(F))(jnp.float32(eta))
print(json.dumps([float(grad), float(value)]))
"""


def _xla_flag_probe(flags: str) -> tuple[float, float]:
    """(grad, value) of jitted ``jax.grad`` at :func:`ftz_point` in a process with
    ``XLA_FLAGS=flags``."""
    env = dict(os.environ, XLA_FLAGS=flags)
    run = subprocess.run(
        [sys.executable, "-c", _XLA_PROBE],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    grad, value = json.loads(run.stdout.strip().splitlines()[-1])
    return float(grad), float(value)


def characterise(*, xla_flags: bool = False, slow: bool = False) -> list[FlushProbe]:
    """Every setting at :func:`ftz_point` (float32, naive objective), judged.

    Parameters
    ----------
    xla_flags : bool
        Also run :data:`XLA_FLAG_SETTINGS`, each in a fresh process (seconds each).
    slow : bool
        Also run ``jax.grad`` under ``jax.disable_jit()`` (op by op, ~15 s).

    Returns
    -------
    list of FlushProbe

    Accuracy
    --------
    Outcomes come from :func:`verify.judge.check_meta_gradient` against the certified
    meta-gradient, with the reported F = f(w_t) as evidence of underflow (known-failure
    regions not applied).
    """
    from ..judge import check_meta_gradient
    from ..truth import meta_gradient as certified

    q, eta, t = ftz_point()
    truth = certified(q, eta, t, objective="naive")
    rows: list[tuple[str, float, float]] = []

    def add(setting: str, grad: Any, value: Any) -> None:
        rows.append((setting, float(np.float32(grad)), float(np.float32(value))))

    def backend(setting: str, name: str, **kw: Any) -> None:
        res = meta_gradient(q, eta, t, objective="naive", dtype="float32", backend=name, **kw)
        add(setting, res.grad, res.value)

    backend("numpy reverse (IEEE gradual underflow)", "numpy")
    backend("numpy forward", "numpy", mode="forward")
    backend("torch (default: no flush)", "torch")
    backend("torchopt (default)", "torchopt")
    backend("higher (default)", "higher")
    with torch_flush_denormal(True):
        backend("torch + torch.set_flush_denormal(True)", "torch")
        backend("torchopt + torch.set_flush_denormal(True)", "torchopt")
        backend("higher + torch.set_flush_denormal(True)", "higher")
    backend("jax.grad, jit (backend jax)", "jax")
    backend("optax, jit", "optax")
    backend("optax, eager (no jax.jit)", "optax", variant="eager")
    jax = optional_import("jax", "jax", "JAX")
    jnp = importlib.import_module("jax.numpy")
    H = jnp.asarray(q.H, jnp.float32)
    w0 = jnp.asarray(q.w0, jnp.float32)

    def F(e: Any) -> Any:
        w, _ = jax.lax.scan(lambda w, _: (w - e * (H @ w), None), w0, None, length=t)
        return 0.5 * jnp.dot(w, H @ w)

    e = jnp.float32(eta)
    add("jax.grad, lax.scan, eager", *reversed(jax.value_and_grad(F)(e)))
    opts = {"xla_cpu_ftz": False, "xla_cpu_enable_fast_math": False}
    vg = jax.jit(jax.value_and_grad(F), compiler_options=opts)
    add(f"jax.grad, jit(compiler_options={opts})", *reversed(vg(e)))
    add("jax.jacfwd (forward mode), jit", jax.jit(jax.jacfwd(F))(e), F(e))
    if slow:
        with jax.disable_jit():
            add("jax.grad under jax.disable_jit() (op by op)", *reversed(jax.value_and_grad(F)(e)))
    if xla_flags:
        for flags in XLA_FLAG_SETTINGS:
            add(f"jax.grad, jit, XLA_FLAGS={flags!r}", *_xla_flag_probe(flags))
    out = []
    for setting, grad, value in rows:
        v = check_meta_gradient(
            q,
            eta,
            t,
            grad,
            value=value,
            dtype="float32",
            objective="naive",
            known_failures=False,
            certified=truth,
        )
        out.append(FlushProbe(setting, grad, value, v.outcome.value))
    return out


def main(argv: list[str] | None = None) -> int:
    """Print the table of :func:`characterise` (``python -m verify.audits.flush [--xla-flags]
    [--slow]``)."""
    args = sys.argv[1:] if argv is None else argv
    q, eta, t = ftz_point()
    from ..truth import meta_gradient as certified

    truth = certified(q, eta, t, objective="naive").to_float("float32")
    print(f"point: cond-100 d = 10, eta = float32(1/L), t = {t}, naive, float32; truth {truth!r}")
    print(
        f"XLA CPU flushes: float32 {xla_cpu_flushes('float32')}, "
        f"float64 {xla_cpu_flushes('float64')}; torch flushes: {torch_flushes()}"
    )
    for row in characterise(xla_flags="--xla-flags" in args, slow="--slow" in args):
        print(f"{row.setting:<70} {row.grad!r:>16} {row.outcome}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
