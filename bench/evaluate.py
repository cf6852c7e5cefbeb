"""The training notebook's evaluation step (test split, rejection, the corruption suite and photos for the served form,
and the same suite for the fp32 model it must stay close to), with the code of a git commit (checked out in a temporary
worktree) and the code as it is, side by side in one run: each in its own child process, one after the other on the
same cores, on the same exported model files. Both must report the same numbers; the times are what differ.

    FINGERS_DATA=../shared/data/fingers.zip python bench/evaluate.py RUN [--before 066c9c7] [--rounds 2]

RUN: a run folder of `fingers train` (its `fp32/` and served-form folders, e.g. `int8/`).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from machine import machine  # noqa: E402
from worktree import checkout  # noqa: E402

# What nbs/train.ipynb's evaluation cell does with either version of the code: the served form with photos, then fp32
# (before: a second evaluate_run; with `alongside`: in the same pass, on the same corrupted images).
CHILD = r'''
import hashlib, inspect, json, sys, time
from fingers.data import load_data
from fingers.predict import Predictor
from fingers.report import evaluate_run
data_path, served, fp32, photos = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] or None
data = load_data(data_path, progress=False)
t = time.perf_counter()
model, reference = Predictor(served), Predictor(fp32)
if "alongside" in inspect.signature(evaluate_run).parameters:
    report = evaluate_run(model, data, photos=photos, progress=False, alongside={"fp32": reference})
    fp32_report = report["alongside"]["fp32"]
else:
    report = evaluate_run(model, data, photos=photos, progress=False)
    fp32_report = evaluate_run(reference, data, progress=False)
seconds = time.perf_counter() - t
digest = lambda parts: hashlib.sha256(json.dumps(parts, sort_keys=True, default=lambda o: o.tolist()).encode()
                                      ).hexdigest()[:16]
keys = ("accuracy", "robustness_score", "robustness_score_unseen", "photos_count_accuracy")
print(json.dumps({"seconds": seconds, "served": {k: report["summary"].get(k) for k in keys},
                  "fp32": {k: fp32_report["summary"].get(k) for k in keys[:3]},
                  "served_digest": digest({k: report.get(k) for k in ("evaluation", "rejection", "robustness",
                                                                      "photos", "summary", "probs")}),
                  "fp32_digest": digest({k: fp32_report[k] for k in ("evaluation", "robustness")})}))
'''


def evaluate_child(code: Path, data: str, run: Path, form: str, photos: Path | None) -> dict:
    "The evaluation step with the package at `code`, in a child process; its times and numbers."
    env = {**os.environ, "PYTHONPATH": str(code)}
    r = subprocess.run([sys.executable, "-c", CHILD, data, str(run / form), str(run / "fp32"), str(photos or "")],
                       capture_output=True, text=True, env=env, cwd=code)
    if r.returncode: sys.exit(f"evaluating with {code} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path, help="a run folder with fp32/ and the served form's folder")
    ap.add_argument("--form", default="int8", help="the served form's folder in RUN")
    ap.add_argument("--before", default="066c9c7", help="the commit to compare with")
    ap.add_argument("--data", default=os.environ.get("FINGERS_DATA"))
    ap.add_argument("--photos", type=Path, default=Path(os.environ.get("FINGERS_PHOTOS",
                                                                        "../shared/data/sign-digits.zip")))
    ap.add_argument("--rounds", type=int, default=2, help="rounds, the order alternating: before, now; now, before")
    a = ap.parse_args(argv)
    if not a.data: sys.exit("bench/evaluate.py needs the real data: --data or FINGERS_DATA")
    from photos import photos_folder
    print(f"$ python bench/evaluate.py {' '.join(sys.argv[1:])}")
    print(f"# {machine('onnxruntime', 'numpy', 'scipy')}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        with checkout(a.before, tmp / "before") as before:
            photos = photos_folder(a.photos, tmp / "photos") if a.photos.exists() else None
            rows: dict[str, list[dict]] = {"before": [], "now": []}
            for r in range(a.rounds):                   # the order alternates: before first, then now first, ...
                for name, code in (("before", before), ("now", REPO))[::1 if r % 2 == 0 else -1]:
                    rows[name].append(evaluate_child(code, a.data, a.run.resolve(), a.form, photos))
                    print(f"# {name}: {rows[name][-1]['seconds']:.0f} s", flush=True)
    b, n = rows["before"], rows["now"]
    print(f"\n| | before ({a.before}) | now |\n|---|---|---|")
    print(f"| seconds (best of {a.rounds}) | {min(r['seconds'] for r in b):.0f} | {min(r['seconds'] for r in n):.0f} |")
    for part in ("served", "fp32"):
        for key, value in b[0][part].items():
            if value is not None: print(f"| {a.form if part == 'served' else part} {key} | {value:.4f} | "
                                        f"{n[0][part][key]:.4f} |")
    same = all(r["served_digest"] == b[0]["served_digest"] and r["fp32_digest"] == b[0]["fp32_digest"] for r in b + n)
    print(f"\nthe same reports in every run (digests of every part, probabilities included; of fp32's evaluation and "
          f"robustness): served {b[0]['served_digest']}, fp32 {b[0]['fp32_digest']}: {'yes' if same else 'NO'}")
    print("seconds of each run: " + "; ".join(f"{k} {', '.join(str(round(r['seconds'])) for r in v)}"
                                              for k, v in rows.items()))
    print(f"ratio, evaluation time, before / now: {min(r['seconds'] for r in b) / min(r['seconds'] for r in n):.2f}x")


if __name__ == "__main__":
    main()
