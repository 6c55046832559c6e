"""Certified and exact ground truth.

* :func:`meta_objective`, :func:`meta_gradient`, :func:`meta_hessian` -- proven enclosures
  (python-flint / Arb), the suite's ground truth.
* :mod:`verify.truth.rational` -- exact rational oracle (forward, reverse, closed form).
* :mod:`verify.truth.mpmath_ref` -- readable mpmath reference (high precision, not certified).

This package never imports a backprop backend.
"""

from ..certified.enclosure import Enclosure
from .engine import (
    DEFAULT_MAX_PREC_BITS,
    DEFAULT_REL_TOL,
    meta_gradient,
    meta_hessian,
    meta_objective,
)

__all__ = [
    "DEFAULT_MAX_PREC_BITS",
    "DEFAULT_REL_TOL",
    "Enclosure",
    "meta_gradient",
    "meta_hessian",
    "meta_objective",
]
