"""Heavy-ball momentum, one eigenmode at a time: the 2x2 companion recurrence in Arb.

Heavy ball w_{k+1} = w_k - eta (H w_k - b) + beta (w_k - w_{k-1}), w_{-1} = w_0, decouples in
the eigenbasis of H: a mode with eigenvalue lambda, start z and forcing b_i follows

    x_{k+1} = a x_k - beta x_{k-1} + eta b_i,   a = 1 + beta - eta lambda,   x_{-1} = x_0 = z,

i.e. s_{k+1} = M s_k for s = (x_k, x_{k-1}, 1) and M = [[a, -beta, eta b_i], [1, 0, 0],
[0, 0, 1]] (the last row and column are dropped when b_i = 0). The companion block
[[a, -beta], [1, 0]] has eigenvalues r = (a +- sqrt(a^2 - 4 beta))/2: real and distinct,
complex (modulus sqrt(beta)), or a double root a^2 = 4 beta, i.e.
beta = (1 - sqrt(eta lambda))^2.

:func:`mode_derivatives` has two routes. Where the roots are proven apart (and there is no
forcing), the closed form x_t = z ((1 - r_2) r_1^{t+1} - (1 - r_1) r_2^{t+1}) / (r_1 - r_2),
differentiated through the roots (:func:`_closed_form`): one or two scalar ball powers, in
``acb`` for complex roots. Everywhere else (forcing, at or near a double root, t < 2) it
raises the *jet* matrix [[M, 0, 0], [M', M, 0], [0, M', M]] (M' the derivative of M in eta or
in beta; M is affine in both, so M'' = 0) to the t-th power by Arb's binary powering
(:func:`_jet_power`). The block column of the power holds the Taylor coefficients of M^t, so
x_t and its first two derivatives come out at any t in O(log t) 6x6 ball products, with no
case split between real, complex and double roots and no special case at lambda = 0. The
closed form is 2x (order 1) to 3x (order 2) cheaper per mode and, away from the double root,
loses fewer bits than the jet power's binary powering; close to it (see
:func:`_separation_floor_log2`) its quotients by r_1 - r_2 cancel and the jet power takes over.

:func:`perturbation_radii` bounds what the eigendecomposition's error costs (the heavy-ball
analogue of the GD bound in :mod:`verify.truth.engine`); see its docstring for the proof.
"""

from __future__ import annotations

from math import comb, factorial
from typing import Any

__all__ = ["mode_derivatives", "perturbation_radii", "power_sums_bound"]


def _jet_matrix(m0: list[list[Any]], m1: list[list[Any]], order: int) -> Any:
    """The block lower-bidiagonal matrix whose t-th power holds the Taylor coefficients of
    (M0 + M1 s)^t in its first block column (truncated at s^order)."""
    from flint import arb_mat

    s = len(m0)
    n = s * (order + 1)
    big = arb_mat(n, n)
    for blk in range(order + 1):
        for i in range(s):
            for j in range(s):
                big[blk * s + i, blk * s + j] = m0[i][j]
                if blk >= 1:
                    big[blk * s + i, (blk - 1) * s + j] = m1[i][j]
    return big


def _separation_floor_log2(t: int, order: int) -> int:
    """-log2 of the smallest relative root separation |r_1 - r_2| / max |r_i| at which
    :func:`mode_derivatives` takes the closed form rather than the jet power.

    Near a double root the closed form's quotients by r_1 - r_2 cancel: measured, its j-th
    derivative loses about 2 j (log2(1/sep) - log2 t) bits (the value almost none). The
    engine gives every mode 16 + (log2 t)^2 / 2 extra bits (what the jet power loses at a
    double root), so the closed form is taken while 2 (order + 1) (log2(1/sep) - log2 t) stays
    within that; closer to the double root the jet power, which never divides, takes over.
    """
    budget = 16 + t.bit_length() ** 2 // 2
    return t.bit_length() - 1 + budget // (2 * order + 2)


