"""Preprocessing layers, as ``keras.layers``: text (TextVectorization, StringLookup,
IntegerLookup, Hashing), images (Resizing, CenterCrop), categories (CategoryEncoding) and numbers (Normalization,
Discretization, Rescaling). They learn their state with ``adapt(data)`` instead of training."""

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
    "Rescaling",
    "Resizing",
    "StringLookup",
    "TextVectorization",
]
