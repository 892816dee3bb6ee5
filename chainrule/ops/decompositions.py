"""Linear-algebra primitives: determinants, inverses, solves and matrix decompositions.

Every primitive works on the last two axes and batches over the leading ones. A decomposition
with several outputs (eigh, svd, qr) is one primitive with an ``output`` parameter that picks the
factor, so each factor has its own VJP and the engine adds up the contributions of the factors a
loss uses. The VJPs are the textbook ones (Giles 2008, Murray 2016, Townsend 2016, Walter and
Lehmann 2018), written with matmul and the primitives of this module, so that they also run on
Tensors under ``create_graph``. Below, ``Xᵀ`` swaps the last two axes and ``g`` is dL/dy.
"""

from ..backend import xp_of
from ..engine import ShapeError, primitive


def _check_square(name, a):
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ShapeError(
            f"{name}: expects square matrices in the last two axes, shape (..., n, n); got shape "
            f"{a.shape}"
        )


def _check_matrices(name, a):
    if a.ndim < 2:
        raise ShapeError(
            f"{name}: expects matrices in the last two axes, shape (..., m, n); got shape {a.shape}"
        )


def _eye(n, like):
    return xp_of(like).eye(n, dtype=like.dtype)


def _tril_mask(n, like, k=0):
    return xp_of(like).tri(n, n, k, dtype=like.dtype)


def _as_matrix(b):
    """b as a stack of matrices: NumPy's rule, a 1-D right-hand side is one column."""
    return b.reshape(b.shape + (1,)) if b.ndim == 1 else b


def _col(v):
    """(..., n) -> (..., n, 1)."""
    return v.reshape(v.shape + (1,))


def _row(v):
    """(..., n) -> (..., 1, n)."""
    return v.reshape(v.shape[:-1] + (1,) + v.shape[-1:])


# ----- determinants ------------------------------------------------------------------------------


@primitive
def det(a):
    """y = det(a) for a (..., n, n) -> y (...).

    dL/da = g y a⁻ᵀ   (Jacobi's formula, d det = det tr(a⁻¹ da)).
    """
    _check_square("det", a)
    return xp_of(a).linalg.det(a)


@det.defvjp(0)
def _det_vjp(g, y, a):
    return _col(_col(g * y)) * inv(a).mT


@primitive
def logabsdet(a):
    """y = log |det(a)| for a (..., n, n) -> y (...).   dL/da = g a⁻ᵀ."""
    _check_square("logdet", a)
    return xp_of(a).linalg.slogdet(a)[1]


@logabsdet.defvjp(0)
def _logabsdet_vjp(g, y, a):
    return _col(_col(g)) * inv(a).mT


# ----- inverses and solves -----------------------------------------------------------------------


@primitive
def inv(a):
    """y = a⁻¹ for a (..., n, n).   dL/da = -yᵀ g yᵀ."""
    _check_square("inv", a)
    return xp_of(a).linalg.inv(a)


@inv.defvjp(0)
def _inv_vjp(g, y, a):
    return -(y.mT @ g @ y.mT)


def _system(op, a, b):
    """Check the system a x = b of ``op`` (a square, b's rows matching a's columns) and return
    b as a matrix (..., n, k)."""
    _check_square(op, a)
    b2 = _as_matrix(b)
    if b2.shape[-2] != a.shape[-1]:
        raise ShapeError(
            f"{op}: a has shape {a.shape} and b has shape {b.shape}; b's rows (axis -2, or its "
            f"only axis) must number {a.shape[-1]}"
        )
    return b2


@primitive
def solve(a, b):
    """x = a⁻¹ b for a (..., n, n) and b (..., n, k), or b (n,) for one right-hand side.

    dL/db = a⁻ᵀ g,   dL/da = -(dL/db) xᵀ.
    """
    b2 = _system("solve", a, b)
    x = xp_of(a, b).linalg.solve(a, b2)
    return x.reshape(b.shape) if b.ndim == 1 else x


@solve.defvjp(1)
def _solve_vjp_b(g, y, a, b):
    return solve(a.mT, g)


@solve.defvjp(0)
def _solve_vjp_a(g, y, a, b):
    gb = _as_matrix(solve(a.mT, g))
    return -(gb @ _as_matrix(y).mT)


