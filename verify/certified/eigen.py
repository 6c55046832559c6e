"""Certified eigendecomposition of an exact symmetric matrix.

The matrix is given as an *Arb builder* ``H(prec) -> arb_mat``: a ball matrix at working
precision ``prec`` that contains the exact matrix (exact data such as a float64 matrix gives
zero radii; a product such as the Gram matrix X^T X / n gives small balls around it).
Nothing here knows a problem class: :class:`verify.problems.Quadratic` and
:class:`verify.problems.LeastSquares` bind their Hessian to it (``problem.certified_eig``).

The approach separates *computing* from *proving*:

1. Compute. float64 ``eigh`` gives Q0, mu0; Ogita--Aishima iterative refinement (Ogita &
   Aishima, Japan J. Indust. Appl. Math. 35, 2018, Algorithm 1) in Arb midpoint arithmetic
   improves them to ~``prec`` bits. Nothing computed here is trusted.
2. Prove. Treat the refined Q (exact entries) and mu (exact) as *data* defining
   H~ = Q diag(mu) Q^{-1}. In ball arithmetic bound

   * nu >= ||Q^T Q - I||_F, hence ||Q|| <= sqrt(1 + nu), ||Q^{-1}|| <= 1/sqrt(1 - nu),
     kappa(Q) <= sqrt((1 + nu)/(1 - nu)) (requires nu < 1);
   * eps >= ||H - H~||_2, from ||H - H~|| <= ||H Q - Q diag(mu)||_F ||Q^{-1}||.

   Every later use of the decomposition adds a rigorous perturbation term in eps and kappa
   (see :mod:`verify.truth.engine`), so results hold for the exact H whatever the quality of
   the refinement; refinement only makes the enclosures tight.

By Bauer--Fike each eigenvalue of the exact H lies within kappa * eps of some mu_i.

Two engines produce (Q, mu) and prove (nu, eps):

* the float64 engine (:mod:`verify.certified.fasteig`), for an exact float64 H of dimension
  above :data:`FAST_EIG_MIN_DIM`: Ogita--Aishima in double-double whose products are
  error-free float64 GEMMs (Ozaki splitting), and rigorous float64 bounds of the residual and
  of ||Q^T Q - I|| (:mod:`verify.certified.floatbounds`); only O(d^2) data reach Arb. It
  serves requests up to :data:`MIN_EIG_PREC` bits (eps ~ 2^-100 ||H||);
* the Arb engine (below), for everything else: higher precisions (it starts from the best
  lower decomposition), least-squares Gram matrices, clusters the float64 engine leaves
  unresolved, and small d, where it is cheap and tighter. :func:`arb_certified_eig` runs it
  alone (the independent cross-check of the tests).
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import NotCertifiedError
from ..floats import frobenius_upper
from .enclosure import Enclosure

__all__ = [
    "FAST_EIG_MIN_DIM",
    "MIN_EIG_PREC",
    "ArbMatrix",
    "CertifiedEig",
    "arb_certified_eig",
    "certified_eig",
    "spectral_constants",
]

#: An exact symmetric matrix as an Arb builder: ``H(prec)`` is an ``arb_mat`` at working
#: precision ``prec`` containing the exact matrix.
ArbMatrix = Callable[[int], Any]

#: Fault-injection hook, for tests only (never set by library code). When not ``None``,
#: :func:`certified_eig` calls ``_DEGRADE(Q, mu, prec)`` on the refined decomposition (Q an
#: exact ``arb_mat``, mu a list of exact ``arb``) just *before* proving it, and uses the
#: returned ``(Q, mu)`` (both must again be exact: take ``.mid()``). The proof (nu, eps,
#: kappa) then bounds the degraded data, so every result must still contain the exact value
#: or raise :class:`~verify.errors.NotCertifiedError`: this is how the tests show that the
#: rigor terms, not the quality of the refinement, carry the guarantee
#: (``tests/truth/test_fault_injection.py``). Set it with ``monkeypatch.setattr`` on a fresh
#: problem (decompositions are cached per problem, see :meth:`verify.problems.Quadratic.cached`).
_DEGRADE: Callable[[Any, list[Any], int], tuple[Any, list[Any]]] | None = None


@dataclass(frozen=True)
class CertifiedEig:
    """A refined eigendecomposition with proven error bounds (all Arb objects at ``prec``).

    Attributes
    ----------
    Q : flint.arb_mat
        Exact (zero-radius) approximate eigenvector matrix, columns ~ unit eigenvectors.
    QT : flint.arb_mat
        Its transpose.
    mu : list of flint.arb
        Exact approximate eigenvalues, in the column order of ``Q``.
    order : list of int
        Column indices sorting ``mu`` ascending.
    nu : flint.arb
        Upper bound of ||Q^T Q - I||_F (< 1).
    eps : flint.arb
        Upper bound of ||H - Q diag(mu) Q^{-1}||_2 for the exact H.
    kappa : flint.arb
        Upper bound of ||Q|| ||Q^{-1}||.
    qinv_norm : flint.arb
        Upper bound of ||Q^{-1}||_2.
    prec : int
        Working precision in bits.
    bits : int
        Bits to which (Q, mu) are accurate relative to max |mu| (from the proven eps; 0 when
        not recorded: the Arb engine's results are accurate to about ``prec``). Only used to
        restart refinement at a higher precision.
    """

    Q: Any
    QT: Any
    mu: list[Any]
    order: list[int]
    nu: Any
    eps: Any
    kappa: Any
    qinv_norm: Any
    prec: int
    #: Bits to which (Q, mu) are accurate (from the proven eps), a start for further refinement.
    bits: int = 0

    def solve(self, v: Any) -> Any:
        """Enclosure of Q^{-1} v for an Arb column vector ``v`` (any exact v in the ball).

        Q^{-1} = (I + N)^{-1} Q^T with N = Q^T Q - I, so Q^{-1} v lies within
        ||(I+N)^{-1} - I|| ||Q^T v|| <= nu/(1 - nu) ||Q^T v|| of Q^T v (2-norm, hence in each
        component).
        """
        from flint import arb

        z = self.QT * v
        radius = (self.nu / (1 - self.nu)) * frobenius_upper(z)
        bump = arb(0, radius.abs_upper())
        for i in range(z.nrows()):
            z[i, 0] = z[i, 0] + bump
        return z


def _to_numpy(M: Any) -> np.ndarray[Any, np.dtype[np.float64]]:
    return np.array([[float(x) for x in row] for row in M.tolist()], dtype=np.float64)


def _clusters(separated: np.ndarray[Any, np.dtype[np.bool_]]) -> list[list[int]]:
    """Index sets (size >= 2) of the connected components of the "not separated" relation."""
    d = separated.shape[0]
    seen = [False] * d
    out = []
    for i in range(d):
        if seen[i]:
            continue
        stack, comp = [i], []
        seen[i] = True
        while stack:
            k = stack.pop()
            comp.append(k)
            for j in np.flatnonzero(~separated[k]):
                if not seen[j]:
                    seen[j] = True
                    stack.append(int(j))
        if len(comp) >= 2:
            out.append(sorted(comp))
    return out


def _rotate_clusters(Q: Any, S: Any, clusters: list[list[int]], prec: int) -> bool:
    """Diagonalize each cluster's block of S = Q^T H Q at ``prec`` bits, rotating Q in place.

    Ogita--Aishima's update cannot separate eigenvalues closer than its threshold (about the
    current residual): inside a cluster it only restores orthogonality. For nearly multiple
    eigenvalues (H = I + 5e-17 off the diagonal) the float64 start never gets below the
    threshold. The cluster's block S_JJ - c I is small and known to ``prec`` bits, so its
    eigenvectors computed in mpmath at ``prec`` bits (a local precision context) resolve gaps
    down to ~2^-prec; the rotated columns Q_J V then let the ordinary iteration converge
    (Ogita & Aishima 2019, clustered eigenvalues). Returns whether any block was rotated;
    nothing here needs to be rigorous.
    """
    import mpmath
    from flint import arb_mat

    def to_mpf(x: Any) -> Any:
        man, exp = x.mid().man_exp()
        return mpmath.mpf((int(man), int(exp)))

    rotated = False
    with mpmath.workprec(prec):
        for J in clusters:
            k = len(J)
            shift = sum(to_mpf(S[j, j]) for j in J) / k
            block = mpmath.matrix(k, k)
            for a, i in enumerate(J):
                for b, j in enumerate(J):
                    # symmetrized (S is symmetric up to rounding)
                    block[a, b] = (to_mpf(S[i, j]) + to_mpf(S[j, i])) / 2 - (shift if a == b else 0)
            off = max(abs(block[a, b]) for a in range(k) for b in range(k) if a != b)
            scale = max(abs(to_mpf(S[j, j])) for j in J)
            if off <= mpmath.ldexp(scale, 16 - prec):
                continue  # already diagonal to working precision: an exactly multiple eigenvalue
            _, V = mpmath.eigsy(block)
            digits = prec // 3 + 5
            Vq = arb_mat([[mpmath.nstr(V[a, b], digits) for b in range(k)] for a in range(k)])
            QJ = arb_mat([[Q[r, j] for j in J] for r in range(Q.nrows())]) * Vq
            for r in range(Q.nrows()):
                for b, j in enumerate(J):
                    Q[r, j] = QJ[r, b].mid()
            rotated = True
    return rotated


def _refine(H: Any, Q: Any, prec: int, *, exact_update: bool) -> tuple[Any, list[Any]]:
    """One Ogita--Aishima step in midpoint arithmetic. Returns (Q', mu').

    R = I - Q^T Q and S = Q^T H Q are formed at ``prec`` bits; the update
    E_ij = (S_ij + lam_j R_ij)/(lam_j - lam_i) (E_ij = R_ij/2 inside clusters and on the
    diagonal) is computed in float64 (vectorized; gains ~53 bits, enough when Q is float64
    accurate) or, with ``exact_update``, entrywise at ``prec`` bits (quadratic convergence).
    Clusters of nearly equal eigenvalues are first rotated apart by :func:`_rotate_clusters`.
    Nothing here needs to be rigorous: :func:`certified_eig` proves the result afterwards.
    """
    from flint import arb_mat, ctx

    with ctx.workprec(prec):
        d = Q.nrows()
        Q = arb_mat(Q.tolist())  # a copy: cluster rotation writes into it
        for attempt in range(2):
            QT = Q.transpose()
            R = (arb_mat(np.eye(d).tolist()) - QT * Q).mid()
            S = (QT * (H * Q)).mid()
            lam = [(S[i, i] / (1 - R[i, i])).mid() for i in range(d)]
            Rf, Sf = _to_numpy(R), _to_numpy(S)
            lamf = np.array([float(x) for x in lam])
            # the low parts make the gaps accurate: hi_j - hi_i is exact for close values
            # (Sterbenz), so eigenvalues 1e-16 apart near 1 are not rounded onto one float
            lamlo = np.array([float(x - float(x)) for x in lam])
            off = Sf - np.diag(np.diag(Sf))
            # separation threshold below which a pair is treated as a cluster (Ogita--Aishima)
            delta = 2 * (np.linalg.norm(off) + np.max(np.abs(lamf)) * np.linalg.norm(Rf))
            gap = (lamf[None, :] - lamf[:, None]) + (lamlo[None, :] - lamlo[:, None])
            separated = np.abs(gap) > delta
            np.fill_diagonal(separated, False)
            if attempt == 1:
                break
            clusters = _clusters(separated)
            if not clusters:
                break
            # the rotation must act on orthonormal columns: a float64 start is orthogonal only
            # to ~1e-16, and the later orthogonality correction (E = R/2 inside a cluster) would
            # undo a rotation made on top of it. Newton--Schulz, Q <- Q (I + R/2), squares R.
            for _ in range(64):
                if np.linalg.norm(Rf) <= 2.0 ** (20 - prec):
                    break
                Q = (Q + Q * (R / 2)).mid()
                R = (arb_mat(np.eye(d).tolist()) - Q.transpose() * Q).mid()
                Rf = _to_numpy(R)
            S = (Q.transpose() * (H * Q)).mid()
            if not _rotate_clusters(Q, S, clusters, prec):
                break
        if not exact_update:
            with np.errstate(divide="ignore", invalid="ignore"):
                Ef = np.where(separated, (Sf + lamf[None, :] * Rf) / gap, Rf / 2)
            E = arb_mat(Ef.tolist())
        else:
            E = arb_mat(d, d)
            for i in range(d):
                li = lam[i]
                for j in range(d):
                    if separated[i, j]:
                        E[i, j] = ((S[i, j] + lam[j] * R[i, j]) / (lam[j] - li)).mid()
                    else:
                        E[i, j] = (R[i, j] / 2).mid()
        Qn = (Q + Q * E).mid()
    return Qn, lam


#: Lowest working precision of a decomposition (see :func:`certified_eig`).
MIN_EIG_PREC = 156

#: The float64 engine serves matrices of dimension above this (below, the Arb engine is cheap
#: and its bounds are tighter: eps ~ 2^-148 ||H|| instead of ~2^-100 ||H||).
FAST_EIG_MIN_DIM = 100

#: The float64 engine's result is kept only when eps <= 2^-FAST_MIN_BITS ||mu||_max (else, e.g.
#: for an unresolved cluster, the Arb engine takes over from float64 eigenvectors).
FAST_MIN_BITS = 90

F64 = NDArray[np.float64]


def certified_eig(
    H: ArbMatrix,
    prec: int,
    *,
    start: Callable[[], NDArray[np.float64]],
    decompositions: MutableMapping[int, CertifiedEig],
    fast: Callable[[], tuple[F64, F64, F64]] | None = None,
) -> CertifiedEig:
    """Refined, certified eigendecomposition of the exact symmetric matrix ``H``.

    Parameters
    ----------
    H : callable
        Arb builder of the exact matrix (:data:`ArbMatrix`).
    prec : int
        Wanted working precision in bits (raised to at least :data:`MIN_EIG_PREC`).
    start : callable
        Returns float64 approximate eigenvectors (columns) to refine from; called only when
        ``decompositions`` holds none at a lower precision. Nothing in it is trusted.
    decompositions : mutable mapping
        The decompositions of this matrix by precision, read and extended here: any one at a
        precision >= ``prec`` is returned as it is, a lower one is refined further.
    fast : callable, optional
        When H is exactly a float64 matrix: returns ``(H, eigenvalues, eigenvectors)`` (a
        float64 ``eigh``, not trusted), enabling the float64 engine for the first
        decomposition when d > :data:`FAST_EIG_MIN_DIM`.

    Guarantee
    ---------
    ``eps`` and ``kappa`` are proven upper bounds for the exact H (see module docstring);
    nothing else is assumed about ``Q`` and ``mu``.

    Raises
    ------
    NotCertifiedError
        If the refined Q is too far from orthogonal (nu >= 1/2), which happens only for
        pathological inputs.
    """
    prec = max(prec, MIN_EIG_PREC)
    # any decomposition at a precision >= prec serves (its bounds are proven either way)
    usable = [p for p in decompositions if p >= prec]
    if usable:
        return decompositions[min(usable)]
    if fast is not None and not decompositions and prec == MIN_EIG_PREC:
        A, lam, X = fast()
        if A.shape[0] > FAST_EIG_MIN_DIM:
            result = _fast_certified_eig(A, lam, X, prec)
            if result is not None:
                decompositions[prec] = result
                return result
    result = arb_certified_eig(H, prec, start=start, decompositions=decompositions)
    decompositions[prec] = result
    return result


def _arb_exact(Qh: F64, Ql: F64, mh: F64, ml: F64, prec: int) -> tuple[Any, list[Any]]:
    """(Q, mu) as exact Arb data: Qh + Ql fits in 122 bits (fasteig rounds Ql), mu is summed
    at a precision that holds any sum of two doubles."""
    from flint import arb, arb_mat, ctx

    with ctx.workprec(max(prec, 128)):
        Q = arb_mat(Qh.tolist()) + arb_mat(Ql.tolist())
    with ctx.workprec(2200):
        mu = [arb(float(h)) + arb(float(lo)) for h, lo in zip(mh, ml, strict=True)]
    return Q, mu


def _to_double_double(Q: Any, mu: list[Any]) -> tuple[F64, F64, F64, F64]:
    """Nearest double-double data to exact Arb data (for the fault-injection hook)."""
    rows = [[x.mid() for x in row] for row in Q.tolist()]
    Qh = np.array([[float(x) for x in row] for row in rows])
    Ql = np.array([[float(x - float(x)) for x in row] for row in rows])
    mh = np.array([float(m.mid()) for m in mu])
    ml = np.array([float(m.mid() - float(m.mid())) for m in mu])
    return Qh, Ql, mh, ml


def _fast_certified_eig(A: F64, lam: F64, X: F64, prec: int) -> CertifiedEig | None:
    """The float64 engine (:mod:`.fasteig`), or None when it cannot serve (range, accuracy)."""
    from flint import arb, ctx

    from . import fasteig

    res = fasteig.fast_refine(A, X, lam)
    if res is None:
        return None
    Q, mu = _arb_exact(res.Qh, res.Ql, res.mh, res.ml, prec)
    if _DEGRADE is not None:
        Q, mu = _DEGRADE(Q, mu, prec)
        res = fasteig.prove(A, *_to_double_double(Q, mu))
        if res is None:
            return None
        Q, mu = _arb_exact(res.Qh, res.Ql, res.mh, res.ml, prec)
    with ctx.workprec(prec):
        scale = arb(float(np.max(np.abs(res.mh)))) if res.mh.size else arb(0)
        cert = _from_bounds(Q, mu, res.nu, res.resid, prec)
        if _DEGRADE is None and not cert.eps <= scale * arb(2) ** -FAST_MIN_BITS:
            return None
    return cert


def _accurate_bits(cert: CertifiedEig) -> int:
    """Bits to which a decomposition is known accurate, from its proven eps (for restarts)."""
    if cert.bits:
        return cert.bits
    return cert.prec


def arb_certified_eig(
    H: ArbMatrix,
    prec: int,
    *,
    start: Callable[[], NDArray[np.float64]],
    decompositions: MutableMapping[int, CertifiedEig],
) -> CertifiedEig:
    """The Arb engine alone: refine in Arb midpoint arithmetic and prove in ball arithmetic.

    Starts from the best decomposition in ``decompositions`` below ``prec`` (else from
    ``start()``); does not store its result. Same guarantee as :func:`certified_eig`.
    """
    from flint import arb_mat, ctx

    prec = max(prec, MIN_EIG_PREC)
    with ctx.workprec(prec):
        Hb = H(prec)
        # start from the best lower-precision refinement, else float64
        lower = [p for p in decompositions if p < prec]
        if lower:
            base = decompositions[max(lower)]
            Q = base.Q
            bits = min(max(lower), _accurate_bits(base))
        else:
            Q = arb_mat(start().tolist())
            bits = 52
        Hm = Hb.mid()
        mu: list[Any] = []
        while True:
            # A float64 update gains ~52 bits (vectorized, cheap); an exact update doubles the
            # bits (quadratic convergence) but costs an O(d^2) loop of Arb operations.
            exact = bits > 52 and bits + 52 < prec
            Q, mu = _refine(Hm, Q, prec + 16, exact_update=exact)
            bits = 2 * bits if exact else bits + 52
            if bits >= prec - 8:
                break
        # Rayleigh-quotient eigenvalue estimates (exact midpoints), kept in Q's column order
        mu = [m.mid() for m in mu]
        if _DEGRADE is not None:
            Q, mu = _DEGRADE(Q, mu, prec)
        return _prove(Hb, Q, mu, prec)


def _prove(H: Any, Q: Any, mu: list[Any], prec: int) -> CertifiedEig:
    """Bound nu, eps, kappa for the exact data (Q, mu) against the enclosure ``H`` of the matrix."""
    from flint import arb, arb_mat

    d = Q.nrows()
    order = sorted(range(d), key=lambda i: mu[i])
    QT = Q.transpose()
    N = QT * Q - arb_mat(np.eye(d).tolist())
    nu = frobenius_upper(N)
    if not nu < arb(1) / 2:
        raise NotCertifiedError(
            f"refined eigenvectors not orthogonal enough (nu={nu.str(5)})",
            prec_bits=prec,
            achieved_rel=float("inf"),
        )
    qinv = (1 / (1 - nu).sqrt()).abs_upper()
    eps = (_residual_frobenius(H * Q, Q, mu) * qinv).abs_upper()
    kappa = ((1 + nu).sqrt() * qinv).abs_upper()
    return CertifiedEig(Q, QT, mu, order, nu, eps, kappa, qinv, prec)


def _from_bounds(Q: Any, mu: list[Any], nu: Any, resid: Any, prec: int) -> CertifiedEig:
    """CertifiedEig from proven nu >= ||Q^T Q - I||_F and resid >= ||H Q - Q diag(mu)||_F
    (the float64 engine's bounds); same algebra as :func:`_prove`."""
    from flint import arb

    if not nu < arb(1) / 2:
        raise NotCertifiedError(
            f"refined eigenvectors not orthogonal enough (nu={nu.str(5)})",
            prec_bits=prec,
            achieved_rel=float("inf"),
        )
    d = Q.nrows()
    order = sorted(range(d), key=lambda i: mu[i])
    qinv = (1 / (1 - nu).sqrt()).abs_upper()
    eps = (resid * qinv).abs_upper()
    kappa = ((1 + nu).sqrt() * qinv).abs_upper()
    scale = max((abs(m) for m in mu), key=lambda z: z.mid()) if mu else arb(0)
    bits = 0
    if eps > 0 and scale > 0:
        bits = max(0, int(-float((eps / scale).log()) / np.log(2)) - 4)
    return CertifiedEig(Q, Q.transpose(), mu, order, nu, eps, kappa, qinv, prec, bits)


def _residual_frobenius(HQ: Any, Q: Any, mu: list[Any]) -> Any:
    """Proven upper bound of ||H Q - Q diag(mu)||_F (column scaling without a matrix product)."""
    from flint import arb

    total = arb(0)
    for hq_row, q_row in zip(HQ.tolist(), Q.tolist(), strict=True):
        for x, q, m in zip(hq_row, q_row, mu, strict=True):
            u = (x - q * m).abs_upper()
            total += u * u
    return total.sqrt().abs_upper()


def spectral_constants(
    H: ArbMatrix,
    w0: NDArray[np.float64],
    eig: Callable[[int], CertifiedEig],
    *,
    prec: int = MIN_EIG_PREC,
) -> dict[str, Enclosure]:
    """Certified L = lambda_max(H), alpha = lambda_min(H), |c_1|, |c_d| and c_min (§2.3).

    Parameters
    ----------
    H : callable
        Arb builder of the exact symmetric matrix (:data:`ArbMatrix`).
    w0 : ndarray, shape (d,)
        The exact vector projected on the extreme eigenvectors (GD's start point).
    eig : callable
        ``eig(prec)`` is the certified eigendecomposition of ``H`` at working precision
        ``prec`` or higher (:func:`certified_eig` bound to ``H`` and its decompositions).
    prec : int
        Working precision in bits; an enclosure recomputes itself at a higher one when
        rounding needs it.

    Guarantee
    ---------
    Enclosures are proven. Eigenvalues: Bauer--Fike with the bounds of
    :func:`certified_eig`. c_min: |<w0, u>| for the extreme eigenvalues, where u is the exact
    unit eigenvector; its enclosure uses the Davis--Kahan sin-theta bound
    ||sin theta|| <= ||r|| / gap with r the residual of the computed pair and gap the certified
    distance to the rest of the spectrum. When an extreme eigenvalue is not certified simple
    (gap not positive) the corresponding ``"c_1"``/``"c_d"`` and ``"c_min"`` are absent.
    The enclosures of ``c_1``, ``c_d`` (|<w0, u_1>|, |<w0, u_d>|) may extend below 0 by the
    radius; the exact values are nonnegative.
    """
    from flint import arb, arb_mat, ctx

    cert = eig(prec)
    d = len(w0)
    with ctx.workprec(prec):
        pert = cert.kappa * cert.eps
        srt = [cert.mu[i] for i in cert.order]
        alpha = srt[0] + arb(0, pert.abs_upper())
        L = srt[-1] + arb(0, pert.abs_upper())
        w0a = arb_mat([[float(x)] for x in w0])
        w0n = frobenius_upper(w0a)
        Hb = H(prec)
        cs: list[Any] = []
        for pos in (d - 1, 0):
            col = cert.order[pos]
            mu = srt[pos]
            q = arb_mat([[cert.Q[i, col]] for i in range(d)])
            nq = (q.transpose() * q)[0, 0].sqrt()
            rn = frobenius_upper(Hb * q - q * mu) / nq
            # distance from mu to the rest of the spectrum of H: the neighbouring Ritz value
            # moves by at most pert (Bauer--Fike, disjoint disks), and so may the target
            if d == 1:
                gap = arb("inf")
            elif pos == d - 1:
                gap = mu - srt[pos - 1] - 2 * pert
            else:
                gap = srt[pos + 1] - mu - 2 * pert
            if not gap > 0:
                break  # extreme eigenvalue not certified simple: c_min undefined
            sin_bound = (rn / gap).abs_upper() if d > 1 else arb(0)
            proj = (q.transpose() * w0a)[0, 0] / nq
            # |<w0,u>| - |<w0,q/||q||>| <= ||w0|| ||u -+ q/||q|||| <= 2 sin(theta) ||w0||
            cs.append(abs(proj) + arb(0, (2 * sin_bound * w0n).abs_upper()))

        def again(key: str) -> Callable[[int], Enclosure]:
            # recompute at a higher precision when rounding needs it (Enclosure.to_float)
            return lambda p: spectral_constants(H, w0, eig, prec=max(p, 2 * prec))[key]

        out = {
            "L": Enclosure.from_arb(L, prec, again("L")),
            "alpha": Enclosure.from_arb(alpha, prec, again("alpha")),
        }
        if cs:
            out["c_1"] = Enclosure.from_arb(cs[0], prec, again("c_1"))
        if len(cs) == 2:
            out["c_d"] = Enclosure.from_arb(cs[1], prec, again("c_d"))
            out["c_min"] = Enclosure.from_arb(cs[0].min(cs[1]), prec, again("c_min"))
    return out
