"""Which of your own classes and functions a file may name (Keras 3's ``keras.saving`` API).

A saved model that uses a custom layer, loss or activation names it in its config; loading
builds it only if you allowed it, in one of three ways::

    @keras.saving.register_keras_serializable(package="my_package")
    class MyLayer(keras.layers.Layer): ...              # for good, as "my_package>MyLayer"

    with keras.saving.custom_object_scope({"MyLayer": MyLayer}):
        model = keras.saving.load_model("m.keras")       # for this block

    keras.saving.load_model("m.keras", custom_objects={"MyLayer": MyLayer})   # for this call

Nothing a file names is ever imported: an object that is neither chainrule's nor allowed by you
makes loading fail with a message that says how to allow it.
"""

from . import registry


def register_keras_serializable(package="Custom", name=None):
    """Decorator: allow files to name this class or function, as ``"package>name"``.

    Args:
        package: the prefix of the registered name (keeps names of libraries apart).
        name: the name after the prefix; the class's or function's own name by default.

    Raises:
        ValueError: the name is registered already, or a class without ``get_config``.

    Example::

        @keras.saving.register_keras_serializable(package="demo")
        def scaled_mse(y_true, y_pred):
            return 2.0 * keras.losses.mean_squared_error(y_true, y_pred)
    """

    def register(obj):
        registered = f"{package}>{name or obj.__name__}"
        if isinstance(obj, type) and not hasattr(obj, "get_config"):
            raise ValueError(
                f"Cannot register {obj.__name__}: a class needs a get_config() method to be "
                f"saved and loaded."
            )
        if registered in registry.custom_objects():
            raise ValueError(
                f"{registered} has already been registered to "
                f"{registry.custom_objects()[registered]!r}; pick another package or name."
            )
        registry.register_custom(registered, obj)
        return obj

    return register


def get_custom_objects():
    """The live table ``{"package>Name": object}`` of registered objects; adding to it
    registers too (``get_custom_objects()["MyLayer"] = MyLayer``)."""
    return registry.custom_objects()


def get_registered_name(obj):
    """The name files call ``obj`` by: its registered ``"package>Name"``, else its own name."""
    return registry.custom_name(obj) or obj.__name__


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The object called ``name`` in the open scopes, the registered objects, then
    ``custom_objects`` and ``module_objects``; None if none has it."""
    found = registry.find_custom([name])
    if found is not None:
        return found
    for table in (custom_objects or {}, module_objects or {}):
        if name in table:
            return table[name]
    return None


def function_description(fn):
    """Keras 3's description of a function of the user's, as it writes one for every function
    that is not its own: ``{"module": "builtins", "class_name": "function", "config": name,
    "registered_name": "function"}``, where ``name`` is the registered ``"package>name"`` (else
    the function's own name) by which loading finds it."""
    return {
        "module": "builtins",
        "class_name": "function",
        "config": registry.custom_name(fn) or getattr(fn, "__name__", type(fn).__name__),
        "registered_name": "function",
    }


def find_by_bare_name(name, custom_objects=None):
    """The user's object registered (or passed, or scoped) as ``"package>name"`` for a bare
    ``name``; None if none is. Keras 3 looks a function up so when it is neither the user's by
    its exact name nor one of Keras's own: files of Keras 3.6 and earlier wrote a registered
    function by its bare name."""
    suffix = f">{name}"
    for table in (custom_objects or {}, registry.scoped_objects(), registry.custom_objects()):
        for registered, obj in table.items():
            if isinstance(registered, str) and registered.endswith(suffix):
                return obj
    return None


class CustomObjectScope:
    """``with CustomObjectScope({"Name": obj}, ...):``: files may name these objects inside the
    block (loading, ``from_config``, ``deserialize``). Scopes nest; inner ones win."""

    def __init__(self, *objects):
        self.objects = {}
        for table in objects:
            if not isinstance(table, dict):
                raise TypeError(
                    f"custom_object_scope takes dicts of {{name: object}}; got "
                    f"{type(table).__name__}"
                )
            self.objects.update(table)

    def __enter__(self):
        registry.open_scope(self.objects)
        return self

    def __exit__(self, *exc):
        registry.close_scope()


custom_object_scope = CustomObjectScope
