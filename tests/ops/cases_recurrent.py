"""Gradient-check cases for the embedding lookup and the fused recurrences.

Each recurrence's output (every step's states, and the gates SimpleRNN and GRU return) is weighed by a fixed random array, so
that every entry of it sends a gradient back; the cases cover masks (a masked step carries the
previous states), go_backwards, GRU's two layouts, no bias, one sequence of a single step, and
one longer than two blocks of the LSTM's backward sweep.
"""

import numpy as np
from op_cases import randn

from chainrule.ops.recurrent import (
    embedding_lookup,
    gru_sequence,
    lstm_sequence,
    simple_rnn_sequence,
)

# (batch, steps, features, units, mask); 37 steps cross the blocks of LSTM's backward sweep
_STEPS = np.arange(37)
_SHAPES = [
    (2, 4, 3, 2, np.array([[1, 0, 1, 1], [1, 1, 0, 0]], bool)),
    (3, 3, 2, 3, None),
    (1, 1, 2, 2, None),
    (2, 37, 2, 2, np.stack([_STEPS % 5 != 3, _STEPS < 30])),
]


def _weighed(recurrence, width, **params):
    """Σ y · w for a fixed random w of y's shape (steps, batch, width · units)."""

    def loss(batch, steps, units, mask):
        weights = randn(steps, batch, width * units)
        return lambda *inputs: (recurrence(*inputs, mask, **params) * weights).sum()

    return loss


def _cases(recurrence, width, gates, bias_shape, states, **params):
    cases = []
    for go_backwards in (False, True):
        loss = _weighed(recurrence, width, go_backwards=go_backwards, **params)
        for batch, steps, features, units, mask in _SHAPES:
            inputs = (
                randn(batch, steps, features),
                randn(features, gates * units),
                randn(units, gates * units),
                randn(*bias_shape(units)),
            ) + tuple(randn(batch, units) for _ in range(states))
            cases.append((loss(batch, steps, units, mask), inputs))
    return cases


def _without_bias(recurrence, width, gates, states):
    def loss(x, kernel, recurrent_kernel, *initial):
        y = recurrence(x, kernel, recurrent_kernel, None, *initial)
        return (y * weights).sum()

    batch, steps, features, units = 2, 3, 2, 2
    weights = randn(steps, batch, width * units)
    inputs = (randn(batch, steps, features), randn(features, gates * units))
    inputs += (randn(units, gates * units),) + tuple(randn(batch, units) for _ in range(states))
    return (loss, inputs)


CASES = {
    "embedding_lookup": [
        (lambda t: embedding_lookup(t, np.array([0, 2, 2, 4])), (randn(5, 3),)),
        (lambda t: embedding_lookup(t, np.array([[1, 0, 1], [3, 3, 3]])), (randn(4, 2),)),
        (lambda t: embedding_lookup(t, np.array(1)), (randn(2, 6),)),
    ],
    "simple_rnn_sequence": _cases(simple_rnn_sequence, 2, 1, lambda n: (n,), 1)
    + [_without_bias(simple_rnn_sequence, 2, 1, 1)],
    "lstm_sequence": _cases(lstm_sequence, 2, 4, lambda n: (4 * n,), 2)
    + [_without_bias(lstm_sequence, 2, 4, 2)],
    "gru_sequence": _cases(gru_sequence, 5, 3, lambda n: (2, 3 * n), 1)
    + _cases(gru_sequence, 4, 3, lambda n: (3 * n,), 1, reset_after=False)
    + [_without_bias(gru_sequence, 5, 3, 1)],
}