def _triangular_solve(a, b, lower):
    """Back or forward substitution for a triangular (..., n, n) and b (..., n, k), by rows."""
    xp = xp_of(a, b)
    n = a.shape[-1]
    a, b = xp.broadcast_arrays(a[..., None], b[..., None, :, :])
    a, b = a[..., 0], b[..., 0, :, :]
    x = xp.zeros(b.shape, dtype=xp.result_type(a, b))
    rows = range(n) if lower else range(n - 1, -1, -1)
    for i in rows:
        known = (a[..., i : i + 1, :] @ x)[..., 0, :]
        x[..., i, :] = (b[..., i, :] - known) / a[..., i, i : i + 1]
    return x


@primitive
def solve_triangular(a, b, lower=False):
    """x = a⁻¹ b for a triangular a (..., n, n) (only its ``lower`` or upper triangle is read)
    and b (..., n, k) or (n,).

    dL/db = a⁻ᵀ g (the transposed system, triangular the other way),
    dL/da = -(dL/db) xᵀ restricted to a's triangle.
    """
    b2 = _system("solve_triangular", a, b)
    mask = _tril_mask(a.shape[-1], a)
    triangle = a * (mask if lower else mask.T)
    x = _triangular_solve(triangle, b2, lower)
    return x.reshape(b.shape) if b.ndim == 1 else x


@solve_triangular.defvjp(1)
def _solve_triangular_vjp_b(g, y, a, b, lower=False):
    return solve_triangular(a.mT, g, lower=not lower)


@solve_triangular.defvjp(0)
def _solve_triangular_vjp_a(g, y, a, b, lower=False):
    gb = _as_matrix(solve_triangular(a.mT, g, lower=not lower))
    mask = _tril_mask(a.shape[-1], a)
    return -(gb @ _as_matrix(y).mT) * (mask if lower else mask.T)


@primitive
def lstsq(a, b, rcond=None):
    """x minimising |a x - b|² for a (m, n) and b (m, k) or (m,) (NumPy's ``lstsq``).

    For a of full column rank, x = (aᵀa)⁻¹ aᵀ b; with z = (aᵀa)⁻¹ g and r = b - a x:
    dL/db = a z,   dL/da = r zᵀ - a z xᵀ.
    """
    _check_matrices("lstsq", a)
    if a.ndim != 2 or b.ndim not in (1, 2) or b.shape[0] != a.shape[0]:
        raise ShapeError(
            f"lstsq: expects a of shape (m, n) and b of shape (m,) or (m, k); got {a.shape} and "
            f"{b.shape}"
        )
    return xp_of(a, b).linalg.lstsq(a, b, rcond=rcond)[0]


@lstsq.defvjp(1)
def _lstsq_vjp_b(g, y, a, b, rcond=None):
    return a @ solve(a.mT @ a, g)


@lstsq.defvjp(0)
def _lstsq_vjp_a(g, y, a, b, rcond=None):
    z = _as_matrix(solve(a.mT @ a, g))
    x = _as_matrix(y)
    r = _as_matrix(b) - a @ x
    return r @ z.mT - a @ z @ x.mT


# ----- decompositions ----------------------------------------------------------------------------


def _phi(x):
    """The lower triangle of x with its diagonal halved: Φ of Murray's Cholesky derivative."""
    n = x.shape[-1]
    return x * (_tril_mask(n, x, -1) + 0.5 * _eye(n, x))


@primitive
def cholesky(a, upper=False):
    """L with a = L Lᵀ for a symmetric positive-definite a (..., n, n), L lower triangular
    (or U = Lᵀ with ``upper``).

    dL/da = ½ (S + Sᵀ),   S = L⁻ᵀ Φ(Lᵀ ḡ) L⁻¹,   ḡ = g (or gᵀ for ``upper``),
    Φ the lower triangle with the diagonal halved (Murray 2016).
    """
    _check_square("cholesky", a)
    xp = xp_of(a)
    try:
        lower = xp.linalg.cholesky(a)
    except xp.linalg.LinAlgError:
        raise ValueError(
            "cholesky: the matrix is not positive definite; the Cholesky factorisation needs a "
            "symmetric positive-definite input (add a multiple of the identity to regularise)"
        ) from None
    return lower.mT if upper else lower


