"""Keras 2's HDF5 files: ``model.h5`` (whole models, as tf.keras wrote them) and weight files.

Most trained Keras models in the wild are in this format. An HDF5 file holds

    attrs["model_config"]      the architecture, as JSON (Keras 2's config form)
    attrs["training_config"]   the compile arguments, as JSON (optional)
    model_weights/             attrs["layer_names"]; per layer a group with
        <layer>/               attrs["weight_names"]: the paths of its datasets, trainable
                               weights first ("dense/kernel:0", or "sequential/dense/kernel")

and a weights file (``save_weights("w.h5")``) is the ``model_weights`` group alone, at the root.

Keras 2's configs differ from Keras 3's in a few names, which :func:`keras3_layer_config`
translates (``batch_input_shape`` -> ``batch_shape``, an input shape kept on the first layer,
an optimizer's ``decay``). Reading goes through the same checks as the ``.keras`` reader: only
chainrule's classes (and the user's registered ones) are built, each dataset's shape, type and
storage are checked before it is read, links are not followed. The optimizer's saved state is not
read: a loaded model is compiled afresh from its ``training_config``.
"""

import json
import os
import warnings

from .reading import (
    MAX_CONFIG_BYTES,
    check_dataset,
    check_sample_size,
    h5_dataset,
    h5_group,
    h5py_module,
    planned_layer,
    random_state_kept,
    reading,
    stored_order,
)
from .serialization import LAYERS, FileFormatError, compile_from_config, model_class

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"

# Keras 2 optimizer settings with no Keras 3 counterpart: dropped (``decay`` only when off).
KERAS2_OPTIMIZER_ONLY = ("jit_compile", "is_legacy_optimizer")


def is_hdf5(path):
    """True when the file at ``path`` starts with HDF5's signature."""
    with open(path, "rb") as file:
        return file.read(8) == HDF5_SIGNATURE


def _attribute_text(node, name, what):
    value = node.attrs.get(name)
    if value is None:
        return None
    if hasattr(value, "decode"):
        value = value.decode("utf8")
    if not isinstance(value, str) or len(value) > MAX_CONFIG_BYTES:
        raise FileFormatError(f"{what} is not a JSON text of at most {MAX_CONFIG_BYTES} bytes")
    return value


def _json_attribute(node, name, what):
    text = _attribute_text(node, name, what)
    if text is None:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as err:
        raise FileFormatError(f"{what} is not valid JSON ({err})") from err


def _names_attribute(node, name):
    """A list-of-strings attribute (Keras splits long ones into ``name0``, ``name1``...)."""
    if name in node.attrs:
        values = list(node.attrs[name])
    else:
        values, chunk = [], 0
        while f"{name}{chunk}" in node.attrs:
            values += list(node.attrs[f"{name}{chunk}"])
            chunk += 1
    names = [v.decode("utf8") if hasattr(v, "decode") else v for v in values]
    if not all(isinstance(n, str) for n in names):
        raise FileFormatError(f"attribute {name} must list names")
    return names


def keras3_layer_config(description, first):
    """A Keras 2 layer description in Keras 3's form (a new dict; Keras 3 ones pass unchanged).

    Returns a list: the layer, preceded by an InputLayer when Keras 2 kept the input shape on
    the first layer (``batch_input_shape``) instead.
    """
    if not isinstance(description, dict) or not isinstance(description.get("config"), dict):
        return [description]
    config = dict(description["config"])
    shape = config.pop("batch_input_shape", None)
    axis = config.get("axis")
    if description.get("class_name") == "BatchNormalization" and isinstance(axis, list):
        if len(axis) == 1:  # Keras 2 wrote the axis as a one-element list
            config["axis"] = axis[0]
    if description.get("class_name") == "InputLayer":
        if shape is not None:
            config.setdefault("batch_shape", shape)
        return [{**description, "config": config}]
    layers = [{**description, "config": config}]
    if first and shape is not None:
        input_config = {"batch_shape": shape, "dtype": config.get("dtype", "float32")}
        layers.insert(0, {"class_name": "InputLayer", "config": input_config})
    return layers


