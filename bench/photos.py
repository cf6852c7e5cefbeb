"""Real photos: finger-count accuracy on sign-digits (1,032 photos of 218 people; evaluation only) of trained models
and of the reference a user would pick instead, MediaPipe Hands with a landmark rule, measured in one run.

    python bench/photos.py runs/real [runs/other ...] [--photos ../shared/data/sign-digits.zip]
    bash bench/mediapipe/convert.sh        # once: MediaPipe's two hand models as ONNX (from the mediapipe wheel)

Each model is scored as a user meets it: through `fingers.predict.Predictor` (the serving pipeline), the finger count
of its answer, and whether it is flagged `uncertain` (the model card's threshold, chosen on training data only).
MediaPipe (palm detector + hand landmarks, run on ONNX Runtime by bench/mediapipe/hands_onnx.py, identical to
mediapipe 0.10.14 on all 1,032 photos) counts with two rules: the common tutorial rule (a finger is up when its tip is
above its middle joint; the thumb by its tip's side of its last joint, for the hand's side), and the rule as the issue
worded it (a finger is up when its tip is farther from the wrist than its middle joint; the thumb when its tip is
farther from the index knuckle than its last joint). A photo where MediaPipe finds no hand counts as wrong.
"""
import argparse
import json
import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import machine  # noqa: E402

FINGERS = ((8, 6), (12, 10), (16, 14), (20, 18))  # (tip, middle joint) of index, middle, ring, little finger


def tutorial_rule(lm: np.ndarray, handedness: float) -> int:
    "Fingers whose tip is above the middle joint, plus the thumb by its tip's side of its last joint."
    n = sum(lm[tip, 1] < lm[pip, 1] for tip, pip in FINGERS)
    right = handedness < 0.5         # the legacy solution labels 'Right' below 0.5 (checked against mediapipe 0.10.14)
    return int(n + ((lm[4, 0] < lm[3, 0]) if right else (lm[4, 0] > lm[3, 0])))


def distance_rule(lm: np.ndarray, handedness: float) -> int:
    "Fingers whose tip is farther from the wrist than the middle joint; the thumb, from the index knuckle."
    d = lambda a, b: float(np.linalg.norm(lm[a, :2] - lm[b, :2]))
    return int(sum(d(tip, 0) > d(pip, 0) for tip, pip in FINGERS) + (d(4, 5) > d(3, 5)))


def photos_folder(source: Path, into: Path) -> Path:
    "The folder with sub-folders 1-5: `source` itself, or where its zip is unpacked."
    if source.is_dir(): return source
    with zipfile.ZipFile(source) as z: z.extractall(into)
    return next(p.parent for p in into.rglob("1") if p.is_dir())


def summary(correct: np.ndarray, counts: np.ndarray) -> dict:
    return {"accuracy": float(correct.mean()),
            "per_count": {int(c): float(correct[counts == c].mean()) for c in np.unique(counts)}}


def mediapipe(folder: Path, models: Path) -> dict:
    "MediaPipe's answers on every photo: accuracy with each rule, and the share where it finds a hand."
    from hands_onnx import HandLandmarker, load_rgb  # bench/mediapipe/hands_onnx.py
    hl = HandLandmarker(str(models), num_threads=1)
    files = sorted(p for p in folder.glob("[0-5]/*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    counts = np.array([int(p.parent.name) for p in files])
    t = time.perf_counter()
    hands = [hl.detect(load_rgb(str(p))) for p in files]
    seconds = time.perf_counter() - t
    found = np.array([bool(h) for h in hands])
    out = {"found_hand": float(found.mean()), "seconds_per_photo": seconds / len(files)}
    for name, rule in (("tutorial rule", tutorial_rule), ("distance rule", distance_rule)):
        answers = np.array([rule(h[0].landmarks, h[0].handedness) if h else -1 for h in hands])
        out[name] = summary(answers == counts, counts)
    return out


def our_model(folder: Path, run: Path) -> dict:
    "A trained model through the serving pipeline: count accuracy, uncertain share, accuracy of the rest."
    from fingers.photos import evaluate_photos
    from fingers.predict import Predictor
    predictor = Predictor(run)
    t = time.perf_counter()
    report, _ = evaluate_photos(folder, predictor, progress=False)
    seconds = time.perf_counter() - t
    card = predictor.card
    return {"accuracy": report["count_accuracy"], "ci95": report["count_accuracy_ci95"],
            "per_count": {int(k): v for k, v in report["per_count"].items()}, "uncertain": report["uncertain_share"],
            "accuracy_unflagged": report["count_accuracy_unflagged"], "seconds_per_photo": seconds / report["n"],
            "model": str(run), "version": predictor.version, "test_time_flip": card.get("test_time_flip", False)}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="*", type=Path, help="run folders (or model.onnx files) to score")
    default = os.environ.get("FINGERS_PHOTOS", "../shared/data/sign-digits.zip")
    ap.add_argument("--photos", type=Path, default=Path(default), help="sign-digits.zip or a folder of 1-5")
    ap.add_argument("--mediapipe", type=Path, default=HERE / "mediapipe" / "models")
    ap.add_argument("--json", type=Path, help="also write the results here")
    a = ap.parse_args(argv)
    if not a.photos.exists(): sys.exit(f"no photos at {a.photos} (set FINGERS_PHOTOS or --photos)")
    print(f"# python bench/photos.py {' '.join(sys.argv[1:])}")
    print(f"# {machine('onnxruntime', 'numpy')}")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = photos_folder(a.photos, Path(tmp))
        n = sum(1 for _ in folder.glob("[0-5]/*"))
        shown = [c for c in range(6) if (folder / str(c)).is_dir()]          # the counts the set has
        print(f"# {n} photos in {a.photos}\n")
        columns = ["model", "count accuracy", *map(str, shown), "flagged uncertain", "accuracy of the rest", "ms/photo"]
        print("| " + " | ".join(columns) + " |")
        print("|---" * (len(shown) + 5) + "|")
        if (a.mediapipe / "hand_landmark_full.onnx").exists():
            sys.path.insert(0, str(HERE / "mediapipe"))
            mp = mediapipe(folder, a.mediapipe)
            results["mediapipe"] = mp
            for rule in ("tutorial rule", "distance rule"):
                r = mp[rule]
                print(f"| MediaPipe Hands 0.10.14 (ONNX), {rule} | {r['accuracy']:.1%} | "
                      + " | ".join(f"{r['per_count'][c]:.0%}" for c in shown)
                      + f" | no hand in {1 - mp['found_hand']:.1%} | | {1e3 * mp['seconds_per_photo']:.1f} |")
        else:
            print(f"| MediaPipe: not measured (no models in {a.mediapipe}: run bench/mediapipe/convert.sh) |")
        for run in a.runs:
            r = our_model(folder, run)
            results[str(run)] = r
            print(f"| {run} | {r['accuracy']:.1%} ({r['ci95'][0]:.1%}-{r['ci95'][1]:.1%}) | "
                  + " | ".join(f"{r['per_count'].get(c, float('nan')):.0%}" for c in shown)
                  + f" | {r['uncertain']:.1%} | {r['accuracy_unflagged']:.1%} | {1e3 * r['seconds_per_photo']:.1f} |")
    if a.json: a.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
