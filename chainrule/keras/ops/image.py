"""keras.ops.image."""

__all__ = []
