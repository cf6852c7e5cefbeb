"""Drift detection: false alarms and power, measured. A reference from the training split (with the model's
features), then many batches of 200 test images, unchanged or shifted, each compared with evidently's
report as `fingers drift` does it. Test images are near-copies of training images: same distribution.

    FINGERS_DATA=../shared/data/fingers.zip python bench/drift.py --model runs/real/model.onnx [--trials 100]

Targets: same-distribution batches flagged in <= 5% of trials; a 20% brightness shift, blur sigma 1.5 and
the light background (severity 3 of the robustness suite) each flagged in >= 95%.
"""
import argparse
import os
import sys
import time

import numpy as np

from fingers.data import load_data
from fingers.drift import build_reference, drift_report, features, load_reference
from fingers.predict import Predictor
from fingers.robustness import corrupt

SHIFTS = {
    "none (same distribution)": lambda x, rng: x,
    "brightness +20%": lambda x, rng: np.clip(x.astype(np.float32) * 1.2, 0, 255).astype(np.uint8),
    "blur sigma 1.5": lambda x, rng: corrupt(x, "blur", 3),
    "light background": lambda x, rng: corrupt(x, "light_background", 3),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.environ.get("FINGERS_DATA"))
    ap.add_argument("--model", required=True)
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--batch", type=int, default=200)
    ap.add_argument("--out", default="/tmp/fingers-drift-bench")
    args = ap.parse_args()
    data = load_data(args.data, progress=False)
    predictor = Predictor(args.model)
    t = time.perf_counter()
    ref = load_reference(
        build_reference(np.asarray(data["train"].images), predictor, f"{args.out}/reference.json", source="train")
    )
    print(
        f"data: {'SYNTHETIC' if data.synthetic else 'real'}, model {predictor.version}; "
        f"reference: {ref['n']} training images "
        f"({time.perf_counter() - t:.1f} s); {args.trials} trials of {args.batch} test images per condition"
    )
    test = np.asarray(data["test"].images)
    results = {}
    for name, shift in SHIFTS.items():
        rng = np.random.default_rng(0)
        flags, by_feature, t = 0, {}, time.perf_counter()
        for _ in range(args.trials):
            batch = shift(test[rng.choice(len(test), args.batch, replace=False)], rng)
            _, summary = drift_report(ref, features(batch, predictor), predictor.version)
            flags += summary["drift"]
            for f in summary["drifted_features"]: by_feature[f] = by_feature.get(f, 0) + 1
        results[name] = flags / args.trials
        top = ", ".join(f"{k} {v / args.trials:.0%}" for k, v in sorted(by_feature.items(), key=lambda kv: -kv[1]))
        print(f"{name:26} flagged in {flags:3}/{args.trials} trials = {flags / args.trials:6.1%}   "
              f"({time.perf_counter() - t:.0f} s; drifted features: {top or 'none'})")
    ok = lambda b: "PASS" if b else "FAIL"
    print(f"\nfalse alarms <= 5%: {ok(results['none (same distribution)'] <= 0.05)}")
    for name in list(SHIFTS)[1:]: print(f"power >= 95% for {name}: {ok(results[name] >= 0.95)}")
    sys.exit(0)


if __name__ == "__main__":
    main()
