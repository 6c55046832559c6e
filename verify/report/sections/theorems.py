"""Section 4 of the report: each theorem / claim of the paper checked on certified numbers."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ... import claims, truth
from ...paper import theory
from ...problems import Quadratic
from ..settings import (
    BACKEND_CHOICES,
    FAILURE_CLASSES,
    FOCUS_BACKENDS,
    LIMIT_REL,
    LIMIT_SEPARATION,
    RANGE_FAILURE_CLASSES,
    Progress,
    log10_abs,
)

__all__ = ["theorem_section"]


def _count(results: list[int]) -> dict[str, int]:
    """results: +1 proven to hold, -1 proven violated, 0 undecided."""
    return {
        "points": len(results),
        "proven": results.count(1),
        "violated": results.count(-1),
        "undecided": results.count(0),
    }


def _le(a: truth.Enclosure, b: truth.Enclosure) -> int:
    """+1 when a <= b is proven, -1 when a > b is proven, else 0."""
    if a.upper <= b.lower:
        return 1
    if a.lower > b.upper:
        return -1
    return 0


def _abs(e: truth.Enclosure) -> truth.Enclosure:
    if e.lower >= 0:
        return e
    if e.upper <= 0:
        return truth.Enclosure(-e.upper, -e.lower)
    return truth.Enclosure(Fraction(0), max(-e.lower, e.upper))


def _proof_verdict(counts: dict[str, int], *, existence: bool = False) -> str:
    """From certified point counts: differs on a proven violation, matches when every point is
    proven, else inconclusive (an existence claim: matches when one witness is proven)."""
    if counts["violated"] and not existence:
        return "differs"
    if existence:
        return "matches" if counts["proven"] else "inconclusive"
    return (
        "matches" if counts["points"] and counts["proven"] == counts["points"] else ("inconclusive")
    )


def _log10_ratio(a: truth.Enclosure, b: truth.Enclosure) -> float | None:
    """log10(|a| / |b|) of the midpoints (None when either is 0)."""
    la, lb = log10_abs(a), log10_abs(b)
    return None if la is None or lb is None else round(la - lb, 2)


def _proof_row(
    claim: str,
    statement: str,
    our_setting: str,
    statistic: str,
    results: list[int],
    *,
    can_fail: bool,
    margin: str,
    note: str,
    source: str = "paper",
    paper_setting: str = "any instance (a theorem); the paper's experiments use d = 20",
    existence: bool = False,
    deviations: tuple[str, ...] = (),
) -> dict[str, Any]:
    counts = _count(results)
    return claims.Claim(
        claim=claim,
        statement=statement,
        source=source,
        paper_setting=paper_setting,
        our_setting=our_setting,
        deviations=deviations,
        instances=max(counts["points"], 1),
        unit="grid points",
        statistic=statistic,
        interval=None,
        verdict=_proof_verdict(counts, existence=existence),  # type: ignore[arg-type]
        evidence="proof",
        can_fail=can_fail,
        margin=margin,
        note=note,
        counts=counts,
    ).to_json()


#: The step sizes of the theorem table's grid, in multiples of 2/L.
THEOREM_FRACTIONS: tuple[float, ...] = (0.1, 0.3, 0.5, 0.7, 0.9, 0.95, 1.02, 1.05, 1.1, 1.25, 1.5)
#: The maps of plain reverse-mode backprop (no client library) that Corollary 1 is checked on.
_COROLLARY_MAPS: tuple[str, ...] = tuple(
    c for c in FOCUS_BACKENDS if BACKEND_CHOICES[c][1] == "reverse"
)
#: A point of the grid: (value, eta in multiples of 2/L, t).
Witness = tuple[float, float, int]


@dataclass
class _Scan:
    """Certified checks at every grid point: +1 proven to hold, -1 proven violated, 0
    undecided; with the tightest points found."""

    van: list[int] = field(default_factory=list)
    exp_: list[int] = field(default_factory=list)
    vacuous: int = 0
    convex: list[int] = field(default_factory=list)
    t4: list[int] = field(default_factory=list)
    same_sign: list[int] = field(default_factory=list)
    sign_changes: list[int] = field(default_factory=list)
    van_worst: Witness | None = None  # log10 |F'|/bound, closest to 0
    exp_tight: Witness | None = None  # log10 (|F'| - bound)/|F'|, smallest
    t4_worst: Witness | None = None
    noncvx_witness: Witness | None = None

    def point(
        self, problem: Quadratic, f: float, eta: float, t: int
    ) -> tuple[truth.Enclosure, truth.Enclosure]:
        """Check Theorems 3 and 4 at one point; return the certified F'_naive and F'_log."""
        gn = truth.meta_gradient(problem, eta, t, objective="naive")
        gl = truth.meta_gradient(problem, eta, t, objective="log")
        if f < 1:
            ub = theory.theorem3_upper_bound_rho(problem, eta, t)
            self.van.append(_le(_abs(gn), ub))
            r = _log10_ratio(gn, ub)
            if r is not None and (self.van_worst is None or r > self.van_worst[0]):
                self.van_worst = (r, f, t)
        else:
            lb = theory.theorem3_lower_bound(problem, eta, t)
            self.vacuous += lb.upper <= 0
            diff = theory.theorem3_explosion_difference(problem, eta, t)
            self.exp_.append(1 if diff.lower > 0 else (-1 if diff.upper < 0 else 0))
            r = _log10_ratio(diff, gn)
            if r is not None and (self.exp_tight is None or r < self.exp_tight[0]):
                self.exp_tight = (r, f, t)
        h = truth.meta_hessian(problem, eta, t, objective="naive")
        self.convex.append(1 if h.sign() > 0 else (-1 if h.upper <= 0 else 0))
        b4 = theory.theorem4_bound(problem, eta)
        self.t4.append(_le(_abs(gl), b4))
        r4 = _log10_ratio(gl, b4)
        if r4 is not None and (self.t4_worst is None or r4 > self.t4_worst[0]):
            self.t4_worst = (r4, f, t)
        sn, sl = gn.sign(), gl.sign()
        self.same_sign.append(1 if sn == sl and sn != 0 else (-1 if sn * sl < 0 else 0))
        return gn, gl

    def horizon(self, problem: Quadratic, fracs: list[float], etas: list[float], t: int) -> None:
        """Every step size at horizon ``t``: the points, sign changes, a non-convexity witness."""
        prev_sign = None
        changes = 0
        logs = []
        for f, eta in zip(fracs, etas, strict=True):
            gn, gl = self.point(problem, f, eta, t)
            logs.append(gl)
            sn = gn.sign()
            if prev_sign is not None and sn != prev_sign:
                changes += 1
            prev_sign = sn
        self.sign_changes.append(changes)
        for i in range(len(logs) - 1):
            if self.noncvx_witness is None and logs[i].lower > logs[i + 1].upper:
                self.noncvx_witness = (fracs[i], fracs[i + 1], t)


def _at(w: Witness | None) -> str:
    return "-" if w is None else f"10^{w[0]:g} at eta = {w[1]:g} x 2/L, t = {w[2]}"


def _theorem3_rows(
    scan: _Scan, spec: dict[str, Any], ours: str, fracs: list[float]
) -> list[dict[str, Any]]:
    """Theorem 3: vanishing and explosion sides, strict convexity, unique minimizer."""
    van, van_worst, exp_, exp_tight = scan.van, scan.van_worst, scan.exp_, scan.exp_tight
    vacuous, convex, sign_changes = scan.vacuous, scan.convex, scan.sign_changes
    at = _at
    rows: list[dict[str, Any]] = []
    rows.append(
        _proof_row(
            "Theorem 3 (vanishing side)",
            "for eta < 2/L: |F'_naive(eta)| <= t sum_i c_i^2 lambda_i^2 |1 - eta lambda_i|^(2t-1) "
            "(checked in the basis-free form <= t L^2 rho(eta)^(2t-1) ||w0||^2)",
            ours + ", eta < 2/L",
            "certified |F'| <= bound at every grid point",
            van,
            can_fail=False,
            margin="largest |F'|/bound: " + at(van_worst),
            note="the bound is the triangle inequality on the closed form: it holds for any "
            "numbers, so this checks our certified values, not the paper",
        )
    )
    rows.append(
        _proof_row(
            "Theorem 3 (explosion side)",
            "for eta > 2/L: |F'_naive(eta)| >= c_1^2 L^2 t (eta L - 1)^(2t-1) - L^2 t",
            ours + f", eta > 2/L; c_1 = {float(spec['c_1'].mid):.6g}" if "c_1" in spec else ours,
            "certified sign of D = F' - bound = L^2 t ||w0||^2 - t sum_{i>=2} c_i^2 lambda_i^2 "
            "(1 - eta lambda_i)^(2t-1), computed in the eigenbasis (the dominant mode cancels "
            "exactly, so every point is decided)",
            exp_,
            can_fail=False,
            margin="smallest (|F'| - bound)/|F'|: " + at(exp_tight),
            note=f"the bound is vacuous (<= 0) at {vacuous} of {len(exp_)} points; a "
            "consequence of the closed form (notes §4.2), so a consistency check; tight where "
            "the top mode dominates",
        )
    )
    rows.append(
        _proof_row(
            "Theorem 3 (strict convexity)",
            "F_naive is strictly convex in eta: F''_naive(eta) > 0",
            ours,
            "certified sign of F'' at every grid point",
            convex,
            can_fail=False,
            margin="-",
            note="F'' = t(2t-1) sum_i c_i^2 lambda_i^3 (1 - eta lambda_i)^(2t-2) is a sum of "
            "non-negative terms: a consistency check",
        )
    )
    rows.append(
        _proof_row(
            "Theorem 3 (unique minimizer)",
            "F'_naive changes sign exactly once along eta",
            ours,
            f"certified signs along the {len(fracs)} step sizes, each horizon",
            [1 if c == 1 else -1 for c in sign_changes],
            can_fail=False,
            margin="sign changes per horizon: " + ", ".join(str(c) for c in sign_changes),
            note="follows from strict convexity: a consistency check",
        )
    )
    return rows


def _theorem4_rows(
    problem: Quadratic, scan: _Scan, spec: dict[str, Any], ours: str
) -> list[dict[str, Any]]:
    """Theorem 4: bounded meta-gradient, same minimizer, not convex."""
    t4, t4_worst, same_sign, noncvx_witness = (
        scan.t4,
        scan.t4_worst,
        scan.same_sign,
        scan.noncvx_witness,
    )
    at = _at
    rows: list[dict[str, Any]] = []
    ub4 = float(theory.theorem4_bound_uniform(problem).mid)
    rows.append(
        _proof_row(
            "Theorem 4 (bounded meta-gradient)",
            "|F'_log(eta)| = O(L^3/(c_min^2 alpha (L - alpha))) for every eta >= 0 (checked with "
            "the explicit constant 2 L^2 ||w0||^2/(c_min^2 alpha rho(eta)), notes §4.3)",
            ours + f"; c_min = {float(spec['c_min'].mid):.6g}",
            "certified |F'_log| <= bound at every grid point",
            t4,
            can_fail=False,
            margin="largest |F'_log|/bound: " + at(t4_worst) + f" (uniform bound {ub4:.3g})",
            note="the bound is loose by orders of magnitude on this instance: a wrong bound "
            "that much smaller would pass too, so a consistency check",
            deviations=("O(.) read with our explicit constant (the paper's is not recovered)",),
        )
    )
    rows.append(
        _proof_row(
            "Theorem 4 (same minimizer)",
            "sign F'_log = sign F'_naive, so both objectives have the same minimizer",
            ours,
            "certified signs agree at every grid point",
            same_sign,
            can_fail=False,
            margin="-",
            note="F'_log = F'_naive/(t f) with f > 0: a consistency check",
        )
    )
    rows.append(
        _proof_row(
            "Theorem 4 (not convex)",
            "the log objective is not convex: F'_log(eta1) > F'_log(eta2) for some eta1 < eta2",
            ours,
            "a certified witness among adjacent step sizes of the grid, any horizon",
            [1] if noncvx_witness else [0],
            can_fail=False,
            existence=True,
            margin="no witness on this grid"
            if noncvx_witness is None
            else f"witness: eta1 = {noncvx_witness[0]:g} x 2/L, eta2 = {noncvx_witness[1]:g} "
            f"x 2/L, t = {noncvx_witness[2]} (proven)",
            note="an existence claim: a missing witness would prove nothing",
        )
    )
    return rows


def _limit_row(
    problem: Quadratic, etas: list[float], horizons: list[int], ours: str
) -> dict[str, Any]:
    """Large-t limits: the distance must shrink along the horizons; asymptotic (cannot fail)."""
    tmax = max(horizons)
    lim_eta = float(theory.eta_star_limit(problem).mid)
    limit_res = []
    worst = 0.0
    for eta in etas:
        if abs(eta - lim_eta) < LIMIT_SEPARATION * lim_eta:
            continue
        lim = theory.large_t_log_gradient_limit(problem, eta)
        g = truth.meta_gradient(problem, eta, tmax, objective="log")
        rel = abs(float((g.mid - lim.mid) / lim.mid))
        worst = max(worst, rel)
        limit_res.append(1 if rel <= LIMIT_REL else 0)
    return _proof_row(
        "Large-t limit (notes §4.4, claim 8)",
        "F'_log(eta) -> -2 alpha/(1 - eta alpha) below 2/(L+alpha), 2L/(eta L - 1) above",
        ours + f"; step sizes at least {LIMIT_SEPARATION:.0%} away from 2/(L+alpha)",
        f"certified relative distance to the limit <= {LIMIT_REL:g} at t = {tmax}",
        limit_res,
        can_fail=False,
        source="reconstruction",
        paper_setting="not in the paper (our reconstruction)",
        margin=f"worst relative distance {worst:.3g} at t = {tmax}",
        note="a limit t -> infinity: a finite horizon cannot contradict it; points still "
        f"farther than {LIMIT_REL:g} at t = {tmax} are undecided (t too small), not violated",
    )


def _corollary1_row(problem: Quadratic, ours: str) -> dict[str, Any]:
    """Corollary 1: the certified horizon at which f(w_t) leaves float32 vs the asymptotic one."""
    L = problem.L
    cor_res = []
    cor_txt = []
    for f in (1.1, 1.25, 1.5):
        eta = f * 2 / L
        exact = theory.loss_out_of_range_horizon(problem, eta, "float32", t_max=10**6)
        pred = theory.corollary1_predicted_horizon(problem, eta, "float32")
        ok = exact is not None and abs(exact - pred) <= max(0.1 * pred, 5)
        cor_res.append(1 if ok else -1)
        cor_txt.append(f"eta = {f:g} x 2/L: exact {exact}, predicted {pred:.1f}")
    return _proof_row(
        "Corollary 1 (f(w_t) leaves the float range)",
        "plain backprop of the log objective forms f(w_t) ~ rho^(2t), which leaves float32 "
        "once 2t |ln rho| > ln(max float32) = 88.72",
        ours + "; float32; eta in {1.1, 1.25, 1.5} x 2/L",
        "certified first t with f(w_t) rounding to inf in float32 within 10% (or 5 steps) "
        "of the asymptotic formula",
        cor_res,
        can_fail=True,
        margin="; ".join(cor_txt),
        note="the 10% allowance covers the O(1) prefactor the asymptotic formula ignores",
        deviations=("the threshold formula is our reconstruction (notes §4.5)",),
    )


def _map_agreement(bp: dict[str, Any], ran: list[str]) -> tuple[list[int], list[str]]:
    """Observed class vs predicted verdict per cell of the maps of ``ran``: +1 agrees, -1
    contradicts; and the contradictions (and out-of-scope precision failures) in words."""
    agree: list[int] = []
    txt = []
    precision: dict[str, int] = {}
    for name in ran:
        for dt in bp["dtypes"]:
            entry = bp["maps"].get(name, {}).get(dt)
            if entry is None or entry["status"] != "ok":
                continue
            cells = bp["predicted"][dt]["cells"]
            bad = 0
            for i, row_ in enumerate(entry["classes"]):
                for j, cls in enumerate(row_):
                    verdict = cells[i][j]
                    failed = cls in FAILURE_CLASSES
                    if verdict == "fails":
                        agree.append(1 if failed else -1)
                        bad += not failed
                    elif verdict == "safe" and cls in RANGE_FAILURE_CLASSES:
                        agree.append(-1)
                        bad += 1
                    elif verdict == "safe" and failed:
                        # silently wrong with every magnitude in range: precision loss,
                        # outside the scope of Corollary 1 (a statement about range)
                        key = f"{name}/{dt}"
                        precision[key] = precision.get(key, 0) + 1
                    elif verdict == "safe":
                        agree.append(1)
            if bad:
                txt.append(f"{name}/{dt}: {bad} contradicting cells")
    if precision:
        txt.append(
            "out of scope (predicted in range, silently wrong by precision loss): "
            + ", ".join(f"{k} {v} cells" for k, v in precision.items())
        )
    return agree, txt


def _corollary1_maps_row(bp: dict[str, Any]) -> dict[str, Any] | None:
    """Corollary 1 in practice: the backprop maps of section 2 vs predict_failure (None when
    no plain reverse-mode map ran)."""
    ran = [
        n
        for n in _COROLLARY_MAPS
        if any(e["status"] == "ok" for e in bp["maps"].get(n, {}).values())
    ]
    agree, txt = _map_agreement(bp, ran)
    if not agree:
        return None
    return _proof_row(
        "Corollary 1 (backprop fails where predicted)",
        "plain backprop fails (silently wrong / overflow / underflow / nan) where "
        "predict_failure says 'fails' (f(w_t) or the adjoint leaves the range), and "
        "nothing leaves the range where it says 'safe'",
        f"every cell of the section 2 maps of {_names(ran)} outside the 'boundary' "
        "band, judged against certified truth",
        "observed outcome class vs predicted verdict per cell",
        agree,
        can_fail=True,
        margin="; ".join(txt) if txt else "no contradicting cell",
        note="margin ln 2 + 2 + ln d + ln kappa_f nats (verify.backprop.boundaries); "
        "a 'silently_wrong' cell predicted 'safe' is a precision failure, outside "
        "the claim, and listed separately",
        deviations=("the failure thresholds are our reconstruction (notes §4.5)",),
    )


def theorem_section(
    problem: Quadratic,
    params: dict[str, Any],
    progress: Progress,
    prior: dict[str, Any],
) -> dict[str, Any]:
    """Each theorem / claim of the paper as a :class:`verify.claims.Claim` row.

    Certified rows (evidence "proof") count grid points where the inequality is proven,
    proven violated, or undecided; a row differs only on a proven violation. Rows that rest
    on experiments (Theorem 4's meta-GD, Theorems 5 and 6) take their claims from section 3:
    sampled intervals, never a proof. Rows whose check cannot fail (a tautology on the data,
    a bound loose by orders of magnitude, an existence or asymptotic statement) say so
    (``can_fail`` false): they are consistency checks, not tests.

    Guarantee
    ---------
    Certified rows compare proven enclosures (relative radius <= 2^-80 for F', F''); the
    theory's constants are proven enclosures (:mod:`verify.paper.theory`); Theorem 3's explosion
    side is decided on the certified difference |F'| - bound computed in the eigenbasis
    (:func:`verify.paper.theory.theorem3_explosion_difference`).
    """
    L = problem.L
    spec = problem.spectral_enclosures()
    horizons = [int(t) for t in params["horizons"]]
    fracs = list(THEOREM_FRACTIONS)
    etas = [f * 2 / L for f in fracs]
    total = len(horizons) + 4
    done = 0
    scan = _Scan()
    for t in horizons:
        scan.horizon(problem, fracs, etas, t)
        done += 1
        progress(done, total)
    ours = (
        f"the report's instance (d = {problem.d}, L = {L:.6g}), grid of {len(fracs)} step "
        f"sizes x {len(horizons)} horizons t <= {max(horizons)}"
    )
    rows = _theorem3_rows(scan, spec, ours, fracs) + _theorem4_rows(problem, scan, spec, ours)
    done += 1
    progress(done, total)
    # Theorem 4's meta-GD, from the Figure 1 distribution (its own schedule 1/sqrt(k))
    rows.extend(c for c in prior["paper"]["fig1"]["claims"] if c["claim"].startswith("Theorem 4"))
    rows.append(_limit_row(problem, etas, horizons, ours))
    done += 1
    progress(done, total)
    rows.append(_corollary1_row(problem, ours))
    done += 1
    progress(done, total)
    maps_row = None if prior.get("backprop") is None else _corollary1_maps_row(prior["backprop"])
    if maps_row is not None:
        rows.append(maps_row)
    # Theorems 5 and 6 from the Monte Carlo experiments of section 3 (statistics, not proofs)
    rows.extend(prior["paper"]["fig3"]["theorem5"]["claims"])
    rows.append(prior["paper"]["fig4"]["theorem6"])
    done += 1
    progress(done, total)
    grid = {"eta_times_L_over_2": fracs, "t": horizons}
    return {"grid": grid, "rows": rows}


def _names(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c' (nothing: 'no plain-backprop backend')."""
    if not items:
        return "no plain-backprop backend (none ran)"
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