def _closed_form(
    mu: Any, eta: Any, beta: Any, t: int, wrt: str, order: int, z: Any
) -> list[Any] | None:
    """x_t and its derivatives for an unforced mode from the companion's roots, or ``None``
    where the roots are not proven separated (the caller then takes the jet power).

    With r_1 + r_2 = a, r_1 r_2 = beta and x_{-1} = x_0 = z, Cayley--Hamilton gives
    M^t = p_t M - beta p_{t-1} I, p_k = (r_1^k - r_2^k) / (r_1 - r_2), so
    x_t / z = p_t (a - beta) - beta p_{t-1} = (u_1 - u_2) / (r_1 - r_2) with
    u_1 = (1 - r_2) r_1^{t+1}, u_2 = (1 - r_1) r_2^{t+1} (using a - beta = r_1 + r_2 - r_1 r_2).
    Along theta (a' = -lambda, beta' = 0 for eta; a' = beta' = 1 for beta; a'' = beta'' = 0)
    the roots move as r_1' = (a' r_1 - beta') / (r_1 - r_2), r_2' = a' - r_1',
    r_1'' = 2 r_1' r_2' / (r_1 - r_2) = -r_2'', and (r^{t+1})' = (t+1) r^t r',
    (r^{t+1})'' = (t+1) (t r^{t-1} r'^2 + r^t r''); the quotient rule finishes. Complex roots
    are conjugate (theta is real, so their derivatives are too): u_2 = conj(u_1) and
    x_t / z = Im(u_1) / Im(r_1), evaluated in ``acb`` with real jets of Im(.).

    Guarantee
    ---------
    Ball arithmetic at the caller's precision over the exact identities above: every entry
    contains the exact value for every input in its ball (``None`` never claims anything).
    """
    a = 1 + beta - eta * mu
    disc = a * a - 4 * beta
    if t < 2 or disc.contains(0):
        return None
    # a', beta' (ints where exact: they combine with balls without a conversion)
    a1, b1 = (-mu, 0) if wrt == "eta" else (1, 1)
    real = disc > 0
    s = disc.sqrt() if real else (-disc).sqrt()
    # |r_1 - r_2| = s; max |r_i| = (|a| + s) / 2 (real) or sqrt(beta) (complex)
    scale = (abs(a) + s) / 2 if real else beta.sqrt()
    if not s * (1 << _separation_floor_log2(t, order)) > scale:
        return None
    if real:
        r1, r2, den = (a + s) / 2, (a - s) / 2, s
    else:
        from flint import acb

        r1 = acb(a, s) / 2
        r2 = r1.conjugate()
        den = acb(0, s)
    d1 = (a1 * r1 - b1) / den
    d2 = a1 - d1
    dd = 2 * d1 * d2 / den if order >= 2 else None  # r_1'' = -r_2''
    u1 = _u_jet(r2, d2, -dd if dd is not None else None, _power_jet(r1, d1, dd, t, order))
    if real:
        ndd = -dd if dd is not None else None
        u2 = _u_jet(r1, d1, dd, _power_jet(r2, d2, ndd, t, order))
        num = [x - y for x, y in zip(u1, u2, strict=True)]
        dens = (s, d1 - d2, 2 * dd if dd is not None else None)
    else:
        num = [x.imag for x in u1]
        dens = (s / 2, d1.imag, dd.imag if dd is not None else None)
    g0 = num[0] / dens[0]
    out = [z * g0]
    if order >= 1:
        g1 = (num[1] - g0 * dens[1]) / dens[0]
        out.append(z * g1)
        if order >= 2:
            g2 = (num[2] - 2 * g1 * dens[1] - g0 * dens[2]) / dens[0]
            out.append(z * g2)
    return out


def _power_jet(r: Any, dr: Any, ddr: Any, t: int, order: int) -> tuple[Any, ...]:
    """Derivatives of r^{t+1} up to ``order`` (t >= 1) from those of r (``ddr`` unused below
    order 2)."""
    rt1 = r ** (t - 1)
    rt = rt1 * r
    if order == 0:
        return (rt * r,)
    if order == 1:
        return (rt * r, (t + 1) * rt * dr)
    return (rt * r, (t + 1) * rt * dr, (t + 1) * (t * rt1 * dr * dr + rt * ddr))


def _u_jet(q: Any, dq: Any, ddq: Any, p: tuple[Any, ...]) -> tuple[Any, ...]:
    """Derivatives of (1 - q) P from those of q and of P (as many as ``p`` holds)."""
    w = 1 - q
    if len(p) == 1:
        return (w * p[0],)
    u1 = w * p[1] - dq * p[0]
    if len(p) == 2:
        return (w * p[0], u1)
    return (w * p[0], u1, w * p[2] - 2 * dq * p[1] - ddq * p[0])


