"""The Optimizer: turns gradients into weight updates, W <- W - step(dL/dW).

``apply(grads, variables)`` runs Keras 3's sequence: build the per-variable state on first use,
drop the variables without a gradient, clip the gradients (``clipnorm``, ``global_clipnorm`` or
``clipvalue``: one of them at most), decay the weights (decoupled: W <- W - η λ W), call the
subclass's ``update_step(gradient, variable, learning_rate)`` for each pair, apply constraints,
and count the step in ``iterations``. The learning rate, and a schedule, is read once per step, at
the value of ``iterations`` *before* it is incremented. Updates are written in place into the
variables' arrays.
"""

import inspect
import math
import re
import warnings

import numpy as np

from ...backend import ndarray_types, xp_of
from ...engine import Tensor
from .schedules import LearningRateSchedule
from .schedules import deserialize as deserialize_schedule
from .schedules import serialize as serialize_schedule


class Optimizer:
    """Base class of the optimizers.

    Args:
        learning_rate: a float; a ``LearningRateSchedule`` (``optimizers.schedules``) or any
            callable of the step number (``iterations``, counted from 0); or a callable of no
            arguments (Keras 3's convention for plain callables).
        weight_decay: λ; if set, each step first applies W <- W - η λ W to every variable not
            excluded by :meth:`exclude_from_weight_decay` (decoupled weight decay, as AdamW).
        clipnorm: c; each gradient becomes g c / max(||g||, c) (its own L2 norm at most c).
        clipvalue: each gradient's elements are clipped to [-clipvalue, clipvalue].
        global_clipnorm: c; all gradients are scaled together by c min(1/N, 1/c), N the L2 norm
            of all of them joined, so that their joint norm is at most c.
        name: the optimizer's name.

    Raises:
        ValueError: more than one of clipnorm, clipvalue and global_clipnorm; a negative, NaN
            or non-numeric learning rate.
    """

    def __init__(
        self,
        learning_rate=0.001,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        name=None,
        **kwargs,
    ):
        if kwargs:
            raise TypeError(
                f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}"
            )
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                f"{type(self).__name__}: only one of clipnorm, clipvalue and global_clipnorm can "
                f"be set. Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                f"global_clipnorm={global_clipnorm}"
            )
        self._learning_rate = None
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.name = name or type(self).__name__.lower()
        self.iterations = 0
        self.built = False
        self._slots = {}
        self._scratch = {}
        # how update_step is run over the variables (see _backend_update_step); None: in turn
        self.update_loop = None
        self._exclude_ids = set()
        self._exclude_pattern = None

    # ----- the learning rate -------------------------------------------------------------------
    @property
    def learning_rate(self):
        """The learning rate at the current step (a schedule is evaluated at ``iterations``)."""
        rate = self._learning_rate
        if isinstance(rate, LearningRateSchedule) or (callable(rate) and _takes_an_argument(rate)):
            return float(rate(self.iterations))
        if callable(rate):
            return float(rate())
        return rate

    @learning_rate.setter
    def learning_rate(self, value):
        if callable(value):
            self._learning_rate = value
            return
        if callable(self._learning_rate):
            raise TypeError(
                f"{type(self).__name__} was created with a learning-rate schedule "
                f"({type(self._learning_rate).__name__}), so its learning rate cannot be set to "
                f"a number; create the optimizer with a float learning_rate to change it during "
                f"training."
            )
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"{type(self).__name__}: learning_rate must be a number, a LearningRateSchedule "
                f"or a callable of the step; got {value!r}"
            ) from None
        if value < 0 or math.isnan(value):
            raise ValueError(
                f"{type(self).__name__}: the learning rate must be a non-negative number; "
                f"got {value}"
            )
        self._learning_rate = value

    lr = learning_rate

    # ----- state -------------------------------------------------------------------------------
    def build(self, variables):
        """Create the per-variable state (moments, velocities); subclasses extend this."""
        self.built = True

    def add_slot(self, variable, name, fill=0.0):
        """An array shaped like ``variable``, filled with ``fill``, kept for it under ``name``."""
        array = xp_of(variable.data).full_like(variable.data, fill)
        self._slots.setdefault(name, {})[id(variable)] = array
        return array

    def add_slots(self, variables, *names, fill=0.0):
        """``add_slot(v, name, fill)`` for each variable v and each of ``names``."""
        for name in names:
            for variable in variables:
                self.add_slot(variable, name, fill)

    def slot(self, variable, name):
        """The state array ``name`` of ``variable``; for part of a variable (an object with
        ``whole`` and ``part``, as an ``update_loop`` may pass), the same part of the state."""
        whole = getattr(variable, "whole", None)
        if whole is not None:
            return variable.part(self._slots[name][id(whole)])
        return self._slots[name][id(variable)]

    def scratch(self, variable, count):
        """``count`` work arrays shaped like ``variable``, allocated once and reused by every
        step, so that an update writes its intermediate results without allocating (they hold
        no state: nothing in them survives a step)."""
        whole = getattr(variable, "whole", None)
        if whole is not None:
            return [variable.part(b) for b in self.scratch(whole, count)]
        buffers = self._scratch.get(id(variable))
        if buffers is None or len(buffers) < count:
            xp = xp_of(variable.data)
            buffers = [xp.empty_like(variable.data) for _ in range(count)]
            self._scratch[id(variable)] = buffers
        return buffers

    # ----- weight decay ------------------------------------------------------------------------
    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Exempt variables from weight decay (before the optimizer is built, as in Keras).

        Args:
            var_list: variables to exempt.
            var_names: strings; a variable whose name contains any of them is exempt (e.g.
                ``["bias"]`` exempts every bias).
        """
        if self.built:
            raise ValueError(
                f"{type(self).__name__}: exclude_from_weight_decay() can only be called before "
                f"the optimizer is built (before its first step)."
            )
        self._exclude_ids = {id(v) for v in var_list or ()}
        names = sorted(set(var_names or ()))
        self._exclude_pattern = re.compile("|".join(map(re.escape, names))) if names else None

    def _use_weight_decay(self, variable):
        if id(variable) in self._exclude_ids:
            return False
        name = variable.name or ""
        return self._exclude_pattern is None or self._exclude_pattern.search(name) is None

    # ----- one step ----------------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars):
        """Apply ``[(gradient, variable), ...]`` (TensorFlow's spelling of :meth:`apply`)."""
        grads, variables = zip(*grads_and_vars) if grads_and_vars else ((), ())
        return self.apply(list(grads), list(variables))

    def apply(self, grads, trainable_variables):
        """One optimisation step: update each variable from its gradient.

        Variables whose gradient is None are left alone, with a warning naming them (as Keras).
        A variable with ``overwrite_with_gradient`` set is assigned its gradient instead (no
        clipping, weight decay, update or constraint), as Keras does for such "gradients" that
        carry a new value (for example the scales of float8 training).

        Raises:
            ValueError: a gradient whose shape differs from its variable's, or no gradient at all.
        """
        trainable_variables = list(trainable_variables)
        if not trainable_variables:
            return
        if not self.built:
            self.build(trainable_variables)
        grads, variables, missing = self._checked(grads, trainable_variables)
        if missing:
            warnings.warn(
                f"Gradients do not exist for variables {missing} when minimizing the loss.",
                stacklevel=2,
            )
        grads, variables = _overwrite_with_gradients(grads, variables)
        if self.clipnorm or self.global_clipnorm or self.clipvalue:
            grads = self._clip(grads)
        learning_rate = self.learning_rate
        if self.weight_decay is not None:
            self._apply_weight_decay(variables, learning_rate)
        self._backend_update_step(grads, variables, learning_rate)
        for v in variables:
            if v.constraint is not None:
                v.assign(v.constraint(v.data))
        self.iterations += 1

    def _checked(self, grads, variables):
        """(gradient arrays, their variables, names of variables without a gradient).

        Raises:
            ValueError: a gradient whose shape differs from its variable's, or no gradient.
        """
        grads = list(grads)
        for g, v in zip(grads, variables):
            if not isinstance(g, ndarray_types) or g.shape != v.data.shape:
                break
        else:  # the usual case: an array of the right shape for every variable
            if len(grads) == len(variables):
                return grads, variables, ()
        checked, kept, missing = [], [], []
        for g, v in zip(grads, variables):
            if g is None:
                missing.append(v.name)
                continue
            if not isinstance(g, ndarray_types):
                g = g.data if isinstance(g, Tensor) else xp_of(v.data).asarray(g)
            if g.shape != v.data.shape:
                raise ValueError(
                    f"{type(self).__name__}: gradient of shape {g.shape} for variable "
                    f"{getattr(v, 'path', None) or v.name!r} of shape {v.shape}"
                )
            checked.append(g)
            kept.append(v)
        if not kept:
            raise ValueError(
                f"{type(self).__name__}: no gradients provided for any variable; check that the "
                f"loss depends on the weights being trained."
            )
        return checked, kept, missing

    def _clip(self, grads):
        """Keras's clipping of the gradients, one rule at most (see the class docstring)."""
        if self.clipnorm is not None and self.clipnorm > 0:
            c = self.clipnorm
            return [g * c / max(float(xp_of(g).sqrt((g * g).sum())), c) for g in grads]
        if self.global_clipnorm is not None and self.global_clipnorm > 0:
            c = self.global_clipnorm
            norm = math.sqrt(sum(float((g * g).sum()) for g in grads))
            # c min(1/N, 1/c), with N - N turning an infinite or NaN norm into NaN, as in Keras
            with np.errstate(divide="ignore", invalid="ignore"):
                scale = c * min(np.float64(1.0) / norm, 1.0 / c) + (norm - norm)
            return [g * g.dtype.type(scale) for g in grads]
        if self.clipvalue is not None and self.clipvalue > 0:
            v = self.clipvalue
            return [xp_of(g).clip(g, -v, v) for g in grads]
        return grads

    def _apply_weight_decay(self, variables, learning_rate):
        for v in variables:
            if self._use_weight_decay(v):
                v.data -= v.data * (learning_rate * self.weight_decay)

    def _backend_update_step(self, grads, variables, learning_rate):
        """Run ``update_step`` on every (gradient, variable) pair: through
        ``update_loop(self, grads, variables, learning_rate)`` when one is set (``fit`` sets one
        that runs :meth:`fused_update`'s kernel, or ``update_step`` on a large variable in
        cache-sized blocks, see ``chainrule.fast.updates``), else one pair after the other."""
        if self.update_loop is not None:
            return self.update_loop(self, grads, variables, learning_rate)
        for g, v in zip(grads, variables):
            self.update_step(g, v, learning_rate)
        return None

    def update_step(self, gradient, variable, learning_rate):
        """Update ``variable`` in place from its ``gradient`` (the subclass's rule)."""
        raise NotImplementedError

    def fused_update(self, variable, learning_rate):
        """This step's :meth:`update_step` of ``variable`` as one of the fused kernels of
        ``chainrule.fast.fused``, which ``fit`` runs in its place where Numba is installed:
        ``(kernel name, state arrays, coefficients)``, in the kernel's order after the weights
        and the gradient; None where the optimizer has no such kernel."""
        return None

    # ----- configuration -----------------------------------------------------------------------
    def get_config(self):
        rate = self._learning_rate
        if isinstance(rate, LearningRateSchedule):
            rate = serialize_schedule(rate)
        return {
            "name": self.name,
            "learning_rate": rate,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
        }

    @classmethod
    def from_config(cls, config):
        """The optimizer described by ``config``; a schedule in it is rebuilt from its name."""
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = deserialize_schedule(config["learning_rate"])
        return cls(**config)


def _takes_an_argument(fn):
    """True when ``fn`` can be called with one positional argument (the step)."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return True
    try:
        signature.bind(0)
    except TypeError:
        return False
    return True


def _overwrite_with_gradients(grads, variables):
    """Assign its gradient to each variable marked ``overwrite_with_gradient``; return the
    other (gradient, variable) pairs, for the update."""
    for v in variables:  # a loop, not any(): this runs on every step
        if getattr(v, "overwrite_with_gradient", False):
            break
    else:
        return grads, variables
    kept_grads, kept_variables = [], []
    for g, v in zip(grads, variables):
        if getattr(v, "overwrite_with_gradient", False):
            v.assign(g)
        else:
            kept_grads.append(g)
            kept_variables.append(v)
    return kept_grads, kept_variables
