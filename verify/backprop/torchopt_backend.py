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

float16, bfloat16, float32 and float64 all run (torch CPU kernels); CPU only. Diagnostics:
forward iterates as produced, adjoints by tensor hooks (as the ``torch`` backend). This module
never imports :mod:`verify.truth`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from ._common import Request, optional_import
from ._torch_clients import iterate_module, run_client
from .diagnostics import Diagnostics

__all__ = ["run_torchopt"]


def _torchopt() -> Any:
    optional_import("torch", "torchopt", "PyTorch")
    return optional_import("torchopt", "torchopt", "torchopt")


def _functional(torchopt: Any) -> Any:
    torch = importlib.import_module("torch")

    def unroll(
        lr: Any, loss: Callable[[Any], Any], w0: Any, t: int, observe: Callable[[int, Any], None]
    ) -> Any:
        opt = torchopt.sgd(lr=lr)
        params = (w0.clone().requires_grad_(True),)
        state = opt.init(params)
        for k in range(1, t + 1):
            grads = torch.autograd.grad(loss(params[0]), params, create_graph=True)
            updates, state = opt.update(grads, state, inplace=False)
            params = torchopt.apply_updates(params, updates, inplace=False)
            observe(k, params[0])
        return params[0]

    return unroll


def _meta(torchopt: Any) -> Any:
    def unroll(
        lr: Any, loss: Callable[[Any], Any], w0: Any, t: int, observe: Callable[[int, Any], None]
    ) -> Any:
        model = iterate_module(w0, loss)
        opt = torchopt.MetaSGD(model, lr=lr)
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
    unroll = _functional(torchopt) if variant == "functional" else _meta(torchopt)
    return run_client(req, "torchopt", unroll)
