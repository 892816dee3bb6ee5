"""Optimizer updates in cache-sized blocks.

An optimizer's ``update_step`` reads and writes its arrays (the weights, the gradient, the
state) a dozen times, one NumPy operation at a time; for a large variable every pass goes to
memory. :func:`in_blocks` runs ``update_step`` on one block of :data:`BLOCK` elements at a time
instead, each block standing in for the whole variable (:class:`VariableBlock`), so the dozen
passes find the block's arrays in the core's cache. Updates are elementwise, so the result is
the same, bit for bit. (They stay in one thread: a block's dozen short NumPy calls would mostly
wait for the interpreter lock if two threads shared the blocks out.)

The training runtime hands :func:`in_blocks` to the optimizer as its ``update_loop`` during
``fit``; anywhere else an optimizer updates each variable whole.
"""

BLOCK = 1 << 15  # elements per block: a few arrays of this size fit a core's cache
_BLOCKED_FROM = 2 * BLOCK  # a smaller variable is updated whole


class VariableBlock:
    """Elements [start, stop) of a variable (flattened), standing in for it in ``update_step``:
    ``data`` is a view of them; ``part(array)`` gives the same elements of an array shaped like
    the variable (its optimizer state), and ``whole`` is the variable itself."""

    __slots__ = ("data", "index", "whole")

    def __init__(self, variable, index):
        self.whole, self.index = variable, index
        self.data = variable.data.reshape(-1)[index]

    def part(self, array):
        """The block's elements of an array shaped like the variable (a view)."""
        return array.reshape(-1)[self.index]


def in_blocks(update_step, grads, variables, learning_rate):
    """``update_step(g, v, learning_rate)`` for every pair, a large contiguous variable one
    block at a time."""
    for g, v in zip(grads, variables):
        if g.size < _BLOCKED_FROM or not (v.data.flags.c_contiguous and g.flags.c_contiguous):
            update_step(g, v, learning_rate)
            continue
        g = g.reshape(-1)
        for start in range(0, g.size, BLOCK):
            block = slice(start, start + BLOCK)
            update_step(g[block], VariableBlock(v, block), learning_rate)
