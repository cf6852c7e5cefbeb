"""How long the shared preprocessing (`fingers.preprocess.prepare`) takes on JPEG photos of the sizes users send,
decoded in full (a PIL image passed in, which `prepare` never reduces: the way every JPEG was read before) against
decoded at a reduced size in grey (JPEG draft mode, what `prepare` does with bytes or a path), side by side in one
run, with how far apart the two inputs to the model are. With `--model`, also what it changes for real photos: the
sign-digits photos (100x100, evaluation only), enlarged 4x, 8x and 16x to JPEGs decoded at 1/2, 1/4 and 1/8, are
prepared both ways and the model's finger-count accuracy on each is compared.

    python bench/prepare.py [--repeats 200] [--model runs/served [--photos ../shared/data/sign-digits.zip]]
"""

import argparse
import statistics
import sys
import time
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image

from fingers.preprocess import draft_reduction, prepare
from fingers.synthetic import draw_hand

sys.path.insert(0, str(Path(__file__).parent))
from machine import machine  # noqa: E402

SIZES = [(100, 100), (480, 360), (640, 480), (1280, 960), (4032, 3024)]  # sign-digits, serve bench, webcam, phone


def photo(w: int, h: int) -> bytes:
    "A colour JPEG of a drawn hand, `w` x `h`, at a phone camera's quality."
    grey = np.asarray(Image.fromarray(draw_hand(3, True, np.random.default_rng(0))).resize((w, h)))
    rgb = np.stack([grey, (grey * 0.8).astype(np.uint8), (grey * 0.6).astype(np.uint8)], -1)
    b = BytesIO()
    Image.fromarray(rgb).save(b, format="JPEG", quality=90)
    return b.getvalue()


def enlarged_photos(source: Path, factor: int = 4):
    "(JPEG bytes of each sign-digits photo enlarged `factor` times, its finger count)."
    import zipfile

    with zipfile.ZipFile(source) as z:
        for name in sorted(n for n in z.namelist() if n.lower().endswith((".jpg", ".jpeg", ".png"))):
            count = int(Path(name).parent.name)
            img = Image.open(BytesIO(z.read(name))).convert("RGB")
            b = BytesIO()
            img.resize((img.width * factor, img.height * factor), Image.Resampling.BICUBIC).save(b, "JPEG", quality=90)
            yield b.getvalue(), count


def photo_accuracy(model: Path, photos: Path, factors: tuple[int, ...] = (4, 8, 16)) -> None:
    "Finger-count accuracy of `model` on the photos enlarged by each factor, prepared from a full and a reduced decode."
    from fingers.core import finger_counts
    from fingers.photos import photo_report
    from fingers.predict import Predictor

    predictor = Predictor(model)
    print(f"\nreal photos: the sign-digits photos enlarged (bicubic) to JPEGs of quality 90; model {model}")
    print("(an enlarged photo has no finer detail than the original: this checks the decoding, not sharper cameras)")
    for factor in factors:
        full, reduced, counts = [], [], []
        for data, count in enlarged_photos(photos, factor):
            full.append(prepare(Image.open(BytesIO(data))))
            reduced.append(prepare(data))
            counts.append(count)
        counts, side = np.array(counts), 100 * factor
        probs = {"full": predictor.probabilities(np.stack(full)), "reduced": predictor.probabilities(np.stack(reduced))}
        print(f"{len(counts)} photos at {side}x{side}, decoded at 1/{draft_reduction((side, side), 128)}:")
        for k, p in probs.items():
            r = photo_report(p, counts)
            lo, hi = r["count_accuracy_ci95"]
            print(f"  finger-count accuracy, {k + ' decode':15} {r['count_accuracy']:.1%} (95% CI {lo:.1%}-{hi:.1%})")
        same = (finger_counts(probs["full"].argmax(1)) == finger_counts(probs["reduced"].argmax(1))).mean()
        print(f"  the two decodes give the same count on {same:.1%} of the photos")


def ms(f, repeats: int) -> float:
    "Median milliseconds of `f()` over `repeats` calls."
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=200)
    ap.add_argument("--model", type=Path, help="a run folder: also compare its accuracy on real photos both ways")
    ap.add_argument("--photos", type=Path, default=Path("../shared/data/sign-digits.zip"))
    args = ap.parse_args()
    print(machine("pillow", "numpy"))
    print(f"median of {args.repeats} calls per size, the two contenders alternating in rounds of {args.repeats // 5}\n")
    print(
        f"{'JPEG':>11} {'decoded at':>11} {'full ms':>8} {'reduced ms':>11} {'speed-up':>9} "
        f"{'mean |diff|':>12} {'max |diff|':>11}"
    )
    for w, h in SIZES:
        data = photo(w, h)
        full = lambda data=data: prepare(Image.open(BytesIO(data)))
        reduced = lambda data=data: prepare(data)
        a, b = [], []
        for _ in range(5):  # alternate, so that a noisy moment hits both
            a.append(ms(full, args.repeats // 5))
            b.append(ms(reduced, args.repeats // 5))
        ta, tb = statistics.median(a), statistics.median(b)
        diff = np.abs(full().astype(int) - reduced())
        k = draft_reduction((w, h), 128)
        row = f"{w:>5}x{h:<5} {f'1/{k}':>11} {ta:>8.2f} {tb:>11.2f} {ta / tb:>8.1f}x"
        print(f"{row} {diff.mean():>12.2f} {diff.max():>11}")
    if args.model:
        photo_accuracy(args.model, args.photos)


if __name__ == "__main__":
    main()
