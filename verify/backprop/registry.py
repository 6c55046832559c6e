"""The one registry of float backends: what each system under test is and what it accepts.

Every list of backends, client libraries, stepwise backends, variants and per-backend dtypes in
:mod:`verify` reads this table (:data:`REGISTRY`, in display order); nothing else keeps such a
list. The dtypes are float formats of :data:`verify.floats.FORMATS`.

========  =========  ================  ===========  ===============  ======  ==================
name      framework  modes             kind         requires         client  variants
========  =========  ================  ===========  ===============  ======  ==================
numpy     numpy      reverse, forward  stepwise     --               no      --
torch     torch      reverse           stepwise     torch            no      --
jax       jax        reverse           stepwise     jax              no      --
stable    numpy      closed_form       closed_form  --               no      --
paper     numpy      closed_form       closed_form  --               no      published, sorted
optax     jax        reverse           stepwise     jax, optax       yes     jit, eager
torchopt  torch      reverse           stepwise     torch, torchopt  yes     functional, meta
higher    torch      reverse           stepwise     torch, higher    yes     --
========  =========  ================  ===========  ===============  ======  ==================

``stable`` and ``paper`` run float32 and float64 only; every other backend runs all four
formats. Inner optimizers (:data:`OPTIMIZERS`, :mod:`verify.backprop.optimizers`): every backend
unrolls plain GD; ``numpy``, ``torch``, ``optax``, ``torchopt`` and ``higher`` also unroll
heavy-ball momentum and Adam (``optimizers``); ``jax``, ``stable`` and ``paper`` GD only.
``stable`` rounds modal data, every other backend the iterate (``rounds``).
Importing this module imports no framework (:func:`installed` only looks modules up).

Examples
--------
>>> backend_info("stable").dtypes
('float32', 'float64')
>>> select(client=True)
('optax', 'torchopt', 'higher')
>>> select(optimizer="adam")
('numpy', 'torch', 'optax', 'torchopt', 'higher')
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType, ModuleType
from typing import Literal

from ..errors import BackendUnavailableError, UnknownOptionError
from ..floats import FORMATS
from .optimizers import OPTIMIZERS

__all__ = [
    "BACKENDS",
    "CLIENT_BACKENDS",
    "MODES",
    "OPTIMIZERS",
    "REGISTRY",
    "STEPWISE_BACKENDS",
    "VARIANTS",
    "BackendInfo",
    "Framework",
    "Kind",
    "Rounds",
    "backend_info",
    "installed",
    "optional_import",
    "select",
]

Framework = Literal["numpy", "torch", "jax"]
Kind = Literal["stepwise", "closed_form"]
Rounds = Literal["iterate", "modal"]


@dataclass(frozen=True)
class BackendInfo:
    """What one backend of :func:`verify.backprop.meta_gradient` is.

    Attributes
    ----------
    name : str
        The ``backend=`` value.
    framework : {"numpy", "torch", "jax"}
        The array library it computes with.
    modes : tuple of str
        The ``mode`` its results report: ``"reverse"`` and/or ``"forward"`` for the stepwise
        backends (autodiff through the unrolled trajectory), ``"closed_form"`` for the
        closed forms (which accept and ignore ``mode=``).
    dtypes : tuple of str
        The float formats it computes in (names of :data:`verify.floats.FORMATS`).
    kind : {"stepwise", "closed_form"}
        Stepwise backends unroll GD and differentiate it (so they over/underflow where
        :func:`verify.backprop.predict_failure` says); closed forms evaluate a formula.
    requires : tuple of str
        The importable modules it needs beyond numpy (``()``: none).
    client : bool
        Whether it is a meta-learning library under test (optional extra ``clients``).
    variants : tuple of str
        Its variants, the first being the default (``()``: none).
    rounds : {"iterate", "modal"}
        What its rounding errors perturb, which picks its error model in
        :func:`verify.compare.error_bound`: the iterate w_k (stepwise backprop; the paper's
        matrix powers A^k) or the modal data in H's normalized eigenbasis (the stable closed
        form, whose largest mode has |r| = 1 exactly).
    optimizers : tuple of str
        The inner optimizers it unrolls (``optimizer=`` of
        :func:`verify.backprop.meta_gradient`; names of :data:`OPTIMIZERS`).
    """

    name: str
    framework: Framework
    modes: tuple[str, ...]
    dtypes: tuple[str, ...]
    kind: Kind
    requires: tuple[str, ...] = ()
    client: bool = False
    variants: tuple[str, ...] = ()
    rounds: Rounds = "iterate"
    optimizers: tuple[str, ...] = ("gd",)

    @property
    def extra(self) -> str:
        """The pip extra that installs :attr:`requires` (``pip install 'l2l-verify[extra]'``):
        ``clients`` for the meta-learning libraries, else the backend's name."""
        return "clients" if self.client else self.name


