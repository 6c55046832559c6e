"""Shared inputs for the backprop tests: problems and step sizes exact in the formats under test.

Every value handed to a backend is exactly representable in ``exact_in`` (and all wider
formats), so the dtype backends and the certified oracle see bit-identical inputs (STYLE
habit 6) and any disagreement is the backend's own rounding.
"""

from __future__ import annotations

import numpy as np

from verify import Quadratic


def round_to(x: float, dtype: str = "float32") -> float:
    """``x`` rounded once to ``dtype`` and returned as a Python float (exact)."""
    from verify.floats import get_format

    return float(np.asarray(x, dtype=np.float64).astype(get_format(dtype).numpy_dtype()))


def exact_problem(
    d: int, seed: int, *, kind: str = "wishart2", exact_in: str = "float32"
) -> Quadratic:
    """``Quadratic.random(d, seed, kind)`` with H and w0 rounded once to ``exact_in``."""
    from verify.floats import get_format

    base = Quadratic.random(d, seed=seed, kind=kind)  # type: ignore[arg-type]
    dt = get_format(exact_in).numpy_dtype()
    H = base.H.astype(dt).astype(np.float64)
    w0 = base.w0.astype(dt).astype(np.float64)
    return Quadratic((H + H.T) / 2, w0)


def eta_grid(q: Quadratic, multiples: list[float], exact_in: str = "float32") -> list[float]:
    """Step sizes ``m / L`` for each multiple, rounded to ``exact_in``."""
    return [round_to(m / q.L, exact_in) for m in multiples]
