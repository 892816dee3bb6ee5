"""The core layers: Dense, Activation, Lambda and the input placeholder."""

import inspect

import numpy as np

from ... import ops
from .. import activations as activations_module
from .. import constraints as constraints_module
from .. import initializers as initializers_module
from .. import registry
from .. import regularizers as regularizers_module
from ..keras_tensor import KerasNode, KerasTensor, passes_shape_through, sample_output_shapes
from ..saving.serialization import serialize_keras_object
from .base import Layer


@registry.serializable("keras.layers")
class InputLayer(Layer):
    """The placeholder that fixes a model's input shape (``shape`` excludes the batch axis).

    Its ``output`` is the symbolic tensor that ``keras.Input`` returns.
    """

    def __init__(
        self,
        shape=None,
        batch_size=None,
        dtype=None,
        name=None,
        batch_shape=None,
        input_shape=None,
        batch_input_shape=None,
        **kwargs,
    ):
        strings = dtype in ("string", "str", str, object)  # Keras's "string" inputs
        super().__init__(name=name, dtype=None if strings else dtype, **kwargs)
        if strings:
            self.dtype = np.dtype(object)  # a string Tensor's storage (tf.string)
        shape = shape if shape is not None else input_shape
        batch_shape = batch_shape if batch_shape is not None else batch_input_shape
        if batch_shape is None:
            if shape is None:
                raise ValueError("InputLayer needs a shape, e.g. InputLayer(shape=(784,))")
            batch_shape = (batch_size,) + standardize_shape(shape)
        self.batch_input_shape = standardize_shape(batch_shape)
        self.built = True
        node = KerasNode(self, inputs=[])
        node.outputs = KerasTensor(self.batch_input_shape, self.dtype, name=self.name, node=node)
        self._inbound_nodes = [node]  # ``self.output`` is the tensor keras.Input returns

    def get_config(self):
        return {
            "batch_shape": list(self.batch_input_shape),
            "dtype": "string" if self.dtype == object else str(self.dtype),
            "name": self.name,
        }

    def get_keras_config(self):
        """The config as Keras writes an InputLayer's: its dtype as a plain name."""
        return serialize_keras_object(self.get_config())


def standardize_shape(shape):
    """``shape`` as a tuple of dimensions, each a non-negative int or None, as Keras checks the
    shape of an input.

    Raises:
        ValueError: Keras's "Cannot convert '...' to a shape." for anything else: a number
            instead of a tuple (``shape=784`` for ``shape=(784,)``), a dimension that is a
            string or a float, or a negative one.
    """
    if not hasattr(shape, "__iter__"):
        raise ValueError(
            f"Cannot convert '{shape}' to a shape. A shape is a tuple of dimensions: "
            f"({shape},) for one axis of {shape}."
        )
    dimensions = []
    for dimension in shape:
        if dimension is None:
            dimensions.append(None)
            continue
        try:  # NumPy integers pass; strings and floats do not, even "3" or 3.0
            size = None if isinstance(dimension, (str, float)) else int(dimension)
        except (TypeError, ValueError):
            size = None
        if size is None:
            raise ValueError(
                f"Cannot convert '{shape}' to a shape. Found invalid dimension '{dimension}' of "
                f"type '{type(dimension)}'. Each dimension is an int or None."
            )
        if size < 0:
            raise ValueError(
                f"Cannot convert '{shape}' to a shape. Negative dimensions are not allowed."
            )
        dimensions.append(size)
    return tuple(dimensions)


def Input(shape=None, batch_size=None, dtype=None, name=None, batch_shape=None):
    """A symbolic input tensor of ``shape`` (one sample's shape; the batch axis is None).

    Layers called on it record a graph, which ``keras.Model(inputs, outputs)`` makes a model::

        inputs = keras.Input(shape=(784,))
        outputs = keras.layers.Dense(10)(keras.layers.Dense(64, activation="relu")(inputs))
        model = keras.Model(inputs, outputs)

    As the first element of a Sequential model it fixes the input shape:
    ``Sequential([Input(shape=(784,)), Dense(10)])``.
    """
    return InputLayer(
        shape=shape, batch_size=batch_size, dtype=dtype, name=name, batch_shape=batch_shape
    ).output


