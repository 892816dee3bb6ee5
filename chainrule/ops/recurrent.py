"""Primitives of sequence models: the lookup of token vectors in an embedding table."""

from ..engine import primitive
from .shape import scatter_add


@primitive
def embedding_lookup(table, indices):
    """y[..., :] = table[indices[...], :]: the row of ``table`` (vocabulary, dim) for each
    integer of ``indices`` (any shape); y has shape indices.shape + (dim,).

    dL/dtable = g scatter-added into the rows picked (a row picked twice gets both gradients);
    the indices are not differentiable.

    Raises:
        TypeError: indices that are not integers.
        ValueError: an index outside [0, vocabulary).
    """
    size = table.shape[0]
    if indices.dtype.kind not in "iu":
        raise TypeError(
            f"embedding_lookup: indices must be integers; got dtype {indices.dtype}. Cast them "
            f"to int32 first."
        )
    if indices.size and (indices.min() < 0 or indices.max() >= size):
        raise ValueError(
            f"embedding_lookup: indices must be in [0, {size}) for a table of {size} rows; got "
            f"indices from {indices.min()} to {indices.max()}. Make input_dim larger than the "
            f"largest index."
        )
    return table[indices]


@embedding_lookup.defvjp(0)
def _embedding_lookup_vjp(g, y, table, indices):
    return scatter_add(g, index=indices, shape=table.shape)
