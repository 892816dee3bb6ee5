"""Nested structures of tensors: lists, tuples and dicts of leaves, walked in a fixed order.

``tape.gradient(loss, {"w": w, "b": [b1, b2]})`` returns gradients in the shape of its sources,
and a functional model takes and returns such structures; both flatten a structure to a list of
leaves, work on the list, and pack the results back into the same structure.
"""


def is_nested(value):
    """True for the containers this module walks into: list, tuple, dict."""
    return isinstance(value, (list, tuple, dict))


def flatten(structure):
    """The leaves of ``structure`` in order: list and tuple items in sequence, dict values by
    sorted key (as TensorFlow's ``tf.nest``); a leaf is its own one-element list."""
    if type(structure) in (list, tuple):
        for v in structure:  # a loop, not any(): flattening runs on every training step
            if isinstance(v, (list, tuple, dict)):
                break
        else:
            return list(structure)  # the common case: a flat list (of weights, say)
    leaves, stack = [], [structure]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value[key] for key in sorted(value, reverse=True))
        elif isinstance(value, (list, tuple)):
            stack.extend(reversed(value))
        else:
            leaves.append(value)
    return leaves


def pack_like(structure, leaves):
    """``structure`` with its leaves replaced, in :func:`flatten` order, by ``leaves``."""
    if type(structure) is list and not any(isinstance(v, (list, tuple, dict)) for v in structure):
        return list(leaves)
    return _rebuild(structure, iter(leaves))


def _rebuild(value, leaves):
    """``value`` with each leaf replaced by the next of the iterator ``leaves``."""
    if isinstance(value, dict):
        packed = {key: _rebuild(value[key], leaves) for key in sorted(value)}
        return {key: packed[key] for key in value}
    if isinstance(value, (list, tuple)):
        items = [_rebuild(item, leaves) for item in value]
        return type(value)(items) if type(value) in (list, tuple) else type(value)(*items)
    return next(leaves)


def map_structure(fn, structure):
    """``structure`` with ``fn`` applied to every leaf."""
    return pack_like(structure, [fn(leaf) for leaf in flatten(structure)])
