"""The optimizers' update loop inside ``fit``: fused kernels, else cache-sized blocks.

An optimizer's ``update_step`` reads and writes its arrays (the weights, the gradient, the
state) a dozen times, one NumPy operation at a time; for a large variable every pass goes to
memory. Inside ``fit`` the optimizer runs its updates through :func:`update` instead:

- Where Numba is installed (``chainrule[fast]``) and the optimizer describes its step as one of
  the kernels of :mod:`.fused` (``Optimizer.fused_update``), the kernel updates the variable in
  one pass, with the same results to the last bit (variables of :data:`.fused.FUSED_FROM`
  elements and more; a smaller one's update is as fast in NumPy).
- Otherwise :func:`update_in_blocks` runs ``update_step`` on one block of :data:`BLOCK`
  elements at a time, each block standing in for the whole variable (:class:`VariableBlock`), so
  that the dozen passes find the block's arrays in the core's cache. Updates are elementwise,
  so the result is again the same, bit for bit. (They stay in one thread: a block's dozen short
  NumPy calls would mostly wait for the interpreter lock if two threads shared the blocks out.)

Anywhere else (a training loop of the user's own, ``CHAINRULE_FAST=0``) an optimizer updates
each variable whole, in NumPy.
"""

import functools
import math

from . import fused

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


def update(optimizer, grads, variables, learning_rate):
    """``fit``'s update loop: each (gradient, variable) pair by the optimizer's fused kernel
    where there is one (:func:`update_fused`), else by its ``update_step``, whole or in blocks
    (:func:`update_in_blocks`). A small model's variables take one call each, as its step
    counts its Python calls (tests/keras/test_step_overhead.py)."""
    update_step = optimizer.update_step
    blocked_from = _BLOCKED_FROM if _blocks(type(optimizer)) else math.inf
    for g, v in zip(grads, variables):
        size = g.size
        if size >= fused.FUSED_FROM and update_fused(optimizer, g, v, learning_rate):
            continue
        if size < blocked_from:
            update_step(g, v, learning_rate)
        else:
            update_in_blocks(update_step, g, v, learning_rate)


@functools.cache
def _blocks(optimizer_class):
    """True where the class's ``update_step`` is chainrule's own, which reads its state through
    ``slot()`` and so takes a block of a variable; a custom ``update_step`` written as Keras's
    (its state in lists, indexed by ``_get_variable_index``) gets each variable whole."""
    return optimizer_class.update_step.__module__.startswith("chainrule.")


def update_fused(optimizer, g, v, learning_rate):
    """Update ``v`` by ``optimizer``'s fused kernel; returns False, having done nothing, where
    the optimizer has none (Numba is then not even imported), Numba is not installed, or the
    kernel does not suit the arrays (:func:`.fused.for_arrays`: a small variable, another dtype
    than float32 or float64, dtypes that differ, an array that is not contiguous)."""
    if not _fuses(type(optimizer)):
        return False
    form = optimizer.fused_update(v, learning_rate)
    if form is None:
        return False
    name, state, coefficients = form
    arrays = (v.data, g, *state)
    kernel = fused.for_arrays(name, *arrays)
    if kernel is None:
        return False
    scalar = v.data.dtype.type
    kernel(
        *(a.reshape(-1) for a in arrays),
        *(c if isinstance(c, bool) else scalar(c) for c in coefficients),
    )
    return True


@functools.cache
def _fuses(optimizer_class):
    """True where the class's ``fused_update`` describes its own ``update_step``: a subclass
    that overrides ``update_step`` alone (a rule of the user's) is updated by that rule."""
    for cls in optimizer_class.__mro__:
        if "fused_update" in vars(cls):
            return optimizer_class.update_step is cls.update_step
    return False


def update_in_blocks(update_step, g, v, learning_rate):
    """``update_step(g, v, learning_rate)``, one block of a large contiguous variable at a
    time."""
    if g.size < _BLOCKED_FROM or not (v.data.flags.c_contiguous and g.flags.c_contiguous):
        update_step(g, v, learning_rate)
        return
    g = g.reshape(-1)
    for start in range(0, g.size, BLOCK):
        block = slice(start, start + BLOCK)
        update_step(g[block], VariableBlock(v, block), learning_rate)
