"""The one outcome registry: every outcome class's name, display order, colour and meaning.

An outcome class says how a float meta-gradient relates to the certified truth; the judge
(:func:`verify.judge.judge_result`, rules in :mod:`verify.compare`) decides it, and
:class:`verify.compare.Outcome` holds the same names in the same order. Every figure, table
and legend that shows outcome classes reads this registry: the report's figures and pages
(:mod:`verify.report`), the sweep report (:mod:`verify.sweep.report`) and the outcome table
of ``reports/README.md`` (a test keeps it equal to :func:`markdown_table`).

Colours are colour-blind-safe where possible; failures are saturated.

Examples
--------
>>> OUTCOME_NAMES
('accurate', 'inaccurate', 'silently_wrong', 'overflow', 'underflow', 'nan')
>>> outcome("nan").colour
'#222222'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from .errors import UnknownOptionError

__all__ = ["CLASS_COLORS", "OUTCOMES", "OUTCOME_NAMES", "Outcome", "markdown_table", "outcome"]


@dataclass(frozen=True)
class Outcome:
    """One outcome class as every figure and table shows it.

    Attributes
    ----------
    name : str
        The class (a :class:`verify.compare.Outcome` value).
    colour : str
        Its colour, ``"#rrggbb"``.
    meaning : str
        One line saying what the class means (shown in the report and ``reports/README.md``).
    """

    name: str
    colour: str
    meaning: str


#: Every outcome class, in display order (that of :class:`verify.compare.Outcome`).
OUTCOMES: tuple[Outcome, ...] = (
    Outcome(
        "accurate",
        "#1a9850",
        "at most 1 ulp from the correctly rounded truth, or within the derived error "
        "bound of verify.compare (kept in log space: it exists at any magnitude)",
    ),
    Outcome(
        "inaccurate",
        "#fee08b",
        "finite, right sign, within a factor 2 of the truth, but beyond the bound",
    ),
    Outcome(
        "silently_wrong",
        "#d73027",
        "a number with no warning that is badly wrong: a wrong (certified) sign, "
        "0 because f(w_t) overflowed (d log f = 1/f = 0), 0 with no sign of underflow, a "
        "normal-size value where the truth rounds to 0, or off by more than a factor 2",
    ),
    Outcome("overflow", "#762a83", "+-inf while the truth rounds to something else in the dtype"),
    Outcome(
        "underflow",
        "#4575b4",
        "0 or subnormal beyond the bound, where the computation underflowed (an "
        "intermediate or f(w_t) became 0, or the result is itself a subnormal)",
    ),
    Outcome("nan", "#222222", "NaN"),
)
#: The class names, in display order.
OUTCOME_NAMES: tuple[str, ...] = tuple(o.name for o in OUTCOMES)
#: Class name -> colour, in display order (a read-only view of :data:`OUTCOMES`, for plots).
CLASS_COLORS: Mapping[str, str] = MappingProxyType({o.name: o.colour for o in OUTCOMES})
_BY_NAME = {o.name: o for o in OUTCOMES}


def outcome(name: str) -> Outcome:
    """The registry entry of the outcome class ``name``.

    Raises
    ------
    UnknownOptionError
        Naming ``outcome`` when ``name`` is not an outcome class.
    """
    found = _BY_NAME.get(name) if isinstance(name, str) else None
    if found is None:
        raise UnknownOptionError("outcome", name, f"must be one of {OUTCOME_NAMES}")
    return found


def markdown_table() -> str:
    """The outcome table of ``reports/README.md``: one row per class, in display order.

    Examples
    --------
    >>> markdown_table().splitlines()[:2]
    ['| class | colour | meaning |', '|---|---|---|']
    """
    rows = ["| class | colour | meaning |", "|---|---|---|"]
    rows += [f"| `{o.name}` | `{o.colour}` | {o.meaning} |" for o in OUTCOMES]
    return "\n".join(rows) + "\n"
