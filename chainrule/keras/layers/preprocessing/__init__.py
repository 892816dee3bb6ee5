"""Preprocessing layers, as ``keras.layers``: text (TextVectorization, StringLookup,
IntegerLookup, Hashing), categories (CategoryEncoding) and numbers (Normalization,
Discretization, Rescaling). They learn their state with ``adapt(data)`` instead of training."""

from .lookup import IntegerLookup, StringLookup
from .numerical import CategoryEncoding, Discretization, Hashing, Normalization, Rescaling
from .text_vectorization import TextVectorization

__all__ = [
    "CategoryEncoding",
    "Discretization",
    "Hashing",
    "IntegerLookup",
    "Normalization",
    "Rescaling",
    "StringLookup",
    "TextVectorization",
]
