"""Keras 3's files: a model as ``.keras`` (a zip archive), its weights as ``.weights.h5`` (HDF5).

A ``.keras`` archive holds three entries:

    metadata.json       {"keras_version": ..., "date_saved": ...}
    config.json         the model's description (architecture, build and compile configs)
    model.weights.h5    the weights, in Keras's HDF5 layout:

        vars                                    the model's own weights (usually none)
        layers/<key>/vars/0, 1, ...             one dataset per weight, trainable ones first
        layers/<key>/layers/<key>/vars/...      the layers of a model nested in the model
        layers/<key>/<attribute>/vars/...       a layer's sublayer: layers/lstm/cell/vars,
                                                layers/bidirectional/forward_layer/cell/vars,
                                                layers/rnn/cell/cells/gru_cell/vars
        <attribute>/vars/...                    a subclassed model's layer in an attribute
        <attribute>/<key>/vars/...              ... or in a list or dict attribute
        optimizer/vars/0, 1, ...                iterations, learning rate, then the state
        optimizer/inner_optimizer/vars/...      a LossScaleOptimizer's inner optimizer's
        optimizer/optimizers/<key>/vars/...     a MultiOptimizer's inner optimizers'

``<key>`` is the layer's class name in snake_case, numbered from the second layer of the same
class on (``dense``, ``dense_1``, ...) in the order of ``model.layers`` (Keras's order, Input
layers included for a functional model), and a layer used twice is stored once, at the first
path (see :func:`saved_layers`); the optimizer's state follows :data:`OPTIMIZER_STATE`. A
``.weights.h5`` file is that HDF5 file alone.

Saving writes the whole file to a temporary file and renames it over the target (see
:mod:`.atomic`). Loading checks every size before it reads or allocates: the zip entries' declared
sizes, then the weights each layer's config will create, its sublayers' included (planned
without being allocated, see :func:`.reading.planned_layer`), against the shapes in the HDF5 file
(before any layer of a Sequential model is built; for a functional model, each layer before it
is built, on the shape it is called with, against the bytes the file stores), then each
dataset's shape and type before it is read. A dataset must hold its data plainly (no HDF5
compression or filters) and all of it (no declared-but-unwritten storage), so that what loading
allocates is bounded by what the file holds; the input sample a model is built with is bounded
too (:data:`MAX_SAMPLE_BYTES`). It builds only chainrule's own classes, with config values of
the kinds their constructors take (see :mod:`.serialization`), never follows HDF5 links to other
files, and turns any damage it meets into a :class:`FileFormatError`.

Keras 3's saving hooks are called where Keras calls them: each layer's ``save_own_variables``
writes its ``vars`` group (by default its weights, as above) and, where its class has its own,
``load_own_variables`` reads it back (the others' weights are checked and assigned together);
a layer class with its own ``build_from_config`` builds itself from the ``build_config`` its
``get_build_config`` wrote; the model compiles with ``compile_from_config``.
"""

import datetime
import io
import json
import math
import os
import tempfile
import warnings
import zipfile

import numpy as np

