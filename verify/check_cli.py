"""``l2l-verify check``: judge meta-gradients computed by any framework or language.

``l2l-verify check RESULTS.jsonl [--out VERDICTS.jsonl] [--format table|json] [--quiet]``

Each result line is judged by :func:`verify.judge.check_meta_gradient`, the suite's one judge
(the same verdicts as the Python API, the pytest plugin and sweeps).

Results file
------------
JSON Lines: one JSON object per line; blank lines and lines starting with ``#`` are skipped.
Line numbers in messages and in the verdicts are the file's physical line numbers.

The problem, one of:

``"problem": {...}``
    A ``[[problem]]`` spec as in a sweep grid (:mod:`verify.sweep.grid`), e.g.
    ``{"kind": "spectrum", "d": 10, "condition": 100.0, "seed": 0}``, or the canonical spec
    of a sweep record (eigenvalues as hex strings). H and w0 are built by
    :func:`verify.sweep.grid.build_problem`, rounded once to be exact in every format of
    ``"exact_in"`` (default ``[dtype]``: your code and the truth see the same numbers; use
    e.g. ``["float32", "float64"]`` for one problem shared by both dtypes). The built data
    must be exact in the line's ``dtype``.
``"H"`` (list of rows), ``"w0"`` (list), optional ``"b"`` (list) and ``"c"`` (number)
    Explicit data for :class:`verify.Quadratic`. Every entry must be exactly a value of the
    line's ``dtype`` (the truth is about the numbers your code used): write entries as hex
    floats (``float.hex()``) or as JSON numbers / decimal strings that float64 reads exactly.

The point and the result:

``"eta"`` (required)
    A JSON number (read as float64 by the JSON parser), a hex float ``"0x1.47ae14p-7"``
    (exact), a fraction ``"1/64"`` (the exact rational) or a decimal string ``"0.01"``
    (read as the nearest float64, like ``float()``; *not* as the rational 1/100). eta is
    judged at exactly this value: for code that computed in float32, write the float32 step
    size it used (e.g. ``float(np.float32(eta)).hex()``).
``"t"`` (required)
    The horizon, a JSON integer.
``"dtype"`` (required)
    ``"float16"``, ``"bfloat16"``, ``"float32"`` or ``"float64"``: the format your code used.
``"grad"`` (required), ``"value"`` (optional)
    Your F'(eta) and F(eta): a JSON number, a hex float, ``"nan"``, ``"inf"``, ``"-inf"``
    (JSON's ``NaN``/``Infinity`` tokens too) or a decimal string read as float64; each must be
    exactly a value of ``dtype``. ``"value": null`` is the same as leaving it out.
``"objective"`` (optional)
    ``"log"`` (default, as in the Python API; echoed in every verdict) or ``"naive"``.
``"source"`` (optional)
    A label for reports (default ``"user"``).
``"like"`` (optional)
    The built-in backend whose error model and known-failure regions apply (default
    ``"numpy"``: stepwise backprop through the unrolled trajectory).
``"known_failures"`` (optional)
    ``true`` (default) or ``false``: apply the known-failure registry for ``like``.

Any other key is bad input.

Exit status
-----------
0 when every verdict passes, 1 when some verdict fails, 2 on bad input: one line on stderr
naming the file, the line and the field. Every line is read and validated, and every line
judged, before anything is written: bad input never produces partial output.

Output
------
``--format table`` (default): :func:`verify.judge.format_table` (its ``#`` column counts
results, not file lines), the :meth:`~verify.judge.Verdict.report` of every verdict that
does not pass, and a summary line. ``--format json``: one strict JSON object per verdict
(:func:`verdict_record`; the summary goes to stderr). ``--out PATH`` also writes the JSON
records to PATH, atomically (temporary file in the same folder, then :func:`os.replace`).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from .errors import L2LError
from .floats import FRACTION_LIMIT_BITS, ScaledRational

if TYPE_CHECKING:
    from .judge import Verdict
    from .problems import Quadratic

__all__ = [
    "FIELDS",
    "ResultLine",
    "ResultsFileError",
    "configure_parser",
    "judge_lines",
    "read_results",
    "run_command",
    "summary_line",
    "verdict_record",
]

PROG = "l2l-verify check"

#: Keys of a result line: name -> required.
FIELDS: dict[str, bool] = {
    "problem": False,
    "exact_in": False,
    "H": False,
    "w0": False,
    "b": False,
    "c": False,
    "eta": True,
    "t": True,
    "objective": False,
    "dtype": True,
    "grad": True,
    "value": False,
    "source": False,
    "like": False,
    "known_failures": False,
}

#: Show progress on stderr above this many result lines.
PROGRESS_ABOVE = 20

# Hex float as float.fromhex reads it: sign, "0x", digits with an optional point, optional
# binary exponent. Parsed exactly here (float.fromhex would round extra digits silently).
_HEX = re.compile(
    r"([+-]?)0x(?=[0-9a-f]|\.[0-9a-f])([0-9a-f]*)(?:\.([0-9a-f]*))?(?:p([+-]?[0-9]+))?",
    re.IGNORECASE,
)
# Beyond every format's exponent range (float64 subnormals reach 2^-1074) with room to spare;
# bounds the size of the exact rational built from a hex string.
_MAX_HEX_EXPONENT = 1 << 14
_NAN = ("nan", "+nan", "-nan")
_POS_INF = ("inf", "+inf", "infinity", "+infinity")
_NEG_INF = ("-inf", "-infinity")


class ResultsFileError(L2LError, ValueError):
    """A results file (or a line of it) cannot be judged.

    Attributes
    ----------
    path : str
        The file, as the user named it.
    line : int or None
        The physical line number (1-based), or None for the file as a whole.
    field : str or None
        The offending key of that line (``"t"``, ``"H[0][1]"``, ``"problem.d"``), if any.
    reason : str
        What is wrong, in one line.
    """

    def __init__(self, path: str, line: int | None, field: str | None, reason: str) -> None:
        self.path, self.line, self.field = path, line, field
        self.reason = " ".join(reason.split())  # one line, whatever the cause printed
        where = path if line is None else f"{path} line {line}"
        if field is not None:
            where += f": field {field!r}"
        super().__init__(f"{where}: {self.reason}")


class _FieldError(Exception):
    """A bad field inside one line (given a path and line number by the caller)."""

    def __init__(self, field: str | None, reason: str) -> None:
        self.field, self.reason = field, reason
        super().__init__(reason)


class _Overflow:
    """A JSON number literal beyond float64's range (the JSON parser would make it inf)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _parse_json_float(text: str) -> float | _Overflow:
    f = float(text)
    return f if math.isfinite(f) else _Overflow(text)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _FieldError(key, "given twice")
        out[key] = value
    return out


