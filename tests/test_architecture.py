"""The package's floors, checked from its source.

chainrule is built as a house of floors; each floor imports only from the floors below it (see
docs/architecture.md). This file reads every module of ``chainrule/`` with :mod:`ast`, without
importing anything, resolves each ``import`` to the chainrule module it loads, and fails with the
list of every import that breaks a rule:

(a) no import cycle between modules;
(b) no upward import: a module imports only from its own floor or the floors below it (the root
    package ``chainrule`` is the top floor, so ``import chainrule`` from inside is upward);
(c) no chainrule module imported inside a function or method body (imports in functions are for
    optional dependencies only);
(d) ``chainrule.ops`` and the core import nothing from the speed, tf, keras or tools floors;
(e) of the keras modules, only the one where ``fit`` starts imports ``chainrule.fast``;
(f) a module with a narrower allow-list (the engine) imports only what it lists.

Imports in function bodies count for (a), (b), (d), (e) and (f) too: they are dependencies all the
same. Every rule is checked on small made-up packages at the bottom of this file, so that a
checker that finds nothing cannot pass unnoticed.
"""

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "chainrule"
PACKAGE_DIR = Path(__file__).resolve().parent.parent / PACKAGE

# The floors, bottom to top. "name.*" is a package and everything in it; a plain name is that
# module only. Every module of the package must be on a floor.
FLOORS = [
    (
        "core",
        [
            "chainrule.version",
            "chainrule.backend",
            "chainrule.engine",
            "chainrule.nest",
            "chainrule.random",
            "chainrule.variables",
            "chainrule.functional",
            "chainrule.gradcheck",
        ],
    ),
    ("ops", ["chainrule.ops.*"]),  # pure math: every primitive with its VJPs
    ("fast", ["chainrule.fast.*"]),  # plans, threads, process settings, kernels, update loops
    ("tf", ["chainrule.tf.*"]),  # the TensorFlow-style facade
    ("keras", ["chainrule.keras.*"]),  # mirrors Keras 3
    ("distributed", ["chainrule.distributed.*"]),  # data-parallel training on MPI
    ("tools", ["chainrule.tools.*"]),  # cli, explain, viz, plot, images
    ("root", ["chainrule", "chainrule.__main__"]),  # re-exports and `python -m chainrule`
]

# (d): the floors that ops and the core never import from.
PURE_FLOORS = {"core", "ops"}
IMPURE_FLOORS = {"fast", "tf", "keras", "distributed", "tools"}

# (e): the speed floor is chosen where fit starts, and in no other keras module.
FAST_PACKAGE = "chainrule.fast"
FAST_ENTRY = "chainrule.keras.models.model"

# (f): modules that import only the chainrule modules listed. The engine reaches the primitives
# through its registry, engine.PRIMITIVES, never by importing chainrule.ops.
ONLY_IMPORTS = {"chainrule.engine": {"chainrule.backend"}}


# ----- reading the package ----------------------------------------------------------------------


@dataclass(frozen=True)
class Module:
    name: str  # dotted, e.g. chainrule.keras.layers.core
    path: str  # relative, e.g. chainrule/keras/layers/core.py
    is_package: bool  # an __init__.py
    tree: ast.Module


@dataclass(frozen=True)
class Import:
    importer: str
    target: str  # the chainrule module the statement names
    path: str
    line: int
    in_function: bool

    def where(self):
        return f"{self.path}:{self.line}"


def modules_from_sources(sources):
    """{relative path: source text} of a package's .py files -> {module name: Module}."""
    modules = {}
    for path, text in sources.items():
        parts = path[: -len(".py")].split("/")
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        name = ".".join(parts)
        modules[name] = Module(name, path, is_package, ast.parse(text, filename=path))
    return modules


def read_package(package_dir=PACKAGE_DIR):
    """The package's modules, read from its directory."""
    root = package_dir.parent
    sources = {
        path.relative_to(root).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(package_dir.rglob("*.py"))
    }
    return modules_from_sources(sources)


