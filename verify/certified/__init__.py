"""Certified primitives: enclosures, certified definiteness, the certified eigendecomposition.

* :mod:`verify.certified.enclosure` -- :class:`~verify.certified.enclosure.Enclosure`, a
  proven interval with exact rational endpoints and correct rounding to float formats.
* :mod:`verify.certified.definiteness` -- the certified definiteness class of a symmetric
  float64 matrix (Arb proof, exact rational LDL^T when undecided).
* :mod:`verify.certified.eigen` -- the refined, certified eigendecomposition of an exact
  symmetric matrix given as an Arb builder, and the spectral constants L, alpha, c_min.

Nothing here knows a problem class, so :mod:`verify.problems` can use it without a cycle.
"""
