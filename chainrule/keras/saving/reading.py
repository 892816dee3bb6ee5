"""What every reader of saved files shares: bounds, checks, and damage as FileFormatError.

A file is read in two steps: first every size it declares is checked against what it stores
(an input sample at most :data:`MAX_SAMPLE_BYTES`; each weight a plain, fully written HDF5
dataset of the expected shape and a numeric type; the weights a config will create compared with
the file's before any is allocated), then the values are read. Anything damaged data makes the
parsers raise becomes a :class:`FileFormatError` that names the file.
"""

import contextlib
import inspect
import math
import zipfile
import zlib

from ... import random
from .serialization import FileFormatError, parameter_names, weights_planned

MAX_CONFIG_BYTES = 64 << 20
# The input sample a model is built with before its weights are read (None axes taken as 1)
# may hold at most this many bytes: a config cannot make loading allocate much more than the
# file stores.
MAX_SAMPLE_BYTES = 256 << 20

# What damaged or foreign data raises inside zipfile, json, h5py and the layer constructors.
DAMAGE = (
    OSError,
    EOFError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    OverflowError,
    RecursionError,
    RuntimeError,
    NotImplementedError,
    MemoryError,
    zipfile.BadZipFile,
    zlib.error,
)


def h5py_module():
    try:
        import h5py
    except ImportError as err:
        raise ImportError(
            "Saving and loading weights needs h5py (HDF5): pip install 'chainrule[h5]'"
        ) from err
    return h5py


@contextlib.contextmanager
def reading(path):
    """Turn what damaged data raises into a FileFormatError that names the file."""
    try:
        yield
    except FileFormatError as err:
        raise FileFormatError(f"{path}: {err}") from err
    except DAMAGE as err:
        raise FileFormatError(
            f"{path} is damaged or not in Keras's format ({type(err).__name__}: {err})"
        ) from err


@contextlib.contextmanager
def random_state_kept():
    """Leave the global generator as it was: the initial weights that building a model draws
    are all replaced by the file's."""
    state = random.get_state()
    try:
        yield
    finally:
        random.set_state(state)


def check_sample_size(shape):
    """``shape``, after checking that one float32 sample of it fits :data:`MAX_SAMPLE_BYTES`."""
    sample_bytes = 4 * math.prod(1 if n is None else n for n in shape)
    if sample_bytes > MAX_SAMPLE_BYTES:
        raise FileFormatError(
            f"the input shape {list(shape)} makes one sample of {sample_bytes} bytes, over the "
            f"{MAX_SAMPLE_BYTES} that loading allows; build such a model in code and use "
            f"load_weights()"
        )
    return shape


def planned_layer(layer, input_shape):
    """A layer of ``layer``'s class and config, built for ``input_shape`` with weights that
    have shapes and no values (:class:`~.serialization.PlannedWeight`): its own and those of
    every sublayer (a recurrent cell, a wrapped layer), found without allocating any of them.

    Raises:
        FileFormatError: the layer cannot be built for ``input_shape`` (naming it and why).
    """
    check_buildable(layer, input_shape)
    with weights_planned():
        stand_in = type(layer).from_config(layer.get_config())
        try:
            stand_in.build(*_build_arguments(stand_in, input_shape))
        except DAMAGE as err:
            raise FileFormatError(
                f"layer {layer.name!r} ({type(layer).__name__}) cannot be built for input "
                f"shape {input_shape}: {type(err).__name__}: {err}"
            ) from err
    return stand_in


def check_buildable(layer, input_shape):
    """Check that ``layer.build`` takes only what loading gives it: the input shape(s) that the
    model calls it with (its first parameter, and any other named ``<argument>_shape``).

    Raises:
        FileFormatError: a ``build`` that needs more (``build(self, input_shape, layer_init)``),
            naming the layer; such a layer builds itself from a file with its own
            ``get_build_config`` and ``build_from_config``, as in Keras 3.
    """
    signature = inspect.signature(type(layer).build)
    needed = [
        parameter.name
        for parameter in list(signature.parameters.values())[2:]
        if parameter.default is inspect.Parameter.empty
        and parameter.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        and not parameter.name.endswith("_shape")
    ]
    if needed:
        raise FileFormatError(
            f"layer {layer.name!r} ({type(layer).__name__}) cannot be built from the file: its "
            f"build{signature} needs {needed} besides the input shape {input_shape} that "
            f"loading gives it. A layer whose build takes more than input shapes saves what it "
            f"needs with get_build_config() and builds itself with build_from_config(config)."
        )


def _build_arguments(layer, input_shape):
    """The arguments a first call gives ``layer.build`` for ``input_shape``: the shape, or the
    list (or dict) of shapes of several inputs, or one shape each for a ``build`` that takes
    a shape per input (``MultiHeadAttention.build(query_shape, value_shape)``)."""
    if isinstance(input_shape, dict):
        return [input_shape]
    if not input_shape or not all(isinstance(s, (list, tuple)) for s in input_shape):
        return [tuple(input_shape)]
    shapes = [tuple(shape) for shape in input_shape]
    return shapes if len(parameter_names(type(layer).build)) > 1 else [shapes]


def stored_order(weights):
    """A layer's weights in Keras's stored order: the trainable ones, then the others."""
    return [w for w in weights if w.trainable] + [w for w in weights if not w.trainable]


def h5_group(h5, path):
    """The group at ``path`` (None if absent), refusing links to elsewhere."""
    h5py = h5py_module()
    node = h5
    for part in path.split("/"):
        if part not in node:
            return None
        if not isinstance(node.get(part, getlink=True), h5py.HardLink):
            raise FileFormatError(f"{path} is a link; links (to other files) are not followed")
        node = node[part]
        if not isinstance(node, h5py.Group):
            raise FileFormatError(f"{path} should be a group, but is a {type(node).__name__}")
    return node


def h5_dataset(group, name, where):
    h5py = h5py_module()
    if not isinstance(group.get(name, getlink=True), h5py.HardLink):
        raise FileFormatError(f"{where}: variable {name} is a link; links are not followed")
    dataset = group[name]
    if not isinstance(dataset, h5py.Dataset):
        raise FileFormatError(f"{where}: variable {name} is not a dataset")
    if dataset.is_virtual or dataset.external:
        raise FileFormatError(f"{where}: variable {name} keeps its data in other files")
    if dataset.id.get_create_plist().get_nfilters():
        raise FileFormatError(
            f"{where}: variable {name} is compressed or filtered inside the HDF5 file; Keras "
            f"writes weights plainly, and chainrule reads only plain data (so that what a file "
            f"makes it allocate is what the file holds)"
        )
    stored = dataset.id.get_storage_size()
    if stored < dataset.nbytes:
        raise FileFormatError(
            f"{where}: variable {name} declares {dataset.nbytes} bytes of data but the file "
            f"stores {stored}: its values were never written"
        )
    return dataset


def check_dataset(dataset, shape, where):
    if dataset.shape != tuple(shape):
        raise FileFormatError(
            f"{where}: the model has shape {tuple(shape)}, the file stores {dataset.shape}"
        )
    if dataset.dtype.kind not in "fiub" or dataset.attrs.get("dtype") == "bfloat16":
        raise FileFormatError(
            f"{where}: stored as {dataset.attrs.get('dtype', dataset.dtype)}, which chainrule "
            f"does not read (expected a float or integer type)"
        )
