"""Segment reductions: y[s] = the reduction of the rows data[i] whose segment id is s.

``segment_ids`` (n,) are integers; rows with an id outside [0, num_segments) are dropped, and an
empty segment holds the reduction's identity (0 for sum, 1 for prod, -inf for max, +inf for min;
the largest and smallest value for integer data), as in JAX. data (n, ...) -> y (num_segments, ...).
"""

from ..backend import xp_of
from ..engine import ShapeError, primitive

_UFUNCS = {"sum": "add", "prod": "multiply", "max": "maximum", "min": "minimum"}


def _identity(xp, kind, dtype):
    if kind == "sum":
        return 0
    if kind == "prod":
        return 1
    if xp.issubdtype(dtype, xp.floating):
        return -xp.inf if kind == "max" else xp.inf
    info = xp.iinfo(dtype)
    return info.min if kind == "max" else info.max


@primitive
def segment_reduce(data, segment_ids, num_segments, kind="sum"):
    """y[s] = reduce over {i : ids_i = s} of data[i], ``kind`` one of sum, prod, max, min.

    dL/ddata[i] = g[ids_i] for sum;  g[ids_i] y[ids_i] / data[i] for prod (data must be
    non-zero);  g[ids_i] where data[i] equals y[ids_i] (ties share it equally) for max and min;
    0 for a dropped row.
    """
    xp = xp_of(data)
    if segment_ids.ndim != 1 or segment_ids.shape[0] != data.shape[0]:
        raise ShapeError(
            f"segment_{kind}: segment_ids must be one id per row of data, shape "
            f"({data.shape[0] if data.ndim else 0},); got shape {segment_ids.shape} for data of "
            f"shape {data.shape}"
        )
    out = xp.full((num_segments,) + data.shape[1:], _identity(xp, kind, data.dtype), data.dtype)
    keep = (segment_ids >= 0) & (segment_ids < num_segments)
    getattr(xp, _UFUNCS[kind]).at(out, segment_ids[keep], data[keep])
    return out


def _gathered(values, segment_ids):
    """values[ids_i] for every row i (0 for the dropped ones)."""
    xp = xp_of(segment_ids)
    n = values.shape[0]
    keep = (segment_ids >= 0) & (segment_ids < n)
    picked = values[xp.where(keep, segment_ids, 0)]
    return picked * keep.reshape(keep.shape + (1,) * (picked.ndim - 1))


@segment_reduce.defvjp(0)
def _segment_reduce_vjp(g, y, data, segment_ids, num_segments, kind="sum"):
    picked = _gathered(g, segment_ids)
    if kind == "sum":
        return picked
    if kind == "prod":
        return picked * _gathered(y, segment_ids) / data
    hit = (data == _gathered(y, segment_ids)).astype(data.dtype)
    count = segment_reduce(hit, segment_ids, num_segments=num_segments, kind="sum")
    shared = _gathered(count, segment_ids)
    return picked * hit / (shared + (shared == 0))
