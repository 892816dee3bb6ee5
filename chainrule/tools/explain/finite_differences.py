"""The check: central finite differences on a sample of entries, and the comparison of the three
ways by their max relative error.

For a loss L and an array v it depends on, entry i of dL/dv is approximated by

    (L(v + h e_i) - L(v - h e_i)) / 2h

with h scaled to the entry, h = step max(1, |v_i|), and shrunk until the differences at h and
h/4 agree: a step that straddles a kink (a ReLU pre-activation within h of 0) or reaches past a
bound of L's domain (a probability within h of 0 or 1) gives differences that do not. Within a
step of a bound, the difference is one-sided, away from it; an entry where no step agrees sits at
a kink or bound, and is reported as not checked there rather than compared.

:class:`Checker` builds each :class:`~.report.Gradient`: the textbook against the engine, and
these differences against the engine, on the sampled entries.
"""

import numpy as np

from ...engine import Tensor
from .report import Gradient

_STEPS = 16 / 4.0 ** np.arange(8)
"""The steps tried per entry, as multiples of h: 16h, 4h, h, ..., h/1024."""
_ROUNDING = 4 * np.finfo(np.float64).eps
"""The rounding error of one computed value f, relative to |f|."""
_SCHEMES = {
    "central": ((-1, 1), (-0.5, 0.5)),
    "forward": ((0, 1, 2), (-1.5, 2.0, -0.5)),
    "backward": ((0, -1, -2), (1.5, -2.0, 0.5)),
}
"""Step multiples and weights: df/dv ≈ Σ weight f(v + multiple h) / h, with an error O(h²)."""


def local_differences(activation, z, shape, sample, step, kinked):
    """Finite differences of a = f(z) at the sampled flat indices of da/dz of ``shape``:
    (n, k) entries da_ip/dz_ip, or (n, k, k) entries da_ip/dz_iq, as :func:`differences` finds
    them; nan where every step tried straddles the kink at 0 of a ``kinked`` activation."""
    values = z.copy()

    def entry(index):
        i, p, *rest = np.unravel_index(index, shape)
        q = rest[0] if rest else p

        def f(t):
            values[i, q] = t
            try:
                return float(np.asarray(activation(Tensor(values)))[i, p]), (
                    t > 0
                ) if kinked else None
            finally:
                values[i, q] = z[i, q]

        return f, z[i, q]

    return differences([entry(index) for index in sample], step)


def _entry_differences(evaluate, values, sample, step, bounds):
    """Finite differences of L at each sampled flat index of the array ``values``, which
    ``evaluate()`` reads, returning (L, kink pattern); each entry is changed in place and
    restored."""
    flat = values.reshape(-1)  # a view: the arrays here are contiguous

    def entry(index):
        original = flat[index]

        def f(t):
            flat[index] = t
            try:
                return evaluate()
            finally:
                flat[index] = original

        return f, original

    return differences([entry(index) for index in sample], step, bounds)


def differences(entries, step, bounds=(-np.inf, np.inf)):
    """df/dv for each (f, v) of ``entries``, where f(t) = (value, kink pattern).

    Of the estimates of :func:`_estimates` at steps 16h, 4h, h, h/4, ..., the one that agrees
    best with the one before it, within its rounding error, is the result: a larger step cuts
    the rounding, a smaller one the truncation, and one that straddles a kink or reaches past a
    bound disagrees. nan where no two in a row are valid: the entry sits at a kink or bound,
    where f has no derivative to check.

    Returns:
        (found, one_sided): the differences, and whether each was taken on one side only,
        away from a bound of ``bounds`` within a step of v.
    """
    found, one_sided = [], []
    for f, v in entries:
        best, error = (np.nan, 0.0, False), np.inf
        estimates = list(_estimates(f, v, step, bounds))
        for (before, _, _), (estimate, rounding, sided) in zip(estimates, estimates[1:]):
            if np.isfinite(before) and np.isfinite(estimate):
                if abs(estimate - before) + rounding < error:
                    best, error = (estimate, rounding, sided), abs(estimate - before) + rounding
        found.append(best[0])
        one_sided.append(best[2])
    return np.array(found), np.array(one_sided, dtype=bool)


def _estimates(f, v, step, bounds):
    """Yields (estimate, its rounding error, one-sided) of df/dv at the steps of :data:`_STEPS`
    times h = step max(1, |v|): the central difference (f(v + h) - f(v - h)) / 2h where v ± h
    stays inside ``bounds``, else the one-sided ±(4 f(v ± h) - 3 f(v) - f(v ± 2h)) / 2h on the
    side that does; nan where neither does, where a point changes the kink pattern of f(v) or
    where a value is not finite."""
    low, high = bounds
    at_v, pattern = f(v)
    for multiple in _STEPS:
        h = step * max(1.0, abs(v)) * multiple
        h = (v + h) - v  # the step as the floats represent it
        if low <= v - h and v + h <= high:
            scheme = "central"
        elif v + 2 * h <= high and low <= v:
            scheme = "forward"
        elif low <= v - 2 * h and v <= high:
            scheme = "backward"
        else:
            yield np.nan, 0.0, False
            continue
        multiples, weights = _SCHEMES[scheme]
        points = [(at_v, pattern) if m == 0 else f(v + m * h) for m in multiples]
        if any(p != pattern for _, p in points):
            yield np.nan, 0.0, False
        else:
            values = np.array([value for value, _ in points])
            estimate = float(np.dot(weights, values) / h)
            rounding = _ROUNDING * float(np.abs(weights) @ np.abs(values)) / h
            yield estimate, rounding, scheme != "central"


def _relative_error(a, b, whole=0.0):
    """max_i |a_i - b_i| / max_i max(|a_i|, |b_i|, |whole|): the largest difference relative to
    the largest entry, of a and b or of ``whole``, the factor they sample (0 when all are zeros;
    inf when the shapes differ)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return float("inf")
    if a.size == 0:
        return 0.0
    scale = max(np.abs(a).max(), np.abs(b).max(), np.abs(whole).max())
    return float(np.abs(a - b).max() / scale) if scale > 0 else 0.0


class Checker:
    """Builds each :class:`Gradient`: compares the three ways on a sample of entries."""

    def __init__(self, samples, step, tolerance, rng):
        self.samples, self.step, self.tolerance, self.rng = samples, step, tolerance, rng

    def differences(self, values, evaluate, bounds=(-np.inf, np.inf)):
        """The finite differences of L in the entries of ``values``, as a function of the sampled
        indices; ``evaluate()`` returns (L, kink pattern), and is not evaluated outside
        ``bounds``, the domain of L in each entry."""
        return lambda sample: _entry_differences(evaluate, values, sample, self.step, bounds)

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
        found, one_sided = numeric(sample)
        smooth = ~np.isnan(found)
        numeric_error = None
        if smooth.any():
            # relative to the factor's largest entry, not the sample's: a sample of entries
            # far below it (of a confident softmax's Jacobian, say) is checked to the rounding
            # that differences of values near 1 allow
            numeric_error = _relative_error(
                found[smooth], reference.reshape(-1)[sample][smooth], reference
            )
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
            one_sided,
            textbook_error,
            numeric_error,
            agrees,
        )
