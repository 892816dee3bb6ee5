"""``keras.preprocessing``: the names Keras 3 keeps there for older programs, the same functions
as in ``keras.utils``: datasets from folders and arrays, ``image`` (load, save, convert and
resize images) and ``sequence`` (``pad_sequences``)."""

from ..utils import (
    image_dataset_from_directory,
    text_dataset_from_directory,
    timeseries_dataset_from_array,
)
from . import image, sequence

__all__ = [
    "image",
    "image_dataset_from_directory",
    "sequence",
    "text_dataset_from_directory",
    "timeseries_dataset_from_array",
]
