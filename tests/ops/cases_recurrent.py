"""Gradient-check cases for the embedding lookup."""

import numpy as np
from op_cases import randn

from chainrule.ops.recurrent import embedding_lookup

CASES = {
    "embedding_lookup": [
        (lambda t: embedding_lookup(t, np.array([0, 2, 2, 4])), (randn(5, 3),)),
        (lambda t: embedding_lookup(t, np.array([[1, 0, 1], [3, 3, 3]])), (randn(4, 2),)),
        (lambda t: embedding_lookup(t, np.array(1)), (randn(2, 6),)),
    ],
}
