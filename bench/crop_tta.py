"""Test-time augmentation over the finder's framing: the counter reads each found hand in several crops (a little
larger, smaller, shifted along the hand) and averages its probabilities, against the one canonical crop of today's
path. End-to-end count accuracy on labelled photo folders (sign-digits, webcam-scenes), a photo without a hand found
counted wrong, as `fingers evaluate-photos` counts it.

    python bench/crop_tta.py runs/base --photos /tmp/dev/webcam-scenes /tmp/dev/sign-digits

The finder runs once per photo; every framing is cut from the same grey picture and hand (fingers.hands.gray_crop),
so the variants differ in the crops alone. The reason to expect a gain in any room: the finder's box moves with the
landmarks from picture to picture, and a counter that agrees with itself over nearby framings depends less on where
exactly the box fell.
"""
import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import machine  # noqa: E402

# (scale of the crop's side, shift along the hand's upright axis in crop sides): each variant averages its framings
VARIANTS = {
    "canonical crop (today)": [(1.0, 0.0)],
    "3 scales (0.9, 1, 1.1)": [(0.9, 0.0), (1.0, 0.0), (1.1, 0.0)],
    "3 scales (0.85, 1, 1.15)": [(0.85, 0.0), (1.0, 0.0), (1.15, 0.0)],
    "3 shifts (-0.05, 0, 0.05)": [(1.0, -0.05), (1.0, 0.0), (1.0, 0.05)],
    "5: 3 scales + 2 shifts": [(0.9, 0.0), (1.0, 0.0), (1.1, 0.0), (1.0, -0.05), (1.0, 0.05)],
}


def framed(region: tuple, scale: float, shift: float) -> tuple:
    "The crop region `region` (cx, cy, w, h, angle) scaled about its centre and moved `shift` sides towards the tips."
    cx, cy, w, h, angle = region
    d = shift * w
    return (cx + d * math.sin(angle), cy - d * math.cos(angle), w * scale, h * scale, angle)


def read_photos(folder: Path, finder) -> list[tuple]:
    "(count, grey picture, best hand or None) of every photo in `folder`'s sub-folders 0-5."
    from fingers.hands import FIND_SIDE, colour_view
    from fingers.preprocess import load_image, to_gray
    out = []
    for p in sorted(q for q in folder.glob("[0-5]/*") if q.suffix.lower() in (".jpg", ".jpeg", ".png")):
        img = load_image(p, str(p), shrink_to=FIND_SIDE, colour=True)
        gray = to_gray(img, str(p))
        hands = finder.find(colour_view(img, gray))
        out.append((int(p.parent.name), gray, hands[0] if hands else None))
    return out


def score(photos: list[tuple], predictor, framings: list[tuple]) -> dict:
    "Count accuracy (and per count) when each hand's CNN probabilities are averaged over `framings`."
    from fingers.core import finger_count
    from fingers.hands import crop_region, gray_crop
    right, counts = [], []
    for count, gray, hand in photos:
        counts.append(count)
        if hand is None: right.append(False); continue
        region = crop_region(hand.landmarks)
        crops = np.stack([gray_crop(gray, framed(region, s, d)) for s, d in framings])
        probs = predictor.probabilities(crops).mean(0, keepdims=True)
        right.append(finger_count(int(predictor.combined(probs, [hand])[0].argmax())) == count)
    right, counts = np.array(right), np.array(counts)
    return {"accuracy": right.mean(), "per_count": {c: right[counts == c].mean() for c in np.unique(counts)}}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path, help="a run folder (its card names the finder and finger models)")
    ap.add_argument("--photos", type=Path, nargs="+", required=True, help="folders with sub-folders 0-5 or 1-5")
    a = ap.parse_args(argv)
    from fingers.predict import Predictor
    predictor = Predictor(a.run, threads=2)
    print(f"# python bench/crop_tta.py {' '.join(sys.argv[1:])}")
    print(f"# {machine('onnxruntime', 'numpy')}; model {predictor.version}")
    for folder in a.photos:
        t = time.perf_counter()
        photos = read_photos(folder, predictor.finder)
        found = np.mean([h is not None for *_, h in photos])
        seconds = time.perf_counter() - t
        print(f"\n## {folder.name}: {len(photos)} photos, a hand found in {found:.1%} (finder: {seconds:.0f} s)\n")
        shown = sorted({c for c, *_ in photos})
        print("| framings averaged | count accuracy | " + " | ".join(map(str, shown)) + " |")
        print("|---" * (len(shown) + 2) + "|")
        for name, framings in VARIANTS.items():
            r = score(photos, predictor, framings)
            print(f"| {name} | {r['accuracy']:.1%} | " + " | ".join(f"{r['per_count'][c]:.0%}" for c in shown) + " |")


if __name__ == "__main__":
    main()
