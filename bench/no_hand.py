"""Pictures without a hand: how often the product answers "no hand" (issue 19's target: >= 95%).

    python bench/no_hand.py [--webcam webcam-scenes] [--model RUN]

Two sets made from what the repository has: the parts of webcam-scenes pictures away from every marked hand (the
strip left of the leftmost hand and right of the rightmost, at least 120 pixels wide, with the person's face, body and
the room in them), and `fingers.openset.non_hand_probe()` (drawn scenes, textures and objects with no hand). Each goes
through `Predictor.predict`, the product's path; a picture is answered "no hand" when no hand is found.
"""
import argparse
import csv
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine  # noqa: E402

MARGIN = 20  # pixels kept clear of a marked hand's box


def strips_without_hands(folder: Path, min_width: int = 120) -> list[np.ndarray]:
    "The strips of each webcam-scenes picture left and right of all its marked hands, at least `min_width` wide."
    boxes = defaultdict(list)
    with open(folder / "hands.csv", newline="") as f:
        for r in csv.DictReader(f): boxes[r["path"]].append([float(r[k]) for k in ("xmin", "xmax")])
    out = []
    for path, bs in sorted(boxes.items()):
        img = np.asarray(Image.open(folder / path).convert("RGB"))
        left, right = int(min(b[0] for b in bs)) - MARGIN, int(max(b[1] for b in bs)) + MARGIN
        out += [s for s in (img[:, :max(left, 0)], img[:, right:]) if s.shape[1] >= min_width]
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--webcam", type=Path, default=Path("webcam-scenes"))
    ap.add_argument("--model", type=Path, help="a run folder (default: a tiny untrained model: the finder decides)")
    a = ap.parse_args(argv)
    from fingers.openset import non_hand_probe
    from fingers.predict import Predictor
    if a.model is None:
        import tempfile
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
        from serving import tiny_model
        a.model = tiny_model(Path(tempfile.mkdtemp()))
    predictor = Predictor(a.model, threads=2)
    print(f"# python bench/no_hand.py {' '.join(sys.argv[1:])}\n# {machine('onnxruntime', 'numpy')}")
    sets = {"webcam-scenes, away from the hands": strips_without_hands(a.webcam),
            "non_hand_probe (drawn, no hand)": list(non_hand_probe()[0])}
    print("\n| pictures | n | answered no hand | ms/picture |\n|---|---|---|---|")
    for name, pictures in sets.items():
        t = time.perf_counter()
        answers = [predictor.predict([p])[0] for p in pictures]
        none = np.mean([a["label"] is None for a in answers])
        print(f"| {name} | {len(pictures)} | {none:.1%} | {1e3 * (time.perf_counter() - t) / len(pictures):.1f} |")


if __name__ == "__main__":
    main()
