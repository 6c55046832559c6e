"""Certified primitives: enclosures, certified definiteness, the certified eigendecomposition.

* :mod:`verify.certified.enclosure` -- :class:`~verify.certified.enclosure.Enclosure`, a
  proven interval with exact endpoints (dyadic-scaled rationals, so values like 2^-(2e12)
  stay small) and correct rounding to float formats.
* :mod:`verify.certified.definiteness` -- the certified definiteness class of a symmetric
  float64 matrix: a float64 Cholesky of a shifted matrix with a proven rounding-error bound
  first, then the Arb proof, then exact rational LDL^T when undecided.
* :mod:`verify.certified.floatbounds` -- error-free transformations (Ozaki splitting, TwoSum,
  TwoProduct) and float64 matrix products with proven error bounds, no directed rounding.
* :mod:`verify.certified.fasteig` -- the float64 engine: LAPACK ``eigh`` refined by
  Ogita-Aishima steps in double-double, with a posteriori bounds on the residual and on the
  loss of orthogonality.
* :mod:`verify.certified.eigen` -- the certified eigendecomposition of an exact symmetric
  matrix given as an Arb builder (the float64 engine for d > 100 when it proves enough, the Arb
  engine otherwise, and as the tests' independent cross-check), and the spectral constants L,
  alpha, c_min.

Nothing here knows a problem class, so :mod:`verify.problems` can use it without a cycle.
"""
