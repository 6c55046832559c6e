"""Certified primitives: enclosures, certified definiteness, the certified eigendecomposition.

Nothing here knows a problem class, so :mod:`verify.problems` can use it without a cycle.
"""
