"""``keras.utils``: one-hot encoding, padding of sequences to one length, reproducible seeding,
Python datasets of batches (``PyDataset``) for ``fit``, datasets read from arrays, folders and
the web (``get_file``), images, a progress bar, and a model's layers as a graph
(``model_to_dot``, ``plot_model``, ``get_source_inputs``). Keras also shows some names of
``keras.backend`` and ``keras.saving`` here.

Each topic lives in a module of this package; this module gathers Keras's names.
"""

from ..keras_tensor import clear_session, is_keras_tensor
from ..naming import snake_case
from ..object_registration import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from ..ops.dtypes import standardize_dtype
from ..progress import (
    disable_interactive_logging,
    enable_interactive_logging,
    is_interactive_logging_enabled,
)
from ..saving.serialization import deserialize_keras_object, serialize_keras_object
from .arrays import normalize, pad_sequences, to_categorical
from .config import Config
from .files import get_file
from .images import array_to_img, img_to_array, load_img, save_img
from .input_pipelines import (
    image_dataset_from_directory,
    split_dataset,
    text_dataset_from_directory,
    timeseries_dataset_from_array,
)
from .model_graph import get_source_inputs, model_to_dot, plot_model
from .progbar import Progbar
from .training_data import (
    PyDataset,
    Sequence,
    pack_x_y_sample_weight,
    set_random_seed,
    unpack_x_y_sample_weight,
)

__all__ = [
    "Config",
    "CustomObjectScope",
    "Progbar",
    "PyDataset",
    "Sequence",
    "array_to_img",
    "clear_session",
    "custom_object_scope",
    "deserialize_keras_object",
    "disable_interactive_logging",
    "enable_interactive_logging",
    "get_custom_objects",
    "get_file",
    "get_registered_name",
    "get_registered_object",
    "get_source_inputs",
    "image_dataset_from_directory",
    "img_to_array",
    "is_interactive_logging_enabled",
    "is_keras_tensor",
    "load_img",
    "model_to_dot",
    "normalize",
    "pack_x_y_sample_weight",
    "pad_sequences",
    "plot_model",
    "register_keras_serializable",
    "save_img",
    "serialize_keras_object",
    "set_random_seed",
    "snake_case",
    "split_dataset",
    "standardize_dtype",
    "text_dataset_from_directory",
    "timeseries_dataset_from_array",
    "to_categorical",
    "unpack_x_y_sample_weight",
]
