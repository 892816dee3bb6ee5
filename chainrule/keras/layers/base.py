"""The Layer: weights created lazily from the first input, a forward ``call``, and Keras's API
around it (names, ``get_weights``/``set_weights``, ``get_config``)."""

import functools
import inspect
import warnings

import numpy as np

from ... import nest
from ...engine import ShapeError, Tensor, as_array
from ...ops import cast
from ...variables import Variable
from .. import config
from .. import constraints as constraints_module
from .. import initializers as initializers_module
from .. import regularizers as regularizers_module
from ..keras_tensor import (
    KerasTensor,
    PositionalArguments,
    is_symbolic,
    output_specs,
    passes_shape_through,
    symbolic_call,
    unique_name,
)
from ..losses import get_keras_mask, set_keras_mask
from ..metrics import Metric
from ..naming import current_path, name_scope, snake_case
from ..saving.reading import stored_order
from ..saving.serialization import (
    PlannedWeight,
    build_config_for,
    default_hook,
    deserialize_config,
    deserialize_keras_object,
    dtype_policy,
    parameter_names,
    planning_weights,
    serialize_keras_object,
    shape_from_config,
)
from ..variables import Variable as KerasVariable

# The layer calls running now (outermost first), and the ``training`` each of them runs with:
# a nested call inherits ``training`` when it is not given one, and only the outermost call
# clears the losses added during the previous call.
_running = []
_training_context = []


def as_tensor(x, dtype, kinds="fiub", layer=None):
    """Layer inputs as a Tensor; those whose dtype kind is in ``kinds`` are cast to the layer's
    floating dtype. Keras autocasts floats only ("f"); chainrule's own layers, whose math is
    written for floats, take integers and booleans as floats too.

    Raises:
        TypeError: strings for a layer that computes on numbers (naming ``layer``).
    """
    if not isinstance(x, Tensor):
        x = Tensor(as_array(x, text=dtype == object))
    if x.dtype == object and dtype != object and not _takes_strings(layer):
        owner = "A layer" if layer is None else f'Layer "{layer.name}" ({type(layer).__name__})'
        raise TypeError(
            f"{owner} computes on numbers but received strings (shape {x.shape}). Turn text "
            f"into numbers first, e.g. with keras.layers.TextVectorization or StringLookup."
        )
    if x.dtype != dtype and x.dtype.kind in kinds:
        x = cast(x, dtype=dtype)
    return x


def _takes_strings(layer):
    """Whether ``layer`` is handed strings as they come: a model or a Lambda (whose layers or
    function decide), or a layer whose ``call`` is the user's (Keras casts floats alone, and a
    custom layer may compute on text with tf.strings)."""
    if layer is None:
        return False
    return getattr(layer, "_passes_strings_on", False) or not layer._call_is_own()


def _marks_built(build):
    """``build`` made to do what Keras's wrapper of every ``build`` does: its outermost call on
    a layer (whoever makes it: the first call, or the user directly) runs in the layer's name
    scope (``layer.path`` is then the scope's path), marks the layer built, remembers the input
    shape it was given, and from then on refuses new state (weights, sublayers), in a later
    build too. A subclass's ``build`` calling ``super().build`` runs inside it."""
    if getattr(build, "marks_built", False):
        return build

    @functools.wraps(build)
    def build_and_mark(self, *args, **kwargs):
        if self.__dict__.get("_building"):
            return build(self, *args, **kwargs)
        object.__setattr__(self, "_building", True)
        try:
            with self._open_name_scope():
                object.__setattr__(self, "_path", current_path())
                build(self, *args, **kwargs)
        finally:
            object.__setattr__(self, "_building", False)
        if len(args) == 1 and not kwargs:
            object.__setattr__(self, "_build_shape", args[0])
        self.built = True
        object.__setattr__(self, "_state_locked", True)

    build_and_mark.marks_built = True
    return build_and_mark


