"""keras.ops.linalg."""

__all__ = []