from ...version import __version__
from ..keras_tensor import knows_output_shape, sample_output_shapes
from ..naming import snake_case
from ..object_registration import custom_object_scope
from . import legacy_h5, serialization
from .atomic import atomic_write
from .reading import (
    MAX_CONFIG_BYTES,
    check_buildable,
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
from .serialization import FileFormatError
from .variable_store import VariableStore

CONFIG = "config.json"
METADATA = "metadata.json"
WEIGHTS = "model.weights.h5"
ASSETS = "assets"  # the folder of the files layers save beside their weights
MAX_ASSET_BYTES = 1 << 26  # all of a file's assets together, decompressed (64 MiB)
KERAS_VERSION = "3.15.1"  # the Keras release whose format is written (checked by the tests)
MAX_EXPANSION = 100  # a zip entry may decompress to at most this many times its stored size

# Keras 3 stores an optimizer's variables in the order its build() creates them: `iterations`,
# the learning rate (absent for a schedule), then the state. Slots created together are
# interleaved per model variable (m0, v0, m1, v1, ...): by default all of an optimizer's slots
# form one group, in the order chainrule creates them. The optimizers below (and their
# subclasses) differ: each tuple is a group, and a string names a scalar attribute.
OPTIMIZER_STATE = {
    "Adam": (("momentum", "velocity"), ("velocity_hat",)),
    "RMSprop": (("velocity",), ("momentum",), ("average_gradient",)),
    "Nadam": (("momentum", "velocity"), "u_product"),
    "Adafactor": (("r", "c", "velocity"),),
    "Muon": (("momentum", "velocity"),),  # "velocity" only for the variables Adam updates
}
# use_ema's moving averages and gradient_accumulation_steps' accumulators
BASE_OPTIMIZER_STATE = ("average", "gradient_accumulator")

# ----- saving ----------------------------------------------------------------------------------


def save_model(model, filepath, overwrite=True, zipped=None, **kwargs):
    """Write ``model`` to ``filepath`` in Keras 3's ``.keras`` format, atomically.

    The file holds the architecture, the weights, the compile config and the optimizer's state,
    so that training resumes where it stopped; Keras 3 loads it with ``keras.saving.load_model``.
    Every kind of model is written: Sequential, functional (ops between layers included) and
    subclasses of ``Model`` (whose ``get_config`` gives their constructor's arguments).

    Args:
        model: the model.
        filepath: a name ending in ``.keras``.
        overwrite: replace an existing file (else FileExistsError).
        zipped: None or True: the zip archive Keras writes (``False``, a folder, is refused).

    Raises:
        ValueError: ``filepath`` does not end in ``.keras``, or ``zipped=False``.
        TypeError: ``model`` is not a model (or holds an object with no config), or an argument
            Keras's ``save_model`` does not take.
        FileExistsError: the file exists and ``overwrite`` is False.
    """
    path = os.fspath(filepath)
    if kwargs:
        raise TypeError(f"save_model() got unexpected arguments: {sorted(kwargs)}")
    if zipped is False:
        raise ValueError(
            "save_model(zipped=False) writes an unzipped folder, which chainrule does not; "
            "leave zipped as None to write the .keras archive."
        )
    if not path.endswith(".keras"):
        raise ValueError(
            f"The filepath for Model.save() must end in .keras (Keras 3's format); got {path!r}. "
            f"To save only the weights, use save_weights() with a .weights.h5 name."
        )
    config = json.dumps(serialization.model_config(model))
    metadata = json.dumps(
        {
            "keras_version": KERAS_VERSION,
            "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
            "chainrule_version": __version__,
        }
    )
    weights = _weights_bytes(model)
    assets = _assets(model)
    with atomic_write(path, overwrite) as file, zipfile.ZipFile(file, "w") as archive:
        archive.writestr(METADATA, metadata)
        archive.writestr(CONFIG, config)
        archive.writestr(WEIGHTS, weights)
        for name, data in assets.items():
            archive.writestr(name, data)


def _assets(model):
    """``{archive name: bytes}`` of the files that layers with ``save_assets`` write (a lookup
    layer's ``vocabulary.txt``), under ``assets/<the layer's path>/`` as Keras 3 stores them."""
    assets = {}
    for path, layer in saved_layers(model):
        if not callable(getattr(layer, "save_assets", None)):
            continue
        with tempfile.TemporaryDirectory() as folder:
            layer.save_assets(folder)
            for name in sorted(os.listdir(folder)):
                with open(os.path.join(folder, name), "rb") as file:
                    assets["/".join(filter(None, (ASSETS, path, name)))] = file.read()
    return assets


def _load_assets(model, assets):
    """Hand each layer with ``load_assets`` the files stored under its path, in a folder of its
    own (a layer with none stored, such as one whose vocabulary is in its config, is left)."""
    for path, layer in saved_layers(model):
        if not callable(getattr(layer, "load_assets", None)):
            continue
        prefix = "/".join(filter(None, (ASSETS, path))) + "/"
        files = {
            name[len(prefix) :]: data
            for name, data in assets.items()
            if name.startswith(prefix) and "/" not in name[len(prefix) :]
        }
        if not files:
            continue
        with tempfile.TemporaryDirectory() as folder:
            for name, data in files.items():
                with open(os.path.join(folder, name), "wb") as file:
                    file.write(data)
            layer.load_assets(folder)


def save_weights(model, filepath, overwrite=True, max_shard_size=None):
    """Write the weights and the optimizer's state to ``filepath`` (``.weights.h5``), atomically,
    at the paths Keras 3 gives them (``layers/dense/vars/0``...).

    Raises:
        ValueError: ``filepath`` does not end in ``.weights.h5``, or a ``max_shard_size`` (one
            file per shard, which chainrule does not write).
        FileExistsError: the file exists and ``overwrite`` is False.
    """
    path = os.fspath(filepath)
    if max_shard_size is not None:
        raise ValueError(
            "save_weights(max_shard_size=...) writes sharded weights, which chainrule does not; "
            "leave max_shard_size as None to write one .weights.h5 file."
        )
    if not path.endswith(".weights.h5"):
        raise ValueError(
            f"The filename for save_weights() must end in .weights.h5; got {path!r}. To save the "
            f"whole model, use save() with a .keras name."
        )
    weights = _weights_bytes(model)
    with atomic_write(path, overwrite) as file:
        file.write(weights)


def to_json(model, **kwargs):
    """The model's description (architecture, build and compile configs) as a JSON string."""
    return json.dumps(serialization.serialize_keras_object(model), **kwargs)


def _weights_bytes(model):
    """The HDF5 weights file of ``model``, in memory."""
    if not serialization.is_model(model):
        raise TypeError(
            f"save_weights() writes the weights of a model (Sequential, functional or a Model "
            f"subclass); got a {type(model).__name__}. Put the layer in a model first, or keep "
            f"its weights as arrays: np.savez('weights.npz', *layer.get_weights())."
        )
    h5py = h5py_module()
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as h5:
        for path, layer in saved_layers(model):
            group = h5.create_group(_vars_path(path))
            group.attrs["name"] = layer.name
            layer.save_own_variables(VariableStore(group, _described(layer)))
            for name, array in getattr(layer, "stored_arrays", dict)().items():
                group.create_dataset(name, data=array)  # a lookup's "idf_weights"
        if model.optimizer is not None:
            # an optimizer holding others lists their variables after its own, and Keras's
            # walk stores each inner one again on its own
            groups = [("optimizer", model.optimizer)]
            held = _held_optimizers(model.optimizer)
            groups += [(f"optimizer/{path}", inner) for path, inner in held]
            for path, optimizer in groups:
                group = h5.create_group(f"{path}/vars")
                group.attrs["name"] = optimizer.name
                entries = _optimizer_entries(optimizer, model.trainable_weights)
                for index, (_, value, _) in enumerate(entries):
                    group.create_dataset(str(index), data=value)
    return buffer.getvalue()


def saved_layers(model):
    """(path, layer) for ``model`` and every layer inside it, as Keras 3 stores them: a layer's
    own weights at ``<path>/vars`` (the model's at the root), each layer once, at the first
    path Keras's depth-first walk reaches it by (a shared layer is stored once).

    A Sequential or functional model's layers are under ``layers``; a subclassed model's under
    the attributes that hold them, in Keras's order (public names sorted, then private ones).
    The layers of a list or dict are named by class, as :func:`_layer_keys` does, so that a
    nested model's layers sit at ``layers/sequential/layers/dense``, say.
    """
    found, visited = [], set()
    stack = [("", model)]
    while stack:
        path, layer = stack.pop()
        if id(layer) in visited:
            continue
        visited.add(id(layer))
        found.append((path, layer))
        children = []
        for attribute, value in _attributes(layer):
            where = f"{path}/{attribute}" if path else attribute
            if _is_layer(value):
                children.append((where, value))
            elif isinstance(value, (list, tuple, dict)):
                items = value.values() if isinstance(value, dict) else value
                held = [item for item in items if _is_layer(item)]
                children += [(f"{where}/{key}", item) for key, item in _layer_keys(held)]
        stack.extend(reversed(children))
    return found


def _attributes(layer):
    """(name, value) of the attributes Keras walks for ``layer``'s sublayers, in its order.

    Keras walks every name of ``dir(layer)``, public ones first, and stores a sublayer at the
    first name that reaches it: a private attribute with a public property of the same name
    that returns it (``MultiHeadAttention._query_dense``, ``query_dense``) is reached by the
    property's name, and a subclassed model's layers that no attribute before ``layers`` in
    that order holds are reached by its ``layers`` list (``layers/time_distributed`` for a
    layer in ``self.project``).
    """
    structured = serialization.has_layer_list(layer)
    if structured:
        yield "layers", layer.layers
    named = {}
    for name in vars(layer).get("_tracked", ()):
        if not (structured and name == "_layers"):
            value = vars(layer)[name]
            named[_public_alias(layer, name, value) or name] = value
    if serialization.is_model(layer) and not structured:
        named["layers"] = layer.layers
    for name in sorted(named, key=lambda n: "~" + n if n[0] == "_" else n):
        yield name, named[name]


def _public_alias(layer, name, value):
    """The public property of ``layer`` named ``name`` without its leading underscores, if it
    returns ``value`` (None otherwise; a property that raises is passed over, as Keras's walk
    passes it over)."""
    public = name.lstrip("_")
    if public == name or not isinstance(getattr(type(layer), public, None), property):
        return None
    try:
        found = getattr(layer, public)
    except Exception:
        return None
    return public if found is value else None


def _is_layer(value):
    return callable(getattr(value, "_own_weights", None))


def _described(layer):
    return f"layer {layer.name!r} ({type(layer).__name__})"


def _vars_path(path):
    return f"{path}/vars" if path else "vars"


def _layer_keys(layer_list):
    """(group key, layer) for each layer, with Keras's names: dense, dense_1, dense_2..."""
    used = {}
    for layer in layer_list:
        base = snake_case(type(layer).__name__)
        count = used.get(base, -1) + 1
        used[base] = count
        yield (base if count == 0 else f"{base}_{count}"), layer


def _optimizer_entries(optimizer, trainable_weights):
    """An optimizer's state as Keras lists it: (label, current value, setter).

    Scalars are written as int64 (``iterations``) and float64 (the rest), losslessly; Keras
    casts them to its variables' dtypes when it loads them. An optimizer that holds others
    lists its own variables, then each inner optimizer's: a LossScaleOptimizer its iterations
    and learning rate (which Keras keeps at 0: they are the inner optimizer's) and, once built,
    its step counter and dynamic scale; a MultiOptimizer its step count and a learning rate
    kept at 0.
    """
    held = _held_optimizers(optimizer)
    if not held:
        return _state_entries(optimizer, trainable_weights)
    scaling = getattr(optimizer, "inner_optimizer", None) is not None  # a LossScaleOptimizer
    own = [
        _placeholder_entry("iterations", np.int64)
        if scaling
        else _scalar_entry(optimizer, "iterations", int),
        _placeholder_entry("learning_rate", float),
    ]
    if scaling and optimizer.built:
        own += [
            _scalar_entry(optimizer, "step_counter", int),
            _scalar_entry(optimizer, "dynamic_scale", np.float32),
        ]
    return own + [e for _, one in held for e in _state_entries(one, trainable_weights)]


def _held_optimizers(optimizer):
    """(path, optimizer) of the optimizers ``optimizer`` holds, as Keras's walk names them: a
    LossScaleOptimizer's ``inner_optimizer``, a MultiOptimizer's ``optimizers/adam``..."""
    inner = getattr(optimizer, "inner_optimizer", None)
    if inner is not None:
        return [("inner_optimizer", inner)]
    held = getattr(optimizer, "optimizers", None)
    if isinstance(held, list):
        return [(f"optimizers/{key}", one) for key, one in _layer_keys(held)]
    return []


def _state_entries(optimizer, trainable_weights):
    """(label, value, setter) of ``optimizer``'s iterations, learning rate and state."""
    entries = [_iterations_entry(optimizer)]
    if not callable(optimizer._learning_rate):  # a schedule is not stored
        entries.append(_scalar_entry(optimizer, "learning_rate", float))
    for group in _state_layout(optimizer) if optimizer.built else ():
        if isinstance(group, str):
            entries.append(_scalar_entry(optimizer, group, float))
            continue
        for variable in trainable_weights:
            for slot in group:
                array = optimizer._slots.get(slot, {}).get(id(variable))
                if array is not None:  # Muon keeps no velocity for the matrices it updates
                    entries.append((f"{slot} of {variable.path}", array, _array_setter(array)))
    return entries


def _scalar_entry(optimizer, name, kind):
    def assign(value):
        setattr(optimizer, name, kind(value))

    return name, np.array(getattr(optimizer, name), dtype=kind), assign


def _iterations_entry(optimizer):
    """The step count as Keras stores it: its variable, which counts every apply() (with
    ``gradient_accumulation_steps`` the ``iterations`` property counts the updates only)."""
    if not getattr(optimizer, "gradient_accumulation_steps", None):
        return _scalar_entry(optimizer, "iterations", int)
    counter = optimizer._iterations
    return "iterations", np.array(int(counter.data)), lambda value: counter.assign(int(value))


def _placeholder_entry(name, kind):
    """A variable Keras stores and never changes from 0: read and left aside."""
    return f"{name} (kept at 0)", np.array(0, dtype=kind), lambda value: None


def _array_setter(array):
    def assign(value):
        array[...] = value

    return assign


def _state_layout(optimizer):
    """The state's groups: the base optimizer's (moving averages, gradient accumulators), which
    Keras creates first, each a group of its own, then the optimizer's own."""
    base = tuple((name,) for name in BASE_OPTIMIZER_STATE if name in optimizer._slots)
    for cls in type(optimizer).__mro__:
        if cls.__name__ in OPTIMIZER_STATE:
            return base + OPTIMIZER_STATE[cls.__name__]
    return base + (tuple(name for name in optimizer._slots if name not in BASE_OPTIMIZER_STATE),)


# ----- loading ---------------------------------------------------------------------------------


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """The model saved in a ``.keras`` file (by chainrule or Keras 3): architecture, weights and,
    with ``compile=True``, the compile config and the optimizer's state.

    Loading draws no random numbers: the initial weights are replaced by the file's, and the
    global generator is left as it was, so training resumed from a file continues exactly.

    Args:
        filepath: the ``.keras`` file.
        custom_objects: ``{name: class or function}`` of your own that the file may use; nothing
            else outside chainrule is ever built, and no code in the file is run.
        compile: also compile the model as it was saved (optimizer state included).
        safe_mode: accepted as Keras takes it; chainrule is always safe (a Lambda layer's
            code in a file is never run, whatever its value).

    Raises:
        FileFormatError: the file is not a ``.keras`` archive, is damaged, or describes a class,
            a function or a shape that chainrule does not load (the message says which).

    Example::

        model = chainrule.keras.models.load_model("mnist.keras")
    """
    with custom_object_scope(custom_objects or {}):  # for the configs layers hold (a cell)
        if legacy_h5.is_hdf5(filepath):
            return legacy_h5.load_legacy_model(filepath, custom_objects, compile)
        return _load_keras_file(filepath, custom_objects, compile)


def _load_keras_file(filepath, custom_objects, compile):
    h5py = h5py_module()
    with open(filepath, "rb") as file, reading(os.fspath(filepath)), random_state_kept():
        config_bytes, weights_bytes, assets = _read_archive(file)
        config = _parse_json(config_bytes)
        model_class = serialization.model_class(config, custom_objects)
        with h5py.File(io.BytesIO(weights_bytes), "r") as h5:
            if hasattr(model_class, "parts_from_config"):  # Sequential: checked before built
                with serialization.build_check(_WeightBudget(h5).check):  # nested models
                    name, trainable, layer_list = model_class.parts_from_config(
                        config.get("config"), custom_objects
                    )
                _check_planned_weights(layer_list, h5)
                model = model_class.from_parts(name, trainable, layer_list)
                if compile and config.get("compile_config"):  # {} when saved uncompiled
                    serialization.compile_from_config(
                        model, config["compile_config"], custom_objects
                    )
            else:
                with serialization.build_check(_WeightBudget(h5).check):
                    model = serialization.model_from_config(config, custom_objects, compile)
                    _build_from_config(model, config.get("build_config"))
            _read_weights(model, h5)
        _load_assets(model, assets)
    return model


class _WeightBudget:
    """The bytes of layer weights the file stores: a functional model's layers are built one by
    one as its config's calls say, and each of chainrule's own layers is checked before it is
    built, on the input shape it is called with, so that the weights a config creates never
    outgrow what the file holds (a user's layer class is trusted, as its code is the user's)."""

    def __init__(self, h5):
        self.left = 0
        for path in _stored_weight_groups(h5):
            group = h5_group(h5, path)
            for name in group:
                dataset = h5_dataset(group, name, path)
                self.left += math.prod(dataset.shape) * dataset.dtype.itemsize

    def check(self, layer, input_shape):
        check_buildable(layer, input_shape)
        if serialization.LAYERS.get(type(layer).__name__) is not type(layer):
            return
        need = _planned_bytes(planned_layer(layer, input_shape), set())
        if need > self.left:
            raise FileFormatError(
                f"layer {layer.name!r} ({type(layer).__name__}): its config makes weights of "
                f"{need} bytes for input shape {input_shape}, more than the {self.left} bytes "
                f"of weights left in the file"
            )
        self.left -= need


def _planned_bytes(layer, counted):
    """The bytes of a planned layer's weights and its sublayers', each layer once (``counted``
    holds the ids of those seen), leaving out the models inside it: each of their layers is
    checked as it is built."""
    counted.add(id(layer))
    total = sum(math.prod(w.shape) * w.dtype.itemsize for w in layer._own_weights())
    for sublayer in layer._sublayers():
        if id(sublayer) not in counted and not serialization.is_model(sublayer):
            total += _planned_bytes(sublayer, counted)
    return total


def _build_from_config(model, build_config):
    """Build a subclassed model from its ``build_config``: by the model's own
    ``build_from_config`` where its class has one, else with the input shape it was saved with,
    which creates its weights; the sample it is called on is bounded (``check_sample_size``)."""
    if model.built or not isinstance(build_config, dict):
        return
    if serialization.overrides(model, "build_from_config"):
        serialization.build_from_file(model, build_config)
        return
    shape = build_config.get("input_shape")
    if shape is None:
        return
    shapes = shape.values() if isinstance(shape, dict) else shape
    if isinstance(shape, dict) or (shape and isinstance(shape[0], list)):
        for one in shapes:
            check_sample_size(serialization.check_shape(one, "build_config's input_shape"))
        shape = (
            {k: tuple(v) for k, v in shape.items()}
            if isinstance(shape, dict)
            else [tuple(v) for v in shape]
        )
    else:
        shape = check_sample_size(serialization.check_shape(shape, "build_config's input_shape"))
    model.build(shape)
    if getattr(model, "_build_shape", None) is None:
        model._build_shape = shape  # written again by save(), as Keras does


def load_weights(model, filepath, skip_mismatch=False):
    """Set ``model``'s weights (and its compiled optimizer's state) from a ``.weights.h5`` file or
    the weights inside a ``.keras`` file. The model must be built, with the saved architecture.

    Every shape is checked before anything is assigned: on an error the weights are unchanged.
    With ``skip_mismatch``, a layer (or the optimizer) whose stored weights are missing or of
    other shapes keeps its own, with a warning, and the others are loaded (as Keras does).

    Raises:
        ValueError: the model is not built yet.
        FileFormatError: the file is damaged or holds other weights than the model has.
    """
    if not serialization.is_model(model):
        raise TypeError(
            f"load_weights() reads Keras's weight layout into models only; got a "
            f"{type(model).__name__}. Restore weights kept as arrays with "
            f"layer.set_weights(list(np.load('weights.npz').values()))."
        )
    if not model.built:
        raise ValueError(
            f"Model {model.name!r} is not built, so its weights do not exist yet: give it an input "
            f"shape (an Input layer or input_shape=) or call it on data, then load_weights()."
        )
    h5py = h5py_module()
    path = os.fspath(filepath)
    with open(path, "rb") as file, reading(path):
        is_archive = zipfile.is_zipfile(file)
        file.seek(0)
        source = io.BytesIO(_read_archive(file)[1]) if is_archive else file
        with h5py.File(source, "r") as h5:
            if legacy_h5.is_legacy_layout(h5):
                legacy_h5.read_legacy_weights(model, legacy_h5.weights_root(h5))
            else:
                _read_weights(model, h5, skip_mismatch)


def model_from_json(json_string, custom_objects=None):
    """The model a :meth:`Model.to_json` string describes (compiled if it was), with fresh
    weights; only chainrule's own classes and ``custom_objects`` are built.

    Raises:
        FileFormatError: not JSON, or a description chainrule cannot build.
    """
    with reading("model_from_json"):
        config = _parse_json(json_string)
        model = serialization.model_from_config(config, custom_objects)
        _build_from_config(model, config.get("build_config"))
        return model


def _parse_json(text):
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as err:
        raise FileFormatError(f"{CONFIG} is not valid JSON ({err})") from err


def _read_archive(file):
    """(config bytes, weights bytes, ``{name: bytes}`` of the assets) from a ``.keras``
    archive, sizes checked before reading; an asset's name must be a plain path under
    ``assets/`` (no ``..``, no absolute or Windows path)."""
    try:
        archive = zipfile.ZipFile(file)
    except zipfile.BadZipFile as err:
        raise FileFormatError(f"not a .keras file: it is not a zip archive ({err})") from err
    with archive:
        names = set(archive.namelist())
        for entry in (CONFIG, WEIGHTS):
            if entry not in names:
                raise FileFormatError(
                    f"not a .keras file: the archive has no {entry} (it holds "
                    f"{', '.join(sorted(names)) or 'nothing'})"
                )
        assets, total = {}, 0
        for info in archive.infolist():
            name = info.filename
            if not name.startswith(ASSETS + "/") or name.endswith("/"):
                continue
            parts = name.split("/")
            if "\\" in name or any(part in ("", ".", "..") for part in parts):
                raise FileFormatError(
                    f"the archive has an asset with an unsafe name: {name!r:.200}"
                )
            total += info.file_size
            if total > MAX_ASSET_BYTES:
                raise FileFormatError(
                    f"the archive's assets declare over {MAX_ASSET_BYTES} bytes; refusing them"
                )
            assets[name] = _read_entry(archive, name)
        config = _read_entry(archive, CONFIG, MAX_CONFIG_BYTES)
        return config, _read_entry(archive, WEIGHTS), assets


def _read_entry(archive, name, limit=None):
    info = archive.getinfo(name)
    if limit is not None and info.file_size > limit:
        raise FileFormatError(f"{name} declares {info.file_size} bytes, over the {limit} allowed")
    if info.file_size > max(1 << 20, MAX_EXPANSION * info.compress_size):
        raise FileFormatError(
            f"{name} declares {info.file_size} bytes but stores {info.compress_size}: refusing a "
            f"likely decompression bomb"
        )
    return archive.read(name)  # zipfile checks the CRC-32 of what it read


def _check_planned_weights(layer_list, h5):
    """Compare the weights each layer's config will create with the file's datasets, before the
    model is built (so a config cannot make loading allocate more than the file holds)."""
    if not layer_list or not isinstance(layer_list[0], serialization.LAYERS["InputLayer"]):
        return  # no input shape: the model stays unbuilt and creates no weights
    shape = check_sample_size(layer_list[0].batch_input_shape)
    for key, layer in _layer_keys(layer_list[1:]):
        if serialization.is_model(layer) or layer.built:  # checked as it was built, or built
            shape = _output_shape(layer, shape)  # by its own build_from_config
            continue
        for path, part in saved_layers(planned_layer(layer, shape)):
            if serialization.overrides(part, "load_own_variables"):
                continue  # it reads what it stored its own way
            where = _vars_path(f"layers/{key}/{path}" if path else f"layers/{key}")
            planned = stored_order(part._own_weights())
            stored = [d.shape for d in _datasets(h5, where, len(planned), part)]
            for index, (weight, stored_shape) in enumerate(zip(planned, stored)):
                if weight.shape != stored_shape:
                    raise FileFormatError(
                        f"layer {layer.name!r} ({type(layer).__name__}): its config makes "
                        f"weight {index} of {where} of shape {weight.shape}, but the file "
                        f"stores shape {stored_shape}"
                    )
        shape = _output_shape(layer, shape)


def _output_shape(layer, input_shape):
    """The output shape of ``layer`` for ``input_shape``: from its ``compute_output_shape``, or,
    for a layer without one of its own (a user's, which may change the shape), from a run on
    symbolic inputs (which builds it, once its weights were checked)."""
    if knows_output_shape(layer):
        return layer.compute_output_shape(input_shape)
    return sample_output_shapes(layer, input_shape)


def _read_weights(model, h5, skip_mismatch=False):
    """Check every dataset for the model's layers and optimizer, then assign them all; with
    ``skip_mismatch`` a layer or optimizer that does not match is left as it is (warned)."""
    pairs = []
    expected = set()
    for path, layer in saved_layers(model):
        expected.add(_vars_path(path))
        if serialization.overrides(layer, "load_own_variables"):
            store = VariableStore(h5_group(h5, _vars_path(path)), _described(layer))
            pairs.append((_own_loader(layer, skip_mismatch), None, store))
            continue
        variables = stored_order(layer._own_weights())
        names = getattr(layer, "stored_array_names", list)()
        try:
            datasets = _datasets(h5, _vars_path(path), len(variables), layer, names)
            for variable, dataset in zip(variables, datasets):
                check_dataset(
                    dataset, variable.shape, f"layer {layer.name!r}, weight {variable.name!r}"
                )
        except FileFormatError as err:
            if not skip_mismatch:
                raise
            warnings.warn(f"Skipping loading weights for layer {layer.name!r}: {err}")
            continue
        pairs += [(v.assign, v.dtype, d) for v, d in zip(variables, datasets)]
        group = h5_group(h5, _vars_path(path))
        if names and group is not None and all(name in group for name in names):
            arrays = {name: h5_dataset(group, name, layer.name)[()] for name in names}
            pairs.append((layer.load_stored_arrays, None, arrays))
    extra = sorted(_stored_weight_groups(h5) - expected)
    if extra and not skip_mismatch:
        raise FileFormatError(
            f"the file has weights for layers the model does not have: {extra[:10]} (the "
            f"model's layers are stored at {sorted(expected)[:10]})"
        )
    if model.optimizer is not None and h5_group(h5, "optimizer/vars") is not None:
        try:
            pairs += _optimizer_pairs(model, h5_group(h5, "optimizer/vars"))
        except FileFormatError as err:
            if not skip_mismatch:
                raise
            warnings.warn(f"Skipping loading the optimizer's state: {err}")
    values = [
        (assign, data if dtype is None else data[()].astype(dtype, copy=False))
        for assign, dtype, data in pairs
    ]
    for assign, value in values:
        assign(value)


def _own_loader(layer, skip_mismatch):
    """A function that hands a store to ``layer.load_own_variables`` (the layer's own way to
    read its state); what that raises is reported as a FileFormatError naming the layer, or,
    with ``skip_mismatch``, warned about (the layer keeps what it has)."""

    def load(store):
        try:
            layer.load_own_variables(store)
        except Exception as err:  # the user's code: report which layer failed, and how
            message = f"{_described(layer)}: load_own_variables failed: {type(err).__name__}: {err}"
            if not skip_mismatch:
                raise FileFormatError(message) from err
            warnings.warn(f"Skipping loading weights for {message}")

    return load


MAX_GROUPS = 1 << 20  # the most HDF5 groups a weights file may hold


def _stored_weight_groups(h5):
    """The paths of the file's non-empty ``vars`` groups (the optimizer's aside), found without
    following links; a file with more than :data:`MAX_GROUPS` groups is refused."""
    h5py = h5py_module()
    found, stack, seen = set(), [("", h5)], 0
    while stack:
        path, group = stack.pop()
        for key in group:
            if not isinstance(group.get(key, getlink=True), h5py.HardLink):
                continue
            child = group[key]
            if not isinstance(child, h5py.Group) or (not path and key == "optimizer"):
                continue
            seen += 1
            if seen > MAX_GROUPS:
                raise FileFormatError(f"the weights file holds over {MAX_GROUPS} groups")
            where = f"{path}/{key}" if path else key
            if key == "vars":
                if len(child):
                    found.add(where)
            else:
                stack.append((where, child))
    return found


def _optimizer_pairs(model, group):
    """(setter, dtype, dataset) for each stored optimizer variable, building the optimizer's
    state first when the file has some and the optimizer has none yet."""
    optimizer = model.optimizer
    count = len(group)
    entries = _optimizer_entries(optimizer, model.trainable_weights)
    if not optimizer.built and count > len(entries):
        optimizer.build(model.trainable_weights)
        entries = _optimizer_entries(optimizer, model.trainable_weights)
    if count != len(entries):
        raise FileFormatError(
            f"the file holds {count} optimizer variables, but the model's "
            f"{type(optimizer).__name__} has {len(entries)} "
            f"({', '.join(label for label, _, _ in entries[:4])}...); compile the model with the "
            f"optimizer settings it was saved with"
        )
    datasets = _numbered(group, count, "optimizer")
    pairs = []
    for (label, value, setter), dataset in zip(entries, datasets):
        check_dataset(dataset, np.shape(value), f"optimizer variable {label!r}")
        pairs.append((setter, np.asarray(value).dtype, dataset))
    return pairs


def _datasets(h5, path, count, layer, named=()):
    """The ``count`` datasets of the group at ``path``, in order (none needed if count is 0),
    beside which only the arrays ``named`` may be stored."""
    group = h5_group(h5, path)
    if group is None and count == 0:
        return []
    if group is None:
        raise FileFormatError(
            f"no weights for layer {layer.name!r} ({type(layer).__name__}) at {path}"
        )
    return _numbered(group, count, f"layer {layer.name!r} ({type(layer).__name__})", named)


def _numbered(group, count, where, named=()):
    names = sorted(name for name in group if name not in named)
    if names != sorted(str(i) for i in range(count)):
        raise FileFormatError(
            f"{where}: expected {count} stored variables named 0..{count - 1}, found "
            f"{len(names)}: {names[:10]}"
        )
    return [h5_dataset(group, str(i), where) for i in range(count)]