class Layer:
    """Base class of every layer.

    Subclasses create their weights in ``build(input_shape)`` with :meth:`add_weight` (called once,
    on the first input, so a layer need not be told its input size) and compute in
    ``call(inputs)`` with Tensor ops, whose gradients come from the engine.

    Layers and Variables assigned to attributes (also inside lists, tuples and dicts) are
    tracked: their weights and losses are this layer's too, in the order the layer first saw
    them, as Keras orders them. Once ``build`` has run, new state is refused, as in Keras.
    Called on ``keras.Input`` tensors, a layer records the call instead of computing (the
    functional API).

    Args:
        name: the layer's name (default: the class name in snake_case, made unique).
        trainable: whether its weights are updated by training.
        dtype: the dtype of its weights and computations (default float32).
        input_shape: the shape of one sample, for a first layer (``input_shape=(784,)``).
        activity_regularizer: a penalty r(y) of each output y, divided by y's batch size and
            added with :meth:`add_loss` at every call (default None).
    """

    _call_training = {}
    _convert_input_args = True  # False: ``__call__`` passes the arguments to ``call`` unconverted
    _call_mask = {}
    _call_first = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if callable(cls.__dict__.get("build")):
            cls.build = _marks_built(cls.__dict__["build"])

    def __init__(
        self,
        name=None,
        trainable=True,
        dtype=None,
        input_shape=None,
        activity_regularizer=None,
        **kwargs,
    ):
        batch_input_shape = kwargs.pop("batch_input_shape", None)
        input_dim = kwargs.pop("input_dim", None)
        batch_size = kwargs.pop("batch_size", None)
        if kwargs:
            raise TypeError(
                f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}"
            )
        if input_shape is None and input_dim is not None:
            input_shape = (input_dim,)
        if input_shape is not None:
            warnings.warn(  # as Keras 3 does, wherever the layer goes
                "Do not pass an `input_shape`/`input_dim` argument to a layer. When using "
                "Sequential models, prefer using an `Input(shape)` object as the first layer in "
                "the model instead.",
                stacklevel=2,
            )
            batch_input_shape = (batch_size,) + tuple(input_shape)
        self.batch_input_shape = None if batch_input_shape is None else tuple(batch_input_shape)
        self.name = name or unique_name(snake_case(type(self).__name__))
        if isinstance(dtype, dict):  # Keras's DTypePolicy description, as get_config writes it
            dtype = deserialize_keras_object(dtype)
        self.dtype = np.dtype(dtype or config.floatx())
        self.built = False
        self._weights = []
        self._created_trainable = set()  # ids of the weights that `trainable` switches
        self._losses = []
        self.activity_regularizer = regularizers_module.get(activity_regularizer)
        self._trainable = bool(trainable)  # nothing to pass it on to yet

    # ----- weights -----------------------------------------------------------------------------
    def add_weight(
        self,
        shape=None,
        initializer=None,
        dtype=None,
        trainable=True,
        autocast=True,
        regularizer=None,
        constraint=None,
        aggregation="none",
        overwrite_with_gradient=False,
        name=None,
    ):
        """Create a weight of this layer, as Keras 3's ``add_weight``.

        Args:
            shape: the weight's shape (default ``()``, a scalar).
            initializer: an initializer or its name; by default ``"glorot_uniform"`` for a
                floating dtype and ``"zeros"`` for integers and booleans.
            dtype: the weight's dtype (default: the layer's).
            trainable: whether training updates it (and ``layer.trainable`` switches it).
            autocast, aggregation: kept on the variable, as Keras keeps them.
            regularizer: a penalty r(w) that ``layer.losses`` adds while the weight trains.
            constraint: a projection applied after each optimizer update.
            overwrite_with_gradient: mark the weight as one the optimizer overwrites with its
                "gradient" instead of updating it (``variable.overwrite_with_gradient``).
            name: the weight's name (default ``"variable"``, made unique as Keras does); its
                ``path`` is ``"<layer's path>/<name>"``: the layer's name after those of the
                layers it was first built or called in (``sequential/dense/kernel``).

        Raises:
            ValueError: the layer's ``build`` has run (Keras refuses new state after it).
        """
        self._check_state_unlocked(f"a weight ({name or 'variable'})")
        shape = tuple(() if shape is None else shape)
        dtype = np.dtype(dtype or self.dtype)
        if planning_weights():  # a file is being checked: record the weight, allocate nothing
            planned = PlannedWeight(
                tuple(int(n) for n in shape), dtype, trainable and self._trainable, name
            )
            self._track_weight(planned, trainable)
            return planned
        if initializer is None:
            initializer = "glorot_uniform" if dtype.kind in "fc" else "zeros"
        with name_scope(self.name, caller=self):
            variable = KerasVariable(
                initializers_module.get(initializer),
                shape=shape,
                dtype=dtype,
                trainable=trainable and self._trainable,  # frozen with its layer, as in Keras
                autocast=autocast,
                aggregation=aggregation,
                name=name or unique_name("variable"),
            )
        variable.constraint = constraints_module.get(constraint)
        variable.regularizer = None if regularizer is None else regularizers_module.get(regularizer)
        variable.overwrite_with_gradient = bool(overwrite_with_gradient)
        self._track_weight(variable, trainable)
        return variable

    def _track_weight(self, weight, trainable):
        """Make ``weight`` (from :meth:`add_weight`) one of this layer's own, in Keras's order:
        the weights created trainable before the others, each group in creation order."""
        order = self.__dict__.get("_tracking_order")
        if order is not None:
            self._held_in_order()  # items put in held lists since are older than this weight
            order[id(weight)] = weight
        if trainable:
            position = sum(1 for w in self._weights if id(w) in self._created_trainable)
            self._weights.insert(position, weight)
            self._created_trainable.add(id(weight))
        else:
            self._weights.append(weight)

    def add_variable(
        self,
        shape,
        initializer,
        dtype=None,
        trainable=True,
        autocast=True,
        regularizer=None,
        constraint=None,
        name=None,
    ):
        """:meth:`add_weight` with ``shape`` and ``initializer`` required (Keras's alias)."""
        return self.add_weight(
            shape=shape,
            initializer=initializer,
            dtype=dtype,
            trainable=trainable,
            autocast=autocast,
            regularizer=regularizer,
            constraint=constraint,
            name=name,
        )

    @property
    def trainable(self):
        """Whether training updates this layer's weights. Setting it sets it on every sublayer
        too, and on every weight created trainable, as Keras does (so setting it back to True
        makes them all trainable again; weights created non-trainable stay so)."""
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        value = bool(value)
        object.__setattr__(self, "_trainable", value)
        for weight in self._own_weights():
            if id(weight) in self._created_trainable:
                weight.trainable = value
        for layer in self._sublayers():
            layer.trainable = value

    # ----- tracking of sublayers and variables -------------------------------------------------
    def __setattr__(self, name, value):
        tracked = self.__dict__.get("_tracked")
        if (
            isinstance(value, Layer)
            or (isinstance(value, Variable) and not _is_own_weight(self, value))
            or (nest.is_nested(value) and _holds_trackables(name, value))
        ):
            if "built" not in self.__dict__:
                raise RuntimeError(
                    f"{type(self).__name__}.__init__ assigns {name!r} before calling "
                    f"super().__init__(): call super().__init__() first, so that the layers and "
                    f"variables assigned to attributes are tracked."
                )
            if tracked is None:
                tracked = {}
                object.__setattr__(self, "_tracked", tracked)
                object.__setattr__(self, "_tracking_order", {id(w): w for w in self._weights})
            self._held_in_order()  # items put in held lists since then come before ``value``
            order = self._tracking_order
            new = [v for v in _trackables_in(value) if id(v) not in order and v is not self]
            if new:
                self._check_state_unlocked(f"{type(new[0]).__name__} {name!r}")
            tracked[name] = None
            for item in new:
                self._see(item)
        elif tracked and name in tracked:
            del tracked[name]
        metric_names = self.__dict__.get("_metric_attributes")
        if _holds_metrics(value):
            if metric_names is None:
                metric_names = {}
                object.__setattr__(self, "_metric_attributes", metric_names)
            metric_names[name] = None
        elif metric_names and name in metric_names:
            del metric_names[name]
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        for registry in ("_tracked", "_metric_attributes"):
            names = self.__dict__.get(registry)
            if names and name in names:
                del names[name]
        object.__delattr__(self, name)

    def _held_in_order(self):
        """The weights of :meth:`add_weight` and the Layers and Variables that attributes hold
        now (also in lists and dicts), each once, in the order this layer first saw them, as
        Keras tracks them. What was put in a held list since the last look is seen now."""
        order = self.__dict__.get("_tracking_order")
        if order is None:
            return self._weights
        held = {id(v): v for v in self._tracked_values() if v is not self}
        if not held.keys() <= order.keys():
            for key, value in held.items():
                if key not in order:
                    self._see(value)
        if len(order) > len(held) + sum(1 for w in self._weights if id(w) not in held):
            added = {id(w) for w in self._weights}  # some are held by no attribute any more
            for key in [k for k in order if k not in held and k not in added]:
                del order[key]
                self._created_trainable.discard(key)
        return list(order.values())

    def _see(self, value):
        """Track ``value``, a Layer or Variable that an attribute holds, from now on; a Variable
        trainable now is one that ``trainable`` switches and that comes with the trainable."""
        self._tracking_order[id(value)] = value
        if isinstance(value, Variable) and value.trainable:
            self._created_trainable.add(id(value))

    def _tracked_values(self):
        """The Layers and Variables held by attributes, in assignment order (lists read now)."""
        for name in self.__dict__.get("_tracked", ()):
            yield from _trackables_in(self.__dict__[name])

    def _sublayers(self):
        """The layers this layer holds directly, in the order it first saw them, each once."""
        if not self.__dict__.get("_tracked"):
            return []
        return [value for value in self._held_in_order() if isinstance(value, Layer)]

    def _own_weights(self):
        """The weights of this layer itself in Keras's order: those created trainable (by
        :meth:`add_weight`, or Variables trainable when assigned) first, then the others, each
        group in the order the layer first saw them."""
        if self.__dict__.get("_tracking_order") is None:
            return self._weights  # kept in that order by add_weight
        own = [value for value in self._held_in_order() if not isinstance(value, Layer)]
        trained = self._created_trainable
        return [w for w in own if id(w) in trained] + [w for w in own if id(w) not in trained]

    def _check_state_unlocked(self, what):
        """Raise Keras's error for new state (``what``) in a layer whose build has run (a
        second build too: its weights exist already)."""
        if self.__dict__.get("_state_locked"):
            raise ValueError(
                f"You cannot add new elements of state (variables or sub-layers) to a layer "
                f"that is already built. All state must be created in the `__init__()` method "
                f"or in the `build()` method. (Layer '{self.name}' of type "
                f"{type(self).__name__} was given {what} after its build.)"
            )

    @property
    def weights(self):
        """Every weight: the layer's own, then its sublayers' (depth first), each once."""
        return _collect_weights(self, "all")

    @property
    def trainable_weights(self):
        """The weights training updates: none in (or below) a layer with trainable=False."""
        return _collect_weights(self, "trainable")

    @property
    def non_trainable_weights(self):
        return _collect_weights(self, "non_trainable")

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights
    variables = weights

    def get_weights(self):
        """The weights as a list of NumPy arrays (copies), in the order of ``weights``."""
        return [w.numpy().copy() for w in self.weights]

    def set_weights(self, weights):
        """Set the weights from a list of arrays of the same shapes, in ``get_weights`` order."""
        own = self.weights
        if len(weights) != len(own):
            raise ValueError(
                f"Layer {self.name!r} expects {len(own)} weights, but set_weights received "
                f"{len(weights)}."
            )
        for variable, value in zip(own, weights):
            value = np.asarray(value)
            if value.shape != variable.shape:
                raise ValueError(
                    f"Layer {self.name!r}: weight {variable.name!r} has shape {variable.shape}, "
                    f"but set_weights received an array of shape {value.shape}."
                )
        for variable, value in zip(own, weights):
            variable.assign(value)

    def count_params(self):
        """The number of scalar weights (the layer must be built)."""
        if not self.built:
            raise ValueError(
                f"Layer {self.name!r} is not built yet, so its weights do not exist: call it on "
                f"data or give the model an input_shape first."
            )
        return int(sum(w.size for w in self.weights))

    def add_metric(self, *args, **kwargs):
        """Removed in Keras 3 (as there): raises NotImplementedError, saying what to do."""
        raise NotImplementedError(
            f"Layer.add_metric() was removed in Keras 3 (layer '{self.name}'). Name the metric "
            f"in Model.compile(metrics=[...]), or create a metric (keras.metrics.Mean(), say) "
            f"in __init__ or build and call its update_state() in call or train_step."
        )

    def add_loss(self, loss):
        """Add ``loss`` (a Tensor, summed if it has several values) to this layer's ``losses``:
        called inside ``call``, it is a penalty that ``fit`` adds to the loss of this step.
        Losses added during one call of the outermost layer are cleared at its next call.

        Raises:
            ValueError: a symbolic tensor (of ``keras.Input``), which has no value to add.
        """
        if isinstance(loss, KerasTensor):
            raise ValueError(
                f"`add_loss()` can only be called from inside `build()` or `call()`, on a tensor "
                f"input. Received invalid value: {loss!r}. Layer '{self.name}' adds a loss "
                f"computed in its call(), when it runs on data."
            )
        self._losses.append(loss)

    @property
    def losses(self):
        """The penalties to add to the loss, as a list of Tensors: those added by
        :meth:`add_loss` (and activity regularizers) during the latest call, this layer's and
        every sublayer's, then r(w) for every trainable weight w that has a regularizer r."""
        found = []
        for layer in walk_layers(self):
            found += layer._losses
        for weight in self.trainable_weights:
            regularizer = getattr(weight, "regularizer", None)
            if regularizer is not None:
                found.append(regularizer(weight))
        return found

    def _clear_losses(self):
        """Forget the losses added during the previous call, this layer's and its sublayers'."""
        for layer in walk_layers(self):
            if layer._losses:  # (most hold none: assigning a tracked attribute costs more)
                layer._losses = []

    # ----- forward -----------------------------------------------------------------------------
    @_marks_built
    def build(self, input_shape):
        """Create the weights for inputs of ``input_shape`` (the batch axis included, as None)."""
        self.built = True

    def call(self, inputs, training=None):
        return inputs

    @passes_shape_through
    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    @property
    def supports_masking(self):
        """Whether the layer passes a mask on to its outputs: True when its class overrides
        :meth:`compute_mask` or it was set True (``self.supports_masking = True``), as Keras 3
        decides. A layer that does not drops the mask of its inputs, with a warning."""
        found = self.__dict__.get("_supports_masking")
        if found is None:
            return type(self).compute_mask is not Layer.compute_mask
        return found

    @supports_masking.setter
    def supports_masking(self, value):
        object.__setattr__(self, "_supports_masking", bool(value))

    def compute_mask(self, inputs, previous_mask):
        """The mask of the outputs: by default the mask that came in (``previous_mask``)."""
        return previous_mask

    def __call__(self, *args, **kwargs):
        """Call the layer as Keras does: ``layer(inputs, *more, training=..., **kwargs)``.

        The first argument is the input (a tensor, or a list or dict of them); the other
        positional and keyword arguments go to ``call`` as they are, arrays among them made
        Tensors. The first call builds the layer from the shapes of its tensor arguments.
        ``training`` left out is taken from the layer call this one runs inside, if any. The
        outermost call first clears the losses that the previous one added (``losses``). The
        layer's name scope is open throughout (see :meth:`_open_name_scope`).
        """
        with self._open_name_scope():
            return self._call_in_scope(*args, **kwargs)

    def _open_name_scope(self):
        """The layer's name scope: its name after its parent path, which is the path open where
        the layer first opens it (built or called), and stays that, as Keras keeps it: a Dense
        first called inside a Sequential makes ``sequential/dense/kernel``, one called on an
        Input at the top ``dense/kernel`` also when a Model later calls it."""
        if self.__dict__.get("_parent_path") is None:
            object.__setattr__(self, "_parent_path", current_path())
        return name_scope(self.name, caller=self)

    @property
    def path(self):
        """The layer's path, as Keras: its parent path and its name, once built; else None."""
        return self.__dict__.get("_path")

    def _call_in_scope(self, *args, **kwargs):
        if not args:
            first = self._first_call_parameter()
            if first not in kwargs:
                raise TypeError(
                    f'Layer "{self.name}" was called without inputs: pass them as the first '
                    f"argument, layer(x), or by the name of call's first parameter, "
                    f"layer({first}=x); got keyword arguments {sorted(kwargs)}."
                )
            args = (kwargs.pop(first),)
        if len(args) == 1 and isinstance(args[0], PositionalArguments):  # a recorded call
            args = tuple(args[0])
        inputs, more = args[0], args[1:]
        training = kwargs.pop("training", None)
        if more and any(is_symbolic(value) for value in args):
            return symbolic_call(self, PositionalArguments(*args), training, kwargs)
        input_masks = _masks_of(inputs)
        if is_symbolic(inputs):
            return self._symbolic_call(inputs, training, kwargs, input_masks, more)
        takes_training, default_training = self._training_parameter()
        if training is None:  # as Keras: from the call this one runs in, else call's default
            training = _training_context[-1] if _training_context else None
            training = default_training if training is None else training
        if not self._convert_input_args:  # call converts them itself
            x = inputs
        elif nest.is_nested(inputs):  # several inputs: build(input_shape) gets their shapes
            kinds = self._cast_input_kinds()
            x = nest.map_structure(lambda v: as_tensor(v, self.dtype, kinds, self), inputs)
        else:
            x = as_tensor(inputs, self.dtype, self._cast_input_kinds(), self)
        if self._convert_input_args:
            more = [nest.map_structure(self._convert_argument, value) for value in more]
            kwargs = {k: nest.map_structure(self._convert_argument, v) for k, v in kwargs.items()}
        if not self.built:
            self._build_from(x, more, kwargs)
        self.check_input(x)
        if not _running:
            self._clear_losses()
        if takes_training and training is not None:
            kwargs["training"] = training
        if kwargs.get("mask") is None and self._takes_mask() and not more:
            kwargs["mask"] = input_masks  # Keras hands the inputs' mask to call(..., mask=)
        previous_mask = input_masks if kwargs.get("mask") is None else kwargs["mask"]
        if kwargs.get("mask") is None and self.__dict__.get("_sample_mask_ndim"):
            # a run on samples for the output shape: a mask of ones, for call only
            kwargs["mask"] = Tensor(np.ones(x.shape[: self._sample_mask_ndim], dtype=bool))
        _running.append(self)
        _training_context.append(training)
        try:
            outputs = self.call(x, *more, **kwargs)
            if self.activity_regularizer is not None:
                self._add_activity_losses(outputs)
        finally:
            _running.pop()
            _training_context.pop()
        self._attach_masks(x, outputs, previous_mask)
        return outputs

    def _symbolic_call(self, inputs, training, kwargs, input_masks, more):
        """Record the call on KerasTensors, with the masks the outputs will carry (as
        KerasTensors of their shapes). A layer whose call takes ``mask`` and whose shape is found
        by running it on samples gets a mask of ones of the inputs' mask's rank then."""
        sample_mask = (
            input_masks is not None
            and kwargs.get("mask") is None
            and self._takes_mask()
            and not isinstance(input_masks, list)
        )
        if sample_mask:
            object.__setattr__(self, "_sample_mask_ndim", input_masks.ndim)
        try:
            outputs = symbolic_call(self, inputs, training, kwargs)
        finally:
            if sample_mask:
                object.__setattr__(self, "_sample_mask_ndim", None)
        self._clear_losses()  # those of the samples that found the shapes: Keras records none
        if not more:
            previous_mask = input_masks if kwargs.get("mask") is None else kwargs["mask"]
            self._attach_masks(inputs, outputs, previous_mask)
        return outputs

    def _takes_mask(self):
        """Whether ``call`` has a ``mask`` parameter (found once per class)."""
        cls = type(self)
        found = Layer._call_mask.get(cls)
        if found is None:
            found = "mask" in inspect.signature(cls.call).parameters
            Layer._call_mask[cls] = found
        return found

    def _attach_masks(self, inputs, outputs, previous_mask):
        """Attach ``compute_mask(inputs, previous_mask)`` to the outputs that have no mask yet,
        when the layer supports masking; warn that a mask is dropped when it does not."""
        if previous_mask is None and type(self).compute_mask is Layer.compute_mask:
            return  # no mask came in, and the layer makes none
        if not self.supports_masking:
            if previous_mask is None:
                return
            warnings.warn(
                f"Layer '{self.name}' (of type {type(self).__name__}) was passed an input with a "
                f"mask attached to it, but it does not support masking, so the layers after it "
                f"will not see the mask. Set supports_masking = True in a layer that keeps the "
                f"time axis, or define compute_mask.",
                stacklevel=3,
            )
            return
        flat_outputs = [t for t in nest.flatten(outputs) if isinstance(t, (Tensor, KerasTensor))]
        if all(get_keras_mask(t) is not None for t in flat_outputs):
            return
        if is_symbolic(inputs):  # the masks' shapes, from compute_mask run on samples
            structure = ((inputs, previous_mask), {})
            masks = output_specs(self.compute_mask, structure, f'Layer "{self.name}"')
        else:
            masks = self.compute_mask(inputs, previous_mask)
        if masks is None:
            return
        flat_masks = nest.flatten(masks)
        for tensor, mask in zip(flat_outputs, flat_masks):
            if mask is not None and get_keras_mask(tensor) is None:
                set_keras_mask(tensor, mask)

    def _add_activity_losses(self, outputs):
        """add_loss(r(y) / batch size) for each output Tensor y, r the activity regularizer (a
        scalar y is not divided), as Keras does after each call."""
        for output in nest.flatten(outputs):
            if isinstance(output, Tensor):
                loss = self.activity_regularizer(output)
                if output.ndim and output.shape[0]:
                    loss = loss / output.shape[0]
                self.add_loss(loss)

    @classmethod
    def _call_is_own(cls):
        """Whether the class's ``call`` is chainrule's (not one the user wrote)."""
        return cls.call.__module__.startswith("chainrule.")

    @classmethod
    def _cast_input_kinds(cls):
        """The dtype kinds that __call__ casts to the layer's dtype: a ``call`` written by the
        user gets Keras's rule (floats only: integer ids and boolean flags reach it as they
        are); chainrule's own layers take every number as a float."""
        return "fiub" if cls._call_is_own() else "f"

    def _convert_argument(self, value):
        """An argument of ``call`` besides the inputs: a NumPy array becomes a Tensor (floats in
        the layer's dtype); anything else is passed as it is."""
        if isinstance(value, np.ndarray):
            value = Tensor(value)
        if isinstance(value, Tensor) and value.dtype.kind == "f" and value.dtype != self.dtype:
            value = cast(value, dtype=self.dtype)
        return value

    def _build_from(self, x, more, kwargs):
        """Build for the first call: ``build(input_shape)`` with the inputs' shapes, or, for a
        ``build`` with several parameters, ``build(a_shape=..., b_shape=...)`` with the shapes of
        call's tensor arguments ``a``, ``b``... as Keras does."""
        shape = _batch_shapes(x)
        names = parameter_names(type(self).build)
        if len(names) <= 1 or not (more or kwargs):
            self.build(shape)
        else:
            bound = inspect.signature(self.call).bind(x, *more, **kwargs).arguments
            shapes = {
                f"{name}_shape": _batch_shapes(value)
                for name, value in bound.items()
                if name in [n[: -len("_shape")] for n in names] and _holds_tensors(value)
            }
            missing = [n for n in names if n not in shapes]
            if missing:
                raise ValueError(
                    f"{type(self).__name__}.build takes {names}, but call() got no tensor "
                    f"argument for {missing}: name build's parameters after call's tensor "
                    f"arguments with '_shape' appended (call(self, a, b) -> build(self, "
                    f"a_shape, b_shape)), or let build take one input_shape."
                )
            self.build(**shapes)
        self._build_shape = shape

    @property
    def input(self):
        """The symbolic input(s) of the layer's first call on KerasTensors (a list when it read
        several): what ``keras.Model(inputs=..., outputs=layer.output)`` starts from."""
        return _first_call(self, "input")

    @property
    def output(self):
        """The symbolic output(s) of the layer's first call on KerasTensors, for a feature
        extractor: ``keras.Model(model.inputs, [layer.output for layer in model.layers])``."""
        return _first_call(self, "output")

    def check_input(self, x):
        """Raise a clear error if ``x`` cannot be an input of this (built) layer."""

    def _first_call_parameter(self):
        """The name of ``call``'s first parameter, by which the inputs may be passed as a
        keyword (``layer(logits=x)`` for ``call(self, logits, targets=None)``), found once per
        class; "inputs" for a ``call`` that takes ``*args``."""
        cls = type(self)
        found = Layer._call_first.get(cls)
        if found is None:
            parameters = list(inspect.signature(cls.call).parameters.values())[1:]
            named = parameters and parameters[0].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
            found = parameters[0].name if named else "inputs"
            Layer._call_first[cls] = found
        return found

    def _training_parameter(self):
        """(whether ``call`` takes ``training``, its default value), found once per class."""
        cls = type(self)
        found = Layer._call_training.get(cls)
        if found is None:
            parameter = inspect.signature(cls.call).parameters.get("training")
            default = None if parameter is None else parameter.default
            found = (parameter is not None, None if default is inspect.Parameter.empty else default)
            Layer._call_training[cls] = found
        return found

    def incompatible(self, x, rule):
        """The error for an input that breaks ``rule`` (Keras's wording, with the shapes)."""
        return ShapeError(
            f'Input 0 of layer "{self.name}" is incompatible with the layer: {rule}, but '
            f"received input with shape {tuple(x.shape)}."
        )

    # ----- configuration -----------------------------------------------------------------------
    def get_config(self):
        """The layer's constructor arguments, as Keras 3 gives them: its name, ``trainable``, its
        dtype as a ``DTypePolicy`` description, and what the class adds."""
        config = {"name": self.name, "trainable": self.trainable, "dtype": dtype_policy(self.dtype)}
        if self.activity_regularizer is not None:  # Keras writes it only when set
            config["activity_regularizer"] = regularizers_module.serialize(
                self.activity_regularizer
            )
        if self.batch_input_shape is not None:
            config["batch_input_shape"] = list(self.batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config):
        """The layer ``get_config()`` describes; nested descriptions (initializers,
        regularizers...) are built from chainrule's own classes only."""
        return cls(**deserialize_config(config))

    def get_keras_config(self):
        """``get_config()`` as Keras 3 writes it in a file: nested objects described, the dtype
        as a ``DTypePolicy``, and no ``batch_input_shape`` (a Sequential model writes an
        InputLayer instead)."""
        config = serialize_keras_object(self.get_config())
        config.pop("batch_input_shape", None)
        if isinstance(config.get("dtype"), str):
            config["dtype"] = dtype_policy(config["dtype"])
        return config

    # ----- saving hooks (Keras 3's) ------------------------------------------------------------
    @default_hook
    def get_build_config(self):
        """What :meth:`build_from_config` needs to create this layer's weights again when a
        saved model is loaded: by default Keras's ``{"input_shape": shape}`` of the shape it was
        built for (``{"shapes_dict": {"query_shape": ..., ...}}`` for a ``build`` that took a
        shape per input), None while it is unbuilt.

        A layer whose ``build`` needs more than its input shape (``build(self, input_shape,
        layer_init)``) overrides this method and :meth:`build_from_config` together; saving
        writes what it returns as the layer's ``build_config``.
        """
        shape = getattr(self, "_build_shape", None)
        if not self.built or shape is None:
            return None
        return build_config_for(self, shape)

    @default_hook
    def build_from_config(self, config):
        """Create this layer's weights from what :meth:`get_build_config` returned when it was
        saved: by default ``build(input_shape)``, or ``build(**shapes_dict)``, with the shapes
        as tuples. Loading calls a layer's own override of it before the layer's first call."""
        if not config:
            return
        if "input_shape" in config:
            shape = shape_from_config(config["input_shape"])
            self.build(shape)
        elif "shapes_dict" in config:
            shapes = shape_from_config(config["shapes_dict"])
            self.build(**shapes)
            shape = list(shapes.values())
        else:
            return
        self.built = True
        self._build_shape = shape

    @default_hook
    def save_own_variables(self, store):
        """Store this layer's own weights (not its sublayers', which store theirs) in ``store``,
        a dict-like object, under ``"0"``, ``"1"``, ...: the trainable ones first, as Keras 3
        stores them. A layer with more state overrides this method and
        :meth:`load_own_variables` together, calling ``super().save_own_variables(store)`` to
        store its weights and storing the rest under names of its own."""
        for index, weight in enumerate(stored_order(self._own_weights())):
            store[str(index)] = weight.numpy()

    @default_hook
    def load_own_variables(self, store):
        """Set this layer's own weights from ``store``, as :meth:`save_own_variables` stored
        them.

        Raises:
            ValueError: ``store`` holds another number of variables than the layer has, or one
                of another shape (naming the layer).
        """
        own = stored_order(self._own_weights())
        if len(store) != len(own):
            raise ValueError(
                f"Layer '{self.name}' expected {len(own)} variables, but received {len(store)} "
                f"variables during loading. Expected: {[weight.name for weight in own]}"
            )
        values = [np.asarray(store[str(index)]) for index in range(len(own))]
        for weight, value in zip(own, values):
            if value.shape != tuple(weight.shape):
                raise ValueError(
                    f"Layer '{self.name}': weight {weight.name!r} has shape "
                    f"{tuple(weight.shape)}, but the store holds shape {value.shape}."
                )
        for weight, value in zip(own, values):
            weight.assign(value.astype(weight.dtype, copy=False))

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _masks_of(inputs):
    """The masks attached to the inputs: one mask (or None) for one input, else the list of
    them, or None when none of them has one."""
    if not nest.is_nested(inputs):
        return get_keras_mask(inputs)
    masks = [get_keras_mask(t) for t in nest.flatten(inputs)]
    return None if all(m is None for m in masks) else masks


