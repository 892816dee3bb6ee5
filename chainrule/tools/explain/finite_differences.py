"""The check: central finite differences on a sample of entries, and the comparison of the three
ways by their max relative error.

For a loss L and an array v it depends on, entry i of dL/dv is approximated by

    (L(v + h e_i) - L(v - h e_i)) / 2h

and :class:`Checker` builds each :class:`~.report.Gradient`: the textbook against the engine, and
these differences against the engine, on the sampled entries.
"""

import numpy as np

from ...engine import Tensor
from .report import Gradient


def local_differences(activation, z, shape, sample, step, kinked):
    """Central differences of a = f(z) at the sampled flat indices of da/dz of ``shape``:
    (n, k) entries da_ip/dz_ip, or (n, k, k) entries da_ip/dz_iq; nan where z ± h straddles the
    kink at 0 of a ``kinked`` activation."""
    values = z.copy()
    found = []
    for index in sample:
        i, p, *rest = np.unravel_index(index, shape)
        q = rest[0] if rest else p
        original = values[i, q]
        if kinked and (original + step > 0) != (original - step > 0):
            found.append(np.nan)
            continue
        values[i, q] = original + step
        up = np.asarray(activation(Tensor(values)))[i, p]
        values[i, q] = original - step
        down = np.asarray(activation(Tensor(values)))[i, p]
        values[i, q] = original
        found.append((up - down) / (2 * step))
    return np.array(found)


def _central_differences(evaluate, values, sample, step):
    """(L(v + h e_i) - L(v - h e_i)) / 2h at each sampled flat index i of the array ``values``,
    which ``evaluate()`` reads, returning (L, kink pattern); each entry is changed in place and
    restored. nan where the two patterns differ: the perturbation crossed a ReLU kink."""
    flat = values.reshape(-1)  # a view: the arrays here are contiguous
    found = []
    for index in sample:
        original = flat[index]
        flat[index] = original + step
        up, up_pattern = evaluate()
        flat[index] = original - step
        down, down_pattern = evaluate()
        flat[index] = original
        found.append((up - down) / (2 * step) if up_pattern == down_pattern else np.nan)
    return np.array(found)


def _relative_error(a, b):
    """max_i |a_i - b_i| / max_i max(|a_i|, |b_i|): the largest difference relative to the
    largest entry (0 when both are all zeros; inf when the shapes differ)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return float("inf")
    if a.size == 0:
        return 0.0
    scale = max(np.abs(a).max(), np.abs(b).max())
    return float(np.abs(a - b).max() / scale) if scale > 0 else 0.0


class Checker:
    """Builds each :class:`Gradient`: compares the three ways on a sample of entries."""

    def __init__(self, samples, step, tolerance, rng):
        self.samples, self.step, self.tolerance, self.rng = samples, step, tolerance, rng

    def differences(self, values, evaluate):
        """The finite differences of L in the entries of ``values``, as a function of the sampled
        indices; ``evaluate()`` returns (L, kink pattern)."""
        return lambda sample: _central_differences(evaluate, values, sample, self.step)

    def choose(self, reference):
        """Flat indices to check: all of them, or ``samples`` of them, half among the nonzero
        entries of ``reference`` (so that a sparse gradient is checked where it lives)."""
        size = reference.size
        if self.samples is None or self.samples >= size:
            return np.arange(size)
        nonzero = np.flatnonzero(reference)
        chosen = self.rng.choice(nonzero, min(len(nonzero), self.samples // 2), replace=False)
        rest = np.setdiff1d(np.arange(size), chosen)
        more = self.rng.choice(rest, self.samples - len(chosen), replace=False)
        return np.sort(np.concatenate([chosen, more]))

    def gradient(self, name, formula, textbook, engine, numeric):
        reference = engine if engine is not None else textbook
        textbook_error = None
        if textbook is not None and engine is not None:
            textbook_error = _relative_error(textbook, engine)
        sample = self.choose(reference)
        found = numeric(sample)
        smooth = ~np.isnan(found)
        numeric_error = None
        if smooth.any():
            numeric_error = _relative_error(found[smooth], reference.reshape(-1)[sample][smooth])
        agrees = all(
            error is None or error <= self.tolerance for error in (textbook_error, numeric_error)
        )
        return Gradient(
            name,
            formula,
            tuple(reference.shape),
            textbook,
            engine,
            sample,
            found,
            textbook_error,
            numeric_error,
            agrees,
        )
