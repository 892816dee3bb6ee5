"""Gradient-check cases for the linear-algebra, Fourier, segment and custom-gradient primitives.

Decompositions are checked on inputs that keep them smooth: symmetric matrices (a + aᵀ) / 2 for
eigh, a aᵀ + 3 I for cholesky, random matrices (distinct singular values with probability one)
for svd and qr. Integer segment ids ride along as labels.
"""

import numpy as np
from op_cases import positive, randn

from chainrule import ops
from chainrule.ops import custom_vjp


def _sym(a):
    return (a + a.mT) * 0.5


def _spd(a):
    return a @ a.mT + 3.0 * np.eye(a.shape[-1])


def _well_conditioned(*shape):
    return randn(*shape) + 3.0 * np.eye(shape[-1])


IDS = np.array([0, 2, 0, 1, 2, 2, 7])  # row 6 falls outside three segments and is dropped


def _custom_square(a):
    """a² with its gradient written by hand, 2 a g, through the custom-VJP primitive."""
    return custom_vjp(a, value=a.data**2, grad_fn=lambda g: 2 * a.data * g)


CASES = {
    "det": [
        (ops.det, (randn(3, 3),)),
        (ops.det, (randn(2, 4, 4),)),
        (ops.det, (randn(1, 1),)),
    ],
    "logabsdet": [
        (ops.logabsdet, (randn(3, 3),)),
        (ops.logabsdet, (randn(2, 2, 2),)),
    ],
    "inv": [
        (ops.inv, (_well_conditioned(3, 3),)),
        (ops.inv, (_well_conditioned(2, 4, 4),)),
    ],
    "solve": [
        (ops.solve, (_well_conditioned(3, 3), randn(3, 2))),
        (ops.solve, (_well_conditioned(3, 3), randn(3))),
        (ops.solve, (_well_conditioned(2, 3, 3), randn(2, 3, 4))),
    ],
    "solve_triangular": [
        (
            lambda a, b: ops.solve_triangular(a, b, lower=True),
            (_well_conditioned(3, 3), randn(3, 2)),
        ),
        (lambda a, b: ops.solve_triangular(a, b), (_well_conditioned(4, 4), randn(4))),
        (
            lambda a, b: ops.solve_triangular(a, b, lower=True),
            (_well_conditioned(2, 3, 3), randn(2, 3, 1)),
        ),
    ],
    "lstsq": [
        (ops.lstsq, (randn(5, 3), randn(5, 2))),
        (ops.lstsq, (randn(4, 2), randn(4))),
        (ops.lstsq, (randn(3, 3), randn(3, 1))),
    ],
    "cholesky": [
        (lambda a: ops.cholesky(_spd(a)), (randn(3, 3),)),
        (lambda a: ops.cholesky(_spd(a), upper=True), (randn(2, 4, 4),)),
    ],
    "eigh": [
        (lambda a: ops.eigh(_sym(a)), (randn(3, 3),)),
        (lambda a: ops.eigh(_sym(a), output="vectors"), (randn(3, 3),)),
        (lambda a: ops.eigh(_sym(a), output="vectors"), (randn(2, 4, 4),)),
    ],
    "svd": [
        (lambda a: ops.svd(a, output=part), (randn(*shape),))
        for part in ("s", "u", "vh")
        for shape in ((4, 3), (3, 4), (3, 3), (2, 3, 2))
    ]
    + [(lambda a: ops.svd(a, output="u", full_matrices=True), (randn(3, 3),))],
    "qr": [
        (lambda a: ops.qr(a, output=part), (randn(*shape),))
        for part in ("q", "r")
        for shape in ((4, 3), (3, 3), (2, 5, 2))
    ],
    "fft": [
        (lambda a, b: ops.fft(a, b), (randn(6), randn(6))),
        (lambda a, b: ops.fft(a, b, axes=(-2, -1)), (randn(2, 3, 4), randn(2, 3, 4))),
        (lambda a, b: ops.fft(a, b, inverse=True), (randn(3, 5), randn(3, 5))),
        (lambda a, b: ops.fft(a, b, axes=(-2, -1), inverse=True), (randn(4, 3), randn(4, 3))),
    ],
    "rfft": [
        (ops.rfft, (randn(8),)),
        (ops.rfft, (randn(2, 7),)),
        (ops.rfft, (randn(2, 3, 1),)),
    ],
    "irfft": [
        (lambda a, b: ops.irfft(a, b, n=8), (randn(5), randn(5))),
        (lambda a, b: ops.irfft(a, b, n=7), (randn(2, 4), randn(2, 4))),
    ],
    "segment_reduce": [
        (lambda d, i: ops.segment_reduce(d, i, num_segments=3, kind="sum"), (randn(7, 2), IDS)),
        (lambda d, i: ops.segment_reduce(d, i, num_segments=4, kind="sum"), (randn(7), IDS)),
        (lambda d, i: ops.segment_reduce(d, i, num_segments=3, kind="prod"), (positive(7, 2), IDS)),
        (lambda d, i: ops.segment_reduce(d, i, num_segments=3, kind="max"), (randn(7, 3), IDS)),
        (lambda d, i: ops.segment_reduce(d, i, num_segments=3, kind="min"), (randn(7), IDS)),
    ],
    "custom_vjp": [
        (_custom_square, (randn(3, 2),)),
        (
            lambda a, b: custom_vjp(
                a, b, value=a.data * b.data, grad_fn=lambda g: (g * b.data, g * a.data)
            ),
            (randn(3), randn(3)),
        ),
    ],
}