def keras3_model_config(config):
    """A Keras 2 ``model_config`` in Keras 3's form."""
    if not isinstance(config, dict) or not isinstance(config.get("config"), dict):
        raise FileFormatError("model_config must be a JSON object with a 'config'")
    inner = dict(config["config"])
    if isinstance(inner.get("layers"), list):
        layers = []
        for index, description in enumerate(inner["layers"]):
            layers += keras3_layer_config(description, first=index == 0)
        inner["layers"] = layers
    return {**config, "config": inner}


def keras3_compile_config(training_config):
    """``compile`` arguments from a Keras 2 ``training_config``."""
    if not isinstance(training_config, dict):
        raise FileFormatError("training_config must be a JSON object")
    optimizer = training_config.get("optimizer_config")
    if isinstance(optimizer, dict) and isinstance(optimizer.get("config"), dict):
        kept = {
            key: value
            for key, value in optimizer["config"].items()
            if key not in KERAS2_OPTIMIZER_ONLY and not (key == "decay" and not value)
        }
        class_name = optimizer.get("class_name")
        if isinstance(class_name, str) and class_name.startswith("Custom>"):
            class_name = class_name[len("Custom>") :]  # how tf_keras names its own optimizers
        optimizer = {**optimizer, "class_name": class_name, "config": kept}
    return {
        "optimizer": optimizer,
        "loss": training_config.get("loss"),
        "metrics": _keras3_metrics(training_config.get("metrics")),
        "weighted_metrics": _keras3_metrics(training_config.get("weighted_metrics")),
        "loss_weights": training_config.get("loss_weights"),
    }


def _keras3_metrics(metrics):
    """Keras 2 writes a metric given by name as a ``MeanMetricWrapper`` of its function; such a
    metric is named again (``"accuracy"``), so that compile picks the variant the loss needs. A
    single output's list of metrics comes nested in a list of one."""
    if not isinstance(metrics, list):
        return metrics
    if len(metrics) == 1 and isinstance(metrics[0], list):
        metrics = metrics[0]
    return [
        m["config"].get("name", m)
        if isinstance(m, dict)
        and m.get("class_name") == "MeanMetricWrapper"
        and isinstance(m.get("config"), dict)
        else m
        for m in metrics
    ]


def load_legacy_model(filepath, custom_objects=None, compile=True):
    """The model in a Keras 2 (tf.keras) ``.h5`` file: architecture and weights, compiled from
    its training config when ``compile`` is True (the optimizer's saved state is not read).

    Raises:
        FileFormatError: not a Keras HDF5 model file, damaged, or describing something chainrule
            does not build (the message says what).
    """
    h5py = h5py_module()
    path = os.fspath(filepath)
    with reading(path), random_state_kept(), h5py.File(path, "r") as h5:
        config = _json_attribute(h5, "model_config", "model_config")
        if config is None:
            raise FileFormatError(
                "this HDF5 file holds no model_config: it is a weights file; build the model "
                "in code and call model.load_weights() on it"
            )
        config = keras3_model_config(config)
        cls = model_class(config)
        name, trainable, layer_list = cls.parts_from_config(config["config"], custom_objects)
        if "model_weights" not in h5:
            raise FileFormatError("the file has no model_weights group")
        weights = weights_root(h5)
        _check_planned_legacy(layer_list, weights)
        model = cls.from_parts(name, trainable, layer_list)
        training = _json_attribute(h5, "training_config", "training_config")
        if compile and training is not None:
            _compile(model, training, custom_objects)
        read_legacy_weights(model, weights)
    return model