@dataclass(frozen=True)
class ResultLine:
    """One validated result line, ready for the judge.

    ``eta`` is exact; ``grad`` and ``value`` are values of ``dtype`` (NaN and +-inf allowed);
    ``problem`` is the :class:`~verify.problems.Quadratic` the truth refers to.
    """

    line: int
    problem: Quadratic
    eta: Fraction
    t: int
    objective: str
    dtype: str
    grad: float
    value: float | None
    source: str | None
    like: str
    known_failures: bool


# --------------------------------------------------------------------------- numbers
def _describe(x: Any) -> str:
    if x is None:
        return "null"
    if isinstance(x, bool):
        return "a boolean"
    if isinstance(x, list):
        return "a list"
    if isinstance(x, dict):
        return "an object"
    return type(x).__name__


def _exact_hex(text: str, field: str) -> Fraction | float | None:
    """The exact value of a hex-float string; None when ``text`` is not one."""
    m = _HEX.fullmatch(text)
    if m is None:
        return None
    sign, whole, frac, exp = m.groups()
    frac = frac or ""
    e = int(exp or "0") - 4 * len(frac)
    mant = int(whole + frac or "0", 16)
    if mant == 0:
        return -0.0 if sign == "-" else 0.0
    if abs(e) > _MAX_HEX_EXPONENT:
        raise _FieldError(field, f"{text!r} is beyond float64's range")
    q = Fraction(mant) * (Fraction(2) ** e)
    return -q if sign == "-" else q


