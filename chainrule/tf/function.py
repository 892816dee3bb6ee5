"""``tf.function``: accepted as a decorator, and the decorated function runs eagerly.

TensorFlow compiles a ``@tf.function`` into a graph. chainrule runs every function eagerly on the
engine, where a training step is already cheap (and ``Model.fit`` replays its traced step; see
:mod:`chainrule.fast.plan`), so the decorator only keeps the program's meaning: same arguments, same
results, same side effects (metric updates, optimizer steps) on every call.
"""

import functools


def function(
    func=None,
    input_signature=None,
    autograph=True,
    jit_compile=None,
    reduce_retracing=False,
    **experimental_options,
):
    """Decorator: ``@chainrule.function`` or ``@chainrule.function(jit_compile=True)``.

    Args:
        func: the function to decorate (given when used without parentheses).
        input_signature, autograph, jit_compile, reduce_retracing: accepted for compatibility
            with TensorFlow; they do not change anything here.
        **experimental_options: TensorFlow's ``experimental_*`` arguments, accepted likewise.

    Returns:
        The function wrapped (with ``python_function`` set to the original), or, without
        ``func``, the decorator.

    Raises:
        TypeError: a keyword argument that tf.function does not have.
    """
    unknown = sorted(k for k in experimental_options if not k.startswith("experimental_"))
    if unknown:
        raise TypeError(f"function() got unexpected keyword arguments: {unknown}")

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            return fn(*args, **kwargs)

        wrapper.python_function = fn
        return wrapper

    return decorate if func is None else decorate(func)