def _import_nodes(tree):
    """(node, inside a function) for every import statement, at any depth."""
    stack = [(tree, False)]
    while stack:
        node, in_function = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                yield child, in_function
            else:
                inner = in_function or isinstance(
                    child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
                )
                stack.append((child, inner))


def _is_ours(name):
    return name == PACKAGE or name.startswith(PACKAGE + ".")


def _resolve_from(module, node, modules):
    """The chainrule modules a ``from X import a, b`` statement loads (a list; empty if none)."""
    if node.level:
        # level 1 is the module's own package (the module itself for an __init__.py)
        base = module.name.split(".")
        up = node.level - 1 if module.is_package else node.level
        if up >= len(base):
            raise ValueError(
                f"{module.path}:{node.lineno}: relative import beyond the top-level package"
            )
        base = ".".join(base[: len(base) - up])
        source = f"{base}.{node.module}" if node.module else base
    else:
        source = node.module
    if not _is_ours(source):
        return []
    targets = []
    for alias in node.names:
        submodule = f"{source}.{alias.name}"
        # `from pkg import a` loads the submodule pkg.a when there is one, else takes a name
        # from pkg's __init__
        targets.append(submodule if submodule in modules else source)
    return list(dict.fromkeys(targets))


def collect_imports(modules):
    """Every import of a chainrule module by a chainrule module, in file and line order."""
    imports = []
    for module in sorted(modules.values(), key=lambda m: m.path):
        for node, in_function in _import_nodes(module.tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names if _is_ours(alias.name)]
            else:
                targets = _resolve_from(module, node, modules)
            for target in targets:
                imports.append(Import(module.name, target, module.path, node.lineno, in_function))
    return sorted(imports, key=lambda i: (i.path, i.line, i.target))


def _ancestors(name):
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def dependency_graph(modules, imports):
    """{module: {module it makes Python load: the import that does}}. Importing ``a.b.c`` runs
    the __init__ of ``a.b`` first, so a target's packages are dependencies too, except those the
    importer sits in (they are loading already). A package the importer sits in is a dependency
    when the import names it: ``from . import name`` takes ``name`` from the package's __init__."""
    graph = {name: {} for name in modules}
    for imp in imports:
        inside = set(_ancestors(imp.importer)) | {imp.importer}
        for name in _ancestors(imp.target) + [imp.target]:
            named = name == imp.target and name != imp.importer
            if (named or name not in inside) and name in modules:
                via = imp.where() if name == imp.target else f"{imp.where()}, its package"
                graph[imp.importer].setdefault(name, via)
    return graph


# ----- floors -----------------------------------------------------------------------------------


def floor_of(name):
    """The name of the floor that module ``name`` is on, or None if the table has none."""
    for floor, entries in FLOORS:
        for entry in entries:
            if entry.endswith(".*"):
                package = entry[:-2]
                if name == package or name.startswith(package + "."):
                    return floor
            elif name == entry:
                return floor
    return None


def _level(floor):
    return [f for f, _ in FLOORS].index(floor)


# ----- the rules --------------------------------------------------------------------------------


def _strongly_connected(graph):
    """Tarjan's components, iteratively (the graph may be deep)."""
    index, low, on_stack, stack, components = {}, {}, set(), [], []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def _shortest_cycle_through(node, graph, within):
    """The shortest path node -> ... -> node inside the component ``within``."""
    previous = {node: None}
    queue = [node]
    for current in queue:
        for child in sorted(graph[current]):
            if child == node:
                path = [current]
                while previous[path[-1]] is not None:
                    path.append(previous[path[-1]])
                return path[::-1] + [node]
            if child in within and child not in previous:
                previous[child] = current
                queue.append(child)
    return None


