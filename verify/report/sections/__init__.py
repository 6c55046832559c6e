"""The computations behind ``l2l-verify report``, one module per section.

Every section is a function ``(problem, params, progress) -> data`` of the run's settings
(:func:`verify.report.settings.section_params`, also the section's cache key) returning plain
JSON data (dicts, lists, str, int, float, None; no NaN or inf: non-finite floats are written as
the strings ``"inf"``, ``"-inf"``, ``"nan"``). Each is a pure function of its parameters, so
the same seed gives a byte-identical ``data.json`` and a finished section can be cached and
reused when an interrupted run resumes. The figures of a section are drawn from its data by
:mod:`verify.report.figures`.

1. :mod:`~verify.report.sections.regime` -- certified log10 |F'(eta)| over (eta, t), both
   objectives, with the certified eta*(t) and Theorem 3's boundary eta = 2/L;
2. :mod:`~verify.report.sections.backprop` -- outcome class and bits of error of every backend
   and dtype against certified truth over (eta, t), with Corollary 1's predicted failure
   boundary; :mod:`~verify.report.sections.clients` -- the meta-learning libraries' failures up
   close (flush-to-zero, NaN masking);
3. :mod:`~verify.report.sections.paper` -- the paper's Figures 1-4 reproduced, each with a
   computed verdict;
4. :mod:`~verify.report.sections.theorems` -- each theorem / claim checked on certified numbers
   (it also reads the results of sections 2 and 3);
5. :mod:`~verify.report.sections.optimizers` -- heavy-ball momentum (outcome maps over
   (eta, beta) and (eta, t) with rho(eta, beta) = 1) and Adam (outcome maps over (eta, t),
   the zero-second-moment NaN and the kink where no meta-gradient exists).

Certified values come from :mod:`verify.truth` (proven enclosures); float results are the
systems under test, judged by :mod:`verify.judge` (GD) or classified by the same outcome
rules without GD's error model (heavy ball, Adam:
:func:`~verify.report.sections.optimizers.classify_cell`).
"""

from __future__ import annotations

from ...floats import json_float
from ..settings import (
    BACKEND_CHOICES,
    DTYPE_CHOICES,
    FAILURE_CLASSES,
    OUTCOME_CLASSES,
    RANGE_FAILURE_CLASSES,
    Progress,
    section_params,
)
from .backprop import backprop_section, predicted_boundary
from .clients import clients_section
from .optimizers import adam_section, momentum_section
from .paper import figure1, figure2, ls_config, paper_section
from .regime import regime_section
from .theorems import theorem_section

__all__ = [
    "BACKEND_CHOICES",
    "DTYPE_CHOICES",
    "FAILURE_CLASSES",
    "OUTCOME_CLASSES",
    "RANGE_FAILURE_CLASSES",
    "Progress",
    "adam_section",
    "backprop_section",
    "clients_section",
    "figure1",
    "figure2",
    "json_float",
    "ls_config",
    "momentum_section",
    "paper_section",
    "predicted_boundary",
    "regime_section",
    "section_params",
    "theorem_section",
]
