"""Pages made from the code at build time (run by mkdocs-gen-files; also importable).

- ``reference/<namespace>.md``: one page per public namespace, with an entry for every public
  name in it (``__all__`` where a module has one, else every name not starting with ``_``), so
  that a name added to the code gets its reference entry without anyone writing it down.
- ``keras-compatibility.md``: Keras 3's public names, module by module, against chainrule's, from
  ``keras_api/compare.py`` (which reads the recorded Keras list, so no Keras is needed).
"""

import importlib
import inspect
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE / "keras_api"))

import compare  # noqa: E402

# chainrule's own namespaces beside the Keras ones (which come from the recorded Keras list).
OWN_NAMESPACES = {
    "chainrule": "The engine, the primitives and the TensorFlow vocabulary, at the top level.",
    "chainrule.ops": "Every primitive: forward and gradient side by side.",
    "chainrule.math": "TensorFlow's tf.math.",
    "chainrule.nn": "TensorFlow's tf.nn.",
    "chainrule.data": "TensorFlow's tf.data.",
    "chainrule.distributed": "Data-parallel training on MPI.",
    "chainrule.keras.datasets": "Keras's datasets (MNIST bundled).",
    "chainrule.keras.export": "Models in serving formats (ONNX).",
}


def namespaces():
    """{dotted chainrule namespace: one-line description}, Keras's modules included."""
    keras_modules, _ = compare.keras_names()
    table = dict(OWN_NAMESPACES)
    for keras_module in keras_modules:
        if compare.chainrule_module(keras_module) is not None:
            table["chainrule." + keras_module] = f"Keras 3's `{keras_module}`."
    return dict(sorted(table.items()))


def public_names(module, dotted):
    """The names a user reaches in ``module`` (the namespace ``dotted``): its ``__all__``; else
    the names defined in it or its submodules, and the names Keras has in that module (such as
    the helpers ``keras.utils`` shares with ``keras.saving``). Submodules excluded."""
    names = getattr(module, "__all__", None)
    if names is None:
        keras_names = set(compare.keras_names()[0].get(dotted.removeprefix("chainrule."), ()))
        names = [
            n
            for n in dir(module)
            if not n.startswith("_")
            and (n in keras_names or _home_module(getattr(module, n)).startswith(module.__name__))
        ]
    return sorted(n for n in set(names) if not inspect.ismodule(getattr(module, n, None)))


def _home_module(obj):
    return getattr(definition(obj), "__module__", None) or ""


def home_namespace(obj, table):
    """The namespace whose page documents ``obj`` in full: the one closest to where it is
    defined (the longest namespace its module's name starts with)."""
    module = _home_module(obj)
    found = [d for d in table if module == d or module.startswith(d + ".")]
    return max(found, key=len) if found else None


def documented_here(obj):
    """True for chainrule's own classes and functions (rendered from their docstrings); other
    values (constants, NumPy dtypes) get one table row instead."""
    owner = getattr(obj, "__module__", None) or ""
    return (inspect.isclass(obj) or callable(obj)) and owner.startswith("chainrule")


def definition(obj):
    """What the source defines for ``obj``: a primitive's forward function (whose docstring
    holds the forward and gradient formulas), else the object itself."""
    forward = getattr(obj, "forward", None)
    return forward if forward is not None and hasattr(obj, "vjps") else obj


def reference_page(dotted, description, table):
    """The Markdown of one namespace's reference page: a full entry for each name whose home it
    is, a link for each name documented on another page."""
    module = importlib.import_module(dotted)
    lines = [f"# `{dotted}`", "", description, ""]
    summary = (inspect.getdoc(module) or "").split("\n\n")[0]
    if summary:
        lines += [summary, ""]
    values, aliases = [], []
    for name in public_names(module, dotted):
        obj = definition(getattr(module, name))
        own_name = getattr(obj, "__name__", name)
        home = home_namespace(obj, table) if documented_here(obj) else None
        if home is not None and (own_name != name or home != dotted):
            where = "" if home == dotted else f" (in [`{home}`]({home}.md))"
            aliases.append(f"| `{name}` | `{own_name}`{where} |")
        elif documented_here(obj):
            home = f"{obj.__module__}.{getattr(obj, '__qualname__', name)}"  # where it is defined
            lines += [f"::: {home}", "    options:", f"      heading: {name}", ""]
        else:
            values.append(f"| `{name}` | `{type(obj).__name__}` | `{obj!r:.60}` |")
    if aliases:
        lines += ["## Names documented elsewhere", "", "| name | the same object as |", "|---|---|"]
        lines += [*aliases, ""]
    if values:
        lines += ["## Values", "", "| name | type | value |", "|---|---|---|", *values, ""]
    return "\n".join(lines)


def reference_index(table):
    lines = ["# Reference", "", "Every public name of chainrule, by namespace.", ""]
    lines += ["| namespace | what it holds | names |", "|---|---|--:|"]
    for dotted, description in table.items():
        count = len(public_names(importlib.import_module(dotted), dotted))
        lines.append(f"| [`{dotted}`]({dotted}.md) | {description} | {count} |")
    return "\n".join(lines) + "\n"


def compatibility_page():
    """The Markdown of the Keras compatibility page."""
    names, version = compare.keras_names()
    report = compare.coverage()
    lines = [
        "# Keras compatibility",
        "",
        f"Keras {version}'s public names, module by module, and whether `chainrule.keras` has "
        f"them. *Differs* lists names chainrule has whose behaviour departs from Keras's in a "
        f"documented way; *left out* lists those missing on purpose, with the reason. This page "
        f"is generated from the code and a recorded list of Keras's names "
        f"(`docs/keras_api/record.py`), so its counts are those of the code it was built from.",
        "",
        "| module | Keras | chainrule | differs | left out | missing |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for module, row in report.items():
        lines.append(
            f"| [`{module}`](#{module.replace('.', '')}) | {len(names[module])} | "
            f"{len(row['present'])} | {len(row['differs'])} | {len(row['left_out'])} | "
            f"{len(row['undocumented'])} |"
        )
    for module, row in report.items():
        lines += ["", f"## {module}", ""]
        if row["differs"]:
            lines += ["Differs:", ""] + [f"- `{n}`: {why}" for n, why in row["differs"].items()]
            lines.append("")
        if row["left_out"]:
            lines += ["Left out:", ""] + [f"- `{n}`: {why}" for n, why in row["left_out"].items()]
            lines.append("")
        if row["undocumented"]:
            lines += ["Missing: " + ", ".join(f"`{n}`" for n in row["undocumented"]), ""]
        if not (row["differs"] or row["left_out"] or row["undocumented"]):
            lines += ["Every name is there.", ""]
    return "\n".join(lines)


def write_pages(open_file):
    """Write every generated page with ``open_file(path, mode)`` (mkdocs_gen_files.open)."""
    table = namespaces()
    with open_file("reference/index.md", "w") as f:
        f.write(reference_index(table))
    for dotted, description in table.items():
        with open_file(f"reference/{dotted}.md", "w") as f:
            f.write(reference_page(dotted, description, table))
    with open_file("keras-compatibility.md", "w") as f:
        f.write(compatibility_page())


try:
    import mkdocs_gen_files
except ImportError:  # imported by the tests, outside a docs build
    mkdocs_gen_files = None
if mkdocs_gen_files is not None and __name__ in ("__main__", "<run_path>"):
    write_pages(mkdocs_gen_files.open)
