"""The inner optimizers the systems under test unroll, and their settings (validated).

Three optimizers, all with a learning rate eta that is differentiated through:

* ``"gd"`` -- plain gradient descent, w_{k+1} = w_k - eta g_k (g_k = H w_k - b);
* ``"heavy_ball"`` -- Polyak's heavy ball, w_{k+1} = w_k - eta g_k + beta (w_k - w_{k-1}),
  w_{-1} = w_0. Every backend runs it in the libraries' velocity form
  v_{k+1} = beta v_k + g_k, w_{k+1} = w_k - eta v_{k+1}, v_0 = 0 (``torch.optim.SGD`` with
  ``dampening=0, nesterov=False``; ``optax.sgd(momentum=beta)``; ``torchopt.sgd``): with
  d_k = w_k - w_{k-1} = -eta v_k it is the recurrence above, term for term, in exact
  arithmetic (the float roundings are the libraries');
* ``"adam"`` -- Adam with bias correction (Kingma & Ba, the form of ``torch.optim.Adam`` and
  ``optax.adam``): m_{k+1} = beta1 m_k + (1 - beta1) g_k, v_{k+1} = beta2 v_k +
  (1 - beta2) g_k^2 (squares entrywise), m_0 = v_0 = 0, and
  w_{k+1} = w_k - eta mhat / (sqrt(vhat) + eps) with mhat = m_{k+1} / (1 - beta1^(k+1)),
  vhat = v_{k+1} / (1 - beta2^(k+1)). RMSProp with bias correction is ``beta1=0``.

Settings are exact: ``beta``, ``beta1``, ``beta2``, ``eps`` are float64 numbers (a
:class:`~fractions.Fraction` only when float64 holds it exactly), and each backend rounds them
once to its dtype like the problem data (draw them with :func:`verify.strategies.momenta` /
:func:`verify.strategies.adam_settings` to make that rounding exact).

This module never imports :mod:`verify.truth`.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..errors import ArgumentError, InvalidStepSizeError
from ..validation import ADAM_DEFAULTS, OPTIMIZERS, validate_beta, validate_eps, validate_optimizer

__all__ = [
    "ADAM_DEFAULTS",
    "GD",
    "OPTIMIZERS",
    "Optimizer",
    "make_optimizer",
]


@dataclass(frozen=True)
class Optimizer:
    """One inner optimizer with its settings (float64 numbers; unused ones are ``None``).

    Attributes
    ----------
    name : {"gd", "heavy_ball", "adam"}
    beta : float or None
        Heavy-ball momentum in [0, 1).
    beta1, beta2 : float or None
        Adam's moment decays in [0, 1) (``beta1=0``: RMSProp with bias correction).
    eps : float or None
        Adam's denominator offset, > 0.
    """

    name: str = "gd"
    beta: float | None = None
    beta1: float | None = None
    beta2: float | None = None
    eps: float | None = None

    @property
    def is_gd(self) -> bool:
        """Plain GD (every result computed exactly as before optimizers existed)."""
        return self.name == "gd"

    def label(self) -> str:
        """A short label for reports: ``gd``, ``heavy_ball(beta=0.5)``, ``adam(...)``."""
        if self.name == "heavy_ball":
            return f"heavy_ball(beta={self.beta!r})"
        if self.name == "adam":
            return f"adam(beta1={self.beta1!r}, beta2={self.beta2!r}, eps={self.eps!r})"
        return "gd"


#: Plain gradient descent.
GD = Optimizer()


def _float64(name: str, value: object, q: Fraction) -> float:
    """``q`` (the exact value of a validated setting) as a float64, which backends round once
    to their dtype; :class:`InvalidStepSizeError` naming ``name`` if float64 does not hold it."""
    x = float(q)
    if Fraction(x) != q:
        raise InvalidStepSizeError(name, value, "is not exactly representable in float64")
    return x


def make_optimizer(
    optimizer: object = "gd",
    *,
    beta: Any = None,
    beta1: Any = None,
    beta2: Any = None,
    eps: Any = None,
) -> Optimizer:
    """Validate an optimizer and its settings into an :class:`Optimizer`.

    ``"heavy_ball"`` needs ``beta``; ``"adam"`` takes ``beta1``, ``beta2``, ``eps`` (defaults
    :data:`ADAM_DEFAULTS`); a setting that the optimizer does not have is refused (a ``beta``
    given to Adam is a typo for ``beta1``, not something to ignore).

    Raises
    ------
    UnknownOptionError
        Naming ``optimizer`` when it is not one of :data:`OPTIMIZERS`.
    InvalidStepSizeError
        Naming ``beta``/``beta1``/``beta2`` (not in [0, 1)) or ``eps`` (not > 0), by the rules
        of :mod:`verify.validation`, or a value float64 does not hold exactly.
    ArgumentError
        Naming a setting the optimizer does not take.

    Examples
    --------
    >>> make_optimizer("heavy_ball", beta=0.5).label()
    'heavy_ball(beta=0.5)'
    >>> make_optimizer("adam", beta1=0.0).beta1
    0.0
    """
    name = validate_optimizer(optimizer)
    given = {"beta": beta, "beta1": beta1, "beta2": beta2, "eps": eps}
    takes = {"gd": (), "heavy_ball": ("beta",), "adam": ("beta1", "beta2", "eps")}[name]
    for key, value in given.items():
        if value is not None and key not in takes:
            raise ArgumentError(key, value, f"optimizer={name!r} has no setting {key!r}")
    if name == "heavy_ball":
        if beta is None:
            raise ArgumentError("beta", beta, "optimizer='heavy_ball' needs beta in [0, 1)")
        return Optimizer("heavy_ball", beta=_float64("beta", beta, validate_beta(beta)))
    if name == "adam":
        b1 = ADAM_DEFAULTS[0] if beta1 is None else beta1
        b2 = ADAM_DEFAULTS[1] if beta2 is None else beta2
        e = ADAM_DEFAULTS[2] if eps is None else eps
        return Optimizer(
            "adam",
            beta1=_float64("beta1", b1, validate_beta(b1, "beta1")),
            beta2=_float64("beta2", b2, validate_beta(b2, "beta2")),
            eps=_float64("eps", e, validate_eps(e)),
        )
    return GD