def mode_derivatives(
    mu: Any, eta: Any, beta: Any, t: int, wrt: str, order: int, z: Any, bi: Any | None
) -> list[Any]:
    """x_t and its derivatives in ``wrt`` up to ``order`` for one heavy-ball mode.

    Unforced modes whose companion roots are proven apart (relative separation above
    :func:`_separation_floor_log2`) take the closed form of :func:`_closed_form` (one or two
    scalar powers); forced modes, t < 2 and modes at or near a double root take the jet
    power of the module docstring.

    Parameters
    ----------
    mu, eta, beta : flint.arb
        The mode's eigenvalue and the hyperparameters (exact or balls).
    t : int
        Horizon, >= 0.
    wrt : {"eta", "beta"}
        The variable of the derivatives.
    order : int
        0, 1 or 2.
    z, bi : flint.arb
        The mode's start x_0 = x_{-1} and forcing (``None`` for none).

    Returns
    -------
    list of flint.arb
        ``[x_t, dx_t, d2x_t]`` truncated to ``order + 1`` entries.

    Guarantee
    ---------
    Ball arithmetic at the caller's working precision: every entry contains the exact value
    for every (mu, eta, beta, z, bi) in the input balls. Radii grow with the cancellation in
    M^t (at most ~(log2 t)^2 / 2 bits at a double root for the jet power, and no more than
    that plus 16 bits for the closed form, by the choice of its threshold); the caller raises
    precision.
    """
    if bi is None:
        closed = _closed_form(mu, eta, beta, t, wrt, order, z)
        if closed is not None:
            return closed
    return _jet_power(mu, eta, beta, t, wrt, order, z, bi)


def _jet_power(
    mu: Any, eta: Any, beta: Any, t: int, wrt: str, order: int, z: Any, bi: Any | None
) -> list[Any]:
    """:func:`mode_derivatives` by the jet power of the module docstring (every case)."""
    from flint import arb, arb_mat

    a = 1 + beta - eta * mu
    zero = arb(0)
    if bi is None:
        m0 = [[a, -beta], [arb(1), zero]]
        m1 = [[-mu, zero], [zero, zero]] if wrt == "eta" else [[arb(1), arb(-1)], [zero, zero]]
        start = [z, z]
    else:
        m0 = [[a, -beta, eta * bi], [arb(1), zero, zero], [zero, zero, arb(1)]]
        row = [-mu, zero, bi] if wrt == "eta" else [arb(1), arb(-1), zero]
        m1 = [row, [zero] * 3, [zero] * 3]
        start = [z, z, arb(1)]
    s = len(m0)
    big = _jet_matrix(m0, m1, order)
    s0 = arb_mat(s * (order + 1), 1)
    for i, v in enumerate(start):
        s0[i, 0] = v
    out = (big**t) * s0
    return [factorial(j) * out[j * s, 0] for j in range(order + 1)]


# --------------------------------------------------------------------------- proven bounds
def power_sums_bound(n: int, m: int, rho: Any, mnorm: Any, beta: Any, sep: Any | None) -> Any:
    """Upper bound of sum over j_0 + ... + j_n = m of prod_i ||M^{j_i}||_2, for every companion
    M = [[a, -beta], [1, 0]] with spectral radius <= ``rho``, ||M||_2 <= ``mnorm`` and root
    separation |r_1 - r_2| >= ``sep`` (``None``: no separation known).

    Proof. Cayley--Hamilton gives M^j = p_j M - beta p_{j-1} I with p_j = sum_{i<j} r_1^i
    r_2^{j-1-i}, so ||M^j|| <= |p_j| mnorm + beta |p_{j-1}|, and |p_j| <= j rho^{j-1} (route A)
    and, for distinct roots, |p_j| = |r_1^j - r_2^j| / |r_1 - r_2| <= 2 rho^j / sep (route B);
    beta = |r_1 r_2| <= rho^2. The majorant series are
    A(s) = 1 + u(s) / (1 - rho s)^2 and B(s) = 1 + (2 rho / sep) u(s) / (1 - rho s) with
    u(s) = mnorm s + beta s^2, and the wanted sum is at most [s^m] A(s)^{n+1} (and
    [s^m] B(s)^{n+1}); both coefficients are expanded binomially below, and the smaller is
    returned.

    Guarantee
    ---------
    A proven upper bound (exact ``flint.arb``).
    """
    from flint import arb

    def route(q_of_k: Any, factor: Any) -> Any:
        total = arb(1) if m == 0 else arb(0)
        for k in range(1, n + 2):
            q = q_of_k(k)
            fk = factor**k if factor is not None else arb(1)
            for i in range(k + 1):
                p = m - k - i
                if p < 0:
                    continue
                c = comb(n + 1, k) * comb(k, i) * comb(p + q, q)
                total += c * fk * mnorm ** (k - i) * beta**i * rho**p
        return total.abs_upper()

    best = route(lambda k: 2 * k - 1, None)
    if sep is not None and sep > 0:
        best = best.min(route(lambda k: k - 1, 2 * rho / sep))
    return best.abs_upper()


