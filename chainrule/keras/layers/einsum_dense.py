"""EinsumDense: a dense layer whose product with the kernel is an einsum equation.

y = activation(einsum(equation, x, kernel) + bias). The equation names the axes of the input,
the kernel and the output ("abc,cd->abd" is a Dense on the last axis of a 3-D input); the
kernel's shape follows from the input's shape and ``output_shape``. The gradient is the einsum
primitive's: dL/dx = einsum of g with the kernel into x's letters, dL/dkernel = einsum of x with
g into the kernel's letters, dL/dbias = g summed over the axes the bias broadcasts along.
"""

import re

from ... import ops
from ...engine import ShapeError
from .. import initializers as initializers_module
from .. import registry
from .base import Layer
from .core import add_kernel_and_bias, kernel_options_config, set_kernel_options

_FORMS = (
    ("([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)", None),
    ("0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)", "left"),
    ("([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0", "right"),
)


def analyze_equation(equation, bias_axes, input_shape, output_shape, owner):
    """The kernel shape, bias shape (or None), full output shape, and the kernel's input and
    output axes (for the fans of its initializer) of an EinsumDense on ``input_shape``.

    ``output_shape`` is the output without its batch axis; ``...`` in the equation (at the
    start or end of the input and output) stands for the input's axes that the equation leaves
    unnamed, which pass through unchanged. The bias has the output's sizes on ``bias_axes`` and 1
    elsewhere, from the first bias axis of the output on, so it broadcasts against the output.

    Raises:
        ValueError: an equation in none of the forms ``ab,bc->ac``, ``...b,bc->...c``,
            ``ab...,bc->ac...``, or letters of the kernel or the output found nowhere else.
    """
    compact = equation.replace("...", "0")
    for pattern, elided_side in _FORMS:
        match = re.fullmatch(pattern, compact)
        if match:
            break
    else:
        raise ValueError(
            f"{owner}: invalid einsum equation {equation!r}. Equations must be in the form "
            f"[X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]...."
        )
    input_spec, weight_spec, output_spec = match.groups()
    input_shape = tuple(input_shape)
    elided = len(input_shape) - len(input_spec)
    if elided < 0 or (elided and elided_side is None):
        raise ShapeError(
            f"{owner}: the equation {equation!r} names {len(input_spec)} input axes, but the "
            f"input has shape {input_shape}."
        )
    outputs = [output_shape] if isinstance(output_shape, int) else list(output_shape)
    outputs.insert(0, input_shape[0])
    if elided_side == "left":
        outputs[1:1] = input_shape[1:elided]
        input_axis = {d: i + elided for i, d in enumerate(input_spec)}
        output_axis = {d: i + elided for i, d in enumerate(output_spec)}
    else:
        outputs += input_shape[len(input_shape) - elided :]
        input_axis = {d: i for i, d in enumerate(input_spec)}
        output_axis = {d: i for i, d in enumerate(output_spec)}
    if len(outputs) != len(output_spec) + elided:
        raise ValueError(
            f"{owner}: output_shape={output_shape!r} must give the {len(output_spec) - 1} "
            f"output axes after the batch axis that {equation!r} names."
        )
    for d in input_spec:
        if d not in output_axis:
            continue
        size = input_shape[input_axis[d]]
        if outputs[output_axis[d]] is None:
            outputs[output_axis[d]] = size  # a shared axis keeps the input's size
        elif size is not None and outputs[output_axis[d]] != size:
            raise ValueError(
                f"{owner}: input shape and output shape do not match at shared dimension "
                f"{d!r}: input shape is {size}, and output shape is {outputs[output_axis[d]]}."
            )
    for d in output_spec:
        if d not in input_spec and d not in weight_spec:
            raise ValueError(
                f"{owner}: dimension {d!r} of the output {output_spec!r} is in neither the "
                f"input spec {input_spec!r} nor the weight spec {weight_spec!r}."
            )
    kernel_shape, input_axes, output_axes = [], [], []
    for i, d in enumerate(weight_spec):
        if d in output_axis:
            kernel_shape.append(outputs[output_axis[d]])
            output_axes.append(i)
        elif d in input_axis:
            kernel_shape.append(input_shape[input_axis[d]])
            input_axes.append(i)
        else:
            raise ValueError(
                f"{owner}: weight dimension {d!r} is in neither the input spec {input_spec!r} "
                f"nor the output spec {output_spec!r}; the kernel must be fully specified."
            )
    bias_shape = None
    if bias_axes is not None:
        for d in bias_axes:
            if d not in output_spec:
                raise ValueError(
                    f"{owner}: bias dimension {d!r} was requested, but is not part of the "
                    f"output spec {output_spec!r}."
                )
        first = min(output_spec.find(d) for d in bias_axes)
        bias_shape = [outputs[output_axis[d]] if d in bias_axes else 1 for d in output_spec[first:]]
        if elided_side == "right":
            bias_shape += [1] * elided
    return (
        tuple(kernel_shape),
        bias_shape and tuple(bias_shape),
        tuple(outputs),
        input_axes,
        (output_axes),
    )


