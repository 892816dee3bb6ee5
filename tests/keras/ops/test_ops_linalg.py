"""keras.ops.linalg: closed forms, Keras 3's docstring examples, and float64 gradient checks of
every differentiable function through its keras facade."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.keras import ops

la = ops.linalg
rng = np.random.default_rng(1)


def _np(t):
    return t.numpy() if isinstance(t, cr.Tensor) else np.asarray(t)


def _spd(n, batch=()):
    a = rng.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def test_det_of_a_triangular_matrix_is_the_product_of_its_diagonal():
    tri = np.triu(rng.standard_normal((4, 4)))
    assert la.det(tri).item() == pytest.approx(np.prod(np.diag(tri)))
    assert la.det(np.eye(3, dtype="float32")).dtype == np.float32
    assert la.det(np.array([[1, 2], [3, 4]])).item() == pytest.approx(-2.0)


def test_inv_and_solve_give_the_identity():
    a = rng.standard_normal((2, 4, 4)) + 4 * np.eye(4)
    np.testing.assert_allclose(_np(la.inv(a)) @ a, np.broadcast_to(np.eye(4), a.shape), atol=1e-12)
    b = rng.standard_normal((2, 4, 3))
    np.testing.assert_allclose(a @ _np(la.solve(a, b)), b, atol=1e-12)
    lower = np.tril(a[0])
    x = _np(la.solve_triangular(a[0], b[0], lower=True))  # reads only the lower triangle
    np.testing.assert_allclose(lower @ x, b[0], atol=1e-12)


def test_cholesky_factors_and_its_inverse():
    a = _spd(4)
    low = _np(la.cholesky(a))
    np.testing.assert_allclose(low @ low.T, a, atol=1e-12)
    assert np.allclose(low, np.tril(low))
    up = _np(la.cholesky(a, upper=True))
    np.testing.assert_allclose(up, low.T)
    np.testing.assert_allclose(_np(la.cholesky_inverse(low)), np.linalg.inv(a), atol=1e-12)
    np.testing.assert_allclose(
        _np(la.cholesky_inverse(up, upper=True)), np.linalg.inv(a), atol=1e-12
    )
    with pytest.raises(ValueError, match="cholesky: the matrix is not positive definite"):
        la.cholesky(-np.eye(2))


def test_eigh_eig_svd_qr_reconstruct():
    a = _spd(3)
    w, v = la.eigh(a)
    np.testing.assert_allclose(_np(v) @ np.diag(_np(w)) @ _np(v).T, a, atol=1e-12)
    assert np.all(np.diff(_np(w)) > 0)
    w, v = la.eig(np.diag([3.0, 1.0, 2.0]))
    assert sorted(_np(w).tolist()) == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="eig: the matrix has complex eigenvalues"):
        la.eig(np.array([[0.0, -1.0], [1.0, 0.0]]))
    m = rng.standard_normal((5, 3))
    u, s, vh = la.svd(m)
    assert u.shape == (5, 5) and s.shape == (3,) and vh.shape == (3, 3)  # full_matrices default
    u, s, vh = la.svd(m, full_matrices=False)
    np.testing.assert_allclose(_np(u) * _np(s) @ _np(vh), m, atol=1e-12)
    np.testing.assert_allclose(_np(la.svd(m, compute_uv=False)), np.linalg.svd(m)[1])
    q, r = la.qr(m)
    np.testing.assert_allclose(_np(q) @ _np(r), m, atol=1e-12)
    assert q.shape == (5, 3) and np.allclose(_np(r), np.triu(_np(r)))
    q, r = la.qr(m, mode="complete")
    assert q.shape == (5, 5) and r.shape == (5, 3)


def test_qr_docstring_example():
    q, _ = la.qr(np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], "float32"))
    np.testing.assert_allclose(
        np.abs(_np(q)),
        np.abs([[-0.16903079, 0.897085], [-0.5070925, 0.2760267], [-0.8451542, -0.34503305]]),
        atol=1e-5,
    )


def test_lu_factor_reconstructs_with_its_pivots():
    a = rng.standard_normal((2, 4, 4))
    lu, piv = la.lu_factor(a)
    assert piv.dtype == np.int32
    for k in range(2):
        packed, rows = _np(lu)[k], _np(piv)[k]
        low, up = np.tril(packed, -1) + np.eye(4), np.triu(packed)
        permuted = a[k].copy()
        for i, p in enumerate(rows):  # LAPACK's sequential row swaps
            permuted[[i, p]] = permuted[[p, i]]
        np.testing.assert_allclose(low @ up, permuted, atol=1e-12)
        assert np.all(np.abs(np.tril(packed, -1)) <= 1 + 1e-12)  # partial pivoting


def test_rank_pinv_lstsq():
    assert la.matrix_rank(np.array([[1.0, 2.0], [2.0, 4.0]])).item() == 1  # Keras's docstring
    assert la.matrix_rank(np.eye(3)).dtype == np.int32
    a = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], "float32")
    np.testing.assert_allclose(_np(la.pinv(a)) @ a, np.eye(2), atol=1e-5)  # Keras's docstring
    b = rng.standard_normal(3)
    np.testing.assert_allclose(_np(la.lstsq(a, b)), np.linalg.lstsq(a, b, rcond=None)[0], rtol=1e-5)


@pytest.mark.parametrize(
    "ord, axis",
    [
        (None, None),
        (None, 1),
        (2, 0),
        (1, -1),
        (np.inf, 1),
        (-np.inf, 1),
        (0, 1),
        (3, 0),
        (0.5, 1),
        ("fro", (0, 1)),
        ("nuc", (0, 1)),
        (1, (0, 1)),
        (-1, (0, 1)),
        (np.inf, (0, 1)),
        (-np.inf, (1, 0)),
        (2, (0, 1)),
        (-2, (0, 1)),
    ],
)
def test_norm_matches_the_definitions(ord, axis):
    x = rng.standard_normal((3, 4))
    x[0, 0] = 0.0
    expected = np.linalg.norm(x, ord=ord, axis=axis)
    np.testing.assert_allclose(_np(la.norm(x, ord=ord, axis=axis)), expected, rtol=1e-12)
    kept = la.norm(x, ord=ord, axis=axis, keepdims=True)
    assert kept.shape == np.linalg.norm(x, ord=ord, axis=axis, keepdims=True).shape


def test_norm_docstring_batched_matrices_and_errors():
    x = (np.arange(9, dtype="float32") - 4).reshape(3, 3)
    assert la.norm(x).item() == pytest.approx(7.7459664)
    assert la.norm(np.arange(4)).dtype == np.float32
    batch = rng.standard_normal((2, 3, 3))
    np.testing.assert_allclose(
        _np(la.norm(batch, ord=2, axis=(1, 2))), np.linalg.norm(batch, 2, axis=(1, 2))
    )
    with pytest.raises(ValueError, match="norm: ord='nuc' is a matrix norm"):
        la.norm(np.ones(3), ord="nuc", axis=0)
    with pytest.raises(ValueError, match="norm: ord=3 is not a matrix norm"):
        la.norm(np.ones((2, 2)), ord=3, axis=(0, 1))


def test_linalg_errors_name_the_op_and_shapes():
    with pytest.raises(ValueError, match=r"inv: expects square matrices.*\(2, 3\)"):
        la.inv(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"solve: a has shape \(3, 3\) and b has shape \(2,\)"):
        la.solve(np.eye(3), np.ones(2))


def test_gradients_through_the_facades():
    a = rng.standard_normal((3, 3)) + 3 * np.eye(3)
    b = rng.standard_normal((3, 2))
    cr.gradcheck(la.det, a)
    cr.gradcheck(la.inv, a)
    cr.gradcheck(la.solve, a, b)
    cr.gradcheck(lambda a, b: la.solve_triangular(a, b, lower=True), a, b)
    cr.gradcheck(lambda m: la.cholesky(m @ m.mT + 3 * cr.Tensor(np.eye(3), dtype="float64")), a)
    cr.gradcheck(lambda m: la.eigh((m + m.mT) * 0.5)[1], rng.standard_normal((3, 3)))
    cr.gradcheck(lambda m: la.svd(m, full_matrices=False)[0], rng.standard_normal((4, 3)))
    cr.gradcheck(lambda m: la.svd(m, compute_uv=False), rng.standard_normal((3, 4)))
    cr.gradcheck(lambda m: la.qr(m)[1], rng.standard_normal((4, 3)))
    cr.gradcheck(la.lstsq, rng.standard_normal((5, 3)), rng.standard_normal((5, 2)))
    cr.gradcheck(
        lambda m: la.cholesky_inverse(
            la.cholesky(m @ m.mT + 3 * cr.Tensor(np.eye(3), dtype="float64"))
        ),
        a,
    )
    for ord, axis in [(None, None), (3, 1), (np.inf, 0), ("nuc", (0, 1)), (2, (0, 1)), (1, (0, 1))]:
        cr.gradcheck(
            lambda m, o=ord, ax=axis: la.norm(m, ord=o, axis=ax), rng.standard_normal((3, 4))
        )


def test_jvp_docstring_and_closed_forms():
    primals, tangents = la.jvp(lambda x: cr.tanh(x), (np.array(0.1),), (np.array(0.2),))
    assert primals.item() == pytest.approx(math.tanh(0.1))
    assert tangents.item() == pytest.approx(0.2 * (1 - math.tanh(0.1) ** 2))
    a = rng.standard_normal((3, 3))
    _, t = la.jvp(la.det, (a,), (np.eye(3),))  # d det(a)[I] = det(a) tr(a⁻¹)
    assert t.item() == pytest.approx(np.linalg.det(a) * np.trace(np.linalg.inv(a)))
    b = rng.standard_normal((3, 3))
    out, t, aux = la.jvp(
        lambda x, y: (x @ y, "aux"), (a, b), (np.eye(3), np.zeros((3, 3))), has_aux=True
    )
    np.testing.assert_allclose(_np(t), b)
    assert aux == "aux"
    np.testing.assert_allclose(_np(out), a @ b)
    with pytest.raises(ValueError, match="jvp: needs one tangent per primal"):
        la.jvp(la.det, (a,), ())


def _spd_of(m):
    return m @ m.mT + 3 * cr.Tensor(np.eye(m.shape[-1]), dtype="float64")


@pytest.mark.parametrize(
    "fn",
    [
        lambda a: la.cholesky(_spd_of(a)),
        lambda a: la.eigh((a + a.mT) * 0.5)[1],
        lambda a: la.svd(a, full_matrices=False)[2],
        lambda a: la.qr(a)[0],
        lambda a: la.solve(a + 3 * cr.Tensor(np.eye(3), dtype="float64"), a),
        lambda a: la.norm(a, ord="nuc"),
    ],
    ids=["cholesky", "eigh", "svd", "qr", "solve", "nuclear norm"],
)
def test_jvp_through_decompositions_matches_finite_differences(fn):
    # jvp differentiates the recorded VJPs again, so this checks them under create_graph too
    a, t, eps = rng.standard_normal((3, 3)), rng.standard_normal((3, 3)), 1e-6
    _, tangent = la.jvp(fn, (a,), (t,))
    plus = _np(fn(cr.Tensor(a + eps * t, dtype="float64")))
    minus = _np(fn(cr.Tensor(a - eps * t, dtype="float64")))
    np.testing.assert_allclose(_np(tangent), (plus - minus) / (2 * eps), atol=1e-7)
