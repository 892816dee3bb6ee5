"""``keras.preprocessing.sequence``: ``pad_sequences``, as in ``keras.utils``."""

from ..utils.arrays import pad_sequences

__all__ = ["pad_sequences"]
