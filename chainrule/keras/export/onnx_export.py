"""A trained model as an ONNX graph, for onnxruntime and the other ONNX runtimes.

Each layer becomes a few ONNX operators that compute what its ``call`` computes at inference
(``training=False``): Dense is ``MatMul`` then ``Add``; a convolution is ``Conv`` between two
``Transpose`` nodes (Keras keeps channels last, ONNX's ``Conv`` wants them first); batch
normalization folds its moving statistics into one ``Mul`` and one ``Add``,

    y = gamma (x - mean) / sqrt(var + eps) + beta = x * scale + shift,
    scale = gamma / sqrt(var + eps),   shift = beta - mean * scale;

dropout and noise layers are the identity. The weights are stored in the graph as initializers
(float32 as trained). Sequential models and functional graphs (nested models included) are
walked layer by layer; a layer with no rule here is refused with its name.

Needs the ``onnx`` package (``pip install "chainrule[onnx]"``).
"""

import math
import os

import numpy as np

from .. import activations
from ..layers import (
    ELU,
    Activation,
    ActivityRegularization,
    Add,
    Average,
    AveragePooling2D,
    BatchNormalization,
    Concatenate,
    Conv1D,
    Conv2D,
    Dense,
    DepthwiseConv2D,
    Dropout,
    Flatten,
    GaussianNoise,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    InputLayer,
    LayerNormalization,
    LeakyReLU,
    Maximum,
    MaxPooling2D,
    Minimum,
    Multiply,
    PReLU,
    ReLU,
    Reshape,
    SeparableConv2D,
    Softmax,
    Subtract,
    UpSampling2D,
    ZeroPadding2D,
)
from ..models import Functional, Sequential
from ..saving.atomic import atomic_write

OPSET = 17


def _onnx():
    try:
        import onnx
    except ImportError as err:
        raise ImportError(
            'Exporting to ONNX needs the onnx package: pip install "chainrule[onnx]"'
        ) from err
    return onnx


class UnsupportedLayerError(TypeError):
    """A layer (or an option of one) that has no ONNX rule here."""