def _first_call(layer, which):
    """The input or output KerasTensors of ``layer``'s first symbolic call (one, or a list)."""
    nodes = vars(layer).get("_inbound_nodes")
    if not nodes:
        raise AttributeError(
            f"The layer {layer.name} has never been called and thus has no defined {which}. "
            f"Call it on a keras.Input (or on the output of a layer that was) first."
        )
    node = nodes[0]
    tensors = node.input_tensors if which == "input" else node.output_tensors
    return tensors[0] if len(tensors) == 1 else tensors


def _is_own_weight(layer, variable):
    """Whether ``variable`` came from the layer's ``add_weight`` (``self.kernel = ...``)."""
    return any(variable is w for w in layer.__dict__.get("_weights", ()))


def _holds_metrics(value):
    """Whether an attribute's value is a Metric, or a list or tuple holding one."""
    if type(value) in (list, tuple):
        return any(isinstance(v, Metric) for v in value)
    return isinstance(value, Metric)


def tracked_metrics(layer):
    """The Metric objects held in ``layer``'s attributes (also in lists), in assignment order."""
    found = []
    for name in layer.__dict__.get("_metric_attributes", ()):
        value = layer.__dict__[name]
        found += (
            [v for v in value if isinstance(v, Metric)] if type(value) in (list, tuple) else [value]
        )
    return found


