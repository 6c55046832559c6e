"""The diagnostics tracker's block-wise fast paths agree with a step-by-step oracle.

The tracker inspects buffered steps per step size with one flat maximum and minimum and skips
blocks that cannot change anything (all finite and nonzero; all NaN after a recorded NaN; all
zero after a zero row). The oracle below applies the documented definitions one row at a time.
"""

from __future__ import annotations

import math
from unittest import mock

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from verify.backprop import diagnostics
from verify.backprop.diagnostics import BLOCK, Tracker
from verify.floats import get_format

# magnitudes that exercise every branch: zero, subnormals (float64: 5e-324; float32: 1e-45 and
# 1e-40, also a bfloat16 one; float16: 6e-8), normal values, inf, NaN -- rounded to each dtype
PALETTE = [0.0, 5e-324, 1e-45, 1e-40, 6e-8, 1.5, -2.25, 3.0e38, math.inf, -math.inf, math.nan]
#: the tracker reads magnitudes through the bit patterns of the dtype, so every width is drawn
DTYPES = ["float16", "bfloat16", "float32", "float64"]


def _oracle(steps: list[np.ndarray]) -> dict[str, list[float]]:
    """Row-by-row definitions (the tracker's contract) for a list of (G, d) arrays."""
    G = steps[0].shape[0]
    out: dict[str, list[float]] = {
        "maxv": [0.0] * G,
        "minv": [math.inf] * G,
        "over": [-1] * G,
        "under": [-1] * G,
        "nan": [-1] * G,
    }
    for i in range(G):
        prev_nonzero: bool | None = None
        for k, X in enumerate(steps):
            row = np.abs(X[i].astype(np.float64))
            has_nan = bool(np.isnan(row).any())
            has_inf = bool(np.isinf(row).any())
            if has_nan and out["nan"][i] < 0:
                out["nan"][i] = k
            if has_inf and out["over"][i] < 0:
                out["over"][i] = k
            finite = row[np.isfinite(row)]
            # magnitudes are recorded from rows without a NaN (a NaN row is past its failure)
            fmax = 0.0 if has_nan else (float(finite.max()) if finite.size else 0.0)
            out["maxv"][i] = max(out["maxv"][i], fmax)
            positive = row[row > 0]
            if positive.size:
                out["minv"][i] = min(out["minv"][i], float(positive.min()))
            nonzero = fmax > 0 or has_nan or has_inf
            if prev_nonzero and not nonzero and out["under"][i] < 0:
                out["under"][i] = k
            prev_nonzero = nonzero
    return out


@st.composite
def step_sequences(draw: st.DrawFn) -> list[np.ndarray]:
    G = draw(st.integers(1, 3))
    d = draw(st.integers(1, 3))
    n = draw(st.integers(1, 3 * BLOCK + 5))  # several blocks and a partial one
    # runs of one "regime" per step size (absorbing NaN / zero stretches, as in real runs)
    cells = st.sampled_from(PALETTE)
    steps = []
    current = [[draw(cells) for _ in range(d)] for _ in range(G)]
    dtype = get_format(draw(st.sampled_from(DTYPES))).numpy_dtype()
    aligned = draw(st.booleans())  # switch exactly at block boundaries (the fast paths' edges)
    for k in range(n):
        if (k % BLOCK == 0) if aligned else draw(st.integers(0, 9)) == 0:
            current = [[draw(cells) for _ in range(d)] for _ in range(G)]
        with np.errstate(over="ignore"):  # 3e38 -> inf in float16 is part of the palette
            steps.append(np.array(current, dtype=np.float64).astype(dtype))
    return steps


def _check(steps: list[np.ndarray]) -> None:
    tracker = Tracker(steps[0].shape[0])
    for k, X in enumerate(steps):
        tracker.see(k, X)
    tracker.flush()
    want = _oracle(steps)
    for name, values in want.items():
        got = getattr(tracker, name).tolist()
        assert got == values, f"{name}: tracker {got} != definition {values}"


@settings(max_examples=300)  # cheap (milliseconds each); block-edge cases need many draws
@given(steps=step_sequences())
def test_tracker_matches_row_by_row_definitions(steps: list[np.ndarray]) -> None:
    _check(steps)


def _flushing_row_sums(rows: np.ndarray) -> np.ndarray:
    """Row sums as a BLAS running with flush-to-zero / denormals-are-zero would give them."""
    tiny = math.ldexp(1.0, get_format(rows.dtype.name).emin)  # smallest normal
    flushed = np.where(rows < tiny, 0, rows).astype(rows.dtype)
    return flushed @ np.ones(rows.shape[1], dtype=rows.dtype)


@settings(max_examples=100)
@given(steps=step_sequences())
def test_tracker_does_not_trust_a_flushing_blas(steps: list[np.ndarray]) -> None:
    """The tracker finds all-zero rows through row sums; a sum of 0 is re-checked exactly, so a
    BLAS that treats subnormals as zero cannot turn a subnormal row into an underflow."""
    with mock.patch.object(diagnostics, "_row_sums", _flushing_row_sums):
        _check(steps)
