"""Gradient-check cases for the primitives behind keras.ops.numpy: trigonometric and hyperbolic
functions, the accurate logarithms and exponentials, products and cumulative reductions, padding
and einsum."""

import numpy as np
from op_cases import away_from_zero, positive, randn, rng

from chainrule import ops


def _unary(fn, make=randn):
    return [(fn, (make(*shape),)) for shape in ((5,), (3, 4), (2, 3, 2), ())]


def _inside(*shape):
    """Values in (-0.8, 0.8): inside the domains of arcsin, arccos and arctanh."""
    return rng.uniform(-0.8, 0.8, shape)


def _above_one(*shape):
    return rng.uniform(1.2, 3.0, shape)


CASES = {
    "sin": _unary(ops.sin),
    "cos": _unary(ops.cos),
    "tan": _unary(ops.tan, make=_inside),
    "arcsin": _unary(ops.arcsin, make=_inside),
    "arccos": _unary(ops.arccos, make=_inside),
    "arctan": _unary(ops.arctan),
    "arctan2": [
        (ops.arctan2, (randn(3, 4), away_from_zero(3, 4))),
        (ops.arctan2, (away_from_zero(2, 1, 4), randn(3, 1))),
        (ops.arctan2, (randn(), away_from_zero(3))),
    ],
    "sinh": _unary(ops.sinh),
    "cosh": _unary(ops.cosh),
    "arcsinh": _unary(ops.arcsinh),
    "arccosh": _unary(ops.arccosh, make=_above_one),
    "arctanh": _unary(ops.arctanh, make=_inside),
    "log1p": _unary(ops.log1p, make=positive) + [(ops.log1p, (np.array([-0.5, 1e-6, 3.0]),))],
    "expm1": _unary(ops.expm1) + [(ops.expm1, (np.array([1e-7, -1e-5]),))],
    "cbrt": _unary(ops.cbrt, make=away_from_zero),
    "prod": [
        (ops.prod, (randn(5),)),
        (lambda a: ops.prod(a, axis=1), (randn(2, 3, 4),)),
        (lambda a: ops.prod(a, axis=(0, 2), keepdims=True), (randn(2, 3, 4),)),
        # zeros: one zero in a group gets the product of the others; two zeros give 0 gradients
        (lambda a: ops.prod(a, axis=1), (np.array([[1.5, 0.0, 2.0], [0.0, 0.0, 3.0]]),)),
    ],
    "cumsum": [
        (lambda a: ops.cumsum(a, axis=0), (randn(5),)),
        (lambda a: ops.cumsum(a, axis=1), (randn(3, 4),)),
        (lambda a: ops.cumsum(a, axis=-1), (randn(2, 3, 2),)),
    ],
    "cumprod": [
        (lambda a: ops.cumprod(a, axis=0), (away_from_zero(5),)),
        (lambda a: ops.cumprod(a, axis=1), (away_from_zero(3, 4),)),
    ],
    "pad": [
        (lambda a: ops.pad(a, pad_width=((1, 2),)), (randn(3),)),
        (lambda a: ops.pad(a, pad_width=((0, 1), (2, 0)), constant_values=3.0), (randn(2, 3),)),
    ],
    "einsum": [
        (lambda a, b: ops.einsum("ij,jk->ik", a, b), (randn(3, 4), randn(4, 2))),
        (lambda a: ops.einsum("ii->i", a), (randn(3, 3),)),
        (lambda a: ops.einsum("ii", a), (randn(3, 3),)),
        (lambda a, b: ops.einsum("...ij,jk", a, b), (randn(2, 3, 4), randn(4, 2))),
        (lambda a, b: ops.einsum("ij,kl->i", a, b), (randn(2, 3), randn(4, 2))),
        (lambda a, b, c: ops.einsum("bi,bj,j->bi", a, b, c), (randn(2, 3), randn(2, 4), randn(4))),
        # attention's scores and weighted sum: batch letters not adjacent in the operands
        (lambda k, q: ops.einsum("aecd,abcd->acbe", k, q), (randn(2, 4, 3, 2), randn(2, 5, 3, 2))),
        (lambda w, v: ops.einsum("acbe,aecd->abcd", w, v), (randn(2, 3, 5, 4), randn(2, 4, 3, 2))),
        (lambda a, b: ops.einsum("ab,cd->dcba", a, b), (randn(2, 3), randn(4, 2))),
        (
            lambda a, b: ops.tensordot(a, b, axes=([0, 2], [2, 0])),
            (randn(2, 3, 4), randn(4, 5, 2)),
        ),
    ],
}