@cholesky.defvjp(0)
def _cholesky_vjp(g, y, a, upper=False):
    low, g = (y.mT, g.mT) if upper else (y, g)
    p = _phi(low.mT @ g)
    s = solve_triangular(low.mT, solve_triangular(low.mT, p.mT, lower=False).mT, lower=False)
    return 0.5 * (s + s.mT)


@primitive
def eigh(a, output="values"):
    """The eigen-decomposition a = V diag(w) Vᵀ of a symmetric a (..., n, n) (its lower
    triangle is read), w (..., n) ascending: ``output`` "values" gives w, "vectors" V.

    dL/da = V (diag(g_w) + F ∘ (Vᵀ g_V)) Vᵀ, symmetrised, with F_ij = 1/(w_j - w_i) for i ≠ j
    and 0 on the diagonal (the eigenvalues must be distinct for the vectors' gradient).
    """
    _check_square("eigh", a)
    w, v = xp_of(a).linalg.eigh(a)
    return w if output == "values" else v


@eigh.defvjp(0)
def _eigh_vjp(g, y, a, output="values"):
    v = eigh(a, output="vectors")
    if output == "values":
        inner = _row(g) * _eye(a.shape[-1], a)
    else:
        w = eigh(a, output="values")
        gap = _row(w) - _col(w)
        off = 1 - _eye(a.shape[-1], a)
        inner = (v.mT @ g) * off / (gap + (1 - off))
    grad = v @ inner @ v.mT
    return 0.5 * (grad + grad.mT)


@primitive
def svd(a, output="s", full_matrices=False):
    """The singular value decomposition a = U diag(s) Vᵀ of a (..., m, n), k = min(m, n):
    ``output`` "u" gives U (..., m, k), "s" gives s (..., k) descending, "vh" gives Vᵀ (..., k, n)
    (U (..., m, m) and Vᵀ (..., n, n) with ``full_matrices``; their gradient needs m = n).

    With F_ij = 1/(s_j² - s_i²) (i ≠ j, 0 on the diagonal) and S = diag(s) (Townsend 2016):
      from s:   dL/da = U diag(g_s) Vᵀ
      from U:   dL/da = U (F ∘ (Uᵀg_U - g_Uᵀ U)) S Vᵀ + (I - U Uᵀ) g_U S⁻¹ Vᵀ
      from V:   dL/da = U S (F ∘ (Vᵀg_V - g_Vᵀ V)) Vᵀ + U S⁻¹ g_Vᵀ (I - V Vᵀ),   g_V = g_Vhᵀ
    The singular values must be distinct and non-zero for the gradient through U and V.
    """
    _check_matrices("svd", a)
    if output == "s":
        return xp_of(a).linalg.svd(a, compute_uv=False)
    u, s, vh = xp_of(a).linalg.svd(a, full_matrices=full_matrices)
    return u if output == "u" else vh


@svd.defvjp(0)
def _svd_vjp(g, y, a, output="s", full_matrices=False):
    m, n = a.shape[-2:]
    if full_matrices and output != "s" and m != n:
        raise ValueError(
            f"svd: the gradient through U and Vᵀ with full_matrices=True needs a square matrix; "
            f"got shape {a.shape}. Use full_matrices=False."
        )
    u, s, vh = svd(a, output="u"), svd(a, output="s"), svd(a, output="vh")
    if output == "s":
        return (u * _row(g)) @ vh
    k = s.shape[-1]
    off = 1 - _eye(k, a)
    s2 = s * s
    f = off / (_row(s2) - _col(s2) + (1 - off))
    if output == "u":
        j = f * (u.mT @ g - g.mT @ u)
        grad = u @ (j * _row(s)) @ vh
        if m > k:
            grad = grad + (g - u @ (u.mT @ g)) @ (vh / _col(s))
        return grad
    v, gv = vh.mT, g.mT
    j = f * (v.mT @ gv - gv.mT @ v)
    grad = u @ (_col(s) * j) @ vh
    if n > k:
        grad = grad + (u / _row(s)) @ (gv.mT - (gv.mT @ v) @ vh)
    return grad


