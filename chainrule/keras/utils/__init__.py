"""``keras.utils``: one-hot encoding, padding of sequences to one length, reproducible seeding,
Python datasets of batches (``PyDataset``) for ``fit``, datasets read from arrays and folders,
and a model's layers drawn as a graph (``model_to_dot``, ``plot_model``).

Each topic lives in a module of this package; this module gathers Keras's names.
"""

from ..naming import snake_case
from ..object_registration import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from .arrays import normalize, pad_sequences, to_categorical
from .files import get_file
from .images import array_to_img, img_to_array, load_img, save_img
from .input_pipelines import (
    image_dataset_from_directory,
    text_dataset_from_directory,
    timeseries_dataset_from_array,
)
from .model_graph import model_to_dot, plot_model
from .training_data import (
    PyDataset,
    Sequence,
    pack_x_y_sample_weight,
    set_random_seed,
    unpack_x_y_sample_weight,
)

__all__ = [
    "CustomObjectScope",
    "PyDataset",
    "array_to_img",
    "Sequence",
    "custom_object_scope",
    "get_custom_objects",
    "get_file",
    "get_registered_name",
    "get_registered_object",
    "image_dataset_from_directory",
    "img_to_array",
    "load_img",
    "model_to_dot",
    "normalize",
    "pack_x_y_sample_weight",
    "pad_sequences",
    "plot_model",
    "register_keras_serializable",
    "save_img",
    "set_random_seed",
    "snake_case",
    "text_dataset_from_directory",
    "timeseries_dataset_from_array",
    "to_categorical",
    "unpack_x_y_sample_weight",
]