def _holds_trackables(name, value):
    """Whether a container assigned to attribute ``name`` is tracked: when it holds a Layer or
    Variable, or is a public empty container (``self.blocks = []``, filled later)."""
    if not value:
        return not name.startswith("_")
    return any(isinstance(v, (Layer, Variable)) for v in nest.flatten(value))


def _trackables_in(value):
    """The Layers and Variables that an attribute's value is or holds, in order."""
    if isinstance(value, (Layer, Variable)):
        return [value]
    return [leaf for leaf in nest.flatten(value) if isinstance(leaf, (Layer, Variable))]


def _batch_shapes(x):
    """The shape (batch axis None) of a Tensor, or the list/dict of shapes of several."""
    if isinstance(x, dict):
        return {key: _batch_shapes(value) for key, value in x.items()}
    if isinstance(x, (list, tuple)):
        return [_batch_shapes(value) for value in x]
    return (None,) + tuple(x.shape[1:])


def _holds_tensors(value):
    return any(isinstance(leaf, Tensor) for leaf in nest.flatten(value))


def walk_layers(root):
    """``root`` and every layer below it, depth first in tracking order, each once."""
    order, visited, stack = [], set(), [root]
    while stack:
        layer = stack.pop()
        if id(layer) in visited:
            continue
        visited.add(id(layer))
        order.append(layer)
        stack.extend(reversed(layer._sublayers()))
    return order


def _collect_weights(root, which):
    """The weights of ``root`` and its sublayers, each once: "all", "trainable" (skipping any
    layer with trainable=False and what is below it) or "non_trainable" (the rest)."""
    found, seen, visited = [], set(), set()
    stack = [(root, root.trainable)]
    while stack:
        layer, trainable = stack.pop()
        if id(layer) in visited:
            continue
        visited.add(id(layer))
        for w in layer._own_weights():
            kept = which == "all" or (which == "trainable") == (trainable and w.trainable)
            if kept and id(w) not in seen:
                seen.add(id(w))
                found.append(w)
        stack.extend((sub, trainable and sub.trainable) for sub in reversed(layer._sublayers()))
    return found