class OnnxGraph:
    """The nodes and initializers of the graph being written, with unique names."""

    def __init__(self, onnx):
        self.onnx, self.nodes, self.initializers, self._count = onnx, [], [], 0

    def name(self, hint):
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, array, hint="const"):
        """An initializer holding ``array`` (float arrays as float32); its name."""
        array = np.asarray(array)
        if array.dtype.kind == "f":
            array = array.astype(np.float32)
        name = self.name(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name

    def op(self, op_type, inputs, hint=None, **attributes):
        """Append one node; its (single) output's name."""
        output = self.name(hint or op_type.lower())
        node = self.onnx.helper.make_node(op_type, list(inputs), [output], **attributes)
        self.nodes.append(node)
        return output


# ----- activations -------------------------------------------------------------------------


def _activation(graph, x, fn):
    """The ONNX nodes of a Keras activation function (by its Keras name)."""
    name = activations.name_of(fn) if fn is not None else "linear"
    simple = {
        "relu": "Relu",
        "sigmoid": "Sigmoid",
        "tanh": "Tanh",
        "softplus": "Softplus",
        "softsign": "Softsign",
        "exponential": "Exp",
        "selu": "Selu",
    }
    if name in ("linear", None):
        return x
    if name in simple:
        return graph.op(simple[name], [x])
    if name == "softmax":
        return graph.op("Softmax", [x], axis=-1)
    if name == "elu":
        return graph.op("Elu", [x], alpha=1.0)
    if name == "leaky_relu":
        return graph.op("LeakyRelu", [x], alpha=0.2)
    if name in ("swish", "silu"):
        return graph.op("Mul", [x, graph.op("Sigmoid", [x])])
    if name == "relu6":
        return graph.op("Clip", [x, graph.const(np.float32(0)), graph.const(np.float32(6))])
    if name == "hard_sigmoid":  # relu6(x + 3) / 6
        return graph.op("HardSigmoid", [x], alpha=1.0 / 6.0, beta=0.5)
    if name == "gelu":  # the exact form, x Phi(x) = x (1 + erf(x / sqrt 2)) / 2
        erf = graph.op("Erf", [graph.op("Mul", [x, graph.const(np.float32(1 / math.sqrt(2)))])])
        half_x = graph.op("Mul", [x, graph.const(np.float32(0.5))])
        return graph.op("Mul", [half_x, graph.op("Add", [erf, graph.const(np.float32(1))])])
    raise UnsupportedLayerError(f"activation {name!r} has no ONNX rule")


# ----- layers ------------------------------------------------------------------------------


def _channels_first(graph, x, rank, layer):
    """NHWC -> NCHW (or NWC -> NCW) for ONNX's convolutions and poolings, unless the layer
    already works channels first."""
    if getattr(layer, "data_format", "channels_last") == "channels_first":
        return x
    return graph.op("Transpose", [x], perm=[0, rank + 1, *range(1, rank + 1)])


def _channels_last(graph, x, rank, layer):
    if getattr(layer, "data_format", "channels_last") == "channels_first":
        return x
    return graph.op("Transpose", [x], perm=[0, *range(2, rank + 2), 1])


def _window(layer, rank, kernel_size):
    """The padding, strides and dilations attributes shared by Conv and the poolings."""
    attributes = {"strides": list(layer.strides)}
    dilations = list(getattr(layer, "dilation_rate", (1,) * rank))
    if layer.padding == "same":
        attributes["auto_pad"] = "SAME_UPPER"  # Keras's extra row or column goes last
    elif layer.padding == "causal":  # left-pad the time axis only
        attributes["pads"] = [dilations[0] * (kernel_size[0] - 1), 0]
    else:
        attributes["pads"] = [0] * (2 * rank)
    return attributes, dilations


def _conv(graph, x, layer, weight, bias, group, rank):
    """Conv between the layout transposes, with weight (O, I/group, *kernel) already ONNX's."""
    attributes, dilations = _window(layer, rank, weight.shape[2:])
    inputs = [_channels_first(graph, x, rank, layer), graph.const(weight, "kernel")]
    if bias is not None:
        inputs.append(graph.const(bias, "bias"))
    y = graph.op("Conv", inputs, dilations=dilations, group=group, **attributes)
    return _channels_last(graph, y, rank, layer)


def _convolution(graph, inputs, layer):
    (x,) = inputs
    rank = layer.rank
    kernel = layer.kernel.numpy()  # (*kernel, I/group, O) -> (O, I/group, *kernel)
    weight = kernel.transpose(rank + 1, rank, *range(rank))
    bias = layer.bias.numpy() if layer.bias is not None else None
    y = _conv(graph, x, layer, weight, bias, layer.groups, rank)
    return _activation(graph, y, layer.activation)


def _depthwise_weight(kernel):
    """(kh, kw, C, m) -> (C m, 1, kh, kw): output channel c m + j filters input channel c."""
    kh, kw, channels, multiplier = kernel.shape
    return kernel.reshape(kh, kw, channels * multiplier).transpose(2, 0, 1)[:, None]


def _depthwise(graph, inputs, layer):
    (x,) = inputs
    kernel = layer.kernel.numpy()
    bias = layer.bias.numpy() if layer.bias is not None else None
    y = _conv(graph, x, layer, _depthwise_weight(kernel), bias, kernel.shape[2], 2)
    return _activation(graph, y, layer.activation)


def _separable(graph, inputs, layer):
    (x,) = inputs
    depthwise = layer.depthwise_kernel.numpy()
    pointwise = layer.pointwise_kernel.numpy()[0, 0].T[:, :, None, None]  # (O, C m, 1, 1)
    bias = layer.bias.numpy() if layer.bias is not None else None
    x = _channels_first(graph, x, 2, layer)
    attributes, dilations = _window(layer, 2, depthwise.shape[:2])
    weight = graph.const(_depthwise_weight(depthwise), "depthwise_kernel")
    x = graph.op("Conv", [x, weight], dilations=dilations, group=depthwise.shape[2], **attributes)
    pointwise_inputs = [x, graph.const(pointwise, "pointwise_kernel")]
    if bias is not None:
        pointwise_inputs.append(graph.const(bias, "bias"))
    x = graph.op("Conv", pointwise_inputs, pads=[0, 0, 0, 0])
    return _activation(graph, _channels_last(graph, x, 2, layer), layer.activation)


def _dense(graph, inputs, layer):
    (x,) = inputs
    y = graph.op("MatMul", [x, graph.const(layer.kernel.numpy(), "kernel")])
    if layer.bias is not None:
        y = graph.op("Add", [y, graph.const(layer.bias.numpy(), "bias")])
    return _activation(graph, y, layer.activation)


def _pooling(op_type):
    def convert(graph, inputs, layer):
        (x,) = inputs
        attributes, _ = _window(layer, 2, layer.pool_size)
        y = graph.op(
            op_type,
            [_channels_first(graph, x, 2, layer)],
            kernel_shape=list(layer.pool_size),
            **attributes,
        )
        return _channels_last(graph, y, 2, layer)

    return convert


def _global_pooling(op_type):
    def convert(graph, inputs, layer):
        (x,) = inputs
        axes = [2, 3] if layer.data_format == "channels_first" else [1, 2]
        return graph.op(op_type, [x], axes=axes, keepdims=int(bool(layer.keepdims)))

    return convert


def _batch_normalization(graph, inputs, layer):
    (x,) = inputs
    variance = layer.moving_variance.numpy().astype(np.float64)
    scale = 1.0 / np.sqrt(variance + layer.epsilon)
    if layer.gamma is not None:
        scale = scale * layer.gamma.numpy()
    shift = -layer.moving_mean.numpy() * scale
    if layer.beta is not None:
        shift = shift + layer.beta.numpy()
    shape = layer._broadcast_shape[1:]  # the feature axis kept, the others 1 (batch dropped)
    y = graph.op("Mul", [x, graph.const(scale.reshape(shape), "scale")])
    return graph.op("Add", [y, graph.const(shift.reshape(shape), "shift")])


def _layer_normalization(graph, inputs, layer):
    (x,) = inputs
    axes, ndim = layer._axes, layer._ndim
    if layer.rms_scaling or list(axes) != list(range(axes[0], ndim)):
        raise UnsupportedLayerError(
            f"LayerNormalization {layer.name!r}: only trailing axes without rms_scaling have an "
            f"ONNX rule"
        )
    shape = layer._broadcast_shape[axes[0] :]
    gamma = layer.gamma.numpy() if layer.gamma is not None else np.ones(shape, np.float32)
    beta = layer.beta.numpy() if layer.beta is not None else np.zeros(shape, np.float32)
    return graph.op(
        "LayerNormalization",
        [x, graph.const(gamma.reshape(shape), "gamma"), graph.const(beta.reshape(shape), "beta")],
        axis=int(axes[0]),
        epsilon=float(layer.epsilon),
    )


def _reshape_to(graph, x, shape):
    return graph.op("Reshape", [x, graph.const(np.array(shape, np.int64), "shape")])


def _flatten(graph, inputs, layer):
    (x,) = inputs
    if getattr(layer, "data_format", "channels_last") == "channels_first":
        raise UnsupportedLayerError(f"Flatten {layer.name!r}: channels_first has no ONNX rule")
    return _reshape_to(graph, x, [0, -1])


def _reshape(graph, inputs, layer):
    (x,) = inputs
    return _reshape_to(graph, x, [0, *layer.target_shape])


def _identity(graph, inputs, layer):
    (x,) = inputs
    return graph.op("Identity", [x])


def _activation_layer(graph, inputs, layer):
    (x,) = inputs
    return _activation(graph, x, layer.activation)


def _relu_layer(graph, inputs, layer):
    (x,) = inputs
    if layer.threshold != 0:
        raise UnsupportedLayerError(f"ReLU {layer.name!r}: a threshold has no ONNX rule")
    if layer.negative_slope:
        y = graph.op("LeakyRelu", [x], alpha=float(layer.negative_slope))
    else:
        y = graph.op("Relu", [x])
    if layer.max_value is None:
        return y
    top = graph.const(np.float32(layer.max_value))
    return graph.op("Min", [y, top])


def _leaky_relu(graph, inputs, layer):
    (x,) = inputs
    return graph.op("LeakyRelu", [x], alpha=float(layer.negative_slope))


def _elu(graph, inputs, layer):
    (x,) = inputs
    return graph.op("Elu", [x], alpha=float(layer.alpha))


def _prelu(graph, inputs, layer):
    (x,) = inputs
    return graph.op("PRelu", [x, graph.const(layer.alpha.numpy(), "alpha")])


def _softmax_layer(graph, inputs, layer):
    (x,) = inputs
    if isinstance(layer.axis, list):
        raise UnsupportedLayerError(f"Softmax {layer.name!r}: several axes have no ONNX rule")
    return graph.op("Softmax", [x], axis=int(layer.axis))


def _merge(op_type):
    def convert(graph, inputs, layer):
        return graph.op(op_type, inputs)

    return convert


def _subtract(graph, inputs, layer):
    return graph.op("Sub", inputs)


def _multiply(graph, inputs, layer):
    y = inputs[0]
    for x in inputs[1:]:
        y = graph.op("Mul", [y, x])
    return y


def _concatenate(graph, inputs, layer):
    return graph.op("Concat", inputs, axis=int(layer.axis))


def _zero_padding(graph, inputs, layer):
    (x,) = inputs
    (top, bottom), (left, right) = layer.padding
    if layer.data_format == "channels_first":
        pads = [0, 0, top, left, 0, 0, bottom, right]
    else:
        pads = [0, top, left, 0, 0, bottom, right, 0]
    return graph.op("Pad", [x, graph.const(np.array(pads, np.int64), "pads")])


def _upsampling(graph, inputs, layer):
    (x,) = inputs
    if layer.interpolation != "nearest":
        raise UnsupportedLayerError(
            f"UpSampling2D {layer.name!r}: {layer.interpolation!r} interpolation has no ONNX rule"
        )
    sh, sw = layer.size
    scales = [1, 1, sh, sw] if layer.data_format == "channels_first" else [1, sh, sw, 1]
    return graph.op(
        "Resize",
        [x, "", graph.const(np.array(scales, np.float32), "scales")],
        mode="nearest",
        coordinate_transformation_mode="asymmetric",
        nearest_mode="floor",
    )


RULES = {
    Dense: _dense,
    Conv1D: _convolution,
    Conv2D: _convolution,
    DepthwiseConv2D: _depthwise,
    SeparableConv2D: _separable,
    MaxPooling2D: _pooling("MaxPool"),
    AveragePooling2D: _pooling("AveragePool"),
    GlobalAveragePooling2D: _global_pooling("ReduceMean"),
    GlobalMaxPooling2D: _global_pooling("ReduceMax"),
    BatchNormalization: _batch_normalization,
    LayerNormalization: _layer_normalization,
    Flatten: _flatten,
    Reshape: _reshape,
    Dropout: _identity,
    GaussianNoise: _identity,
    ActivityRegularization: _identity,
    Activation: _activation_layer,
    ReLU: _relu_layer,
    LeakyReLU: _leaky_relu,
    ELU: _elu,
    PReLU: _prelu,
    Softmax: _softmax_layer,
    Add: _merge("Sum"),
    Average: _merge("Mean"),
    Maximum: _merge("Max"),
    Minimum: _merge("Min"),
    Subtract: _subtract,
    Multiply: _multiply,
    Concatenate: _concatenate,
    ZeroPadding2D: _zero_padding,
    UpSampling2D: _upsampling,
}


# ----- models ------------------------------------------------------------------------------


def _convert(graph, layer, inputs):
    """The output names of ``layer`` applied to the tensors named ``inputs`` (a list)."""
    if isinstance(layer, Sequential):
        (x,) = inputs
        for inner in layer.layers:
            (x,) = _convert(graph, inner, [x])
        return [x]
    if isinstance(layer, Functional):
        return _convert_functional(graph, layer, inputs)
    rule = next((rule for cls, rule in RULES.items() if type(layer) is cls), None)
    if rule is None:
        raise UnsupportedLayerError(
            f"Layer {layer.name!r} ({type(layer).__name__}) has no ONNX rule; the layers that "
            f"export are: {', '.join(sorted(cls.__name__ for cls in RULES))}."
        )
    return [rule(graph, inputs, layer)]


def _convert_functional(graph, model, inputs):
    names = {id(spec): name for spec, name in zip(model.inputs, inputs)}
    for node in model._steps:
        if isinstance(node.layer, InputLayer):
            continue
        arguments = [names[id(t)] for t in node.input_tensors]
        outputs = _convert(graph, node.layer, arguments)
        for tensor, name in zip(node.output_tensors, outputs):
            names[id(tensor)] = name
    return [names[id(t)] for t in model.outputs]


def _input_specs(model):
    """[(name, shape with None for the batch axis)] of the model's inputs."""
    if isinstance(model, Functional):
        return [(spec.name or f"input_{i}", spec.shape) for i, spec in enumerate(model.inputs)]
    if getattr(model, "batch_input_shape", None) is None:
        raise ValueError(
            f"Model {model.name!r} is not built, so its input shape is unknown: give it an Input "
            f"layer or call it on data before exporting."
        )
    return [("inputs", tuple(model.batch_input_shape))]


def _output_shapes(model, specs):
    """The shapes of the model's outputs (None for the batch axis), from one zero sample."""
    samples = [
        np.zeros((1, *(1 if n is None else n for n in shape[1:])), np.float32) for _, shape in specs
    ]
    outputs = model(samples if len(samples) > 1 else samples[0], training=False)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return [(None, *np.shape(y)[1:]) for y in outputs]


def export_onnx(model, filepath, opset=OPSET):
    """Write ``model`` as an ONNX file that computes ``model.predict`` (float32).

    Args:
        model: a built Sequential or functional model (nested models are inlined).
        filepath: the ``.onnx`` file to write (atomically).
        opset: the ONNX operator-set version to target (17 or later).

    Returns:
        The ``onnx.ModelProto`` written, checked by ``onnx.checker``.

    Raises:
        UnsupportedLayerError: a layer with no ONNX rule (the message lists those that have).
        ValueError: an unbuilt model.

    Example::

        model.export("mnist.onnx", format="onnx")
        session = onnxruntime.InferenceSession("mnist.onnx")
        (probabilities,) = session.run(None, {"inputs": x_test[:5]})
    """
    onnx = _onnx()
    graph = OnnxGraph(onnx)
    specs = _input_specs(model)
    input_names = [name for name, _ in specs]
    outputs = _convert(graph, model, input_names)
    float32 = onnx.TensorProto.FLOAT

    def value_info(name, shape):
        dims = ["batch" if n is None else int(n) for n in shape]
        return onnx.helper.make_tensor_value_info(name, float32, dims)

    output_infos = []
    for i, (name, shape) in enumerate(zip(outputs, _output_shapes(model, specs))):
        final = f"output_{i}" if len(outputs) > 1 else "output"
        graph.nodes.append(onnx.helper.make_node("Identity", [name], [final]))
        output_infos.append(value_info(final, shape))
    onnx_graph = onnx.helper.make_graph(
        graph.nodes,
        model.name,
        [value_info(name, shape) for name, shape in specs],
        output_infos,
        initializer=graph.initializers,
    )
    proto = onnx.helper.make_model(
        onnx_graph,
        producer_name="chainrule",
        opset_imports=[onnx.helper.make_opsetid("", opset)],
    )
    onnx.checker.check_model(proto)
    with atomic_write(os.fspath(filepath)) as file:
        file.write(proto.SerializeToString())
    return proto


__all__ = ["UnsupportedLayerError", "export_onnx"]
