"""Float meta-gradients from the systems under test (never imports :mod:`verify.truth`).

One entry point, :func:`meta_gradient`, runs any backend at any supported dtype:

* ``"numpy"`` -- reference backprop in numpy, reverse or forward mode, every operation in the
  dtype (float16, bfloat16, float32, float64), batched over step sizes;
* ``"torch"`` / ``"jax"`` -- PyTorch autograd / ``jax.grad`` through the unrolled trajectory
  (optional dependencies, imported lazily);
* ``"optax"`` / ``"torchopt"`` / ``"higher"`` -- the meta-learning libraries users run
  (:data:`CLIENT_BACKENDS`, optional extra ``clients``), each written as its documentation
  writes a differentiable inner loop with a learning rate that requires grad;
* ``"stable"`` -- the normalized eigenbasis formula of paper notes §4.6 (float32, float64);
* ``"paper"`` -- the authors' rescaled matrix-power closed form, ``variant="published"``
  (unsorted ``np.linalg.eig``) or ``"sorted"``.

Inner optimizers (``optimizer=``, :mod:`verify.backprop.optimizers`): plain GD everywhere (the
default); heavy-ball momentum (``beta=``) and bias-corrected Adam (``beta1=``, ``beta2=``,
``eps=``; RMSProp is ``beta1=0``) on ``"numpy"`` (:mod:`verify.backprop.momentum`,
:mod:`verify.backprop.adam`), ``"torch"`` (a hand-written functional optimizer) and the
clients (``torch.optim.SGD(momentum=...)`` / ``torch.optim.Adam`` through higher,
``torchopt.MetaSGD(momentum=...)`` / ``MetaAdam``, ``optax.sgd(momentum=...)`` / ``adam``).

All of them are systems under test: :mod:`verify.compare` judges their results against the
certified enclosures of :mod:`verify.truth`. Two float64 models support that judgement:
:func:`sensitivity` (condition numbers that size the tolerances) and :func:`predict_failure`
(where plain backprop of the log objective must over/underflow, paper notes §4.5).

Examples
--------
>>> from verify import Quadratic
>>> from verify.backprop import meta_gradient
>>> q = Quadratic([[2.0, 0.0], [0.0, 1.0]], w0=[0.6, 0.8])
>>> r = meta_gradient(q, [0.1, 0.2], 10, dtype="float64")
>>> r.grad.dtype, r.grad.shape, r.backend, r.mode
(dtype('float64'), (2,), 'numpy', 'reverse')
"""

from __future__ import annotations

from typing import Any

from numpy.typing import ArrayLike

from ..problems import Problem
from ._common import (
    BackendUnavailableError,
    BackpropResult,
    Request,
    UnsupportedOptionError,
    finish,
    make_request,
    reject,
    resolve_variant,
)
from .boundaries import FailurePrediction, predict_failure
from .diagnostics import Diagnostics
from .optimizers import ADAM_DEFAULTS, OPTIMIZERS, Optimizer, make_optimizer
from .paper import PAPER_VARIANTS
from .registry import BACKENDS, CLIENT_BACKENDS, MODES, VARIANTS
from .sensitivity_model import Sensitivity

__all__ = [
    "ADAM_DEFAULTS",
    "BACKENDS",
    "CLIENT_BACKENDS",
    "MODES",
    "OPTIMIZERS",
    "PAPER_VARIANTS",
    "VARIANTS",
    "BackendUnavailableError",
    "BackpropResult",
    "Diagnostics",
    "FailurePrediction",
    "Optimizer",
    "Sensitivity",
    "UnsupportedOptionError",
    "meta_gradient",
    "predict_failure",
    "sensitivity",
]


