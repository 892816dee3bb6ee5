"""Preprocessing layers, as ``keras.layers``: text (TextVectorization, StringLookup,
IntegerLookup, Hashing), images (Resizing, CenterCrop), categories (CategoryEncoding) and numbers (Normalization,
Discretization, Rescaling). They learn their state with ``adapt(data)`` instead of training.
The image augmentation layers (RandomFlip, RandomRotation, RandomZoom, RandomTranslation,
RandomShear, RandomCrop, RandomContrast, RandomBrightness, RandomGrayscale, RandomInvert,
Solarization, RandomErasing) transform images at random in training only; AutoContrast
always. Pipeline chains preprocessing layers."""

from .colour import (
    AutoContrast,
    RandomBrightness,
    RandomContrast,
    RandomGrayscale,
    RandomInvert,
    Solarization,
)
from .erasing import RandomErasing
from .geometric import (
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomShear,
    RandomTranslation,
    RandomZoom,
)
from .image import CenterCrop, Resizing
from .lookup import IntegerLookup, StringLookup
from .numerical import CategoryEncoding, Discretization, Hashing, Normalization, Rescaling
from .pipeline import Pipeline
from .text_vectorization import TextVectorization

__all__ = [
    "AutoContrast",
    "CategoryEncoding",
    "CenterCrop",
    "Discretization",
    "Hashing",
    "IntegerLookup",
    "Normalization",
    "Pipeline",
    "RandomBrightness",
    "RandomContrast",
    "RandomCrop",
    "RandomErasing",
    "RandomFlip",
    "RandomGrayscale",
    "RandomInvert",
    "RandomRotation",
    "RandomShear",
    "RandomTranslation",
    "RandomZoom",
    "Rescaling",
    "Resizing",
    "Solarization",
    "StringLookup",
    "TextVectorization",
]
