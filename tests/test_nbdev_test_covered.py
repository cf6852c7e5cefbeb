"""scripts/nbdev_test_covered.py: an exported cell compiles under its module's file name and lines, so coverage counts
the package's lines when nbdev-test runs the notebooks (scripts/test.sh); other cells stay IPython inputs."""

import ast
import importlib.util
import json
from pathlib import Path

from IPython.core.compilerop import CachingCompiler

ROOT = Path(__file__).parents[1]
spec = importlib.util.spec_from_file_location("nbdev_test_covered", ROOT / "scripts" / "nbdev_test_covered.py")
covered = importlib.util.module_from_spec(spec)
spec.loader.exec_module(covered)


def cell_source(notebook: str, holding: str) -> str:
    cells = json.loads((ROOT / "nbs" / notebook).read_text())["cells"]
    (cell,) = [c for c in cells if holding in "".join(c["source"])]
    return "".join(cell["source"])


def test_an_exported_cell_runs_as_its_module_lines():
    source = cell_source("00_core.ipynb", "def softmax(")
    assert source.startswith("#| export")
    compiler = CachingCompiler()
    name = covered.cache(compiler, source)
    assert name == str(ROOT / "fingers" / "core.py")
    tree = covered.ast_parse(compiler, source, name)
    (fn,) = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "softmax"]
    module = (ROOT / "fingers" / "core.py").read_text().split("\n")
    assert module[fn.lineno - 1].startswith("def softmax("), module[fn.lineno - 1]
    assert compile(tree, name, "exec").co_filename == name


def test_other_cells_stay_ipython_inputs():
    compiler = CachingCompiler()
    name = covered.cache(compiler, "x = 1\nassert x == 1\n")
    assert name.startswith("<ipython-input-")
    assert covered.ast_parse(compiler, "x = 1\n", name).body[0].lineno == 1


def test_most_exported_cells_are_mapped():
    "Every marker in the package but the import cells (nbdev rewrites `fingers.x` as `.x`) finds its cell."
    markers = sum(p.read_text().count("\n# %% ../nbs/") for p in (ROOT / "fingers").glob("*.py"))
    assert len(covered.CELLS) >= 0.85 * markers, (len(covered.CELLS), markers)
