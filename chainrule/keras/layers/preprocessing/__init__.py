"""Preprocessing layers, as ``keras.layers``: text (TextVectorization, StringLookup,
IntegerLookup, Hashing), images (Resizing, CenterCrop), categories (CategoryEncoding) and numbers (Normalization,
Discretization, Rescaling). They learn their state with ``adapt(data)`` instead of training.
The image augmentation layers (RandomFlip, RandomRotation, RandomZoom, RandomTranslation,
RandomCrop, RandomContrast, RandomBrightness) transform images at random in training only."""

from .colour import RandomBrightness, RandomContrast
from .geometric import RandomCrop, RandomFlip, RandomRotation, RandomTranslation, RandomZoom
from .image import CenterCrop, Resizing
from .lookup import IntegerLookup, StringLookup
from .numerical import CategoryEncoding, Discretization, Hashing, Normalization, Rescaling
from .text_vectorization import TextVectorization

__all__ = [
    "CategoryEncoding",
    "CenterCrop",
    "Discretization",
    "Hashing",
    "IntegerLookup",
    "Normalization",
    "RandomBrightness",
    "RandomContrast",
    "RandomCrop",
    "RandomFlip",
    "RandomRotation",
    "RandomTranslation",
    "RandomZoom",
    "Rescaling",
    "Resizing",
    "StringLookup",
    "TextVectorization",
]
