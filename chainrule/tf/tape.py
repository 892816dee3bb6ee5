"""GradientTape: TensorFlow's way of asking for gradients, answered by the engine's backward pass.

The engine records every op on a tensor that requires a gradient, as PyTorch does, so a tape
need not record anything itself. What it decides is *which* tensors are sources: trainable
variables (watched automatically), tensors passed to :meth:`GradientTape.watch`, and results
computed from them. ``tape.gradient(L, sources)`` is then one call of
:func:`chainrule.engine.gradients`, the same backward pass that ``L.backward()`` runs:

    dL/dx = sum over paths from x to L of the chain rule's products of local derivatives

A watched constant is switched to ``requires_grad`` while the tape's ``with`` block runs, so
that the engine records the ops on it, and switched back when the block ends.
"""

import warnings

from .. import nest
from ..engine import (
    Tensor,
    enable_grad,
    gradients,
    is_grad_enabled,
    no_grad,
    node_count,
    node_listeners,
)
from ..fast.runtime import tape_opened
from ..variables import Variable

_active = []  # the tapes whose ``with`` block is running, innermost last


class UnconnectedGradients:
    """What ``gradient()`` returns for a source the target does not depend on."""

    NONE = "none"
    ZERO = "zero"


class GradientTape:
    """Records the operations run inside its ``with`` block, for computing gradients later.

    Args:
        persistent: allow more than one ``gradient()`` call (the graph is kept until the tape is
            deleted); by default the first call frees it.
        watch_accessed_variables: watch every trainable variable automatically. With False,
            only what :meth:`watch` names gets a gradient.

    Example (the article's four steps)::

        with chainrule.GradientTape() as tape:
            logits = model(x, training=True)               # 1. forward
            loss = loss_fn(y, logits)                      # 2. loss
        grads = tape.gradient(loss, model.trainable_weights)   # 3. backward
        optimizer.apply(grads, model.trainable_weights)        # 4. update

    Unlike TensorFlow, ops on trainable variables are recorded also outside a tape (the engine
    records whatever requires a gradient), and :meth:`stop_recording` pauses every tape at once.
    """

    def __init__(self, persistent=False, watch_accessed_variables=True):
        self.persistent = persistent
        self.watch_accessed_variables = watch_accessed_variables
        self._watched = {}  # id -> tensor, everything passed to watch()
        self._switched_on = []  # watched constants whose requires_grad this tape turned on
        self._recording = False
        self._grad_mode = None
        self._used = False
        self._windows = []  # [start, stop) of the nodes recorded inside the with blocks
        self._accessed = {}  # id -> the variables that ops inside the with blocks read

    # ----- recording ---------------------------------------------------------------------------
    def __enter__(self):
        if self._recording:
            raise RuntimeError(
                "This GradientTape is already recording: a tape cannot be entered again inside "
                "its own with block. Create a second tape to nest them."
            )
        if not _active:  # a step of a training loop written by hand starts, maybe
            tape_opened()
        self._recording = True
        self._windows.append([node_count(), None])
        node_listeners.append(self._note_reads)
        self._grad_mode = enable_grad()
        self._grad_mode.__enter__()
        _active.append(self)
        for tensor in self._watched.values():
            self._record_ops_on(tensor)
        return self

    def __exit__(self, *exc):
        _active.remove(self)
        self._grad_mode.__exit__(*exc)
        self._recording = False
        self._windows[-1][1] = node_count()
        node_listeners.remove(self._note_reads)
        for tensor in self._switched_on:
            tensor.requires_grad = False
        self._switched_on = []

    def _note_reads(self, node):
        for _, parent in node.parents:
            if isinstance(parent, Variable):
                self._accessed.setdefault(id(parent), parent)

    def watched_variables(self):
        """The variables this tape watches: those passed to :meth:`watch` and, unless
        ``watch_accessed_variables=False``, the trainable ones its ops read, in the order first
        seen."""
        found = {i: t for i, t in self._watched.items() if isinstance(t, Variable)}
        if self.watch_accessed_variables:
            for i, variable in self._accessed.items():
                if variable.trainable:
                    found.setdefault(i, variable)
        return tuple(found.values())

    def _record_ops_on(self, tensor):
        if not tensor.requires_grad:
            tensor.requires_grad = True
            self._switched_on.append(tensor)

    def watch(self, tensor):
        """Watch a tensor (or a list, tuple or dict of them): gradients with respect to it become
        available, as for a trainable variable.

        Raises:
            TypeError: for something that is not a Tensor (a NumPy array is copied each time it
                is used, so there is nothing to watch: convert it with chainrule.constant first).
        """
        for t in nest.flatten(tensor):
            if not isinstance(t, Tensor):
                raise TypeError(
                    f"GradientTape.watch expects Tensors or Variables; got {type(t).__name__}. "
                    f"Convert the values first, e.g. x = chainrule.constant(x), and watch and "
                    f"use that tensor."
                )
            if t.dtype.kind != "f":
                warnings.warn(
                    f"GradientTape.watch: the dtype of a watched tensor must be floating "
                    f"(e.g. float32); got {t.dtype}, so it is not watched.",
                    stacklevel=2,
                )
                continue
            self._watched[id(t)] = t
            if self._recording:
                self._record_ops_on(t)

    def stop_recording(self):
        """Context manager in which no op is recorded (for any tape: see the class docstring).

        Raises:
            RuntimeError: if the tape is not recording (outside its ``with`` block).
        """
        if not self._recording:
            raise RuntimeError(
                "GradientTape.stop_recording() needs a recording tape: call it inside the "
                "tape's with block."
            )
        return no_grad()

    def reset(self):
        """Forget the watched tensors and allow ``gradient()`` again, as a fresh tape."""
        for tensor in self._switched_on:
            tensor.requires_grad = False
        self._switched_on, self._watched, self._used = [], {}, False
        self._windows = [[node_count(), None]] if self._recording else []
        self._accessed = {}

    # ----- gradients ---------------------------------------------------------------------------
    def _is_source(self, tensor):
        """Whether gradients with respect to ``tensor`` are available from this tape: a watched
        tensor, a trainable variable (when variables are watched), a result this tape recorded
        (computed inside its ``with`` block from those), or a leaf created with
        ``requires_grad``. A result computed before the block, as in TensorFlow, is not."""
        if id(tensor) in self._watched:
            return True
        if isinstance(tensor, Variable):
            return tensor.trainable and self.watch_accessed_variables
        if not tensor.requires_grad:
            return False
        node = tensor._node
        if node is None:
            return True  # a leaf created with requires_grad
        return any(
            start <= node.order and (stop is None or node.order < stop)
            for start, stop in self._windows
        )

    def gradient(
        self,
        target,
        sources,
        output_gradients=None,
        unconnected_gradients=UnconnectedGradients.NONE,
    ):
        """d target / d source for every source, with the engine's backward pass.

        Args:
            target: a one-element Tensor (e.g. the loss), or a list/tuple/dict of them (their
                gradients are summed).
            sources: a Tensor or Variable, or a list, tuple or dict of them.
            output_gradients: upstream gradients dL/d(target), one per target of the same
                shape: a target is then differentiated as L = sum(target * output_gradients).
                Without them a target of several elements is differentiated as its sum, as
                in TensorFlow.
            unconnected_gradients: "none" (default) to return None for a source the target does
                not depend on, "zero" for zeros of the source's shape.

        Returns:
            The gradients in the structure of ``sources``: Tensors of the sources' shapes and
            dtypes (None for an unconnected source).

        Raises:
            RuntimeError: a second call on a non-persistent tape.
            TypeError: a target or source that is not a Tensor.
        """
        if self._used and not self.persistent:
            raise RuntimeError(
                "A non-persistent GradientTape can only be used to compute one set of "
                "gradients: its graph was freed by the first gradient() call. Create the tape "
                "with GradientTape(persistent=True) to call gradient() more than once."
            )
        if unconnected_gradients not in (UnconnectedGradients.NONE, UnconnectedGradients.ZERO):
            raise ValueError(
                f"GradientTape.gradient: unconnected_gradients must be 'none' or 'zero'; got "
                f"{unconnected_gradients!r}"
            )
        targets = _tensors(nest.flatten(target), "target")
        flat_sources = _tensors(nest.flatten(sources), "source")
        seeds = None if output_gradients is None else nest.flatten(output_gradients)
        if seeds is not None and len(seeds) != len(targets):
            raise ValueError(
                f"GradientTape.gradient: {len(targets)} targets but {len(seeds)} "
                f"output_gradients; give one upstream gradient per target."
            )
        # a target of several elements is differentiated as their sum, as TensorFlow does
        seeds = [
            Tensor(t.data * 0 + 1)
            if t.size != 1 and (seeds is None or seeds[i] is None)
            else (None if seeds is None else seeds[i])
            for i, t in enumerate(targets)
        ]
        self._used = True
        wanted = [s for s in flat_sources if self._is_source(s)]
        # Recorded when another tape is watching (second derivatives), or when this persistent
        # tape is still recording; otherwise the VJPs run on raw arrays.
        create_graph = is_grad_enabled() and any(
            tape is not self or tape.persistent for tape in _active
        )
        found = (
            gradients(
                targets,
                wanted,
                grad_outputs=seeds,
                retain_graph=self.persistent or create_graph,
                create_graph=create_graph,
            )
            if wanted
            else []
        )
        by_source = {id(s): g for s, g in zip(wanted, found)}
        results = []
        for s in flat_sources:
            g = by_source.get(id(s))
            if g is None and unconnected_gradients == UnconnectedGradients.ZERO:
                g = Tensor(s.data * 0)
            results.append(g)
        return nest.pack_like(sources, results)


def _tensors(values, role):
    for v in values:
        if not isinstance(v, Tensor):
            raise TypeError(
                f"GradientTape.gradient: every {role} must be a Tensor or Variable; got "
                f"{type(v).__name__}. Compute the {role} with chainrule ops inside the tape."
            )
    return values
