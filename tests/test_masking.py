"""NaN/inf masking audit: masked float meta-gradients stall meta-GD where certified ones converge.

Settings from :func:`verify.audits.masking.default_cases` (the paper's kind of instance, d = 20),
with budgets cut to what the certified reference needs at t = 80 (it settles within 1% of
eta* after 101-103 experiment-schedule steps from these starts on this instance).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from verify import Quadratic
from verify.audits.masking import (
    MASKS,
    SETTLE_REL,
    VERDICTS,
    Case,
    _apply_mask,
    audit,
    default_cases,
    masked_run,
    summary,
)
from verify.errors import ArgumentError, UnknownOptionError

STEPS = 150  # the certified reference settles in this budget at t = 80 from both starts


def _problem() -> Quadratic:
    return default_cases()[0]


def test_masks_do_what_learned_optimizer_code_does() -> None:
    big = float(np.finfo(np.float64).max)
    assert _apply_mask(math.nan, "nan_to_zero", 1.0) == 0.0
    assert _apply_mask(math.inf, "nan_to_zero", 1.0) == 0.0
    assert _apply_mask(math.nan, "nan_to_num", 1.0) == 0.0
    assert _apply_mask(-math.inf, "nan_to_num", 1.0) == -big
    assert _apply_mask(math.inf, "clip", 2.0) == 0.0
    assert _apply_mask(-5.0, "clip", 2.0) == -2.0
    assert _apply_mask(0.5, "clip", 2.0) == 0.5


@pytest.mark.parametrize("mask", MASKS)
def test_nan_from_the_start_stalls_eta_where_it_started(mask: str) -> None:
    # eta0 = 0.1 > 2/L: float32 backprop returns NaN at every step; masked to 0 (clipping a 0
    # changes nothing) the update is 0 and eta never moves -- while certified gradients
    # converge in the same budget
    q = _problem()
    run = masked_run(q, 80, eta0=0.1, steps=STEPS, mask=mask)
    assert run.verdict == "stalls" and run.frozen_from == 0 and run.eta_final == 0.1
    assert run.nonfinite == STEPS
    assert run.reference_verdict == "converges"
    assert run.reference_rel_error <= SETTLE_REL < run.rel_error


def test_first_step_into_the_silent_zero_band_stalls_at_a_wrong_value() -> None:
    # from below eta*, the first experiment-schedule step jumps to 0.057, where f(w_t)
    # overflows in float32: backprop returns +-0 (no NaN, nothing to mask) and eta freezes
    q = _problem()
    small = 0.1 * 2 / q.L
    run = masked_run(q, 80, eta0=small, steps=STEPS, mask="nan_to_zero")
    assert run.verdict == "stalls" and run.frozen_from == 1
    assert run.zero == STEPS - 1 and run.nonfinite == 0
    assert run.eta_final > run.eta_star_upper and run.reference_verdict == "converges"


def test_clipping_keeps_the_step_short_and_recovers() -> None:
    q = _problem()
    small = 0.1 * 2 / q.L
    run = masked_run(q, 80, eta0=small, steps=STEPS, mask="clip", clip=1.0)
    assert run.verdict == "recovers" and run.clipped > 0
    assert run.eta_star_lower * (1 - SETTLE_REL) <= run.eta_final
    assert run.eta_final <= run.eta_star_upper * (1 + SETTLE_REL)


def test_float64_silent_zero_stalls_without_any_mask() -> None:
    q, cases = default_cases()
    case = cases[-1]
    assert case.dtype == "float64"
    run = masked_run(q, case.t, eta0=case.eta0, steps=5, dtype=case.dtype)
    assert run.verdict == "stalls" and run.zero == 5 and run.nonfinite == 0


def test_theorem_schedule_is_reported_against_its_own_reference() -> None:
    # Theorem 4's unscaled mu_k = 1/sqrt k: even certified gradients do not settle in the
    # budget (paper notes §5.4), so the reference says so instead of "converges"
    q = _problem()
    run = masked_run(q, 80, eta0=0.1, steps=20, schedule="theorem")
    assert run.verdict == "stalls" and run.reference_verdict == "wrong_value"


def test_audit_returns_plain_data() -> None:
    q = _problem()
    runs = audit(
        q,
        [Case(80, 0.1, 10)],
        masks=("nan_to_zero",),
        schedules=("experiment",),
    )
    assert len(runs) == 1
    data = json.loads(json.dumps(runs[0].as_dict()))
    assert data["verdict"] == "stalls" and len(data["etas"]) == 11
    counts = summary(runs)
    assert set(counts) == set(MASKS) and set(counts["clip"]) == set(VERDICTS)
    assert counts["nan_to_zero"]["stalls"] == 1


def test_arguments_are_validated() -> None:
    q = _problem()
    with pytest.raises(UnknownOptionError) as exc:
        masked_run(q, 80, eta0=0.1, steps=3, mask="nan_to_one")
    assert exc.value.argument == "mask"
    with pytest.raises(UnknownOptionError) as exc:
        masked_run(q, 80, eta0=0.1, steps=3, schedule="adam")
    assert exc.value.argument == "schedule"
    for kw, name in (({"steps": 0}, "steps"), ({"steps": 3, "clip": 0.0}, "clip")):
        with pytest.raises(ArgumentError) as exc:
            masked_run(q, 80, eta0=0.1, **kw)
        assert exc.value.argument == name
