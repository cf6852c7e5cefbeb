"""Write the bad-input corpus into a folder and list its cases, for a look by hand:

    python scripts/make_bad_inputs.py /tmp/corpus          # then e.g.: fingers predict --model /tmp/corpus/model ...

`tests/test_bad_inputs.py` builds the same corpus and runs every case.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from bad_inputs import build_corpus  # noqa: E402

if __name__ == "__main__":
    if len(sys.argv) != 2: sys.exit(__doc__)
    root = Path(sys.argv[1])
    if root.exists() and any(root.iterdir()): sys.exit(f"{root} is not empty")
    root.mkdir(parents=True, exist_ok=True)
    for case in build_corpus(root):
        print(f"{case.code}  {case.name:60}  fingers {' '.join(case.argv)}")