def find_cycles(modules, imports):
    """(a): one message per cycle; for each group of modules that import each other, the
    shortest cycle through each of its members."""
    graph = dependency_graph(modules, imports)
    for name, targets in graph.items():
        targets.pop(name, None)  # a package naming itself (`from . import x` in its __init__)
    messages = []
    for component in _strongly_connected(graph):
        if len(component) < 2:
            continue
        members = set(component)
        seen = set()
        for node in component:
            cycle = _shortest_cycle_through(node, graph, members)[:-1]
            first = cycle.index(min(cycle))
            cycle = tuple(cycle[first:] + cycle[:first])
            if cycle in seen:
                continue
            seen.add(cycle)
            steps = [cycle[0]]
            for a, b in zip(cycle, cycle[1:] + cycle[:1]):
                steps.append(f"-> {b} ({graph[a][b]})")
            messages.append(" ".join(steps))
    return messages


def find_unplaced(modules):
    """Modules that the floor table does not place."""
    return [
        f"{m.path}: {m.name} is on no floor; add it to FLOORS in tests/test_architecture.py"
        for m in sorted(modules.values(), key=lambda m: m.path)
        if floor_of(m.name) is None
    ]


def _describe(imp):
    return (
        f"{imp.where()}: {imp.importer} ({floor_of(imp.importer)}) imports "
        f"{imp.target} ({floor_of(imp.target)})"
    )


def find_upward(imports):
    """(b): imports of a floor above the importer's own."""
    messages = []
    for imp in imports:
        low, high = floor_of(imp.importer), floor_of(imp.target)
        if low is not None and high is not None and _level(high) > _level(low):
            messages.append(_describe(imp))
    return messages


def find_function_imports(imports):
    """(c): chainrule modules imported inside a function or method body."""
    return [
        f"{imp.where()}: {imp.importer} imports {imp.target} inside a function"
        for imp in imports
        if imp.in_function
    ]


def find_impure(imports):
    """(d): ops or the core importing from the speed, tf, keras or tools floors."""
    return [
        _describe(imp)
        for imp in imports
        if floor_of(imp.importer) in PURE_FLOORS and floor_of(imp.target) in IMPURE_FLOORS
    ]


def find_fast_outside_fit(imports):
    """(e): keras modules other than the one where fit starts importing the speed floor."""
    return [
        f"{imp.where()}: {imp.importer} imports {imp.target}; only {FAST_ENTRY} may"
        for imp in imports
        if floor_of(imp.importer) == "keras"
        and imp.importer != FAST_ENTRY
        and (imp.target == FAST_PACKAGE or imp.target.startswith(FAST_PACKAGE + "."))
    ]


def find_beyond_allow_list(imports):
    """(f): modules with an allow-list importing a chainrule module not on it."""
    return [
        f"{imp.where()}: {imp.importer} imports {imp.target}; it may import only "
        f"{', '.join(sorted(ONLY_IMPORTS[imp.importer]))}"
        for imp in imports
        if imp.importer in ONLY_IMPORTS and imp.target not in ONLY_IMPORTS[imp.importer]
    ]


def check(modules):
    """{rule: list of violations} for a package's modules."""
    imports = collect_imports(modules)
    return {
        "modules on no floor": find_unplaced(modules),
        "(a) import cycles": find_cycles(modules, imports),
        "(b) upward imports": find_upward(imports),
        "(c) chainrule imports inside functions": find_function_imports(imports),
        "(d) ops or core importing fast, tf, keras or tools": find_impure(imports),
        f"(e) keras modules other than {FAST_ENTRY} importing chainrule.fast": (
            find_fast_outside_fit(imports)
        ),
        "(f) imports beyond a module's allow-list": find_beyond_allow_list(imports),
    }


def _report(rule, violations):
    lines = [f"{rule}: {len(violations)} violation(s); see docs/architecture.md"]
    return "\n".join(lines + [f"  {v}" for v in violations])


# ----- the package ------------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _package_violations():
    return check(read_package())


def _assert_none(rule_prefix):
    (rule,) = [r for r in _package_violations() if r.startswith(rule_prefix)]
    violations = _package_violations()[rule]
    assert not violations, _report(rule, violations)


def test_the_package_is_read():
    modules = read_package()
    assert {"chainrule", "chainrule.engine", FAST_ENTRY} <= set(modules)
    assert collect_imports(modules), "no chainrule imports found: the reader is broken"


def test_every_module_is_on_a_floor():
    _assert_none("modules on no floor")