def _compile(model, training_config, custom_objects):
    try:
        compile_from_config(model, keras3_compile_config(training_config), custom_objects)
    except FileFormatError as err:
        warnings.warn(
            f"The model's weights are loaded, but it could not be compiled as it was saved "
            f"({err}); compile it yourself before training.",
            stacklevel=3,
        )


def _check_planned_legacy(layer_list, weights):
    """Compare the weights each layer's config will create with the file's datasets, before the
    model is built (so a config cannot make loading allocate more than the file holds)."""
    if not layer_list or not isinstance(layer_list[0], LAYERS["InputLayer"]):
        return  # no input shape: the model stays unbuilt and creates no weights
    shape = check_sample_size(layer_list[0].batch_input_shape)
    stored = iter(_layers_with_weights(weights))
    for layer in layer_list[1:]:
        planned = stored_order(planned_layer(layer, shape).weights)
        if planned:
            name = next(stored, None)
            if name is None:
                raise FileFormatError(f"the file has no weights for layer {layer.name!r}")
            shapes = [d.shape for d in _legacy_datasets(weights, name)]
            if shapes != [w.shape for w in planned]:
                raise FileFormatError(
                    f"layer {layer.name!r} ({type(layer).__name__}): its config makes weights "
                    f"of shapes {[w.shape for w in planned]}, the file stores {shapes} ({name!r})"
                )
        shape = layer.compute_output_shape(shape)


def _layers_with_weights(weights):
    """The names in ``layer_names`` whose groups list weights, in order."""
    names = []
    for name in _names_attribute(weights, "layer_names"):
        group = h5_group(weights, name)
        if group is not None and _names_attribute(group, "weight_names"):
            names.append(name)
    return names


def _legacy_datasets(weights, layer_name):
    """The datasets of ``layer_name`` in the order of its ``weight_names`` attribute."""
    group = h5_group(weights, layer_name)
    if group is None:
        raise FileFormatError(f"model_weights has no group for layer {layer_name!r}")
    datasets = []
    for weight_name in _names_attribute(group, "weight_names"):
        parent, _, leaf = weight_name.rpartition("/")
        holder = h5_group(group, parent) if parent else group
        if holder is None:
            raise FileFormatError(f"layer {layer_name!r}: no weight at {weight_name!r}")
        datasets.append(h5_dataset(holder, leaf, f"layer {layer_name!r}"))
    return datasets


def read_legacy_weights(model, weights):
    """Assign the file's weights to the model's layers, matched in order among the layers that
    have weights (as Keras does), after checking every shape."""
    stored = _layers_with_weights(weights)
    layers = [layer for layer in model.layers if layer.weights]
    if len(stored) != len(layers):
        raise FileFormatError(
            f"the file has weights for {len(stored)} layers ({stored[:6]}), the model has "
            f"{len(layers)} layers with weights"
        )
    pairs = []
    for name, layer in zip(stored, layers):
        variables = stored_order(layer.weights)
        datasets = _legacy_datasets(weights, name)
        if len(datasets) != len(variables):
            raise FileFormatError(
                f"layer {layer.name!r}: the file has {len(datasets)} weights for it ({name!r}), "
                f"the layer has {len(variables)}"
            )
        for variable, dataset in zip(variables, datasets):
            check_dataset(dataset, variable.shape, f"layer {layer.name!r}, {variable.name!r}")
            pairs.append((variable, dataset))
    values = [(v, d[()].astype(v.dtype, copy=False)) for v, d in pairs]
    for variable, value in values:
        variable.assign(value)


def is_legacy_layout(h5):
    """True for Keras 2's weight layout (``layer_names`` at the root or in ``model_weights``)."""
    return "model_weights" in h5 or "layer_names" in h5.attrs or "layer_names0" in h5.attrs


def weights_root(h5):
    """The group that holds the layers' weights: ``model_weights``, or the root of a weights
    file."""
    return h5_group(h5, "model_weights") if "model_weights" in h5 else h5