def _read_real(x: Any, field: str, *, fractions: bool = False) -> float | Fraction:
    """A real number from JSON: a float (NaN, +-inf, or a finite float64) or an exact
    Fraction (a value float64 cannot hold: a hex string with more bits, ``"a/b"``, a big int).

    Decimal strings are read as the nearest float64 (``float()``); ``"a/b"`` only when
    ``fractions``.
    """
    if isinstance(x, _Overflow):
        raise _FieldError(field, f"the JSON number {x.text} is beyond float64's range")
    if isinstance(x, bool) or not isinstance(x, (int, float, str)):
        raise _FieldError(
            field,
            f"must be a number (a JSON number or a string: hex float, decimal, nan, inf), "
            f"not {_describe(x)}",
        )
    if isinstance(x, float):
        return x
    if isinstance(x, int):
        try:
            f = float(x)
        except OverflowError:
            return Fraction(x)
        return f if Fraction(f) == x else Fraction(x)
    s = x.strip()
    low = s.lower()
    if low in _NAN:
        return math.nan
    if low in _POS_INF:
        return math.inf
    if low in _NEG_INF:
        return -math.inf
    h = _exact_hex(s, field)
    if h is not None:
        if isinstance(h, float):
            return h
        try:
            hf = float(h)
        except OverflowError:
            return h
        return hf if Fraction(hf) == h else h
    if fractions and "/" in s:
        try:
            return Fraction(s)
        except ZeroDivisionError:
            raise _FieldError(field, f"{x!r} divides by zero") from None
        except ValueError:
            raise _FieldError(field, f"{x!r} is not a fraction like '1/64'") from None
    try:
        f = float(s)
    except ValueError:
        forms = "hex float, fraction 'a/b', decimal" if fractions else "hex float, decimal"
        raise _FieldError(field, f"{x!r} cannot be read as a number ({forms})") from None
    if not math.isfinite(f):
        raise _FieldError(field, f"{x!r} is beyond float64's range")
    return f


def _value_of(x: Any, field: str, dtype: str, *, finite: bool = False) -> float:
    """A number that must be exactly a value of ``dtype`` (NaN/inf unless ``finite``)."""
    from .floats import round_fraction

    v = _read_real(x, field)
    if isinstance(v, float) and not math.isfinite(v):
        if finite:
            raise _FieldError(field, f"must be finite, not {v!r}")
        return v
    q = v if isinstance(v, Fraction) else Fraction(v)
    r = round_fraction(q, dtype)
    if Fraction(r) != q:
        near = f"nearest {dtype} value: {r.hex()}" if math.isfinite(r) else f"overflows {dtype}"
        raise _FieldError(
            field,
            f"{x!r} is not exactly a {dtype} value ({near}); write the exact value your code "
            "used, e.g. as a hex float (float.hex())",
        )
    return float(v)


# --------------------------------------------------------------------------- one line
def _field_from_error(exc: L2LError, default: str | None) -> str | None:
    arg = getattr(exc, "argument", None)
    return arg if isinstance(arg, str) else default


def _error_reason(exc: L2LError) -> str:
    reason = getattr(exc, "reason", None)
    if isinstance(reason, str):
        value = getattr(exc, "value", None)
        if hasattr(value, "shape"):  # an array: the reason already names the entries
            return reason
        text = repr(value)
        if len(text) > 80:
            text = text[:77] + "..."
        return f"{reason} (got {text})"
    return str(exc)


