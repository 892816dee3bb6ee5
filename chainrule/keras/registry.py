"""Look-up of Keras string identifiers ('relu', 'sgd', 'categorical_crossentropy', ...).

Each module keeps a table of the names it knows; :func:`lookup` turns an identifier into the
object, or raises an error that lists the known names. The same tables are the allow-list of
what may be built from a saved file.
"""


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
