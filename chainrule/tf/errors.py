"""``tf.errors``: the exception that TensorFlow raises for a failed check on values."""


class InvalidArgumentError(ValueError):
    """An op received a value it cannot take, or a ``tf.debugging`` check failed."""
