"""Gradient-check cases for sparsemax and the CTC loss."""

import numpy as np
from op_cases import randn

from chainrule import ops

_LABELS = np.array([[1, 2, 2], [3, 1, 0]])  # the second sequence has 2 labels


def _spread(*shape):
    """Values at least 0.1 apart along the last axis, so that no entry sits within a
    finite-difference step of sparsemax's support boundary."""
    rng = np.random.default_rng(3)
    steps = rng.permutation(shape[-1]).astype(float) * 0.37
    return steps + rng.uniform(-0.02, 0.02, shape)


CASES = {
    "sparsemax": [
        (ops.sparsemax, (_spread(6),)),
        (ops.sparsemax, (_spread(3, 5) * 0.3,)),
        (lambda a: ops.sparsemax(a, axis=0), (_spread(2, 4).T.copy(),)),
        (lambda a: ops.sparsemax(a, axis=1), (np.moveaxis(_spread(2, 3, 4), 2, 1).copy(),)),
    ],
    "ctc_loss": [
        (
            lambda z: ops.ctc_loss(z, _LABELS, np.array([3, 2]), np.array([6, 4])),
            (randn(2, 6, 4),),
        ),
        (
            lambda z: ops.ctc_loss(z, _LABELS, np.array([3, 2]), np.array([7, 7]), blank=0) * 2.0,
            (randn(2, 7, 5),),
        ),
        (
            lambda z: ops.ctc_loss(z, _LABELS, np.array([1, 0]), np.array([3, 2]), blank=4),
            (randn(2, 3, 5),),
        ),
    ],
}
