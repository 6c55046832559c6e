"""Heavy-ball momentum, one eigenmode at a time: the 2x2 companion recurrence in Arb.

Heavy ball w_{k+1} = w_k - eta (H w_k - b) + beta (w_k - w_{k-1}), w_{-1} = w_0, decouples in
the eigenbasis of H: a mode with eigenvalue lambda, start z and forcing b_i follows

    x_{k+1} = a x_k - beta x_{k-1} + eta b_i,   a = 1 + beta - eta lambda,   x_{-1} = x_0 = z,

i.e. s_{k+1} = M s_k for s = (x_k, x_{k-1}, 1) and M = [[a, -beta, eta b_i], [1, 0, 0],
[0, 0, 1]] (the last row and column are dropped when b_i = 0). The companion block
[[a, -beta], [1, 0]] has eigenvalues r = (a +- sqrt(a^2 - 4 beta))/2: real and distinct,
complex (modulus sqrt(beta)), or a double root a^2 = 4 beta, i.e.
beta = (1 - sqrt(eta lambda))^2.

:func:`mode_derivatives` never forms those roots: it raises the *jet* matrix
[[M, 0, 0], [M', M, 0], [0, M', M]] (M' the derivative of M in eta or in beta; M is affine in
both, so M'' = 0) to the t-th power by Arb's binary powering. The block column of the power
holds the Taylor coefficients of M^t, so x_t and its first two derivatives come out at any t
in O(log t) 6x6 ball products, with no case split between real, complex and double roots and
no special case at lambda = 0.

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


def mode_derivatives(
    mu: Any, eta: Any, beta: Any, t: int, wrt: str, order: int, z: Any, bi: Any | None
) -> list[Any]:
    """x_t and its derivatives in ``wrt`` up to ``order`` for one heavy-ball mode.

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
    M^t (at most ~(log2 t)^2 / 2 bits at a double root); the caller raises precision.
    """
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


def _ball_constants(lam: Any, eta: Any, beta: Any) -> tuple[Any, Any, Any | None]:
    """(rho, ||M||_F, sep) bounds valid for every eigenvalue in the ball ``lam``.

    rho: the spectral radius is sqrt(beta) for complex roots and (|a| + sqrt(a^2 - 4 beta))/2
    for real ones, increasing in |a| and in the discriminant, so their upper bounds give an
    upper bound. sep = sqrt(|a^2 - 4 beta|) when the discriminant's ball excludes 0.
    """
    from flint import arb

    a = 1 + beta - eta * lam
    disc = a * a - 4 * beta
    root = disc.upper().max(arb(0)).sqrt()
    rho = ((a.abs_upper() + root) / 2).max(beta.sqrt()).abs_upper()
    mnorm = (a.abs_upper() ** 2 + beta**2 + 1).sqrt().abs_upper()
    sep = None if disc.contains(0) else disc.abs_lower().sqrt()
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
    balls: list[Any], eta: Any, beta: Any, t: int, wrt: str, forced: bool
) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    """Worst-case G0, G1 over ``balls`` for the homogeneous response (start (1, 1)) and the
    forced response r = eta sum_{k<t} e_1^T M^k e_1 (all zero when not ``forced``)."""
    from flint import arb

    consts = [_ball_constants(lam, eta, beta) for lam in balls]
    rho = max((c[0] for c in consts), key=lambda x: x.mid())
    mnorm = max((c[1] for c in consts), key=lambda x: x.mid())
    seps = [c[2] for c in consts if c[2] is not None]
    sep = None if len(seps) < len(consts) else min(seps, key=lambda x: x.mid())
    d_lam = abs(eta).abs_upper()
    if wrt == "eta":
        d_th = max((abs(lam).abs_upper() for lam in balls), key=lambda x: x.mid())
        d_mix = arb(1)
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
      the whole ball (:func:`_ball_constants`); delta ~ 1/(4 t eta) balances the two cases.

    Guarantee
    ---------
    Proven upper bounds (exact ``flint.arb``).
    """
    from flint import arb

    r = (eig.kappa * eig.eps).abs_upper()
    h = max((abs(m).abs_upper() for m in eig.mu), key=lambda x: x.mid())
    delta = (1 / (4 * max(t, 1) * (eta + 1 / (h + 1)))).abs_upper().max(2 * r)
    width = arb(0, (delta + r).abs_upper())
    balls = [m + width for m in eig.mu]
    # modes whose discriminant can vanish on their ball are bounded apart (route A only), so
    # that one near-double root does not spoil the separation bound of the others
    separated = [_ball_constants(lam, eta, beta)[2] is not None for lam in balls]
    near = [lam for lam, s in zip(balls, separated, strict=True) if not s]
    far = [lam for lam, s in zip(balls, separated, strict=True) if s]
    hom = [arb(0)] * 3
    frc = [arb(0)] * 3
    gap = (delta - r).abs_lower()
    for group in (near, far):
        if not group:
            continue
        h0, h1, f0, f1 = _group_bounds(group, eta, beta, t, wrt, b_norm is not None)
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

