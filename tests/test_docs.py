"""The documentation cannot rot: every Python block of the README and of docs/*.md runs, and every
block marked as an excerpt of the source (``<!-- excerpt: path -->`` before it) is still there.

A page's blocks run in order, in one fresh process per page (later blocks use earlier names),
in a temporary folder, so the files they write go nowhere. Slow: some pages train on MNIST.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"(<!-- excerpt: (?P<source>[\w/.]+) -->\n)?```python\n(?P<code>.*?)```", re.S)


def blocks(page):
    """[(source file or None, code)] of the page's Python blocks, in order."""
    return [(m.group("source"), m.group("code")) for m in BLOCK.finditer(page.read_text())]


def runnable(page):
    return "\n".join(code for source, code in blocks(page) if source is None)


def test_every_page_is_checked_and_has_its_blocks_found():
    names = {p.name for p in PAGES}
    assert {"README.md", "index.md", "first-model.md", "saving.md"} <= names
    assert sum(len(blocks(p)) for p in PAGES) >= 15


@pytest.mark.parametrize("page", [p for p in PAGES if any(s for s, _ in blocks(p))], ids=str)
def test_excerpts_are_still_in_their_source(page):
    for source, code in blocks(page):
        if source is None:
            continue
        text = (ROOT / source).read_text()
        for line in code.splitlines():
            wanted = line.split("  #")[0].strip()  # the page may comment a line
            assert wanted in text, f"{page.name}: {wanted!r} is no longer in {source}"


@pytest.mark.slow
@pytest.mark.parametrize("page", [p for p in PAGES if runnable(p).strip()], ids=lambda p: p.name)
def test_the_python_blocks_of_a_page_run(page, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    result = subprocess.run(
        [sys.executable, "-c", runnable(page)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert result.returncode == 0, f"{page.name}:\n{result.stderr[-3000:]}"


def test_every_public_name_has_a_reference_entry():
    """Each namespace's generated page names every public name of it (the site build then
    checks that each entry resolves)."""
    sys.path.insert(0, str(ROOT / "docs"))
    import gen_pages

    table = gen_pages.namespaces()
    assert {"chainrule", "chainrule.ops", "chainrule.keras.layers", "chainrule.keras.ops"} <= set(
        table
    )
    for dotted, description in table.items():
        page = gen_pages.reference_page(dotted, description, table)
        module = __import__(dotted, fromlist=["_"])
        for name in gen_pages.public_names(module, dotted):
            assert f"heading: {name}\n" in page or f"| `{name}` |" in page, (dotted, name)


def test_the_compatibility_notes_name_only_what_they_describe():
    """A 'left out' note must name a missing name, a 'differs' note a present one."""
    sys.path.insert(0, str(ROOT / "docs" / "keras_api"))
    import compare

    stale = {module: row["stale"] for module, row in compare.coverage().items() if row["stale"]}
    assert not stale