def meta_gradient(
    problem: Problem,
    eta: ArrayLike,
    t: int,
    *,
    objective: str = "log",
    eval_problem: Problem | None = None,
    dtype: str = "float32",
    backend: str = "numpy",
    mode: str = "reverse",
    device: str | None = None,
    variant: str | None = None,
    optimizer: str = "gd",
    beta: Any = None,
    beta1: Any = None,
    beta2: Any = None,
    eps: Any = None,
) -> BackpropResult:
    """Meta-objective F(eta) and meta-gradient F'(eta) from one float backend.

    Parameters
    ----------
    problem : Quadratic or LeastSquares
        Training problem: GD w_{k+1} = w_k - eta (H w_k - b) runs on it from ``problem.w0``.
        Least-squares data enter through their float64 quadratic (H, b, c).
    eta : float or 1-D array_like
        Step size(s) >= 0; a vector is run batched and gives array results.
    t : int
        Horizon (>= 1 for the log objective).
    objective : {"log", "naive"}
        (1/t) log g(w_t) or g(w_t).
    eval_problem : Quadratic or LeastSquares, optional
        Evaluation loss g (default: the training loss).
    dtype : {"float16", "bfloat16", "float32", "float64"}
        Every backend rounds the problem data once to this format and computes in it.
    backend : {"numpy", "torch", "jax", "stable", "paper", "optax", "torchopt", "higher"}
    mode : {"reverse", "forward"}
        Differentiation mode of ``"numpy"`` (torch, jax and the clients run reverse mode; the
        closed-form backends ignore it and report ``mode="closed_form"``).
    device : str, optional
        PyTorch device (``"cpu"``, ``"cuda"``...) of ``backend="torch"``; only
        ``None``/``"cpu"`` elsewhere.
    variant : str, optional
        For the backends with variants (:data:`VARIANTS`; ``None``: the first, the default):
        ``backend="paper"``: ``"published"`` or ``"sorted"``; ``"optax"``: ``"jit"`` or
        ``"eager"``; ``"torchopt"``: ``"functional"`` (``torchopt.sgd`` + ``update``) or
        ``"meta"`` (``torchopt.MetaSGD``). Any other backend refuses a variant.
    optimizer : {"gd", "heavy_ball", "adam"}
        The inner optimizer (default GD, as without this argument; which backends unroll
        which: the registry's ``optimizers``); F'(eta) is d/d(learning rate), settings fixed.
    beta, beta1, beta2, eps : float, optional
        Heavy-ball momentum in [0, 1) (required there); Adam's settings (defaults
        :data:`ADAM_DEFAULTS`; ``beta1=0``: RMSProp). Rounded once to ``dtype``; see
        :mod:`verify.backprop.optimizers`.

    Returns
    -------
    BackpropResult
        ``value``, ``grad`` (numpy scalars or (G,) arrays in ``dtype``) and diagnostics.

    Raises
    ------
    InvalidStepSizeError, InvalidHorizonError, UnknownOptionError, ShapeMismatchError
        For invalid arguments.
    ArgumentError
        Naming ``beta``/``beta1``/``beta2`` (outside [0, 1)), ``eps`` (not > 0) or a setting
        the optimizer does not take (an unknown ``optimizer``: UnknownOptionError).
    UnsupportedOptionError
        For a valid option that the chosen backend does not support (e.g. ``"stable"`` at
        float16, ``"paper"`` with b != 0).
    BackendUnavailableError
        When PyTorch, JAX or the client library is not installed (or the torch device is
        unusable).
    TrajectoryMemoryError
        ``backend="numpy"``, ``mode="reverse"``: the stored trajectory (t x G x d entries of
        the dtype) cannot be allocated; forward mode and the stable backend need memory
        independent of t.

    Accuracy
    --------
    None promised: these are the systems under test. The numpy/torch/jax backprop fails by
    over/underflow once 2t |ln rho(eta)| leaves the dtype's exponent range
    (:func:`predict_failure`); the stable backend's first-order error model is in
    :func:`verify.backprop.stable.run_stable`; :func:`verify.judge.judge_result` judges any
    result against certified truth.
    """
    opt = make_optimizer(optimizer, beta=beta, beta1=beta1, beta2=beta2, eps=eps)
    req = make_request(
        problem, eta, t, objective=objective, eval_problem=eval_problem, dtype=dtype,
        backend=backend, mode=mode, opt=opt,
    )  # fmt: skip
    if device not in (None, "cpu") and backend not in ("torch",):
        raise reject("device", device, f"backend={backend!r} runs on the CPU only")
    return _run(req, device, resolve_variant(backend, variant))


def _run(req: Request, device: str | None, variant: str | None) -> BackpropResult:
    """Run a validated request on its backend (each framework imported on first use)."""
    backend = req.backend
    if backend == "numpy" and not req.opt.is_gd:
        if req.opt.name == "heavy_ball":
            from .momentum import run_heavy_ball

            return finish(req, *run_heavy_ball(req))
        from .adam import run_adam

        return finish(req, *run_adam(req))
    if backend == "numpy":
        from .reference import run_numpy

        return finish(req, *run_numpy(req))
    if backend == "stable":
        from .stable import run_stable

        return finish(req, *run_stable(req), mode="closed_form")
    if backend == "paper":
        from .paper import run_paper

        return finish(req, *run_paper(req, str(variant)), mode="closed_form", variant=variant)
    if backend == "torch":
        from .torch_backend import run_torch

        return finish(req, *run_torch(req, device))
    if backend == "optax":
        from .optax_backend import run_optax

        return finish(req, *run_optax(req, str(variant)), variant=variant)
    if backend == "torchopt":
        from .torchopt_backend import run_torchopt

        return finish(req, *run_torchopt(req, str(variant)), variant=variant)
    if backend == "higher":
        from .higher_backend import run_higher

        return finish(req, *run_higher(req))
    from .jax_backend import run_jax

    return finish(req, *run_jax(req, device))


def sensitivity(
    problem: Problem,
    eta: ArrayLike,
    t: int,
    *,
    objective: str = "log",
    eval_problem: Problem | None = None,
) -> list[Sensitivity]:
    """Float64 condition numbers of F'(eta) (see :class:`Sensitivity`), one per step size.

    Accuracy
    --------
    A model for sizing tolerances, computed in float64 from the float64 eigendecomposition;
    not certified.
    """
    from .sensitivity_model import sensitivity as _sensitivity

    req = make_request(
        problem,
        eta,
        t,
        objective=objective,
        eval_problem=eval_problem,
        dtype="float64",
        backend="stable",
        mode="reverse",
    )
    return _sensitivity(req)
