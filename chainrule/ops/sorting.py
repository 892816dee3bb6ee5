"""Sorting: the order of elements has no gradient, and sorted values are a gather.

``sort`` picks a's elements in sorted order with ``take_along_axis``, so its gradient sends each
g back to the element it came from.
"""

from ..backend import xp_of
from ..engine import primitive
from .indexing import take_along_axis


@primitive(differentiable=False)
def argsort(a, axis=-1):
    """y = the indices that sort a along ``axis`` (stable: ties keep their order; NaNs last).
    An index has no gradient."""
    return xp_of(a).argsort(a, axis=axis, kind="stable")


def sort(a, axis=-1):
    """y = a sorted ascending along ``axis`` (the flattened a for None).
    dL/da_i = g at the position where a_i landed."""
    if axis is None:
        return sort(a.reshape(-1), axis=0)
    return take_along_axis(a, argsort(a, axis=axis), axis=axis)