def set_kernel_options(
    layer,
    activation,
    use_bias,
    kernel_initializer,
    bias_initializer,
    kernel_regularizer,
    bias_regularizer,
    activity_regularizer,
    kernel_constraint,
    bias_constraint,
):
    """Resolve the options that every layer with a kernel and a bias takes (Dense, Conv2D...)
    from their Keras identifiers into the objects, as attributes of ``layer``."""
    layer.activation = activations_module.get(activation)
    layer.use_bias = use_bias
    layer.kernel_initializer = initializers_module.get(kernel_initializer)
    layer.bias_initializer = initializers_module.get(bias_initializer)
    layer.kernel_regularizer = regularizers_module.get(kernel_regularizer)
    layer.bias_regularizer = regularizers_module.get(bias_regularizer)
    layer.activity_regularizer = regularizers_module.get(activity_regularizer)
    layer.kernel_constraint = constraints_module.get(kernel_constraint)
    layer.bias_constraint = constraints_module.get(bias_constraint)


def check_positive_int(owner, label, value):
    """Raise the error for an argument ``label`` of ``owner`` that is not an int >= 1."""
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(
            f"{owner}: `{label}` must be a positive integer; received {label}={value!r}."
        )


def add_kernel_and_bias(layer, kernel_shape, bias_shape, kernel_initializer=None):
    """Create ``layer.kernel`` of ``kernel_shape`` and, when ``bias_shape`` is not None,
    ``layer.bias`` of ``bias_shape`` (else None), in that order as in Keras, with the layer's
    initializers (``kernel_initializer`` overrides its kernel's), regularizers and constraints."""
    layer.kernel = layer.add_weight(
        kernel_shape,
        layer.kernel_initializer if kernel_initializer is None else kernel_initializer,
        name="kernel",
        regularizer=layer.kernel_regularizer,
        constraint=layer.kernel_constraint,
    )
    layer.bias = None
    if bias_shape is not None:
        layer.bias = layer.add_weight(
            bias_shape,
            layer.bias_initializer,
            name="bias",
            regularizer=layer.bias_regularizer,
            constraint=layer.bias_constraint,
        )


def kernel_options_config(layer, use_bias=True, activity_regularizer=False):
    """The config entries of the options :func:`set_kernel_options` resolved, serialized in
    Keras's order; ``use_bias`` and ``activity_regularizer`` say whether to write those two
    (EinsumDense has no ``use_bias``; Dense leaves the activity regularizer out)."""
    config = {"activation": activations_module.serialize(layer.activation)}
    if use_bias:
        config["use_bias"] = layer.use_bias
    config.update(
        kernel_initializer=initializers_module.serialize(layer.kernel_initializer),
        bias_initializer=initializers_module.serialize(layer.bias_initializer),
        kernel_regularizer=regularizers_module.serialize(layer.kernel_regularizer),
        bias_regularizer=regularizers_module.serialize(layer.bias_regularizer),
    )
    if activity_regularizer:
        config["activity_regularizer"] = regularizers_module.serialize(layer.activity_regularizer)
    config.update(
        kernel_constraint=constraints_module.serialize(layer.kernel_constraint),
        bias_constraint=constraints_module.serialize(layer.bias_constraint),
    )
    return config


@registry.serializable("keras.layers")
class Dense(Layer):
    """A fully connected layer: y = activation(x W + b).

    Shapes: x (..., in), W = ``kernel`` (in, units), b = ``bias`` (units,), y (..., units).
    Gradients (from the engine): dL/dW = xᵀ dL/dz, dL/db = sum over the batch of dL/dz,
    dL/dx = dL/dz Wᵀ, with z = x W + b.

    Args:
        units: the output size.
        activation: name or callable (default: none, i.e. linear).
        use_bias: whether to add b.
        kernel_initializer: default ``glorot_uniform``, as in Keras.
        bias_initializer: default ``zeros``.
        kernel_regularizer, bias_regularizer, activity_regularizer: penalties added to the loss.
        kernel_constraint, bias_constraint: projections applied after each update.
    """

    def __init__(
        self,
        units,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.supports_masking = True
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"Dense: units must be a positive integer; got {units!r}")
        self.units = units
        set_kernel_options(
            self,
            activation,
            use_bias,
            kernel_initializer,
            bias_initializer,
            kernel_regularizer,
            bias_regularizer,
            activity_regularizer,
            kernel_constraint,
            bias_constraint,
        )
        self.input_dim = None

    def build(self, input_shape):
        if len(input_shape) < 2:
            raise ValueError(
                f'Layer "{self.name}" (Dense) needs inputs with a batch axis and a feature axis; '
                f"got input shape {tuple(input_shape)}. Add a batch axis, e.g. x[None]."
            )
        self.input_dim = input_shape[-1]
        add_kernel_and_bias(
            self, (self.input_dim, self.units), (self.units,) if self.use_bias else None
        )
        self.built = True

    def check_input(self, x):
        if x.ndim < 2 or x.shape[-1] != self.input_dim:
            raise self.incompatible(
                x,
                f"expected axis -1 of input shape to have value {self.input_dim}"
                f"{' and a batch axis' if x.ndim < 2 else ''}",
            )

    def call(self, inputs):
        if self.bias is not None:
            z = ops.linear(inputs, self.kernel, self.bias)
        else:
            z = inputs @ self.kernel
        return self.activation(z)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            **kernel_options_config(self),
        )
        return config


