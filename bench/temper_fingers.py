"""Tempering the finger models: each finger's probability of being up kept within [e, 1 - e] before the count is
multiplied with the CNN's, on both development sets and the Kaggle test split, through the product's own path (the
finder once per picture; every e from the same hands). A picture without a hand found counts wrong.

    python bench/temper_fingers.py runs/base --photos /tmp/dev/webcam-scenes /tmp/dev/sign-digits [--data fingers.zip]
"""
import argparse
import os
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from crop_tta import read_photos  # noqa: E402
from machine import machine  # noqa: E402

TEMPERS = (0.0, 0.01, 0.02, 0.05, 0.1)  # 0: today's finger models, as shipped


def accuracy(photos: list[tuple], predictor, right) -> dict[float, float]:
    "{e: share of `photos` (truth, grey picture, best hand or None) whose answer `right(truth, class)` accepts}."
    from fingers.fingers_up import combine_counts, count_probabilities, landmark_features
    from fingers.hands import crop_landmarks, hand_crop
    hits = {e: [] for e in TEMPERS}
    for truth, gray, hand in photos:
        if hand is None:
            for e in TEMPERS: hits[e].append(False)
            continue
        cnn = predictor.probabilities(hand_crop(gray, hand)[None])
        up = predictor.head.up(landmark_features(crop_landmarks(hand)[None]))
        for e in TEMPERS:
            probs = combine_counts(cnn, count_probabilities(np.clip(up, e, 1 - e)))
            hits[e].append(right(truth, int(probs[0].argmax())))
    return {e: float(np.mean(v)) for e, v in hits.items()}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--photos", type=Path, nargs="+", required=True, help="folders with sub-folders 0-5 or 1-5")
    ap.add_argument("--data", default=os.environ.get("FINGERS_DATA", "../shared/data/fingers.zip"))
    a = ap.parse_args(argv)
    from PIL import Image

    from fingers.core import finger_count
    from fingers.data import load_data
    from fingers.predict import Predictor
    predictor = Predictor(a.run, threads=2)
    print(f"# python bench/temper_fingers.py {' '.join(sys.argv[1:])}")
    print(f"# {machine('onnxruntime', 'numpy')}; model {predictor.version}\n")
    print("| set | " + " | ".join(f"e = {e:g}" for e in TEMPERS) + " |")
    print("|---" * (len(TEMPERS) + 1) + "|")
    counted = lambda t, c: finger_count(c) == t                              # noqa: E731
    rows = [(f.name + " (count)", read_photos(f, predictor.finder), counted) for f in a.photos]
    test = load_data(a.data, progress=False)["test"]
    kaggle = [(int(y), img, (h[:1] or [None])[0])
              for img, y in zip(np.asarray(test.images), test.labels)
              for h in [predictor.finder.find(Image.fromarray(img).convert("RGB"))]]
    rows.append(("Kaggle test (class)", kaggle, lambda t, c: c == t))
    for name, photos, right in rows:
        r = accuracy(photos, predictor, right)
        print(f"| {name} | " + " | ".join(f"{r[e]:.2%}" for e in TEMPERS) + " |")


if __name__ == "__main__":
    main()
