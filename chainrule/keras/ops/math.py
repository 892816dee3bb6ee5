"""keras.ops.math."""

__all__ = []