_ALL = tuple(FORMATS)
_WIDE = ("float32", "float64")
_REVERSE = ("reverse",)
_CLOSED = ("closed_form",)

#: Every backend, in display order.
REGISTRY: Mapping[str, BackendInfo] = MappingProxyType(
    {
        info.name: info
        for info in (
            BackendInfo(
                "numpy", "numpy", ("reverse", "forward"), _ALL, "stepwise", optimizers=OPTIMIZERS
            ),
            BackendInfo(
                "torch", "torch", _REVERSE, _ALL, "stepwise", ("torch",), optimizers=OPTIMIZERS
            ),
            BackendInfo("jax", "jax", _REVERSE, _ALL, "stepwise", ("jax",)),
            BackendInfo("stable", "numpy", _CLOSED, _WIDE, "closed_form", rounds="modal"),
            BackendInfo(
                "paper", "numpy", _CLOSED, _WIDE, "closed_form", variants=("published", "sorted")
            ),
            BackendInfo(
                "optax",
                "jax",
                _REVERSE,
                _ALL,
                "stepwise",
                ("jax", "optax"),
                True,
                ("jit", "eager"),
                optimizers=OPTIMIZERS,
            ),
            BackendInfo(
                "torchopt",
                "torch",
                _REVERSE,
                _ALL,
                "stepwise",
                ("torch", "torchopt"),
                True,
                ("functional", "meta"),
                optimizers=OPTIMIZERS,
            ),
            BackendInfo(
                "higher",
                "torch",
                _REVERSE,
                _ALL,
                "stepwise",
                ("torch", "higher"),
                True,
                optimizers=OPTIMIZERS,
            ),
        )
    }
)

#: The backend names, in display order.
BACKENDS: tuple[str, ...] = tuple(REGISTRY)
#: The ``mode=`` values :func:`verify.backprop.meta_gradient` accepts.
MODES: tuple[str, ...] = ("reverse", "forward")


def backend_info(name: str) -> BackendInfo:
    """The :class:`BackendInfo` of ``name``.

    Raises
    ------
    UnknownOptionError
        Naming ``backend`` when ``name`` is not a backend.
    """
    info = REGISTRY.get(name) if isinstance(name, str) else None
    if info is None:
        raise UnknownOptionError("backend", name, f"must be one of {BACKENDS}")
    return info


def select(
    *,
    kind: Kind | None = None,
    client: bool | None = None,
    framework: Framework | None = None,
    optimizer: str | None = None,
) -> tuple[str, ...]:
    """The backend names (display order) with the given properties (``None``: any);
    ``optimizer``: those that unroll it."""
    return tuple(
        info.name
        for info in REGISTRY.values()
        if (kind is None or info.kind == kind)
        and (client is None or info.client == client)
        and (framework is None or info.framework == framework)
        and (optimizer is None or optimizer in info.optimizers)
    )


#: The meta-learning libraries under test (optional extra ``clients``): each unrolls GD the
#: way its documentation tells users to, with reverse-mode autodiff of the unrolled loss.
CLIENT_BACKENDS: tuple[str, ...] = select(client=True)
#: The backends that unroll GD and differentiate it step by step (autodiff frameworks, the
#: numpy reference and the clients); the others are closed forms.
STEPWISE_BACKENDS: tuple[str, ...] = select(kind="stepwise")
#: Backends with variants, the first of each being the default.
VARIANTS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {info.name: info.variants for info in REGISTRY.values() if info.variants}
)


def installed(name: str) -> bool:
    """Whether ``name``'s modules are installed here (found, not imported).

    Raises
    ------
    UnknownOptionError
        When ``name`` is not a backend.
    """
    return all(importlib.util.find_spec(m) is not None for m in backend_info(name).requires)


def optional_import(module: str, backend: str, name: str) -> ModuleType:
    """Import an optional framework for ``backend``, or raise :class:`BackendUnavailableError`
    naming the extra that installs it (``pip install 'l2l-verify[extra]'``, the registry's
    :attr:`~verify.backprop.registry.BackendInfo.extra`)."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        extra = backend_info(backend).extra
        raise BackendUnavailableError(
            backend, f"{name} is not installed (pip install 'l2l-verify[{extra}]')"
        ) from exc
