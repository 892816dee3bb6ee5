"""``keras.models.clone_model``: the same architecture with new layers, hence new weights.

A Sequential model is rebuilt from clones of its layers; a functional model's recorded calls are
run again, on new ``Input`` tensors, with each layer replaced by its clone (a layer shared by
several calls is cloned once, and stays shared) and each ``keras.ops`` call recorded again.
"""

from ... import nest
from ..keras_tensor import KerasTensor
from ..layers.core import Input, InputLayer, Lambda
from ..saving.serialization import compile_config, compile_from_config
from .functional import Functional
from .sequential import Sequential


def clone_model(
    model, input_tensors=None, clone_function=None, call_function=None, recursive=False
):
    """A copy of a Sequential or functional ``model`` with new layers and new weights.

    Args:
        model: a ``Sequential`` or functional ``Model``.
        input_tensors: optional KerasTensor(s) to build the copy on, in the structure of
            ``model.input`` (one tensor for a Sequential model); default new ``Input``s of the
            same shapes, dtypes and names.
        clone_function: ``fn(layer) -> layer`` applied to each layer (not the inputs); default
            ``layer.__class__.from_config(layer.get_config())``, a new unbuilt layer of the same
            config (a model inside the model is cloned with ``clone_model``). Return the layer
            itself to share it with ``model``.
        call_function: ``fn(layer, inputs, **kwargs)`` that calls each cloned layer of a
            functional model (to insert layers around it, say); default ``layer(inputs,
            **kwargs)``.
        recursive: clone the models inside ``model`` with ``clone_model`` and the same
            ``clone_function`` instead of passing them to ``clone_function``.

    The copy has ``model``'s name and, when ``model`` is compiled, is compiled with the same
    arguments (and a new optimizer).

    Raises:
        ValueError: a subclassed model, ``call_function`` with a Sequential model, or
            ``input_tensors`` that are not KerasTensors of the inputs' structure.
    """
    if not isinstance(model, (Sequential, Functional)):
        raise ValueError(
            f"clone_model clones Sequential and functional models; got a "
            f"{type(model).__name__}, whose layers and calls are known only to its own code. "
            f"Build a copy with model.__class__.from_config(model.get_config()) instead."
        )
    clone = _cached(clone_function, call_function, recursive)
    if isinstance(model, Sequential):
        if call_function is not None:
            raise ValueError(
                "clone_model: call_function applies to functional models only; a Sequential "
                "model lists its layers instead of calling them. Pass clone_function instead."
            )
        copy = _clone_sequential(model, clone, input_tensors)
    else:
        copy = _clone_functional(model, clone, input_tensors, call_function)
    if model.compiled:
        compile_from_config(copy, compile_config(model))
    return copy


def _cached(clone_function, call_function, recursive):
    """``clone_function`` (or the default), applied once per layer."""
    cache = {}

    def clone(layer):
        if id(layer) not in cache:
            if isinstance(layer, (Sequential, Functional)) and (
                recursive or clone_function is None
            ):
                cache[id(layer)] = clone_model(
                    layer,
                    clone_function=clone_function,
                    call_function=None if isinstance(layer, Sequential) else call_function,
                    recursive=recursive,
                )
            else:
                cache[id(layer)] = (clone_function or _new_layer)(layer)
        return cache[id(layer)]

    return clone


def _new_layer(layer):
    """A new, unbuilt layer of ``layer``'s config."""
    if isinstance(layer, Lambda):  # its function may be a Python lambda, which has no config
        return Lambda(
            layer.function,
            output_shape=layer._output_shape,
            mask=layer.mask,
            arguments=layer.arguments,
            name=layer.name,
            dtype=layer.dtype,
            trainable=layer.trainable,
        )
    return layer.__class__.from_config(layer.get_config())


def _clone_sequential(model, clone, input_tensors):
    layers = [clone(layer) for layer in model.layers]
    first = model._layers[0] if model._layers else None
    if input_tensors is not None:
        tensors = nest.flatten(input_tensors)
        if len(tensors) != 1 or not isinstance(tensors[0], KerasTensor):
            raise ValueError(
                f"clone_model: input_tensors of a Sequential model must be one KerasTensor "
                f"(from keras.Input); got {input_tensors!r:.200}."
            )
        layers.insert(0, tensors[0])
    elif isinstance(first, InputLayer):
        layers.insert(
            0, Input(batch_shape=first.batch_input_shape, dtype=first.dtype, name=first.name)
        )
    copy = Sequential(layers, name=model.name, trainable=model.trainable)
    if not copy.built and model.built and model.batch_input_shape is not None:
        copy.build(model.batch_input_shape)
    return copy


def _clone_functional(model, clone, input_tensors, call_function):
    if input_tensors is None:
        input_tensors = nest.map_structure(
            lambda t: Input(batch_shape=t.shape, dtype=t.dtype, name=t.name), model.input
        )
    new_inputs = nest.flatten(input_tensors)
    if len(new_inputs) != len(model.inputs) or not all(
        isinstance(t, KerasTensor) for t in new_inputs
    ):
        raise ValueError(
            f"clone_model: input_tensors must be {len(model.inputs)} KerasTensor(s) in the "
            f"structure of model.input ({model.input!r:.200}); got {input_tensors!r:.200}."
        )
    values = {id(old): new for old, new in zip(model.inputs, new_inputs)}
    outputs = model.run_graph(values, replace=clone, call_function=call_function)
    return Functional(input_tensors, outputs, name=model.name, trainable=model.trainable)
