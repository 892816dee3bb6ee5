"""The einsum primitive (on arrays) by its batched-product path against NumPy's einsum, and the
layout of its result."""

import numpy as np
import pytest

from chainrule import ops

# (subscripts, shape of a, shape of b): products with batch letters of both operands, own
# letters of one or several axes, summed letters, outer products and full contractions
PAIRS = [
    ("ij,jk->ik", (3, 4), (4, 5)),
    ("ij,kj->ik", (3, 4), (5, 4)),
    ("bij,bjk->bki", (2, 3, 4), (2, 4, 5)),
    ("abc,cd->abd", (2, 3, 4), (4, 5)),
    ("abcd,cde->abe", (2, 3, 4, 5), (4, 5, 6)),
    ("abcd,de->abce", (2, 3, 4, 5), (5, 6)),
    ("abc,abd->acd", (2, 3, 4), (2, 3, 5)),
    ("abcd,acbe->adbe", (2, 3, 4, 5), (2, 4, 3, 6)),
    ("aecd,abcd->acbe", (2, 5, 3, 4), (2, 6, 3, 4)),  # attention's scores: key, query
    ("acbe,aecd->abcd", (2, 3, 6, 5), (2, 5, 3, 4)),  # attention's weighted sum of the values
    ("ij,kl->i", (2, 3), (4, 2)),
    ("aij,ajk->ik", (2, 3, 4), (2, 4, 5)),
    ("ab,abc->c", (3, 4), (3, 4, 5)),
    ("ab,cd->dcba", (2, 3), (4, 5)),
    ("bi,bi->b", (3, 4), (3, 4)),
    ("i,i->", (3,), (3,)),
    ("i,j->ji", (3,), (4,)),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("subscripts, shape_a, shape_b", PAIRS)
def test_einsum_of_two_operands_is_numpys(subscripts, shape_a, shape_b, dtype):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape_a).astype(dtype)
    b = rng.standard_normal(shape_b).astype(dtype)
    result = ops.einsum(subscripts, a, b)
    expected = np.einsum(subscripts, a, b)
    assert result.shape == expected.shape and result.dtype == expected.dtype
    single = dtype == np.float32  # sums of a few products of normal numbers: float32's rounding
    np.testing.assert_allclose(result, expected, rtol=1e-5 if single else 1e-12, atol=1e-6 * single)


@pytest.mark.parametrize("subscripts", ["aecd,abcd->acbe", "acbe,aecd->abcd"])
def test_attention_products_come_out_in_the_outputs_layout(subscripts):
    """Operands read in place (batch over batch and heads, not adjacent in memory) and the
    product written in the output's own order: C-contiguous, as the next op reads it."""
    _, shape_a, shape_b = next(p for p in PAIRS if p[0] == subscripts)
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    result = ops.einsum(subscripts, a, b)
    assert result.flags.c_contiguous
    np.testing.assert_allclose(result, np.einsum(subscripts, a, b), rtol=1e-12)