def _explicit_problem(raw: Mapping[str, Any], dtype: str, cache: dict[Any, Quadratic]) -> Quadratic:
    from .errors import ArgumentError
    from .problems import Quadratic

    H_raw = raw["H"]
    if not isinstance(H_raw, list) or not H_raw or not all(isinstance(r, list) for r in H_raw):
        raise _FieldError("H", f"must be a non-empty list of rows (lists), not {_describe(H_raw)}")
    d = len(H_raw)
    for i, row in enumerate(H_raw):
        if len(row) != d:
            raise _FieldError(f"H[{i}]", f"has {len(row)} entries; H must be {d} x {d}")
    H = tuple(
        tuple(_value_of(x, f"H[{i}][{j}]", dtype, finite=True) for j, x in enumerate(row))
        for i, row in enumerate(H_raw)
    )

    def vector(name: str) -> tuple[float, ...] | None:
        if name not in raw:
            return None
        xs = raw[name]
        if not isinstance(xs, list) or not xs:
            raise _FieldError(name, f"must be a non-empty list of numbers, not {_describe(xs)}")
        return tuple(_value_of(x, f"{name}[{i}]", dtype, finite=True) for i, x in enumerate(xs))

    w0 = vector("w0")
    b = vector("b")
    c = _value_of(raw["c"], "c", dtype, finite=True) if "c" in raw else 0.0
    key = (H, w0, b, c)
    if key not in cache:
        try:
            cache[key] = Quadratic([list(r) for r in H], list(w0 or ()), b=b, c=c)
        except ArgumentError as exc:
            raise _FieldError(_field_from_error(exc, "H"), _error_reason(exc)) from None
    return cache[key]


def _spec_problem(raw: Mapping[str, Any], dtype: str) -> Quadratic:
    from .floats import exact_in_all, get_format
    from .sweep.grid import build_problem, parse_problem

    spec_raw = raw["problem"]
    if isinstance(spec_raw, dict) and isinstance(spec_raw.get("eigenvalues"), list):
        # a sweep record's canonical spec holds eigenvalues as hex strings: read them exactly
        lam = [
            _value_of(x, f"problem.eigenvalues[{i}]", "float64") if isinstance(x, str) else x
            for i, x in enumerate(spec_raw["eigenvalues"])
        ]
        spec_raw = {**spec_raw, "eigenvalues": lam}
    try:
        spec = parse_problem(spec_raw, "problem")
    except L2LError as exc:
        raise _FieldError(_field_from_error(exc, "problem"), _error_reason(exc)) from None
    exact_in: list[str] = [dtype]
    if "exact_in" in raw:
        names = raw["exact_in"]
        if not isinstance(names, list) or not names:
            raise _FieldError("exact_in", f"must be a non-empty list of dtypes, not {names!r}")
        try:
            exact_in = [get_format(n).name for n in names]
        except L2LError as exc:
            raise _FieldError("exact_in", _error_reason(exc)) from None
    exact_in = sorted(set(exact_in), key=lambda n: (get_format(n).precision, n))
    try:
        q = build_problem(spec, exact_in)
    except L2LError as exc:
        raise _FieldError("problem", str(exc)) from None
    for name, arr in (("H", q.H), ("w0", q.w0)):
        if not exact_in_all(arr, (dtype,)):
            raise _FieldError(
                "exact_in",
                f"the problem's {name} is not exact in the line's dtype {dtype!r} with "
                f"exact_in={exact_in}: add {dtype!r} to exact_in (or leave exact_in out)",
            )
    return q


