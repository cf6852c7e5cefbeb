"""Training speed on the CPU: the default recipe (params.yaml) with the code as it was before the speed work (a git
commit, checked out in a temporary worktree) against the code as it is, side by side in one run, each in its own
child process, one after the other on the same cores. Both models are then judged alike, by the current code:
exported as training exports them, through the serving pipeline, on the test split, the robustness suite and
sign-digits.

    FINGERS_DATA=../shared/data/fingers.zip python bench/train.py [--baseline c9145f8] [--epochs 15]

Reported: training seconds, images/s, where a step's time goes (making the batch, the model's forward and backward
and the optimizer, with the operators that cost most), clean test accuracy, robustness score, sign-digits.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from machine import machine  # noqa: E402
from worktree import checkout  # noqa: E402

CHILD = r'''
import json, sys, time, torch
torch.set_num_threads(int(sys.argv[4]))
from fingers.config import load_params
from fingers.data import load_data
from fingers.model import save_model
from fingers.train import fit, start_run, step_generator, epoch_order
from fingers.scenes import training_batch
from fingers.model import autocast
import torch.nn.functional as F
data_path, out, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3])
cfg, _ = load_params(sys.argv[5], data=data_path, device="cpu", epochs=epochs)
data = load_data(data_path, progress=False)
# Where a step's time goes: 12 steps, the batch and the model step timed apart, then the costliest operators
run = start_run(cfg, out + "-profile", data=data, progress=False)
order = epoch_order(len(run.train), cfg.seed, 0)
def batch(i):
    return training_batch(run.train, order[i * cfg.batch_size:(i + 1) * cfg.batch_size], run.recipe,
                          step_generator(cfg.seed, 0, i), run.drawn)
def model_step(x, y):
    x = x.contiguous(memory_format=torch.channels_last)
    with autocast(run.device, cfg.precision): logits = run.net(x, half=True)
    loss = F.cross_entropy(logits.float(), y)
    run.opt.zero_grad(); loss.backward(); run.opt.step()
tb = tm = 0.0
for i in range(14):
    t = time.perf_counter(); x, y = batch(i); t1 = time.perf_counter(); model_step(x, y); t2 = time.perf_counter()
    if i >= 2: tb += t1 - t; tm += t2 - t1
with torch.profiler.profile() as prof:
    for i in range(14, 18): model_step(*batch(i))
table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=14, max_name_column_width=34)
t = time.perf_counter()
res = fit(cfg, out, data=data, progress=False)
seconds = time.perf_counter() - t
save_model(res.model, out + "/model.pt")
print(json.dumps({"train_seconds": sum(h["seconds"] for h in res.history), "wall_seconds": seconds,
                  "images_per_s": sum(h["images_per_s"] * h["seconds"] for h in res.history)
                  / sum(h["seconds"] for h in res.history),
                  "batch_ms": 1e3 * tb / 12, "model_ms": 1e3 * tm / 12, "profile": table}))
'''


def train_child(code: Path, data: str, out: Path, epochs: int, threads: int) -> dict:
    "Train the default recipe with the package at `code`, in a child process; its report."
    env = {**os.environ, "PYTHONPATH": str(code), "OMP_NUM_THREADS": str(threads)}
    r = subprocess.run([sys.executable, "-c", CHILD, data, str(out), str(epochs), str(threads),
                        str(REPO / "params.yaml")], capture_output=True, text=True, env=env, cwd=code)
    if r.returncode: sys.exit(f"training with {code} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def judge(model_pt: Path, data, photos, out: Path) -> dict:
    "Export as training does (flip inside when the recipe says so) and score through the serving pipeline."
    from fingers.config import load_params
    from fingers.model import FlipTTA, export_onnx, load_model
    from fingers.predict import Predictor, write_model_card
    from fingers.report import evaluate_run
    cfg, _ = load_params(REPO / "params.yaml")
    model = load_model(model_pt)
    onnx = export_onnx(FlipTTA(model).eval() if cfg.tta else model, out / "model.onnx")
    write_model_card(onnx, 0.0)
    s = evaluate_run(Predictor(onnx), data, photos=photos, progress=False)["summary"]
    return {"accuracy": s["accuracy"], "robustness": s["robustness_score"], "photos": s.get("photos_count_accuracy")}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", default="c9145f8", help="the commit before the speed work")
    ap.add_argument("--data", default=os.environ.get("FINGERS_DATA"))
    ap.add_argument("--photos", type=Path, default=Path(os.environ.get("FINGERS_PHOTOS",
                                                                        "../shared/data/sign-digits.zip")))
    ap.add_argument("--epochs", type=int, default=None, help="default: params.yaml's")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    a = ap.parse_args(argv)
    from photos import photos_folder

    from fingers.config import load_params
    from fingers.data import load_data
    epochs = a.epochs or load_params(REPO / "params.yaml")[0].epochs
    print(f"# python bench/train.py {' '.join(sys.argv[1:])}")
    print(f"# {machine('torch', 'onnxruntime', 'numpy')}; {a.threads} threads")
    data = load_data(a.data, progress=False)
    if data.synthetic: sys.exit("bench/train.py needs the real data: --data or FINGERS_DATA")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        with checkout(a.baseline, tmp / "baseline") as base_code:
            rows = {}
            for name, code in (("baseline", base_code), ("current", REPO)):
                t = time.perf_counter()
                rows[name] = train_child(code, a.data, tmp / name, epochs, a.threads)
                print(f"# {name} trained in {time.perf_counter() - t:.0f} s", flush=True)
            photos = photos_folder(a.photos, tmp / "photos") if a.photos.exists() else None
            for name in rows:
                rows[name] |= judge(tmp / name / "model.pt", data, photos, tmp / name)
    b, c = rows["baseline"], rows["current"]
    print(f"\n| | baseline ({a.baseline}) | current |\n|---|---|---|")
    for key, fmt in (("train_seconds", "{:.0f} s"), ("images_per_s", "{:.0f}"), ("batch_ms", "{:.0f} ms"),
                     ("model_ms", "{:.0f} ms"), ("accuracy", "{:.4%}"), ("robustness", "{:.4f}"), ("photos", "{:.1%}")):
        print(f"| {key.replace('_', ' ')} | {fmt.format(b[key])} | {fmt.format(c[key])} |")
    print(f"\nratio, training time, baseline / current: {b['train_seconds'] / c['train_seconds']:.2f}x")
    for name, r in rows.items():
        print(f"\n# {name}: where a step's time goes ({r['batch_ms']:.0f} ms making the batch, {r['model_ms']:.0f} ms "
              f"forward + backward + optimizer); the costliest operators of four steps:\n{r['profile']}")


if __name__ == "__main__":
    main()