@registry.serializable("keras.layers")
class Identity(Layer):
    """Returns its input as it is (a placeholder where a model needs a layer and no op): y = x,
    dL/dx = dL/dy. Any structure of tensors passes through; masks too."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.built = True  # no weights: built as made, as in Keras

    def call(self, inputs):
        return inputs


@registry.serializable("keras.layers")
class Activation(Layer):
    """Applies an activation function: y = f(x)."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.activation = activations_module.get(activation)

    def call(self, inputs):
        return self.activation(inputs)

    def get_config(self):
        config = super().get_config()
        config["activation"] = activations_module.serialize(self.activation)
        return config


class Lambda(Layer):
    """Wraps a function of tensors as a layer: y = function(x, **arguments).

    Args:
        function: called on the layer's input (a tensor, or the list or dict of them); it may
            take ``training`` and ``mask`` keyword arguments, which it then receives.
        output_shape: the output shape without the batch axis (a tuple, or a structure of
            them), or a function from the input shape(s) to the output shape(s) (batch axis
            included). Default: found by running ``function`` on samples of the input shape.
        mask: the output mask, or a function ``mask(inputs, mask)`` giving it.
        arguments: keyword arguments passed to ``function``.

    The layer has no weights. Its config names ``function`` (a Python lambda has no name, and
    is refused); chainrule never loads a Lambda from a file, since that would run code from it,
    so the class is not among those a file may build.
    """

    _passes_strings_on = True  # the function decides what it computes on (tf.strings, say)

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(
                f"Lambda needs a function of tensors; got {type(function).__name__} "
                f"({function!r:.80}). Pass e.g. Lambda(lambda x: x * 2)."
            )
        self.function = function
        self.arguments = dict(arguments or {})
        self.mask = mask
        self.supports_masking = mask is not None
        self._output_shape = output_shape
        try:
            parameters = inspect.signature(function).parameters
        except (TypeError, ValueError):  # a builtin without a signature
            parameters = {}
        self._takes = {name for name in ("mask", "training") if name in parameters}

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if "mask" in self._takes:
            kwargs["mask"] = mask
        if "training" in self._takes:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    @property
    def compute_output_shape(self):
        """The shape rule: ``output_shape`` as given, or (none given) a run on samples."""
        if self._output_shape is None:
            return self._sampled_output_shape
        return self._given_output_shape

    @passes_shape_through
    def _sampled_output_shape(self, input_shape):
        return sample_output_shapes(self, input_shape)

    def _given_output_shape(self, input_shape):
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        first = input_shape
        while not (first is None or isinstance(first, int)):
            first = first[0] if isinstance(first, (list, tuple)) else next(iter(first.values()))
        given = self._output_shape
        if isinstance(given, (list, tuple)) and all(n is None or isinstance(n, int) for n in given):
            return (first,) + tuple(given)
        if isinstance(given, dict):
            return {key: (first,) + tuple(shape) for key, shape in given.items()}
        return [(first,) + tuple(shape) for shape in given]

    def compute_mask(self, inputs, mask=None):
        """The output mask: ``mask(inputs, mask)`` when ``mask`` is a function, else ``mask``."""
        return self.mask(inputs, mask) if callable(self.mask) else self.mask

    def get_config(self):
        """The config; a Python lambda (as ``function``, ``output_shape`` or ``mask``) cannot be
        written, since loading a model never runs code from its file.

        Raises:
            ValueError: a Python lambda in the config.
        """
        config = super().get_config()
        config["function"] = self._named(self.function, "function")
        if self._output_shape is not None:
            output_shape = self._output_shape
            config["output_shape"] = (
                self._named(output_shape, "output_shape")
                if callable(output_shape)
                else output_shape
            )
        if self.mask is not None:
            config["mask"] = self._named(self.mask, "mask") if callable(self.mask) else self.mask
        config["arguments"] = serialize_keras_object(self.arguments)
        return config

    def _named(self, function, role):
        if getattr(function, "__name__", None) == "<lambda>":
            raise ValueError(
                f'Lambda layer "{self.name}": its {role} is a Python lambda, which cannot be '
                f"saved: Keras would write its bytecode, and loading never runs code from a "
                f"file. Save the weights only (model.save_weights) and rebuild the model in "
                f"code, or write the computation as a Layer subclass."
            )
        return serialize_keras_object(function)
