"""torchopt's differentiable optimizers through the unrolled GD trajectory (a client under test).

Written as torchopt's documentation ("Explicit Gradient Differentiation") writes an unrolled
inner loop, with the learning rate as a 0-d tensor that requires grad:

``variant="functional"`` (default) -- the functional (optax-like) API::

    opt = torchopt.sgd(lr=lr)                       # lr: tensor, requires_grad=True
    params = (w0.clone().requires_grad_(True),)
    state = opt.init(params)
    for _ in range(t):
        grads = torch.autograd.grad(loss(params[0]), params, create_graph=True)
        updates, state = opt.update(grads, state, inplace=False)
        params = torchopt.apply_updates(params, updates, inplace=False)

``variant="meta"`` -- the object-oriented differentiable optimizer ``torchopt.MetaSGD(model,
lr=lr)`` with ``opt.step(loss)`` on an ``nn.Module`` holding w.

Why a tensor learning rate is the documented route's closest form: torchopt types ``lr`` as a
float or a schedule and documents differentiating through the *parameters*; a 0-d tensor
requiring grad passes through its ``scale_by_neg_lr`` transform unchanged (``-lr`` and
``g.mul(-lr)``), so dF/deta reaches ``lr`` by the same autograd graph. Both variants build
the same graph as ``higher``'s differentiable SGD: at every point of the tests the three
return bit-identical meta-gradients.

Other inner optimizers, the same loops with torchopt's optimizers:
``optimizer="heavy_ball"``: ``torchopt.sgd(lr, momentum=beta)`` / ``torchopt.MetaSGD(model, lr,
momentum=beta)`` (torchopt's ``trace``: the first step sets the trace to g_0, then
trace = beta trace + g, update = -lr trace: heavy ball with eta = lr);
``optimizer="adam"``: ``torchopt.adam(lr, betas=(beta1, beta2), eps=eps)`` /
``torchopt.MetaAdam(...)`` (``scale_by_adam``: mhat / (sqrt(vhat + eps_root) + eps) with
eps_root = 0 -- our recurrence; NaN at the sqrt-at-0 points, see
:mod:`verify.backprop.adam`).

float16, bfloat16, float32 and float64 all run (torch CPU kernels); CPU only. Diagnostics:
forward iterates as produced, adjoints by tensor hooks (as the ``torch`` backend). This module
never imports :mod:`verify.truth`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from ._common import Request, optional_import
from ._torch_clients import hyperparameters, iterate_module, run_client
from .diagnostics import Diagnostics

__all__ = ["run_torchopt"]


def _torchopt() -> Any:
    optional_import("torch", "torchopt", "PyTorch")
    return optional_import("torchopt", "torchopt", "torchopt")


def _make(torchopt: Any, req: Request, meta: bool) -> Any:
    """The optimizer factory ``(lr[, model]) -> optimizer`` of ``req``'s inner optimizer."""
    settings = hyperparameters(req)
    name = req.opt.name
    if name == "adam":
        kw: dict[str, Any] = {"betas": settings[:2], "eps": settings[2]}
        return torchopt.MetaAdam if meta else torchopt.adam, kw
    kw = {"momentum": settings[0]} if name == "heavy_ball" else {}
    return torchopt.MetaSGD if meta else torchopt.sgd, kw


def _functional(torchopt: Any, req: Request) -> Any:
    torch = importlib.import_module("torch")
    factory, kw = _make(torchopt, req, meta=False)

    def unroll(
        lr: Any, loss: Callable[[Any], Any], w0: Any, t: int, observe: Callable[[int, Any], None]
    ) -> Any:
        opt = factory(lr=lr, **kw)
        params = (w0.clone().requires_grad_(True),)
        state = opt.init(params)
        for k in range(1, t + 1):
            grads = torch.autograd.grad(loss(params[0]), params, create_graph=True)
            updates, state = opt.update(grads, state, inplace=False)
            params = torchopt.apply_updates(params, updates, inplace=False)
            observe(k, params[0])
        return params[0]

    return unroll


def _meta(torchopt: Any, req: Request) -> Any:
    factory, kw = _make(torchopt, req, meta=True)

    def unroll(
        lr: Any, loss: Callable[[Any], Any], w0: Any, t: int, observe: Callable[[int, Any], None]
    ) -> Any:
        model = iterate_module(w0, loss)
        opt = factory(model, lr=lr, **kw)
        for k in range(1, t + 1):
            opt.step(model())
            observe(k, model.w)
        return model.w

    return unroll


def run_torchopt(req: Request, variant: str) -> tuple[Any, Any, list[Diagnostics]]:
    """Value and meta-gradient through torchopt's differentiable SGD, in the dtype.

    Accuracy
    --------
    None promised (a system under test); the failure mechanisms of stepwise backprop (paper
    notes §4.5).
    """
    torchopt = _torchopt()
    unroll = _functional(torchopt, req) if variant == "functional" else _meta(torchopt, req)
    return run_client(req, "torchopt", unroll)