def test_no_import_cycles():
    _assert_none("(a)")


def test_no_upward_imports():
    _assert_none("(b)")


def test_no_chainrule_imports_inside_functions():
    _assert_none("(c)")


def test_ops_and_core_import_no_higher_floor():
    _assert_none("(d)")


def test_only_fit_imports_the_speed_floor():
    _assert_none("(e)")


def test_allow_lists():
    _assert_none("(f)")


# ----- the checker, on made-up packages ---------------------------------------------------------

CLEAN = {
    "chainrule/__init__.py": "from .engine import Tensor\nfrom . import ops\n",
    "chainrule/__main__.py": "from .tools.cli import main\n",
    "chainrule/backend.py": "import numpy\n",
    "chainrule/engine.py": "from .backend import xp_of\n",
    "chainrule/random.py": "from .engine import Tensor\n",
    "chainrule/version.py": "__version__ = '0'\n",
    "chainrule/ops/__init__.py": "from .linalg import linear\n",
    "chainrule/ops/linalg.py": "from ..engine import primitive\nfrom ..backend import xp_of\n",
    "chainrule/fast/__init__.py": "from .plan import Plan\n",
    "chainrule/fast/plan.py": "from .. import ops\nfrom ..engine import Tensor\n",
    "chainrule/keras/__init__.py": "from . import layers\n",
    "chainrule/keras/layers/__init__.py": "from .core import Dense\n",
    "chainrule/keras/layers/core.py": "from ... import ops\nfrom ...engine import Tensor\n",
    "chainrule/keras/models/__init__.py": "from .model import Model\n",
    "chainrule/keras/models/model.py": (
        "from ...fast import Plan\nfrom ..layers import core\ndef fit():\n    import numpy\n"
    ),
    "chainrule/tools/__init__.py": "",
    "chainrule/tools/cli.py": "from ..keras.models import Model\n",
}


def _check(changes):
    """Violations of CLEAN with some files changed or added ({path: source})."""
    return check(modules_from_sources({**CLEAN, **changes}))


def _only(violations, rule_prefix):
    """The violations of one rule, after asserting that no other rule found any."""
    others = {rule: v for rule, v in violations.items() if v and not rule.startswith(rule_prefix)}
    assert not others, others
    (rule,) = [r for r in violations if r.startswith(rule_prefix)]
    return violations[rule]


def test_checker_passes_a_clean_package():
    violations = _check({})
    assert not any(violations.values()), violations


def test_checker_resolves_relative_imports():
    x = (
        "from ... import ops\n"  # chainrule.ops
        "from .. import layers\n"  # the subpackage chainrule.keras.layers
        "from .. import name\n"  # a name from chainrule/keras/__init__.py
        "from .core import Dense\n"
        "from ...ops.linalg import linear\n"
        "import chainrule.engine\n"
        "import numpy\n"
    )
    init = "from . import core\nfrom . import Dense\n"
    modules = modules_from_sources(
        {
            **CLEAN,
            "chainrule/keras/layers/x.py": x,
            "chainrule/keras/layers/__init__.py": init,
        }
    )
    imports = collect_imports(modules)
    assert [i.target for i in imports if i.importer == "chainrule.keras.layers.x"] == [
        "chainrule.ops",
        "chainrule.keras.layers",
        "chainrule.keras",
        "chainrule.keras.layers.core",
        "chainrule.ops.linalg",
        "chainrule.engine",
    ]
    # in an __init__.py, level 1 is the package itself
    assert [i.target for i in imports if i.importer == "chainrule.keras.layers"] == [
        "chainrule.keras.layers.core",
        "chainrule.keras.layers",
    ]


def test_checker_finds_a_cycle():
    cycles = _only(
        _check(
            {
                "chainrule/ops/linalg.py": "from ..engine import primitive\nfrom . import nn\n",
                "chainrule/ops/nn.py": "from .linalg import linear\n",
            }
        ),
        "(a)",
    )
    assert cycles == [
        "chainrule.ops.linalg -> chainrule.ops.nn (chainrule/ops/linalg.py:2) "
        "-> chainrule.ops.linalg (chainrule/ops/nn.py:1)"
    ]


