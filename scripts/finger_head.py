"""Fit the per-finger models (`fingers.fingers_up`) on the hand finder's landmarks of Kaggle training hands.

    python scripts/finger_head.py [DATA] [OUT]    # DATA: the Kaggle zip (default $FINGERS_DATA); OUT: the head's file
                                                  # (default fingers/assets/hands/finger_head.json)

A balanced sample of the training split (350 hands of each class, seeded) goes through the finder as any picture
does; the hands it finds give the features, their counts the fingers up (`finger_labels`). The Kaggle test split,
never seen by the fit, says how well it reads hands of the same kind; real photos are judged elsewhere
(`fingers evaluate-photos`, `bench/photos_finder.txt`). Deterministic: the same data and code give the same file.
"""
import argparse
import os
import sys
import time

import numpy as np

from fingers.core import finger_counts
from fingers.data import balanced_indices, data_source, load_data
from fingers.fingers_up import finger_labels, fit_finger_head, head_version, landmark_features, save_finger_head
from fingers.hands import FINDER_DIR, FINDER_VERSION, HandFinder, crop_landmarks


def landmarks_of(images: np.ndarray, finder: HandFinder) -> tuple[np.ndarray, np.ndarray]:
    "(landmarks in the crop's frame, found?) of grey pictures, by the finder."
    found, out = [], []
    for img in images:
        hands = finder.find(np.stack([img] * 3, -1))
        found.append(bool(hands)); out.append(crop_landmarks(hands[0]) if hands else np.zeros((21, 3), np.float32))
    return np.stack(out), np.array(found)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", nargs="?", default=os.environ.get("FINGERS_DATA"))
    ap.add_argument("out", nargs="?", default=str(FINDER_DIR / "finger_head.json"))
    ap.add_argument("--per-class", type=int, default=350)
    a = ap.parse_args(argv)
    if not a.data: sys.exit("no data: give the Kaggle zip, or set FINGERS_DATA")
    data, finder, t = load_data(data_source(a.data)), HandFinder(threads=2), time.time()
    train, test = data["train"], data["test"]
    pick = balanced_indices(train.labels.astype(int), per_class=a.per_class, seed=0)
    lms, found = landmarks_of(np.asarray(train.images)[pick], finder)
    counts = finger_counts(train.labels.astype(int)[pick])[found]
    test_lms, test_found = landmarks_of(np.asarray(test.images), finder)
    head = fit_finger_head(landmark_features(lms[found]), finger_labels(counts), l2=1.0,
                           data=data.meta["source_checksum"], finder=FINDER_VERSION, per_class=a.per_class, seed=0)
    right = head.counts(test_lms[test_found]).argmax(1) == finger_counts(test.labels.astype(int))[test_found]
    info = head.info | {"kaggle_test_count_accuracy": round(float(right.sum() / len(test_found)), 4),
                        "kaggle_found": round(float(found.mean()), 4)}
    path = save_finger_head(type(head)(head.mean, head.scale, head.weights, head.bias, info), a.out)
    print(f"{path}: version {head_version(path)}, {found.sum()} hands; Kaggle test count accuracy "
          f"{info['kaggle_test_count_accuracy']:.2%} (no hand found counted wrong); {time.time() - t:.0f} s")


if __name__ == "__main__":
    main()