def _group_constants(amax: Any, beta: Any, sep2: Any | None) -> tuple[Any, Any, Any | None]:
    """(rho, ||M||_F, sep) bounds valid for every companion of a group of modes with
    |a| <= ``amax`` and, when ``sep2`` is given, discriminant |a^2 - 4 beta| >= ``sep2``.

    rho: the spectral radius is sqrt(beta) for complex roots and (|a| + sqrt(a^2 - 4 beta))/2
    for real ones; max((|a| + sqrt(max(a^2 - 4 beta, 0)))/2, sqrt(beta)) equals it in both
    cases and is nondecreasing in |a|, as is ||M||_F = sqrt(a^2 + beta^2 + 1), so their values
    at ``amax`` bound the group. sep = sqrt(sep2) <= |r_1 - r_2| = sqrt(|a^2 - 4 beta|).
    """
    from flint import arb

    disc = amax * amax - 4 * beta
    root = disc.upper().max(arb(0)).sqrt()
    rho = ((amax + root) / 2).max(beta.sqrt()).abs_upper()
    mnorm = (amax**2 + beta**2 + 1).sqrt().abs_upper()
    sep = None if sep2 is None else sep2.sqrt().abs_lower()
    return rho, mnorm, sep


def _response_bounds(
    rho: Any, mnorm: Any, beta: Any, sep: Any | None, t: int, d_lam: Any, d_th: Any, d_mix: Any
) -> tuple[list[Any], list[Any]]:
    """Bounds of ||d^j M^t / dtheta^j|| (G0) and ||d/dlambda d^j M^t / dtheta^j|| (G1), j <= 2.

    Differentiating the product M^t places each derivative on one factor (Leibniz): with
    D_lam >= ||dM/dlambda||, D_th >= ||dM/dtheta||, D_mix >= ||d^2 M/dlambda dtheta||
    (d^2 M/dtheta^2 = 0) and S_n = :func:`power_sums_bound` at m = t - n,
    G0 = [S_0, D_th S_1, 2 D_th^2 S_2],
    G1 = [D_lam S_1, 2 D_lam D_th S_2 + D_mix S_1, 6 D_lam D_th^2 S_3 + 4 D_mix D_th S_2].
    """
    from flint import arb

    S = [
        power_sums_bound(n, t - n, rho, mnorm, beta, sep) if t >= n else arb(0) for n in range(4)
    ]
    g0 = [S[0], d_th * S[1], 2 * d_th**2 * S[2]]
    g1 = [
        d_lam * S[1],
        2 * d_lam * d_th * S[2] + d_mix * S[1],
        6 * d_lam * d_th**2 * S[3] + 4 * d_mix * d_th * S[2],
    ]
    return g0, g1


def _group_bounds(
    amax: Any, lmax: Any, sep2: Any | None, eta: Any, beta: Any, t: int, wrt: str, forced: bool
) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    """Worst-case G0, G1 over a group of eigenvalue balls with |a| <= ``amax``,
    |lambda| <= ``lmax`` and discriminant |a^2 - 4 beta| >= ``sep2`` (``None``: unknown), for
    the homogeneous response (start (1, 1)) and the forced response
    r = eta sum_{k<t} e_1^T M^k e_1 (all zero when not ``forced``)."""
    from flint import arb

    rho, mnorm, sep = _group_constants(amax, beta, sep2)
    d_lam = abs(eta).abs_upper()
    if wrt == "eta":
        d_th, d_mix = lmax, arb(1)
    else:
        d_th, d_mix = arb(2).sqrt().abs_upper(), arb(0)
    sqrt2 = arb(2).sqrt()
    g0, g1 = _response_bounds(rho, mnorm, beta, sep, t, d_lam, d_th, d_mix)
    h0 = [sqrt2 * x for x in g0]
    h1 = [sqrt2 * x for x in g1]
    f0 = [arb(0)] * 3
    f1 = [arb(0)] * 3
    if forced and t >= 1:
        # sum_{k<t} of a bound that is nondecreasing in k when rho >= 1: t times the last term
        rt = rho.max(arb(1))
        x0, x1 = _response_bounds(rt, mnorm, beta, sep, t - 1, d_lam, d_th, d_mix)
        x0 = [t * v for v in x0]
        x1 = [t * v for v in x1]
        for j in range(3):
            extra0 = j * x0[j - 1] if (wrt == "eta" and j >= 1) else arb(0)
            extra1 = j * x1[j - 1] if (wrt == "eta" and j >= 1) else arb(0)
            f0[j] = d_lam * x0[j] + extra0
            f1[j] = d_lam * x1[j] + extra1
    return h0, h1, f0, f1