def _parse_line(obj: Any, number: int, cache: dict[Any, Quadratic]) -> ResultLine:
    from .backprop import BACKENDS
    from .floats import get_format
    from .validation import validate_eta, validate_horizon, validate_objective

    if not isinstance(obj, dict):
        raise _FieldError(None, f"must be a JSON object, not {_describe(obj)}")
    for key in obj:
        if key not in FIELDS:
            raise _FieldError(key, f"unknown key (known: {', '.join(FIELDS)})")
    for key, required in FIELDS.items():
        if required and key not in obj:
            raise _FieldError(key, "missing")
    try:
        dtype = get_format(obj["dtype"]).name if isinstance(obj["dtype"], str) else None
    except L2LError as exc:
        raise _FieldError("dtype", _error_reason(exc)) from None
    if dtype is None:
        raise _FieldError("dtype", f"must be a string, not {_describe(obj['dtype'])}")
    try:
        objective = validate_objective(obj.get("objective", "log"))
    except L2LError as exc:
        raise _FieldError("objective", _error_reason(exc)) from None
    t_raw = obj["t"]
    if isinstance(t_raw, bool) or not isinstance(t_raw, int):
        raise _FieldError("t", f"must be a JSON integer, not {_describe(t_raw)} ({t_raw!r})")
    try:
        t = validate_horizon(t_raw, objective=objective)
        eta = validate_eta(_read_real(obj["eta"], "eta", fractions=True))
    except L2LError as exc:
        raise _FieldError(_field_from_error(exc, None), _error_reason(exc)) from None
    like = obj.get("like", "numpy")
    if like not in BACKENDS:
        raise _FieldError("like", f"must be one of {BACKENDS}, not {like!r}")
    known = obj.get("known_failures", True)
    if not isinstance(known, bool):
        raise _FieldError("known_failures", f"must be true or false, not {known!r}")
    source = obj.get("source")
    if source is not None and not isinstance(source, str):
        raise _FieldError("source", f"must be a string label, not {_describe(source)}")
    grad = _value_of(obj["grad"], "grad", dtype)
    value = None if obj.get("value") is None else _value_of(obj["value"], "value", dtype)

    explicit = [k for k in ("H", "w0", "b", "c") if k in obj]
    if "problem" in obj:
        if explicit:
            raise _FieldError(explicit[0], "give 'problem' or explicit 'H' and 'w0', not both")
        problem = _spec_problem(obj, dtype)
    elif explicit:
        if "exact_in" in obj:
            raise _FieldError("exact_in", "applies to 'problem' only (explicit H is used as is)")
        for key in ("H", "w0"):
            if key not in obj:
                raise _FieldError(key, "missing (explicit data needs both 'H' and 'w0')")
        problem = _explicit_problem(obj, dtype, cache)
    else:
        raise _FieldError("problem", "missing (give 'problem' or explicit 'H' and 'w0')")
    return ResultLine(
        number, problem, eta, t, objective, dtype, grad, value, source, str(like), known
    )


