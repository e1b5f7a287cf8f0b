"""Every Python code block in README.md and docs/ runs."""

import pathlib
import re
import textwrap

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
# a block inside a list item is indented like the item: dedent it
BLOCK = re.compile(r"^([ \t]*)```python\n(.*?)^[ \t]*```", re.S | re.M)


def test_every_page_is_found():
    assert len(PAGES) >= 10


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_code_blocks_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__docs__"}
    for _, block in BLOCK.findall(page.read_text()):
        exec(compile(textwrap.dedent(block), str(page), "exec"), namespace)