def _larger(x: Any, y: Any) -> Any:
    """The larger of two exact ``arb`` values."""
    return y if y > x else x


def perturbation_radii(
    eig: Any,
    eta: Any,
    beta: Any,
    t: int,
    wrt: str,
    order: int,
    start_norm: Any,
    b_norm: Any | None,
) -> list[Any]:
    """Proven bounds on ||w^(j)_t(H) - w^(j)_t(H~)||_2, j = 0..order, for heavy ball.

    Notation: H = U diag(lambda) U^T exact (any H in its ball), H~ = Q diag(mu) Q^{-1} with
    ||H - H~||_F <= eps (the engines' eps is a Frobenius bound: ||R Q^{-1}||_F with R the
    residual) and kappa >= ||Q|| ||Q^{-1}||; r = kappa eps. Every w^(j)_t is
    g(H) w0 + f(H) b for real polynomials g, f of one variable (the mode responses of the
    module docstring and their theta-derivatives).

    * Daleckii--Krein: U^T (g(H) - g(H~)) Q = G o (U^T (H - H~) Q) with
      G_ij = (g(lambda_i) - g(mu_j)) / (lambda_i - mu_j) (g'(lambda_i) when equal), so
      ||g(H) - g(H~)||_2 <= kappa eps max_ij |G_ij|.
    * By Bauer--Fike each lambda_i lies within r of some mu_k. Take delta > r and the balls
      B_k = [mu_k - delta - r, mu_k + delta + r]. If |mu_k - mu_j| <= delta then lambda_i and
      mu_j both lie in B_k and |G_ij| <= sup_{B_k} |g'| (mean value theorem); else
      |lambda_i - mu_j| > delta - r and |G_ij| <= 2 max_k sup_{B_k} |g| / (delta - r).
    * sup_{B_k} |g| and |g'| are bounded by :func:`_response_bounds` with constants valid on
      the whole ball (:func:`_group_constants`); delta ~ 1/(4 t eta) balances the two cases.

    Guarantee
    ---------
    Proven upper bounds (exact ``flint.arb``).
    """
    from flint import arb

    r = (eig.kappa * eig.eps).abs_upper()
    h = max((abs(m).abs_upper() for m in eig.mu), key=lambda x: x.mid())
    delta = (1 / (4 * max(t, 1) * (eta + 1 / (h + 1)))).abs_upper().max(2 * r)
    width = arb(0, (delta + r).abs_upper())
    # one pass over the balls B_k: upper bounds of |a| and |lambda| and a lower bound of the
    # discriminant's modulus, per group: the modes whose discriminant can vanish on their
    # ball (bounded by route A only, so that one near-double root does not spoil the
    # separation bound of the others) and the rest
    groups: dict[bool, list[Any]] = {}
    c, four_beta = 1 + beta, 4 * beta
    for m in eig.mu:
        lam = m + width
        a = c - eta * lam
        disc = a * a - four_beta
        near = disc.contains(0)
        sep2 = None if near else disc.abs_lower()
        g = groups.get(near)
        if g is None:
            groups[near] = [a.abs_upper(), lam.abs_upper(), sep2]
            continue
        g[0] = _larger(g[0], a.abs_upper())
        g[1] = _larger(g[1], lam.abs_upper())
        if sep2 is not None and sep2 < g[2]:
            g[2] = sep2
    hom = [arb(0)] * 3
    frc = [arb(0)] * 3
    gap = (delta - r).abs_lower()
    for amax, lmax, sep2 in groups.values():
        h0, h1, f0, f1 = _group_bounds(amax, lmax, sep2, eta, beta, t, wrt, b_norm is not None)
        for j in range(3):
            hom[j] = hom[j].max(h1[j]).max(2 * h0[j] / gap)
            frc[j] = frc[j].max(f1[j]).max(2 * f0[j] / gap)
    out = []
    for j in range(order + 1):
        total = hom[j] * start_norm
        if b_norm is not None:
            total += frc[j] * b_norm
        out.append((r * total).abs_upper())  # kappa eps max|G|
    return out
