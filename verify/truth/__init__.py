"""Certified and exact ground truth.

* :func:`meta_objective`, :func:`meta_gradient`, :func:`meta_hessian` -- proven enclosures
  (python-flint / Arb), the suite's ground truth (GD and heavy-ball momentum).
* :func:`adam_meta_objective`, :func:`adam_meta_gradient` -- proven enclosures for Adam /
  RMSProp by forward-mode unrolling in ball arithmetic (:mod:`verify.truth.adam`, which also
  settles the sqrt-at-0 points: :class:`NotDifferentiableError` where no derivative exists).
* :mod:`verify.truth.rational` -- exact rational oracle (forward, reverse, closed form).
* :mod:`verify.truth.mpmath_ref` -- readable mpmath reference (high precision, not certified).

This package never imports a backprop backend.
"""

from ..certified.enclosure import Enclosure
from ..errors import NotDifferentiableError
from .adam import (
    ADAM_DEFAULTS,
    adam_meta_gradient,
    adam_meta_objective,
    adam_reference,
)
from .engine import (
    DEFAULT_MAX_PREC_BITS,
    DEFAULT_REL_TOL,
    meta_gradient,
    meta_hessian,
    meta_objective,
)

__all__ = [
    "ADAM_DEFAULTS",
    "DEFAULT_MAX_PREC_BITS",
    "DEFAULT_REL_TOL",
    "Enclosure",
    "NotDifferentiableError",
    "adam_meta_gradient",
    "adam_meta_objective",
    "adam_reference",
    "meta_gradient",
    "meta_hessian",
    "meta_objective",
]
