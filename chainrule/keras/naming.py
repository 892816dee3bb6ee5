"""Keras's names: classes in snake_case (layer names, the groups of saved files), and the name
scopes that make the paths of variables."""

import re
import threading


def snake_case(name):
    """Keras's ``to_snake_case``: 'BatchNormalization' -> 'batch_normalization', 'Conv2D' ->
    'conv2d'. It names layers and, in saved files, the groups that hold their weights."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


# ----- name scopes: the paths of variables -------------------------------------------------------

_scopes = threading.local()  # .stack: the open name_scope blocks of this thread, outermost first


class name_scope:
    """``keras.name_scope``: a block whose name prefixes the path of every variable made inside
    it, ``outer/inner/kernel``.

    Layers open one of their own name around ``build`` and ``call`` (the first time, they note
    the path they were opened in as their parent's, and keep it), so a Dense built inside a
    Sequential gets ``sequential/dense/kernel`` and an LSTM's cell ``lstm/lstm_cell/kernel``;
    optimizers and metrics open theirs around the state they make (``adam/iteration``).

    Args:
        name: the scope's name; it may not contain "/".
        caller: the object opening it: a block opened by the same caller under the same name
            as the innermost one is not opened again (``deduplicate``).
        deduplicate: False opens it even then.
        override_parent: a path that replaces the scopes open around this one (a layer's
            parent path, which stays what it was when the layer first opened its scope).
    """

    def __init__(self, name, caller=None, deduplicate=True, override_parent=None):
        if not isinstance(name, str) or "/" in name:
            raise ValueError(
                f"Argument `name` must be a string and cannot contain character `/`. "
                f"Received: name={name}"
            )
        self.name, self.caller, self.deduplicate = name, caller, deduplicate
        if override_parent is None and deduplicate:
            override_parent = getattr(caller, "_parent_path", None)
        self.override_parent = override_parent
        self._pushed = False

    def __enter__(self):
        stack = _stack()
        if self.deduplicate and stack:
            innermost = stack[-1]
            if self.caller is not None and innermost.caller is self.caller:
                if innermost.name == self.name:
                    return self
        stack.append(self)
        self._pushed = True
        return self

    def __exit__(self, *exc_info):
        if self._pushed:
            self._pushed = False
            stack = _stack()
            if stack:
                stack.pop()


def _stack():
    stack = getattr(_scopes, "stack", None)
    if stack is None:
        stack = _scopes.stack = []
    return stack


def current_path():
    """The path of the open name scopes, "" outside any: each scope's name after its parent's,
    a scope with an ``override_parent`` starting again from that path."""
    parts = []
    for scope in _stack():
        if scope.override_parent is not None:
            parts = [part for part in scope.override_parent.split("/") if part]
        parts.append(scope.name)
    return "/".join(parts)


def path_in_scope(name):
    """The path of a variable named ``name`` made now: ``current_path()/name``."""
    parent = current_path()
    return f"{parent}/{name}" if parent else name