# --------------------------------------------------------------------------- file
def read_results(path: str | Path, *, name: str | None = None) -> list[ResultLine]:
    """Read and validate every line of a results file (nothing is judged).

    Parameters
    ----------
    path : str or Path
        The JSON Lines file (format in the module docstring).
    name : str, optional
        How to name the file in messages (default: ``str(path)``).

    Raises
    ------
    ResultsFileError
        Naming the file, the line and the field: a missing or unreadable file, a file with no
        result lines, invalid JSON, a line that is not an object, a missing, unknown or
        invalid field.
    """
    label = str(path) if name is None else name
    p = Path(path)
    if p.is_dir():
        raise ResultsFileError(label, None, None, "is a directory, not a results file")
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultsFileError(label, None, None, "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsFileError(label, None, None, f"cannot be read ({exc})") from None
    cache: dict[Any, Quadratic] = {}
    lines: list[ResultLine] = []
    for number, raw in enumerate(text.splitlines(), 1):
        s = raw.strip()
        if not s or s.startswith("#"):
            continue
        try:
            obj = json.loads(s, parse_float=_parse_json_float, object_pairs_hook=_no_duplicates)
        except _FieldError as exc:
            raise ResultsFileError(label, number, exc.field, exc.reason) from None
        except ValueError as exc:  # json.JSONDecodeError, or an int beyond Python's limit
            raise ResultsFileError(label, number, None, f"invalid JSON ({exc})") from None
        try:
            lines.append(_parse_line(obj, number, cache))
        except _FieldError as exc:
            raise ResultsFileError(label, number, exc.field, exc.reason) from None
        except L2LError as exc:  # a typed error from a validator: its argument is the field
            field = _field_from_error(exc, None)
            raise ResultsFileError(label, number, field, _error_reason(exc)) from None
    if not lines:
        raise ResultsFileError(
            label, None, None, "no result lines (only blank lines and '#' comments)"
        )
    return lines


def judge_lines(
    lines: Sequence[ResultLine], *, name: str, stream: TextIO | None = None
) -> list[Verdict]:
    """The verdict on every line, in order (progress on ``stream`` when given).

    Raises
    ------
    ResultsFileError
        For a line the judge cannot decide: an invalid argument it found, the log objective
        where f(w_t) = 0 exactly (:class:`~verify.errors.ZeroLossError`), or a truth that
        could not be certified (:class:`~verify.errors.NotCertifiedError`).
    """
    from .progress import progress

    if stream is None:
        return [_judge_line(r, name) for r in lines]
    out: list[Verdict] = []
    with progress(len(lines), "check: judged", stream=stream) as bar:
        for k, r in enumerate(lines, 1):
            out.append(_judge_line(r, name))
            bar(k, note="lines")
    return out


def _judge_line(r: ResultLine, name: str) -> Verdict:
    """The verdict on one result line, or :class:`ResultsFileError` naming the line."""
    from .errors import ArgumentError, NotCertifiedError, ZeroLossError
    from .judge import check_meta_gradient

    try:
        return check_meta_gradient(
            r.problem,
            r.eta,
            r.t,
            r.grad,
            dtype=r.dtype,
            objective=r.objective,
            value=r.value,
            source=r.source,
            known_failures=r.known_failures,
            like=r.like,
        )
    except ZeroLossError as exc:
        raise ResultsFileError(
            name,
            r.line,
            None,
            f"outside the log objective's domain: f(w_t) = 0 exactly here, so F and F' do "
            f"not exist ({exc})",
        ) from None
    except NotCertifiedError as exc:
        raise ResultsFileError(
            name, r.line, None, f"the truth could not be certified ({exc})"
        ) from None
    except ArgumentError as exc:
        raise ResultsFileError(name, r.line, exc.argument, _error_reason(exc)) from None


# --------------------------------------------------------------------------- output


def _number(x: float | None) -> float | str | None:
    """A JSON number, or a string for NaN and infinities (strict JSON)."""
    from .floats import json_float

    return None if x is None else json_float(x)


def _exact_text(x: ScaledRational) -> str:
    """An exact rendering of a rational of any magnitude: a hex float with as many digits as
    needed when dyadic (``float.fromhex`` reads it, rounding), else ``"p/q"``, or
    ``"p/q*2**e"`` when the power of two is too large to expand (a truth at t = 10^12)."""
    q, e = x.q, x.e  # q = odd/odd (or 0), x = q * 2**e
    if q == 0:
        return "0x0p+0"
    if q.denominator != 1:
        if abs(e) <= FRACTION_LIMIT_BITS:
            f = x.to_fraction()
            return f"{f.numerator}/{f.denominator}"
        return f"{q.numerator}/{q.denominator}*2**{e}"
    m = abs(q.numerator)
    n = m.bit_length()
    rest = m - (1 << (n - 1))
    digits = ""
    if rest:
        width = -(-(n - 1) // 4)
        digits = "." + f"{rest << (4 * width - (n - 1)):0{width}x}".rstrip("0")
    return f"{'-' if q < 0 else ''}0x1{digits}p{e + n - 1:+d}"


def _eta_text(eta: Fraction) -> str:
    f = float(eta)
    return f.hex() if Fraction(f) == eta else f"{eta.numerator}/{eta.denominator}"


def verdict_record(v: Verdict, line: int) -> dict[str, Any]:
    """The JSON object of one verdict (strict JSON: non-finite floats as strings).

    Floats are exact: ``grad``, ``value``, ``truth_rounded`` as hex (or ``"nan"``/``"inf"``/
    ``"-inf"``), ``eta`` as hex when it is a float64 else ``"p/q"``, the enclosure endpoints
    ``truth_lower``/``truth_upper`` as exact hex of any magnitude; ``truth`` is a short
    decimal of the enclosure's midpoint (:func:`verify.floats.format_real`).
    """
    from .floats import float_text, format_real

    return {
        "line": line,
        "source": v.source,
        "status": v.status,
        "passed": v.passed,
        "judged": v.judged,
        "outcome": v.outcome.value,
        "reason": v.reason,
        "dtype": v.dtype,
        "objective": v.objective,
        "t": v.t,
        "eta": _eta_text(v.eta),
        "like": v.like,
        "grad": float_text(v.grad),
        "value": None if v.value is None else float_text(v.value),
        "truth_rounded": float_text(v.truth_rounded),
        "truth": format_real(v.truth.mid_exact, 17),
        "truth_lower": _exact_text(v.truth.lower_exact),
        "truth_upper": _exact_text(v.truth.upper_exact),
        "ulps": _number(v.ulps),
        "bits": _number(v.bits),
        "rel_u": _number(v.rel_u),
        "tolerance": _number(v.tolerance),
        "known_failure": v.known_failure,
    }


def summary_line(verdicts: Sequence[Verdict]) -> str:
    """``N lines: a passed, b failed, c not judged, d expected failures, e xpass``."""
    from .judge import STATUSES

    n = {s: sum(v.status == s for v in verdicts) for s in STATUSES}
    return (
        f"check: {len(verdicts)} lines: {n['passed']} passed, {n['failed']} failed, "
        f"{n['not_judged']} not judged, {n['expected_failure']} expected failures, "
        f"{n['xpass']} xpass"
    )


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------- command
def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``l2l-verify check``."""
    parser.description = (
        "Judge meta-gradients computed by any framework or language against the certified "
        "truth (verify.check_meta_gradient). Exit status: 0 all pass, 1 some fail, 2 bad input."
    )
    parser.add_argument(
        "results",
        type=Path,
        metavar="RESULTS.jsonl",
        help="JSON Lines file, one result per line (see examples/results.jsonl and the "
        "verify.check_cli docstring for the fields)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="VERDICTS.jsonl",
        help="also write the verdicts as JSON Lines there (atomically)",
    )
    parser.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="stdout: a table with reports of failures (default) or one JSON object a verdict",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")


def _check_out(out: Path, results: Path) -> str | None:
    if out.is_dir():
        return f"--out {out}: is a directory"
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        return f"--out {out}: the folder {parent} does not exist"
    try:
        if out.exists() and results.exists() and out.samefile(results):
            return f"--out {out}: is the results file itself"
    except OSError:
        pass
    return None


def run_command(args: argparse.Namespace) -> int:
    """Run ``l2l-verify check``: 0 all pass, 1 some verdict fails, 2 bad input."""

    def fail(msg: str) -> int:
        sys.stderr.write(f"{PROG}: error: {' '.join(msg.split())}\n")
        return 2

    results: Path = args.results
    name = str(results)
    out: Path | None = args.out
    if out is not None:
        problem = _check_out(out, results)
        if problem is not None:
            return fail(problem)
    try:
        lines = read_results(results, name=name)
        stream = None if args.quiet or len(lines) <= PROGRESS_ABOVE else sys.stderr
        verdicts = judge_lines(lines, name=name, stream=stream)
    except ResultsFileError as exc:
        return fail(str(exc))
    records = [
        json.dumps(verdict_record(v, r.line), allow_nan=False)
        for v, r in zip(verdicts, lines, strict=True)
    ]
    if out is not None:
        try:
            _write_atomic(out, "".join(rec + "\n" for rec in records))
        except OSError as exc:
            return fail(f"--out {out}: cannot be written ({exc})")
    if args.format == "json":
        sys.stdout.write("".join(rec + "\n" for rec in records))
        sys.stderr.write(summary_line(verdicts) + "\n")
    else:
        from .judge import format_table

        parts = [format_table(verdicts)]
        for i, (v, r) in enumerate(zip(verdicts, lines, strict=True), 1):
            if not v.passed:
                parts.append(f"--- #{i} ({name} line {r.line}) ---\n{v.report()}")
        parts.append(summary_line(verdicts))
        sys.stdout.write("\n\n".join(parts) + "\n")
    return 0 if all(v.passed for v in verdicts) else 1