@registry.serializable("keras.layers")
class EinsumDense(Layer):
    """y = activation(einsum(equation, x, kernel) + bias), a Dense of any arrangement of axes.

    Shapes: for "abc,cd->abd" and ``output_shape=(None, 64)``, x (B, T, C), kernel (C, 64),
    bias (64,) with ``bias_axes="d"``, y (B, T, 64). A None in ``output_shape`` takes the
    input's size on that (shared) axis.

    Args:
        equation: the einsum equation, input first, kernel second: "ab,bc->ac", or with ``...``
            leading ("...b,bc->...c") or trailing ("ab...,bc->ac...") for unnamed axes.
        output_shape: the output's shape without the batch axis (an int for one axis).
        activation: name or callable (default: none).
        bias_axes: the output letters that get a bias (default None: no bias).
        kernel_initializer: default 'glorot_uniform', whose fans count the kernel's input and
            output axes of the equation only (as Keras sets ``input_axes``/``output_axes``).
        bias_initializer: default 'zeros'.
        kernel_regularizer: as for Dense, like ``bias_regularizer``, ``activity_regularizer``,
            ``kernel_constraint`` and ``bias_constraint``.
    """

    def __init__(
        self,
        equation,
        output_shape,
        activation=None,
        bias_axes=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        lora_rank=None,
        lora_alpha=None,
        **kwargs,
    ):
        kwargs.pop("quantization_config", None)  # Keras writes it (None) in every config
        super().__init__(**kwargs)
        if lora_rank:
            raise NotImplementedError(
                f'EinsumDense layer "{self.name}": LoRA (lora_rank={lora_rank}) is not '
                f"supported; leave lora_rank=None."
            )
        self.equation = equation
        self.partial_output_shape = (
            (output_shape,) if isinstance(output_shape, int) else tuple(output_shape)
        )
        self.bias_axes = bias_axes
        set_kernel_options(
            self,
            activation,
            bias_axes is not None,
            kernel_initializer,
            bias_initializer,
            kernel_regularizer,
            bias_regularizer,
            activity_regularizer,
            kernel_constraint,
            bias_constraint,
        )
        self.kernel = self.bias = None

    def _analyze(self, input_shape):
        return analyze_equation(
            self.equation,
            self.bias_axes,
            input_shape,
            self.partial_output_shape,
            f'EinsumDense layer "{self.name}"',
        )

    def build(self, input_shape):
        kernel_shape, bias_shape, output_shape, input_axes, output_axes = self._analyze(input_shape)
        if None in kernel_shape:
            raise ValueError(
                f'EinsumDense layer "{self.name}": the kernel shape {kernel_shape} is not '
                f"fully known for input shape {tuple(input_shape)}; give every input axis the "
                f"kernel reads a size, and every output axis only the kernel has."
            )
        initializer = self.kernel_initializer
        if (
            isinstance(initializer, initializers_module.VarianceScaling)
            and initializer.input_axes is None
            and initializer.output_axes is None
        ):
            config = {**initializer.get_config(), "input_axes": input_axes}
            config["output_axes"] = output_axes
            config["seed"] = initializer.seed
            initializer = type(initializer).from_config(config)
        add_kernel_and_bias(self, kernel_shape, bias_shape, initializer)
        self.built = True

    def check_input(self, x):
        expected = self.kernel.shape
        found = self._analyze((None,) + tuple(x.shape[1:]))[0]
        if found != tuple(expected):
            raise self.incompatible(
                x,
                f"{self.equation!r} needs a kernel of shape {found}, but the kernel is {expected}",
            )

    def call(self, inputs):
        y = ops.einsum(self.equation, inputs, self.kernel)
        if self.bias is not None:
            y = y + self.bias
        y = self.activation(y)
        if self.activity_regularizer is not None:
            self._activity_losses = [self.activity_regularizer(y) / y.shape[0]]
        return y

    def compute_output_shape(self, input_shape):
        return self._analyze(input_shape)[2]

    def get_config(self):
        config = super().get_config()
        config.update(
            output_shape=self.partial_output_shape,
            equation=self.equation,
            bias_axes=self.bias_axes,
            **kernel_options_config(self, use_bias=False, activity_regularizer=True),
        )
        return config
