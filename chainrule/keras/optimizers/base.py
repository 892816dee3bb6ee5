"""The Optimizer: turns gradients into weight updates, W <- W - step(dL/dW).

``apply(grads, variables)`` runs Keras 3's sequence: build the per-variable state on first use,
drop the variables without a gradient, clip the gradients (``clipnorm``, ``global_clipnorm`` or
``clipvalue``: one of them at most), decay the weights (decoupled: W <- W - η λ W), call the
subclass's ``update_step(gradient, variable, learning_rate)`` for each pair, apply constraints,
and count the step in ``iterations``. The learning rate, and a schedule, is read once per step, at
the value of ``iterations`` *before* it is incremented, and handed to ``update_step`` as a Python
float. Updates are written in place into the variables' arrays.

As in Keras 3, the optimizer's state is variables (``keras.Variable``, listed in ``variables``):
``iterations`` (int32, as Keras makes it with JAX and PyTorch), the learning rate (float32, unless
a schedule gives it) and what ``build`` makes for each trained variable (moments, velocities).
"""

import functools
import inspect
import math
import re
import warnings

import numpy as np

from ...backend import ndarray_types, xp_of
from ...engine import Tensor, as_array
from ..initializers import Constant
from ..keras_tensor import unique_name
from ..naming import snake_case
from ..variables import Variable, add_state_variable
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
        name: the optimizer's name, the first part of its variables' paths; by default its
            class's in snake_case, numbered as Keras numbers names (``adam``, ``adam_1``...).

    Example::

        optimizer = keras.optimizers.SGD(0.1)
        optimizer.learning_rate            # <Variable path=sgd/learning_rate, shape=(), ...>
        optimizer.learning_rate = 0.01     # or optimizer.learning_rate.assign(0.01)
        int(optimizer.iterations)          # 0, then 1 after the first apply()

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
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
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
        if gradient_accumulation_steps and not gradient_accumulation_steps >= 2:
            raise ValueError(
                f"`gradient_accumulation_steps` must be an integer >= 2. Received: "
                f"gradient_accumulation_steps={gradient_accumulation_steps}"
            )
        if use_ema and not 0 <= ema_momentum <= 1:
            raise ValueError(
                f"`ema_momentum` must be in the range [0, 1]. Received: ema_momentum={ema_momentum}"
            )
        if use_ema and ema_overwrite_frequency is not None:
            if not isinstance(ema_overwrite_frequency, int) or ema_overwrite_frequency < 1:
                raise ValueError(
                    f"`ema_overwrite_frequency` must be an integer >= 1 or None. Received: "
                    f"ema_overwrite_frequency={ema_overwrite_frequency}"
                )
        self.weight_decay = weight_decay
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.use_ema, self.ema_momentum = use_ema, ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.name = name or unique_name(snake_case(type(self).__name__))  # adam, adam_1...
        self._variables = []  # every variable of the optimizer, in the order made
        self._iterations = self.add_variable((), initializer=0, dtype="int32", name="iteration")
        if callable(learning_rate):
            self._learning_rate = learning_rate
        else:
            self._learning_rate = self.add_variable(
                (), initializer=self._checked_rate(learning_rate), name="learning_rate"
            )
        self.built = False
        self._slots = {}
        self._scratch = {}
        # how update_step is run over the variables (see _backend_update_step); None: in turn
        self.update_loop = None
        self._exclude_ids = set()
        self._exclude_pattern = None

    # ----- the learning rate and the step count ------------------------------------------------
    @property
    def learning_rate(self):
        """The learning rate η: the float32 Variable made from a float ``learning_rate``
        (``assign`` to it, or set this attribute, to change it); with a schedule or a callable,
        its value at ``iterations`` as a float32 scalar Tensor, as Keras gives it.

        Setting a number assigns it to the variable (as float32); setting a schedule or a
        callable replaces the variable, which leaves :attr:`variables` (as in Keras).

        Raises:
            TypeError: (on setting) a number where a schedule or a callable gives the rate.
            ValueError: (on setting) a negative, NaN or non-numeric rate.
        """
        rate = self._learning_rate
        if isinstance(rate, Variable):
            return rate
        return Tensor(np.float32(self._scheduled_rate()))

    @learning_rate.setter
    def learning_rate(self, value):
        rate = self._learning_rate
        if callable(value):
            if isinstance(rate, Variable):
                self._variables = [v for v in self._variables if v is not rate]
            self._learning_rate = value
            return
        if not isinstance(rate, Variable):
            raise TypeError(
                f"{type(self).__name__} was created with a learning-rate schedule "
                f"({type(rate).__name__}), so its learning rate cannot be set to a number; "
                f"create the optimizer with a float learning_rate to change it during training."
            )
        rate.assign(self._checked_rate(value))

    lr = learning_rate

    def _checked_rate(self, value):
        """``value`` as the float32 the learning-rate variable holds, checked to be a learning
        rate; beyond float32's range it is inf, as in Keras (the cast does not warn).

        Raises:
            ValueError: a negative, NaN or non-numeric value.
        """
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
        with np.errstate(over="ignore"):
            return np.float32(value)

    def _current_learning_rate(self):
        """η for this step, as a Python float holding the float32 value that Keras computes with
        (0.10000000149011612 for 0.1): the variable's, or the schedule's at ``iterations``."""
        rate = self._learning_rate
        if isinstance(rate, Variable):
            return float(rate.data)
        return float(np.float32(self._scheduled_rate()))

    def _scheduled_rate(self):
        """The schedule's (or callable's) learning rate at the current ``iterations``, as a
        float: a callable of one argument is given the step number, one of none is just called
        (Keras 3's convention for plain callables)."""
        rate, step = self._learning_rate, int(self._iterations.data)
        if isinstance(rate, LearningRateSchedule) or _takes_an_argument(rate):
            return float(rate(step))
        return float(rate())

    @property
    def iterations(self):
        """The number of steps applied: an int32 Variable, 0 before the first :meth:`apply`.
        Setting it assigns the variable (a schedule then continues from there). With
        ``gradient_accumulation_steps`` N, as in Keras, the number of updates made: the calls
        of :meth:`apply` divided by N, rounded down (an int32 scalar Tensor); the variable
        still counts the calls, and a schedule reads that count."""
        if self.gradient_accumulation_steps:
            return Tensor(np.int32(self._updates_made()))
        return self._iterations

    @iterations.setter
    def iterations(self, value):
        self._iterations.assign(value)

    def _updates_made(self):
        """``iterations`` as a Python int: the updates made so far."""
        calls = int(self._iterations.data)
        steps = self.gradient_accumulation_steps
        return calls // steps if steps else calls

    def _local_step(self):
        """t = iterations + 1, the number of the update being made (counted from 1), as a
        Python int: what the updates' bias corrections raise their β to."""
        return self._updates_made() + 1

    def _count_step(self):
        """iterations <- iterations + 1, written into the variable's array: ``+=`` on a 0-d
        array costs several times more, on every step."""
        count = self._iterations.data
        count[()] = int(count) + 1

    # ----- state -------------------------------------------------------------------------------
    @property
    def variables(self):
        """The optimizer's variables, in Keras's order: ``iterations``, the learning rate (unless
        a schedule or a callable gives it), then the state that :meth:`build` made, in the order
        it made it (each trained variable's slots together: m₀, v₀, m₁, v₁, ... for Adam)."""
        return list(self._variables)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if callable(cls.__dict__.get("build")):
            cls.build = _base_state_first(cls.__dict__["build"])

    def build(self, variables):
        """Create the per-variable state (moments, velocities); subclasses extend this. The
        state of ``use_ema`` and ``gradient_accumulation_steps`` comes first, as in Keras: each
        variable's moving average, then each one's gradient accumulator."""
        self.__dict__.setdefault("_built_with", list(variables))
        self._make_base_state(variables)
        self.built = True

    def _make_base_state(self, variables):
        if self.__dict__.get("_base_state_made"):
            return
        self._base_state_made = True
        if self.use_ema:
            for v in variables:
                self.add_slot(v, "average")
        if self.gradient_accumulation_steps:
            for v in variables:
                self.add_slot(v, "gradient_accumulator")

    def add_variable(self, shape, initializer="zeros", dtype=None, aggregation="none", name=None):
        """A non-trainable variable of the optimizer's, listed in :attr:`variables`, with path
        ``"{optimizer name}/{name}"``, as Keras makes one.

        Args:
            shape: its shape.
            initializer: a name (``"zeros"``), an initializer, or the initial value.
            dtype: default float32.
            aggregation: accepted as Keras accepts it (one device: nothing is aggregated).
            name: default ``"variable"``.
        """
        return add_state_variable(self, initializer, shape, dtype, aggregation, name)

    def add_variable_from_reference(self, reference_variable, name=None, initializer="zeros"):
        """An optimizer variable (:meth:`add_variable`) shaped and typed like
        ``reference_variable``, named as Keras names it: the reference's path with "_" for "/",
        then "_" and ``name`` (default ``"var"``), e.g. ``dense_kernel_momentum``."""
        reference = getattr(reference_variable, "path", None) or str(reference_variable.name)
        label = f"{reference.replace('/', '_').replace(':', '_')}_{name or 'var'}"
        return self.add_variable(
            reference_variable.shape, initializer, dtype=reference_variable.dtype, name=label
        )

    def add_optimizer_variables(self, trainable_variables, name, initializer="zeros"):
        """For each of ``trainable_variables``, an optimizer variable shaped like it
        (:meth:`add_variable_from_reference`) per name in ``name``, made variable by variable
        (m₀, v₀, m₁, v₁, ...), as Keras 3 makes them: a list for one name, a tuple of lists for
        several (one initializer for all, or one each); None in place of a variable that is
        overwritten with its gradient.

        Raises:
            ValueError: as many initializers as names are needed.
        """
        names = [name] if isinstance(name, str) else list(name)
        one_initializer = isinstance(name, str) or not isinstance(initializer, (list, tuple))
        initializers = [initializer] * len(names) if one_initializer else list(initializer)
        if len(names) != len(initializers):
            raise ValueError(
                f"The number of provided names must match the number of provided initializers.  "
                f"Received name='{name}', initializer='{initializer}'"
            )
        made = tuple([] for _ in names)
        for variable in trainable_variables:
            skipped = getattr(variable, "overwrite_with_gradient", False)
            for kept, label, init in zip(made, names, initializers):
                kept.append(
                    None if skipped else self.add_variable_from_reference(variable, label, init)
                )
        return made[0] if isinstance(name, str) else made

    def set_weights(self, weights):
        """Assign :attr:`variables` from ``weights``, arrays in the same order.

        Raises:
            ValueError: the optimizer is not built yet, or an array's shape differs.
        """
        if not self.built:
            raise ValueError(
                "You are calling `set_weights()` on an optimizer that has not yet been built. "
                "Please call `optimizer.build(trainable_variables)` to create the optimizer "
                "weights before calling `set_weights()`."
            )
        for variable, weight in zip(self.variables, weights):
            weight = np.asarray(weight)
            if tuple(variable.shape) != weight.shape:
                raise ValueError(
                    f"Optimizer variable {variable.path} has shape {tuple(variable.shape)} not "
                    f"compatible with provided weight shape {weight.shape}."
                )
            variable.assign(weight)

    def save_own_variables(self, store):
        """Write :attr:`variables` into ``store`` (a dict), under "0", "1", ... as Keras."""
        for i, variable in enumerate(self.variables):
            store[str(i)] = variable.numpy()

    def load_own_variables(self, store):
        """Read :attr:`variables` back from a ``store`` that :meth:`save_own_variables` wrote;
        one of another length is skipped with a warning, as Keras skips it."""
        if len(store.keys()) != len(self.variables):
            message = (
                f"Skipping variable loading for optimizer '{self.name}', because it has "
                f"{len(self.variables)} variables whereas the saved optimizer has "
                f"{len(store.keys())} variables. "
            )
            if not self.variables:
                message += "This is likely because the optimizer has not been called/built yet."
            warnings.warn(message, stacklevel=2)
            return
        for i, variable in enumerate(self.variables):
            variable.assign(store[str(i)])

    def add_slot(self, variable, name, fill=0.0):
        """The state ``name`` of ``variable``: an optimizer variable shaped like it, filled with
        ``fill`` (:meth:`add_variable_from_reference`). Returns its array, which the updates
        read with :meth:`slot` and write in place."""
        state = self.add_variable_from_reference(variable, name, initializer=Constant(fill))
        self._slots.setdefault(name, {})[id(variable)] = state.data
        return state.data

    def add_slots(self, variables, *names, fill=0.0):
        """``add_slot(v, name, fill)`` for each variable v and, for each one, each of ``names``,
        so that one variable's slots are listed together, as Keras lists them."""
        for variable in variables:
            for name in names:
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
        if self.loss_scale_factor is not None:  # the gradients of the loss scale_loss scaled
            grads = [g / self.loss_scale_factor for g in grads]
        steps = self.gradient_accumulation_steps
        if not steps:
            self._update(grads, variables)
        else:
            self._accumulate(grads, variables, steps)
        if self.use_ema:
            self._update_moving_averages()
        for v in variables:
            if v.constraint is not None:
                v.assign(v.constraint(v.data))
        self._count_step()

    def _direct_apply(self, variables):
        """:meth:`apply` for ``variables`` reduced to what it does in the usual training step:
        a function of one step's gradients (arrays of the variables' shapes, none missing) that
        clips them, decays the weights and updates them (:meth:`_update`), then counts the step.
        None where apply would do more: a loss scale, gradient accumulation, moving averages,
        a constraint, a variable overwritten with its gradient, or an ``apply`` of the
        subclass's or the instance's own (a distributed optimizer's, which averages the
        gradients first). ``fit`` builds it once an epoch, for the epoch's steps."""
        usual = (
            self.built
            and "apply" not in vars(self)
            and all(
                getattr(type(self), name) is getattr(Optimizer, name)
                for name in ("apply", "_checked")
            )
            and self.loss_scale_factor is None
            and not self.gradient_accumulation_steps
            and not self.use_ema
            and not any(
                v.constraint is not None or getattr(v, "overwrite_with_gradient", False)
                for v in variables
            )
        )
        if not usual:
            return None
        update, count_step = self._update, self._count_step

        def apply(grads):
            update(grads, variables)
            count_step()

        return apply

    def _accumulate(self, grads, variables, steps):
        """``gradient_accumulation_steps``: add the gradients to their accumulators, except on
        every ``steps``-th call, which updates from the mean of the accumulated gradients and its
        own, then empties the accumulators, as Keras."""
        accumulators = [self.slot(v, "gradient_accumulator") for v in variables]
        if (int(self._iterations.data) + 1) % steps:
            for g, accumulated in zip(grads, accumulators):
                accumulated += g
            return
        self._update([(g + a) / steps for g, a in zip(grads, accumulators)], variables)
        for accumulated in accumulators:
            accumulated[...] = 0

    def _update(self, grads, variables):
        """Clipping, weight decay and the update itself, on one step's gradients."""
        if self.clipnorm or self.global_clipnorm or self.clipvalue:
            grads = self._clip(grads)
        learning_rate = self._current_learning_rate()
        if self.weight_decay is not None:
            self._apply_weight_decay(variables, learning_rate)
        self._backend_update_step(grads, variables, learning_rate)

    def _update_moving_averages(self):
        """``use_ema``: a <- m a + (1 - m) w for every variable the optimizer was built with (m =
        0 on the first step, ``ema_momentum`` after); every ``ema_overwrite_frequency`` steps the
        variables take their averages' values, as Keras."""
        momentum = self.ema_momentum if self._updates_made() else 0.0
        trained = self._trained_variables()
        for v in trained:
            average = self.slot(v, "average")
            average[...] = momentum * average + (1 - momentum) * v.data
        frequency = self.ema_overwrite_frequency
        if frequency and (self._updates_made() + 1) % frequency == 0:
            self.finalize_variable_values(trained)

    def finalize_variable_values(self, var_list):
        """With ``use_ema``, set each variable of ``var_list`` to its moving average: ``fit``
        calls it when its epochs end, as Keras's does; a training loop of your own calls it."""
        if not self.use_ema:
            return
        var_list = list(var_list)
        averages = self._slots.get("average", {})
        if len(var_list) != len(averages):
            raise ValueError(
                f"The length of model variables ({len(var_list)}) to override does not match the "
                f"length of model variables stored in the optimizer ({len(averages)}). Please "
                f"check if the optimizer was called on your model."
            )
        for v in var_list:
            v.assign(averages[id(v)])

    def swap_moving_averages(self):
        """With ``use_ema``, exchange each variable's values with its moving average's (what
        ``SwapEMAWeights`` does around an evaluation); a second call swaps them back.

        Raises:
            ValueError: the optimizer keeps no moving averages (``use_ema`` off, or not built).
        """
        for v in self._averaged_variables():
            average = self.slot(v, "average")
            kept = v.data.copy()
            v.assign(average)
            average[...] = kept

    def reset_moving_averages(self):
        """With ``use_ema``, set each moving average to its variable's value."""
        for v in self._averaged_variables():
            self.slot(v, "average")[...] = v.data

    def _averaged_variables(self):
        if not self.use_ema or "average" not in self._slots:
            raise ValueError(
                f"SwapEMAWeights must be used when `use_ema=True` is set on the optimizer (and "
                f"after it has been built). Received: use_ema={self.use_ema}"
            )
        return self._trained_variables()

    def _trained_variables(self):
        return self.__dict__.get("_built_with", [])

    # ----- for update_step methods written as Keras's (a custom optimizer) ----------------------
    def _get_variable_index(self, variable):
        """The position of ``variable`` among those the optimizer was built with: where a
        custom ``build`` keeps its per-variable state in lists, as Keras's guide writes it."""
        indices = self.__dict__.get("_variable_indices")
        if indices is None:
            indices = {id(v): i for i, v in enumerate(self._trained_variables())}
            self._variable_indices = indices
        return indices[id(variable)]

    def assign(self, variable, value):
        """variable <- value, in place (Keras's ``Optimizer.assign``)."""
        variable.assign(as_array(value))

    def assign_add(self, variable, value):
        """variable <- variable + value, in place."""
        variable.data[...] += as_array(value)

    def assign_sub(self, variable, value):
        """variable <- variable - value, in place."""
        variable.data[...] -= as_array(value)

    def scale_loss(self, loss):
        """The loss times ``loss_scale_factor`` (the loss itself without one): what a training
        step differentiates, :meth:`apply` dividing the gradients by the factor again."""
        if self.loss_scale_factor is not None:
            return loss * self.loss_scale_factor
        return loss

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
        """The optimizer's arguments; the learning rate as Keras writes it: the float32
        variable's value as a float (0.0010000000474974513 for 0.001), or the schedule's
        description."""
        rate = self._learning_rate
        if isinstance(rate, Variable):
            rate = float(rate.data)
        elif isinstance(rate, LearningRateSchedule):
            rate = serialize_schedule(rate)
        return {
            "name": self.name,
            "learning_rate": rate,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config):
        """The optimizer described by ``config``; a schedule in it is rebuilt from its name."""
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = deserialize_schedule(config["learning_rate"])
        return cls(**config)


def _base_state_first(build):
    """A subclass's ``build`` made to create the base class's state (moving averages, gradient
    accumulators) before its own slots, in Keras's order, and to remember the variables."""
    if getattr(build, "base_state_first", False):
        return build

    @functools.wraps(build)
    def build_after_base_state(self, variables):
        variables = list(variables)
        self._built_with = variables
        self._make_base_state(variables)
        return build(self, variables)

    build_after_base_state.base_state_first = True
    return build_after_base_state


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
