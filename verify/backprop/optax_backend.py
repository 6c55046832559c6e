"""optax: ``inject_hyperparams(optax.sgd)`` and ``jax.grad`` through ``lax.scan`` (a client
under test).

Written as optax's meta-learning example writes it (the learning rate is a hyperparameter
injected into the optimizer state, the inner gradient is ``jax.grad`` of the training loss,
the outer gradient ``jax.grad`` of the meta-objective through the unroll)::

    def meta_objective(eta):
        opt = optax.inject_hyperparams(optax.sgd)(learning_rate=eta)
        state = opt.init(w0)
        def step(carry, _):
            w, state = carry
            updates, state = opt.update(jax.grad(loss)(w), state)
            return (optax.apply_updates(w, updates), state), w
        (w, _), _ = jax.lax.scan(step, (w0, state), None, length=t)
        return log(loss(w)) / t                      # or loss(w)
    jax.jit(jax.value_and_grad(meta_objective))(eta)

Other inner optimizers, the same loop with optax's optimizer, every setting injected as a
strongly typed array of the dtype:
``optimizer="heavy_ball"``: ``inject_hyperparams(optax.sgd)(learning_rate=eta,
momentum=beta)`` (optax's ``trace``: t = g + beta t, t_0 = 0, update = -eta t: heavy ball
with the same eta and beta; ``nesterov=False``); ``optimizer="adam"``:
``inject_hyperparams(optax.adam)(learning_rate=eta, b1=beta1, b2=beta2, eps=eps)``
(``scale_by_adam``: mhat / (sqrt(vhat + eps_root) + eps), eps_root = 0: our recurrence; NaN at
the sqrt-at-0 points, see :mod:`verify.backprop.adam`).

Variants: ``"jit"`` (default: ``jax.jit`` of the value-and-grad function, compiled once per
horizon, objective and dtype) and ``"eager"`` (the same function without ``jax.jit``; the
scan is still lowered to one XLA loop, as JAX always does). Both run on XLA's CPU client,
which executes every computation with denormals flushed to zero (see
:mod:`verify.backprop.flush`).

float16, bfloat16, float32 and float64 all run; float64 inside ``jax.enable_x64(True)``, a
context scoped to the call (the global flag is never assigned). The injected learning rate is
a strongly typed array of the dtype, so optax keeps it (no promotion). Step sizes of a batch
are run one after another (a client unrolls one task at a time).

Diagnostics: the scan also returns the iterates w_1..w_t (as a user would to inspect them),
which give the forward magnitudes and first over/underflow; adjoints are internal to
``jax.grad`` and are not exposed (their fields are NaN). This module never imports
:mod:`verify.truth`.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import math
from typing import Any

import numpy as np

from ._common import Request, check_dtype, optional_import, problem_data, reject
from .diagnostics import Diagnostics, Tracker, diagnostics_from
from .registry import VARIANTS

__all__ = ["OPTAX_VARIANTS", "run_optax"]

OPTAX_VARIANTS: tuple[str, ...] = VARIANTS["optax"]


def _optax() -> Any:
    optional_import("jax", "optax", "JAX")
    return optional_import("optax", "optax", "optax")


def _inner(optax: Any, name: str, eta: Any, hyper: tuple[Any, ...]) -> Any:
    """The optax optimizer of ``name`` with the learning rate and settings injected."""
    if name == "heavy_ball":
        return optax.inject_hyperparams(optax.sgd)(learning_rate=eta, momentum=hyper[0])
    if name == "adam":
        b1, b2, eps = hyper
        return optax.inject_hyperparams(optax.adam)(learning_rate=eta, b1=b1, b2=b2, eps=eps)
    return optax.inject_hyperparams(optax.sgd)(learning_rate=eta)


@functools.lru_cache(maxsize=64)
def _value_and_grad(t: int, objective: str, variant: str, name: str = "gd") -> Any:
    """``eta, hyper, H, b, c, w0, He, be, ce -> ((F, (f, ws)), dF/deta)``, jitted or not
    (``hyper``: the optimizer's settings, ``()`` for GD)."""
    optax = _optax()
    jax = importlib.import_module("jax")
    jnp = importlib.import_module("jax.numpy")

    def loss(w: Any, H: Any, b: Any, c: Any) -> Any:
        return 0.5 * jnp.dot(w, H @ w) - jnp.dot(b, w) + c

    def meta_objective(
        eta: Any, hyper: Any, H: Any, b: Any, c: Any, w0: Any, He: Any, be: Any, ce: Any
    ) -> tuple[Any, tuple[Any, Any]]:
        opt = _inner(optax, name, eta, hyper)
        state = opt.init(w0)

        def step(carry: Any, _: Any) -> Any:
            w, state = carry
            updates, state = opt.update(jax.grad(loss)(w, H, b, c), state)
            w = optax.apply_updates(w, updates)
            return (w, state), w

        (w, _), ws = jax.lax.scan(step, (w0, state), None, length=t)
        f = loss(w, He, be, ce)
        F = jnp.log(f) / t if objective == "log" else f
        return F, (f, ws)

    vg = jax.value_and_grad(meta_objective, has_aux=True)
    return jax.jit(vg) if variant == "jit" else vg


def run_optax(req: Request, variant: str) -> tuple[Any, Any, list[Diagnostics]]:
    """Value and meta-gradient by optax + ``jax.grad`` through ``lax.scan``, in the dtype.

    Accuracy
    --------
    None promised (a system under test): the failure mechanisms of stepwise backprop (paper
    notes §4.5), and on the CPU the flush-to-zero of XLA's runtime (region
    ``xla-cpu-flush-to-zero`` of :mod:`verify.known_failures`).
    """
    _optax()
    jax = importlib.import_module("jax")
    jnp = importlib.import_module("jax.numpy")
    if req.mode == "forward":
        raise reject("mode", "forward", "backend='optax' runs reverse-mode jax.grad only")
    dt = req.dt
    H_, b_, c_, w0_ = problem_data(req.problem, dt)
    He_, be_, ce_, _ = problem_data(req.eval, dt)
    fn = _value_and_grad(req.t, req.objective, variant, req.opt.name)
    o = req.opt
    names = {"gd": (), "heavy_ball": ("beta",), "adam": ("beta1", "beta2", "eps")}[o.name]
    t = req.t
    values, grads, diags = [], [], []
    with jax.enable_x64(req.fmt.name == "float64"):
        jd = jnp.dtype(req.fmt.name)
        args = [jnp.asarray(x, dtype=jd) for x in (H_, b_, c_, w0_, He_, be_, ce_)]
        hyper = tuple(jnp.asarray(np.asarray(getattr(o, n)).astype(dt), dtype=jd) for n in names)
        for eta in req.etas.astype(dt):
            (F, (f, ws)), g = fn(jnp.asarray(eta, dtype=jd), hyper, *args)
            values.append(np.asarray(F))
            grads.append(np.asarray(g))
            fwd = Tracker(1)
            fwd.see(0, w0_[None, :])
            traj = np.asarray(ws)
            for k in range(t):
                fwd.see(k + 1, traj[k : k + 1])
            fwd.flush()
            f_np = np.asarray([np.asarray(f).astype(np.float64)])
            (d,) = diagnostics_from(fwd, Tracker(1), f_np, t)
            diags.append(dataclasses.replace(d, max_adjoint=math.nan, min_adjoint=math.nan))
    value = np.asarray(values)
    grad = np.asarray(grads)
    check_dtype(value, dt, "optax meta-objective")
    check_dtype(grad, dt, "optax meta-gradient")
    return value, grad, diags
