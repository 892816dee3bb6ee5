"""Keras's string identifiers ('relu', 'sgd', 'categorical_crossentropy', ...) and the classes a
file may build.

Each module keeps a table of the names it knows; :func:`lookup` turns an identifier into the
object, or raises an error that lists the known names. Modules also register their serializable
classes (and the tables of functions written by name) here, under the Keras module that names
them in a file (``keras.layers``, ``keras.losses``...), as they are defined. Saving finds classes
only here, so the registry is the allow-list of what may be built from a saved file: nothing a
file names is imported.
"""

_CLASSES = {}  # Keras module -> {class name: class}
_NAMES = {}  # Keras module -> {name: function or class}, the names functions are written by


def lookup(kind, table, identifier):
    """Return ``table[identifier]``, with Keras's name normalisation (case, aliases).

    Raises:
        ValueError: naming the identifier and listing the known ones.
    """
    key = identifier.lower() if isinstance(identifier, str) else identifier
    if key in table:
        return table[key]
    known = ", ".join(sorted(k for k in table if isinstance(k, str)))
    plural = kind + ("es" if kind.endswith("s") else "s")
    raise ValueError(f"Unknown {kind}: {identifier!r}. Known {plural}: {known}.")


def describe(obj, module, registered_name=None):
    """Keras's description of ``obj``: ``{"module", "class_name", "config",
    "registered_name"}``, with ``module`` the Keras module (or Python module) that names its
    class and ``registered_name`` None for Keras's own classes."""
    return {
        "module": module,
        "class_name": type(obj).__name__,
        "config": obj.get_config(),
        "registered_name": registered_name,
    }


def deserialize_object(kind, table, config, custom_objects=None):
    """The object of ``kind`` (e.g. "constraint") that a name or a Keras description
    ``{"class_name", "config", ...}`` gives: a name builds ``table``'s class with its defaults,
    a description calls its class's ``from_config``. ``custom_objects`` maps further names to
    classes and is looked in first.

    Raises:
        ValueError: an unknown name (listing the known ones), or neither a name nor a dict with
            "class_name".
    """
    custom = custom_objects or {}
    if isinstance(config, str):
        return (custom.get(config) or lookup(kind, table, config))()
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            f"{kind}s.deserialize: expected a name or a dict with 'class_name' and "
            f"'config'; got {config!r}."
        )
    name = config["class_name"]
    cls = custom.get(name) or lookup(kind, table, name)
    return cls.from_config(config.get("config") or {})


def get_object(kind, table, identifier, base=object):
    """Keras's ``get`` for initializers, regularizers and constraints: None stays None, a name
    or a config dict is deserialized (:func:`deserialize_object`), a subclass of ``base`` is
    built with its defaults, and any other callable (an instance, a function) is kept.

    Raises:
        ValueError: an unknown name, or an identifier of another kind.
    """
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize_object(kind, table, identifier)
    if isinstance(identifier, type) and issubclass(identifier, base):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret {kind} identifier: {identifier!r}")


def serializable(module, public_name=None):
    """Class decorator: register the class under ``module`` (e.g. ``"keras.layers"``), so that
    files may build it and saving writes it with that module. A class that Keras exports under
    another name than its class's (``GroupQueryAttention`` for ``GroupedQueryAttention``) gives
    it as ``public_name``: files name the class by it, and either name is read."""

    def register(cls):
        register_classes(module, [cls])
        if public_name is not None:
            classes_of(module)[public_name] = cls
            _PUBLIC_NAMES[cls] = public_name
        return cls

    return register


_PUBLIC_NAMES = {}  # class -> the name Keras exports it under, where not the class's own


def public_name(cls):
    """The name a file gives ``cls``: Keras's public name for it (usually its class name)."""
    return _PUBLIC_NAMES.get(cls, cls.__name__)


def register_classes(module, classes):
    """Register ``classes`` under ``module`` by their class names (other values are skipped, so
    a name table of classes and factories can be passed as its ``values()``)."""
    table = classes_of(module)
    for cls in classes:
        if isinstance(cls, type):
            table[cls.__name__] = cls


def register_names(module, table):
    """Register the table of names (``{"relu": relu, ...}``) by which ``module``'s functions are
    written in a file. The table is kept, not copied."""
    _NAMES[module] = table


def classes_of(module):
    """{class name: class} registered under ``module`` (the live table, empty if none)."""
    return _CLASSES.setdefault(module, {})


def names_of(module):
    """{name: function} registered under ``module`` (empty if none)."""
    return _NAMES.get(module, {})


# ----- the user's own objects ------------------------------------------------------------------
# Classes and functions a user allowed files to name: registered for good with
# ``keras.saving.register_keras_serializable`` (under "package>Name"), or for the length of a
# ``with keras.saving.custom_object_scope({...}):`` block. Nothing else of the user's is built.

_CUSTOM = {}  # registered name ("package>Name") -> class or function
_CUSTOM_NAMES = {}  # class or function -> its registered name
_SCOPES = []  # the dicts of the custom_object_scope blocks now open, innermost last


def custom_objects():
    """The live table of registered objects, ``{"package>Name": object}``."""
    return _CUSTOM


def register_custom(name, obj):
    """Register ``obj`` under ``name`` for good (see ``keras.saving``)."""
    _CUSTOM[name] = obj
    _CUSTOM_NAMES[obj] = name


def custom_name(obj):
    """The name ``obj`` was registered under, or None."""
    try:
        return _CUSTOM_NAMES.get(obj)
    except TypeError:  # unhashable objects are never registered
        return None


def scoped_objects():
    """The objects of the open custom_object_scope blocks merged, inner ones winning."""
    merged = {}
    for scope in _SCOPES:
        merged.update(scope)
    return merged


def open_scope(objects):
    _SCOPES.append(dict(objects))


def close_scope():
    _SCOPES.pop()


def find_custom(names, extra=None):
    """The user's object under one of ``names`` (registered name first, then class name):
    from ``extra`` (a load call's custom_objects), the open scopes, then the registered
    objects; else None."""
    for table in (extra or {}, scoped_objects(), _CUSTOM):
        for name in names:
            if name is not None and name in table:
                return table[name]
    return None
