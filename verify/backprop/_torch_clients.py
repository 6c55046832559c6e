"""What the PyTorch meta-learning clients (torchopt, higher) share: data, loss, diagnostics.

A client backend supplies only its unroll -- the inner loop written the way its library's
documentation writes it -- as a function ``unroll(lr, loss, w0, t, observe) -> w_t``:

* ``lr`` is a 0-d tensor of the dtype holding eta, with ``requires_grad=True``;
* ``loss(w)`` is the training loss 1/2 w^T H w - b^T w + c as a user writes it (its gradient
  comes from autograd, ``create_graph=True``, as in every differentiable inner loop);
* ``w0`` is the initial iterate (a tensor that does not require grad);
* ``observe(k, w_k)`` must be called with each new iterate (k = 1..t): it records the
  forward magnitudes and hooks the adjoint of w_k for the diagnostics.

:func:`run_client` then forms F = g(w_t) or (1/t) log g(w_t) on the evaluation problem and
takes dF/deta with ``torch.autograd.grad``, one step size at a time (clients are per-task
code: a batch of G step sizes is G separate unrolls). This module never imports
:mod:`verify.truth`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._common import Request, check_dtype, problem_data, reject
from ._torch_common import to_numpy, torch_dtype, torch_module
from .diagnostics import Diagnostics, Tracker, diagnostics_from

__all__ = ["Unroll", "hyperparameters", "iterate_module", "run_client"]

Observe = Callable[[int, Any], None]
Unroll = Callable[[Any, Callable[[Any], Any], Any, int, Observe], Any]


def _tensor(a: Any, tdt: Any) -> Any:
    """A CPU tensor of ``tdt`` holding ``a`` exactly (data already rounded to the dtype)."""
    torch = torch_module()
    arr = np.asarray(a)
    if arr.dtype.name == "bfloat16":
        return torch.from_numpy(arr.astype(np.float32)).to(dtype=tdt)
    return torch.from_numpy(np.array(arr, copy=True)).to(dtype=tdt)  # keeps 0-d arrays 0-d


def hyperparameters(req: Request) -> tuple[float, ...]:
    """The optimizer's settings as Python floats holding their values rounded once to the
    dtype (what a client is given): ``(beta,)`` for heavy ball, ``(beta1, beta2, eps)`` for
    Adam, ``()`` for GD. The libraries then combine them with tensors of the dtype by their
    own rules (e.g. torch's scalar arithmetic in float16 runs in float32 and rounds once)."""
    o = req.opt
    names = {"gd": (), "heavy_ball": ("beta",), "adam": ("beta1", "beta2", "eps")}[o.name]
    return tuple(float(np.asarray(getattr(o, n)).astype(req.dt)) for n in names)


def iterate_module(w0: Any, loss: Callable[[Any], Any]) -> Any:
    """An ``nn.Module`` whose one parameter ``w`` is the iterate (initialized to ``w0``) and
    whose ``forward()`` is the training loss at ``w`` -- the model a client optimizes."""
    torch = torch_module()

    class Iterate(torch.nn.Module):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.w = torch.nn.Parameter(w0.clone())

        def forward(self) -> Any:
            return loss(self.w)

    return Iterate()


def run_client(req: Request, backend: str, unroll: Unroll) -> tuple[Any, Any, list[Diagnostics]]:
    """Value and meta-gradient of every step size by ``unroll`` + ``torch.autograd.grad``.

    Accuracy
    --------
    None promised (a system under test): the failure mechanisms of stepwise backprop
    (paper notes §4.5), with the inner gradient itself formed by autograd.
    """
    torch = torch_module()
    if req.mode == "forward":
        raise reject("mode", "forward", f"backend={backend!r} runs reverse-mode autograd only")
    tdt = torch_dtype(req.fmt)
    dt = req.dt
    H_, b_, c_, w0_ = problem_data(req.problem, dt)
    He_, be_, ce_, _ = problem_data(req.eval, dt)
    H, b, c, w0 = (_tensor(x, tdt) for x in (H_, b_, c_, w0_))
    He, be, ce = (_tensor(x, tdt) for x in (He_, be_, ce_))
    t = req.t

    def loss(w: Any) -> Any:
        return 0.5 * (w @ (H @ w)) - b @ w + c

    values, grads, diags = [], [], []
    for eta in req.etas.astype(dt):
        lr = _tensor(np.asarray(eta, dtype=dt), tdt).requires_grad_(True)
        fwd = Tracker(1)
        adj = Tracker(1)
        adj_seen: dict[int, Any] = {}

        def observe(k: int, w: Any, fwd: Tracker = fwd, seen: dict[int, Any] = adj_seen) -> None:
            fwd.see(k, to_numpy(w, dt)[None, :])
            if w.requires_grad:

                def grab(adjoint: Any) -> None:
                    seen[k] = to_numpy(adjoint, dt)[None, :]

                w.register_hook(grab)

        observe(0, w0)
        w = unroll(lr, loss, w0, t, observe)
        f = 0.5 * (w @ (He @ w)) - be @ w + ce
        F = torch.log(f) / t if req.objective == "log" else f
        if F.requires_grad:
            (g,) = torch.autograd.grad(F, lr, allow_unused=True)
        else:  # t = 0 (naive objective): w_t = w0 does not depend on eta
            g = None
        if g is None:
            g = torch.zeros_like(lr)
        if F.dtype != tdt or g.dtype != tdt:  # pragma: no cover - would be a client's upcast
            raise AssertionError(f"{backend} returned {F.dtype}/{g.dtype}, expected {tdt}")
        values.append(to_numpy(F, dt))
        grads.append(to_numpy(g, dt))
        for k in sorted(adj_seen, reverse=True):
            adj.see(k, adj_seen[k])
        fwd.flush()
        adj.flush()
        f_np = np.asarray([to_numpy(f, dt)], dtype=np.float64)
        diags.extend(diagnostics_from(fwd, adj, f_np, t))
    value = np.asarray(values)
    grad = np.asarray(grads)
    check_dtype(value, dt, f"{backend} meta-objective")
    check_dtype(grad, dt, f"{backend} meta-gradient")
    return value, grad, diags
