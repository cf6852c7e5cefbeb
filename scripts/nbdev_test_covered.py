"""`nbdev-test`, with each exported cell run as the lines of the module it exports to, so that coverage counts them.

nbdev-test runs a notebook's cells as IPython inputs (`<ipython-input-N-...>`), which coverage cannot see: the
definitions a notebook tests are its own cells, not the module that `nbdev-export` wrote from them. Here a cell whose
code stands, line for line, in its module (after its `# %% ../nbs/NAME.ipynb #ID` marker) is compiled under that
module's file name and line numbers, so coverage measures the package's lines and tracebacks show the module's lines
(which read the same). Other cells run as before. scripts/test.sh runs it in place of `nbdev-test` under coverage;
arguments are nbdev-test's.
"""
import json
import re
import sys
from pathlib import Path

from IPython.core.compilerop import CachingCompiler

ROOT = Path(__file__).resolve().parents[1]
DIRECTIVE = re.compile(r"^\s*#\s*\|")
MARKER = re.compile(r"^# %% \.\./nbs/(?P<nb>[^ ]+\.ipynb) #(?P<id>\S+)$")


def body(source: str) -> tuple[int, tuple[str, ...]]:
    "A cell's leading directive lines (their count) and the rest of its lines, without line ends or trailing blanks."
    lines = source.rstrip("\n").split("\n")
    d = next((i for i, line in enumerate(lines) if not DIRECTIVE.match(line)), len(lines))
    return d, tuple(line.rstrip() for line in lines[d:])


def exported_cells(root: Path = ROOT) -> dict[tuple[str, ...], tuple[str, int]]:
    "Each exported cell's lines -> (its module's file, the line offset from the cell to the module)."
    cells, notebooks = {}, {}
    for module in sorted((root / "fingers").glob("*.py")):
        lines = [line.rstrip() for line in module.read_text().split("\n")]
        for at, line in enumerate(lines, start=1):                   # `at`: the marker's line number
            if not (m := MARKER.match(line)): continue
            if m["nb"] not in notebooks:                             # each notebook read once: {cell id: cell}
                nb = json.loads((root / "nbs" / m["nb"]).read_text())
                notebooks[m["nb"]] = {c.get("id"): c for c in nb["cells"]}
            if (cell := notebooks[m["nb"]].get(m["id"])) is None: continue
            d, code = body("".join(cell["source"]))
            if tuple(lines[at:at + len(code)]) == code:              # the module holds the cell as it is
                cells[code] = (str(module), at - d)
    return cells


CELLS = exported_cells()
_cache, _ast_parse = CachingCompiler.cache, CachingCompiler.ast_parse


def cache(self, transformed_code, number=0, raw_code=None):
    "IPython's cache of a cell's code; an exported cell gets its module's file name."
    name = _cache(self, transformed_code, number, raw_code)           # linecache keeps the cell under its own name
    hit = CELLS.get(body(transformed_code)[1])
    return hit[0] if hit else name


def ast_parse(self, source, filename="<unknown>", symbol="exec"):
    "IPython's parse of a cell; an exported cell's lines moved to where they stand in its module."
    import ast
    tree = _ast_parse(self, source, filename, symbol)
    hit = CELLS.get(body(source)[1])
    if hit and hit[0] == filename: ast.increment_lineno(tree, hit[1])
    return tree


if __name__ == "__main__":
    from nbdev.test import nbdev_test
    CachingCompiler.cache, CachingCompiler.ast_parse = cache, ast_parse    # before nbdev-test forks its workers
    sys.argv[0] = "nbdev-test"
    sys.exit(nbdev_test())
