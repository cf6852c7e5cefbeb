"""Check that the notebooks import in one direction: `NN_name.ipynb` imports only modules of lower-numbered notebooks.

The number is the layer: 0x core and data (numpy, Pillow), 1x model and training (PyTorch), 2x evaluation, 3x
prediction and drift on an exported model, 4x serving, 9x the command line and tests. Nothing imports `fingers.cli`
(the top), and `nbs/train.ipynb` (the papermill entry point) may import anything but the command line.
Every notebook has a number of its own. Exit status 1 lists the offenders.
"""
import json
import re
import sys
from pathlib import Path

IMPORT = re.compile(r"^\s*(?:from\s+fingers\.(\w+)\s+import"       # from fingers.x import ...
                    r"|from\s+fingers\s+import\s+([\w, ]+)"         # from fingers import x, y
                    r"|import\s+fingers\.(\w+))", re.M)               # import fingers.x

def cells(nb: Path) -> list[str]:
    "The source of each code cell of notebook `nb`."
    return ["".join(c["source"]) for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "code"]

def main(nbs: Path = Path("nbs")) -> int:
    "Print the imports that point up a layer (or at nothing); 1 if there are any."
    layer, problems, numbered = {}, [], {}
    for nb in sorted(nbs.glob("[0-9][0-9]_*.ipynb")):
        if (other := numbered.setdefault(nb.name[:2], nb.name)) != nb.name:
            problems.append(f"{nb.name}: numbered {nb.name[:2]} as {other} is: one number each")
        for src in cells(nb):
            if m := re.match(r"#\|\s*default_exp\s+(\w+)", src.strip()): layer[m[1]] = int(nb.name[:2])
    for nb in sorted(nbs.glob("*.ipynb")):
        own = int(nb.name[:2]) if nb.name[:2].isdigit() else None
        for src in cells(nb):
            for m in IMPORT.finditer(src):
                for mod in (m[1] or m[3] or m[2]).replace(" ", "").split(","):
                    if mod.startswith("__"): continue                  # `from fingers import __version__`: no module
                    if mod not in layer: problems.append(f"{nb.name}: imports fingers.{mod}, which no notebook exports")
                    elif mod == "cli" and own != layer["cli"]: problems.append(f"{nb.name}: imports fingers.cli")
                    elif own is not None and layer[mod] > own:
                        problems.append(f"{nb.name}: imports fingers.{mod} from the higher layer {layer[mod]:02d}")
    if problems: print("\n".join(problems), file=sys.stderr)
    else: print(f"layers hold: {len(layer)} modules, every import points down")
    return 1 if problems else 0

if __name__ == "__main__":
    sys.exit(main())