def test_checker_finds_a_cycle_through_a_package_init():
    # keras/layers/__init__.py imports core, and core takes a name that the __init__ re-exports
    cycles = _only(_check({"chainrule/keras/layers/core.py": "from . import Dense\n"}), "(a)")
    assert cycles == [
        "chainrule.keras.layers -> chainrule.keras.layers.core "
        "(chainrule/keras/layers/__init__.py:1) "
        "-> chainrule.keras.layers (chainrule/keras/layers/core.py:1)"
    ]


def test_checker_finds_a_cycle_through_the_target_package():
    # importing chainrule.fast.plan runs chainrule/fast/__init__.py, which imports plan
    violations = _check(
        {
            "chainrule/fast/plan.py": "from ..ops import linalg\n",
            "chainrule/ops/linalg.py": "from ..fast.plan import Plan\n",
        }
    )
    assert (
        "chainrule.fast -> chainrule.fast.plan (chainrule/fast/__init__.py:1) "
        "-> chainrule.ops.linalg (chainrule/fast/plan.py:1) "
        "-> chainrule.fast (chainrule/ops/linalg.py:1, its package)"
    ) in violations["(a) import cycles"]


def test_checker_finds_an_upward_import():
    violations = _check(
        {"chainrule/random.py": "from .engine import Tensor\nfrom .keras import layers\n"}
    )
    upward = [
        "chainrule/random.py:2: chainrule.random (core) imports chainrule.keras.layers (keras)"
    ]
    assert violations["(b) upward imports"] == upward
    assert violations["(d) ops or core importing fast, tf, keras or tools"] == upward


def test_checker_counts_the_root_package_as_upward():
    upward = _only(_check({"chainrule/tools/cli.py": "import chainrule\n"}), "(b)")
    assert upward == [
        "chainrule/tools/cli.py:1: chainrule.tools.cli (tools) imports chainrule (root)"
    ]
    upward = _only(_check({"chainrule/keras/layers/core.py": "from ... import Tensor\n"}), "(b)")
    assert upward == [
        "chainrule/keras/layers/core.py:1: chainrule.keras.layers.core (keras) imports "
        "chainrule (root)"
    ]


def test_checker_finds_an_import_inside_a_function():
    source = "class Dense:\n    def call(self):\n        from ...engine import Tensor\n"
    found = _only(_check({"chainrule/keras/layers/core.py": source}), "(c)")
    assert found == [
        "chainrule/keras/layers/core.py:3: chainrule.keras.layers.core imports "
        "chainrule.engine inside a function"
    ]


def test_checker_finds_ops_using_the_speed_floor():
    violations = _check({"chainrule/ops/linalg.py": "from ..fast import threads\n"})
    assert violations["(d) ops or core importing fast, tf, keras or tools"] == [
        "chainrule/ops/linalg.py:1: chainrule.ops.linalg (ops) imports chainrule.fast (fast)"
    ]


def test_checker_finds_keras_using_the_speed_floor_outside_fit():
    found = _only(_check({"chainrule/keras/layers/core.py": "from ...fast import Plan\n"}), "(e)")
    assert found == [
        "chainrule/keras/layers/core.py:1: chainrule.keras.layers.core imports chainrule.fast; "
        f"only {FAST_ENTRY} may"
    ]


def test_checker_enforces_allow_lists():
    source = "from .backend import xp_of\nfrom .version import __version__\n"
    found = _only(_check({"chainrule/engine.py": source}), "(f)")
    assert found == [
        "chainrule/engine.py:2: chainrule.engine imports chainrule.version; "
        "it may import only chainrule.backend"
    ]


def test_checker_finds_a_module_on_no_floor():
    found = _only(
        _check({"chainrule/serving.py": "from .engine import Tensor\n"}), "modules on no floor"
    )
    assert found == [
        "chainrule/serving.py: chainrule.serving is on no floor; "
        "add it to FLOORS in tests/test_architecture.py"
    ]