@primitive
def qr(a, output="q", mode="reduced"):
    """The QR decomposition a = Q R of a (..., m, n): ``output`` "q" gives Q (..., m, k),
    "r" gives R (..., k, n), k = min(m, n) (``mode="complete"``: Q (..., m, m), R (..., m, n)).

    For m >= n (reduced), with M = R g_Rᵀ - g_Qᵀ Q and copyltu(M) the symmetric matrix with M's
    lower triangle (Walter and Lehmann 2018):   dL/da = (g_Q + Q copyltu(M)) R⁻ᵀ.
    """
    _check_matrices("qr", a)
    q, r = xp_of(a).linalg.qr(a, mode=mode)
    return q if output == "q" else r


@qr.defvjp(0)
def _qr_vjp(g, y, a, output="q", mode="reduced"):
    m, n = a.shape[-2:]
    if m < n or (mode == "complete" and m != n):
        raise ValueError(
            f"qr: the gradient is defined for square or tall matrices in reduced mode; got shape "
            f"{a.shape} with mode={mode!r}"
        )
    q, r = qr(a, output="q", mode=mode), qr(a, output="r", mode=mode)
    if output == "q":
        gq, mm = g, -(g.mT @ q)
    else:
        gq, mm = 0, r @ g.mT
    low = mm * _tril_mask(n, r, -1)
    sym = low + low.mT + mm * _eye(n, r)
    lhs = gq + q @ sym
    return solve_triangular(r, lhs.mT, lower=False).mT


# ----- without gradient --------------------------------------------------------------------------


@primitive(differentiable=False)
def pinv(a, rcond=None):
    """y = the Moore-Penrose pseudo-inverse of a (..., m, n) -> (..., n, m), from the SVD with
    singular values below rcond * max(s) dropped (NumPy's default rcond). No gradient."""
    _check_matrices("pinv", a)
    if rcond is None:
        return xp_of(a).linalg.pinv(a)
    return xp_of(a).linalg.pinv(a, rcond=rcond)


@primitive(differentiable=False)
def matrix_rank(a, tol=None):
    """y = the number of singular values of a (..., m, n) above ``tol`` (NumPy's default
    tolerance when None). An integer: no gradient."""
    _check_matrices("matrix_rank", a)
    return xp_of(a).linalg.matrix_rank(a, tol=tol)


@primitive(differentiable=False)
def lu_factor(a, output="lu"):
    """LU decomposition with partial pivoting, P a = L U, of a square (..., n, n), in LAPACK's
    packed form: ``output`` "lu" gives L (unit diagonal, not stored) and U in one matrix,
    "pivots" the row swapped with row i at step i (int32). No gradient."""
    _check_square("lu_factor", a)
    xp = xp_of(a)
    lu = a.astype(xp.result_type(a.dtype, xp.float32), copy=True)
    n = a.shape[-1]
    pivots = xp.zeros(a.shape[:-1], dtype=xp.int32)
    flat = lu.reshape((-1, n, n))
    flat_piv = pivots.reshape((-1, n))
    for k in range(n):
        p = k + xp.argmax(xp.abs(flat[:, k:, k]), axis=1)
        flat_piv[:, k] = p
        rows = xp.arange(flat.shape[0])
        row_k, row_p = flat[rows, k].copy(), flat[rows, p].copy()
        flat[rows, k], flat[rows, p] = row_p, row_k
        pivot = flat[:, k, k : k + 1]
        safe = xp.where(pivot == 0, 1, pivot)
        flat[:, k + 1 :, k] /= safe
        flat[:, k + 1 :, k + 1 :] -= flat[:, k + 1 :, k : k + 1] * flat[:, k : k + 1, k + 1 :]
    return lu if output == "lu" else pivots


@primitive(differentiable=False)
def eig(a, output="values"):
    """The eigenvalues ("values", (..., n)) or eigenvectors ("vectors", (..., n, n)) of a general
    square a, as NumPy's ``eig``; chainrule has no complex dtype, so a matrix with complex
    eigenvalues is an error. No gradient."""
    _check_square("eig", a)
    xp = xp_of(a)
    w, v = xp.linalg.eig(a)
    if xp.iscomplexobj(w):
        if xp.abs(w.imag).max() > 0:
            raise ValueError(
                "eig: the matrix has complex eigenvalues, and chainrule has no complex dtype; "
                "use eigh for symmetric matrices, whose eigenvalues are real"
            )
        w, v = w.real, v.real
    return w if output == "values" else v
