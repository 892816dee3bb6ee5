"""Numerical gradient checking: does the chain rule in the code agree with calculus?

For a function f of tensors, the analytic gradient from ``backward()`` is compared with central
finite differences in float64:

    dL/dx_i  ~  (L(x + eps e_i) - L(x - eps e_i)) / (2 eps),      error O(eps^2)

A function with a non-scalar output is reduced to L = sum(f(x) * r) with a fixed random r, which
checks the full vector-Jacobian product rather than only its sum.
"""

import numpy as np

from .engine import Tensor


class GradcheckError(AssertionError):
    """The analytic and the numerical gradient disagree."""


def _projected_loss(fn, tensors, projection):
    """L = sum(fn(*tensors) * projection): a scalar whose gradient is the VJP with the
    projection."""
    out = fn(*tensors)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: the function must return a Tensor; got {type(out).__name__}")
    return (out * projection).sum()


def gradcheck(fn, *inputs, eps=1e-6, atol=1e-5, rtol=1e-4, seed=0):
    """Compare every input's analytic gradient with central finite differences in float64.

    Args:
        fn: a function of Tensors returning a Tensor.
        *inputs: arrays or Tensors; each is copied to float64. Integer arrays are passed through
            unchanged and not checked (labels, indices).
        eps: the finite-difference step.
        atol, rtol: an element fails when |analytic - numeric| > atol + rtol * |numeric|.
        seed: seed of the random projection used for non-scalar outputs.

    Returns:
        The worst relative error seen, |analytic - numeric| / max(|analytic|, |numeric|), over
        the elements whose gradient is larger than ``atol``.

    Raises:
        GradcheckError: naming the input, the index, both values and the relative error.

    Example::

        gradcheck(lambda x: chainrule.tanh(x) * x, np.random.randn(3, 4))
    """
    tensors = []
    for x in inputs:
        data = x.data if isinstance(x, Tensor) else np.asarray(x)
        if data.dtype.kind == "f":
            tensors.append(Tensor(data.astype(np.float64), requires_grad=True))
        else:
            tensors.append(Tensor(data))
    probe = fn(*tensors)
    if probe.size == 1:
        projection = np.ones(probe.shape)
    else:
        projection = np.random.default_rng(seed).standard_normal(probe.shape)
    _projected_loss(fn, tensors, projection).backward()

    worst = 0.0
    for position, t in enumerate(tensors):
        if not t.requires_grad:
            continue
        analytic = np.zeros_like(t.data) if t.grad is None else t.grad.numpy()
        numeric = np.zeros_like(t.data)
        flat = t.data.reshape(-1)
        for i in range(flat.size):
            original = flat[i]
            flat[i] = original + eps
            up = _projected_loss(fn, tensors, projection).item()
            flat[i] = original - eps
            down = _projected_loss(fn, tensors, projection).item()
            flat[i] = original
            numeric.reshape(-1)[i] = (up - down) / (2 * eps)
        difference = np.abs(analytic - numeric)
        bad = difference > atol + rtol * np.abs(numeric)
        scale = np.maximum(np.abs(analytic), np.abs(numeric))
        relative = np.where(scale > atol, difference / np.where(scale > 0, scale, 1), 0.0)
        if bad.any():
            index = np.unravel_index(np.argmax(np.where(bad, difference, -1)), t.shape)
            raise GradcheckError(
                f"gradcheck: input {position} (shape {t.shape}) at index {tuple(map(int, index))}:"
                f" analytic {analytic[index]:.8g} vs numeric {numeric[index]:.8g}"
                f" (relative error {relative[index]:.3g}; worst over the input "
                f"{relative.max():.3g})"
            )
        worst = max(worst, float(relative.max()) if relative.size else 0.0)
    return worst
