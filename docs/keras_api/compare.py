"""Compare chainrule.keras's public names with Keras 3's recorded ones, module by module.

``python docs/keras_api/compare.py`` prints, per Keras module, how many names chainrule has,
which of them differ from Keras in a documented way (``differences.md``), which of the missing
ones are left out on purpose (``left_out.md``, with the reason), and which are missing without a
word. The Keras names come from ``keras3_names.json`` (made by ``record.py``), so no Keras is
needed.
"""

import importlib
import json
import re
from pathlib import Path

HERE = Path(__file__).parent
RECORD = HERE / "keras3_names.json"
LEFT_OUT = HERE / "left_out.md"
DIFFERENCES = HERE / "differences.md"


def keras_names():
    """{Keras module: [public names]} as recorded, and the Keras version they come from."""
    record = json.loads(RECORD.read_text())
    return record["modules"], record["keras_version"]


def chainrule_module(keras_module):
    """The chainrule module standing for ``keras_module`` (``keras.ops`` -> chainrule.keras.ops),
    or None when chainrule has no such module."""
    name = "chainrule." + keras_module
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError:
        return None


def notes(path):
    """{Keras module: {name: note}} from a page of "## keras.x" sections whose lines read
    ``- `name`: note`` (several names may share a line: ``- `a`, `b`: note``)."""
    table, module = {}, None
    for line in path.read_text().splitlines():
        heading = re.match(r"^## (keras(?:\.\w+)*)\s*$", line)
        if heading:
            module = heading.group(1)
            table.setdefault(module, {})
            continue
        entry = re.match(r"^- ((?:`[\w.]+`(?:, )?)+): (.+)$", line)
        if entry and module:
            for name in re.findall(r"`([\w.]+)`", entry.group(1)):
                table[module][name] = entry.group(2)
    return table


def coverage():
    """{Keras module: {"present": [...], "differs": {name: how}, "left_out": {name: why},
    "undocumented": [...], "stale": [...]}}; ``stale`` lists notes about names that are not
    (or no longer) in the state the note describes."""
    names, _ = keras_names()
    left_out, differences = notes(LEFT_OUT), notes(DIFFERENCES)
    report = {}
    for keras_module, wanted in names.items():
        module = chainrule_module(keras_module)
        present = [n for n in wanted if module is not None and hasattr(module, n)]
        missing = [n for n in wanted if n not in present]
        reasons = left_out.get(keras_module, {})
        how = differences.get(keras_module, {})
        report[keras_module] = {
            "present": present,
            "differs": {n: how[n] for n in present if n in how},
            "left_out": {n: reasons[n] for n in missing if n in reasons},
            "undocumented": [n for n in missing if n not in reasons],
            "stale": sorted((set(reasons) - set(missing)) | (set(how) - set(present))),
        }
    return report


def main():
    names, version = keras_names()
    print(f"Keras {version} public names that chainrule has, by module:\n")
    print(
        f"{'module':<28} {'Keras':>6} {'chainrule':>9} {'differs':>8} {'left out':>9} {'missing':>8}"
    )
    for keras_module, row in coverage().items():
        print(
            f"{keras_module:<28} {len(names[keras_module]):>6} {len(row['present']):>9} "
            f"{len(row['differs']):>8} {len(row['left_out']):>9} {len(row['undocumented']):>8}"
        )


if __name__ == "__main__":
    main()
