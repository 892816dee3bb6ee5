"""keras.ops.numpy."""

__all__ = []
