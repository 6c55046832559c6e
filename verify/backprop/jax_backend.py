"""JAX ``jax.grad`` through the unrolled GD trajectory (a framework under test).

The trajectory is a ``lax.scan`` of w_{k+1} = w_k - eta (H w_k - b) in the requested dtype;
``jax.vmap(jax.value_and_grad(F))`` differentiates it for every step size of a batch
(reverse mode stores the scan's trajectory, exactly as in training code). float64 runs inside
the ``jax.enable_x64(True)`` context manager, which is scoped to the call: the global
``jax_enable_x64`` flag is never assigned.

Diagnostics: the scan also carries the forward iterates' largest and smallest nonzero
magnitudes and the first step at which they overflowed, went to zero or became NaN; adjoints
are not exposed by ``jax.grad`` (their fields are NaN). This module never imports
:mod:`verify.truth`.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

import numpy as np

from ._common import Request, optional_import, problem_data, reject
from .diagnostics import Diagnostics

__all__ = ["run_jax"]


def _jax() -> Any:
    return optional_import("jax", "jax", "JAX")


@functools.lru_cache(maxsize=64)
def _compiled(t: int, objective: str, homogeneous: bool) -> Any:
    """A jitted, vmapped (value, grad, diagnostics) function for one horizon and objective."""
    jax = _jax()
    jnp = importlib.import_module("jax.numpy")
    lax = importlib.import_module("jax.lax")

    def trajectory(eta: Any, H: Any, b: Any, w0: Any) -> tuple[Any, Any]:
        inf = jnp.asarray(jnp.inf, dtype=w0.dtype)
        carry0 = (
            w0,
            jnp.max(jnp.abs(w0)),
            jnp.min(jnp.where(w0 != 0, jnp.abs(w0), inf)),
            jnp.int32(-1),
            jnp.int32(-1),
            jnp.int32(-1),
        )

        def step(carry: Any, k: Any) -> Any:
            w, mx, mn, over, under, nan = carry
            g = H @ w if homogeneous else H @ w - b
            w_new = w - eta * g
            a = lax.stop_gradient(jnp.abs(w_new))
            fin = jnp.isfinite(a)
            mx = jnp.maximum(mx, jnp.max(jnp.where(fin, a, jnp.zeros_like(a))))
            mn = jnp.minimum(mn, jnp.min(jnp.where(a > 0, a, inf)))
            over = jnp.where((over < 0) & jnp.any(jnp.isinf(a)), k, over)
            nan = jnp.where((nan < 0) & jnp.any(jnp.isnan(a)), k, nan)
            was = jnp.any(lax.stop_gradient(w) != 0)
            now = jnp.any(a != 0)
            under = jnp.where((under < 0) & was & ~now, k, under)
            return (w_new, mx, mn, over, under, nan), None

        carry, _ = lax.scan(step, carry0, jnp.arange(1, t + 1, dtype=jnp.int32))
        return carry[0], carry[1:]

    def objective_fn(eta: Any, H: Any, b: Any, w0: Any, He: Any, be: Any, ce: Any) -> Any:
        w, diag = trajectory(eta, H, b, w0)
        f = jnp.sum(w * (He @ w)) * 0.5 - jnp.sum(w * be) + ce
        F = jnp.log(f) / t if objective == "log" else f
        return F, (f, diag)

    vg = jax.value_and_grad(objective_fn, has_aux=True)
    batched = jax.vmap(vg, in_axes=(0, None, None, None, None, None, None))
    return jax.jit(batched)


def run_jax(req: Request, device: str | None) -> tuple[Any, Any, list[Diagnostics]]:
    """Value and meta-gradient by ``jax.grad``, in the dtype.

    Accuracy
    --------
    None promised (a system under test); same failure mechanisms as the numpy reference
    (paper notes §4.5).
    """
    jax = _jax()
    jnp = importlib.import_module("jax.numpy")
    if req.mode == "forward":
        raise reject("mode", "forward", "backend='jax' runs reverse-mode jax.grad only")
    if device not in (None, "cpu"):
        raise reject("device", device, "backend='jax' runs on its default (CPU) device here")
    dt = req.dt
    H_, b_, _, w0_ = problem_data(req.problem, dt)
    He_, be_, ce_, _ = problem_data(req.eval, dt)
    fn = _compiled(req.t, req.objective, not np.any(b_))
    with jax.enable_x64(req.fmt.name == "float64"):
        jd = jnp.dtype(req.fmt.name)
        args = [jnp.asarray(x, dtype=jd) for x in (H_, b_, w0_, He_, be_, ce_)]
        etas = jnp.asarray(req.etas.astype(dt), dtype=jd)
        (value, (f, diag)), grad = fn(etas, *args)
        value = np.asarray(value).astype(dt)
        grad = np.asarray(grad).astype(dt)
        f_np = np.asarray(f).astype(np.float64)
        mx, mn = (np.asarray(x).astype(np.float64) for x in diag[:2])
        over, under, nan = (np.asarray(x) for x in diag[2:])
    if value.dtype != dt or grad.dtype != dt:  # pragma: no cover - conversion is exact
        raise AssertionError("jax result dtype changed")
    t = req.t
    diags = []
    for i in range(req.etas.shape[0]):
        o = int(over[i]) if over[i] >= 0 else (t if np.isinf(f_np[i]) else None)
        u = int(under[i]) if under[i] >= 0 else (t if f_np[i] == 0 else None)
        n = int(nan[i]) if nan[i] >= 0 else (t if np.isnan(f_np[i]) else None)
        diags.append(
            Diagnostics(
                max_forward=float(mx[i]),
                min_forward=float(mn[i]),
                max_adjoint=float("nan"),
                min_adjoint=float("nan"),
                first_overflow=o,
                first_underflow=u,
                first_nan=n,
                loss=float(f_np[i]),
            )
        )
    return value, grad, diags
