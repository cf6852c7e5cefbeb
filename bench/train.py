"""Training benchmark on the real data: our recipes against a faithful re-implementation of the previous
project's recipe, in one run (each contender in its own child process, one after the other, so that peak
memory is per contender and they never share the two cores).

    FINGERS_DATA=../shared/data/fingers.zip python bench/train.py          # all contenders, ~10 minutes
    python bench/train.py --contender fast                                 # one contender, JSON out

Contenders:
  old     4 conv layers (1->32 k3, 32->6 k4, 6->128 k3, 128->8 k2, each LeakyReLU + 2x2 max-pool), FC
          288->128->64->32->12 with dropout 0.5 and ReLU, LogSoftmax + NLLLoss, raw 0-255 input,
          Adam lr 8.8e-4, batch 16, 3 epochs, fp32.
  fast    FingerNet, no augmentation, 1 epoch, bf16 + channels_last: the clean-accuracy recipe.
  robust  FingerNet with params.yaml's defaults (camera-like augmentation): the default recipe.
Reported: wall time (training only, evaluation excluded) to reach each test accuracy, final test accuracy,
training images/s, peak memory (max RSS), robustness (blur sigma 1.5, noise 20 grey levels, light background,
inverted image), and achieved FLOP/s against a measured matmul peak.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from fingers.config import TrainConfig, load_params
from fingers.data import load_data
from fingers.model import count_macs, predict_logits
from fingers.robustness import corrupt
from fingers.train import fit

THRESHOLDS = (0.9, 0.99, 0.999, 1.0)


class OldNet(nn.Module):
    "The previous project's network, layer for layer."
    def __init__(self):
        super().__init__()
        def block(i, o, k): return [nn.Conv2d(i, o, k), nn.LeakyReLU(), nn.MaxPool2d(2)]
        self.features = nn.Sequential(
            *block(1, 32, 3), *block(32, 6, 4), *block(6, 128, 3), *block(128, 8, 2), nn.Flatten()
        )
        self.head = nn.Sequential(
            nn.Linear(288, 128),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(128, 64),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(64, 32),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(32, 12),
            nn.LogSoftmax(1),
        )

    def forward(self, x): return self.head(self.features(x))


def old_predict(model, images, bs=500):
    model.eval()
    with torch.no_grad():
        out = torch.cat(
            [
                model(torch.from_numpy(np.array(images[i : i + bs]))[:, None].float()).argmax(1)
                for i in range(0, len(images), bs)
            ]
        )
    model.train()
    return out.numpy()


def corrupted_accuracy(predict, test):
    x, y = np.asarray(test.images), test.labels
    cases = {"blur_1.5": corrupt(x, "blur", 3), "noise_20": corrupt(x, "noise", 3),
             "light_background": corrupt(x, "light_background", 3), "inverted": 255 - x}
    return {k: float(np.mean(predict(v) == y)) for k, v in cases.items()}


def run_old(data, eval_every):
    torch.manual_seed(0)
    model, test = OldNet(), data["test"]
    opt = torch.optim.Adam(model.parameters(), lr=8.8e-4)
    x, y = torch.from_numpy(np.asarray(data["train"].images)), torch.from_numpy(data["train"].labels.astype(np.int64))
    timeline, clock, seen, steps = [], 0.0, 0, 0
    for _epoch in range(3):
        perm = torch.randperm(len(x))
        for i in range(0, len(x) - 15, 16):
            t = time.perf_counter()
            idx = perm[i:i + 16]
            loss = F.nll_loss(model(x[idx][:, None].float()), y[idx])
            opt.zero_grad(); loss.backward(); opt.step()
            clock += time.perf_counter() - t; seen += 16; steps += 1
            if steps % eval_every == 0:
                timeline.append((clock, float(np.mean(old_predict(model, test.images) == test.labels))))
    timeline.append((clock, float(np.mean(old_predict(model, test.images) == test.labels))))
    return model, timeline, seen / clock, lambda imgs: old_predict(model, imgs), 3 * 2 * count_macs(model)


def run_ours(data, cfg: TrainConfig, eval_every, out):
    test, timeline = data["test"], []
    state = {"clock": 0.0, "t": time.perf_counter()}

    def on_step(step, model):
        state["clock"] += time.perf_counter() - state["t"]
        if step % eval_every == 0:
            timeline.append(
                (state["clock"], float(np.mean(predict_logits(model, test.images).argmax(1).numpy() == test.labels)))
            )
        state["t"] = time.perf_counter()
    state["t"] = time.perf_counter()
    res = fit(cfg, out, data=data, progress=False, on_step=on_step)
    acc = float(np.mean(predict_logits(res.model, test.images).argmax(1).numpy() == test.labels))
    timeline.append((state["clock"], acc))
    seen = sum(h["images_per_s"] * h["seconds"] for h in res.history)   # images trained on
    return res.model, timeline, seen / state["clock"], \
        lambda imgs: predict_logits(res.model, imgs).argmax(1).numpy(), 3 * 2 * count_macs(res.model)


def contender(name, source, out):
    torch.set_num_threads(os.cpu_count() or 2)
    data = load_data(source, progress=False)
    if data.synthetic: sys.exit("bench/train.py needs the real data: pass --data or set FINGERS_DATA")
    base, _ = load_params("params.yaml", data=source, device="cpu")
    if name == "old": model, timeline, ips, predict, flops_per_img = run_old(data, eval_every=250)
    elif name == "fast":
        cfg = TrainConfig(**{**base.__dict__, "epochs": 1, "augment": 0.0})
        model, timeline, ips, predict, flops_per_img = run_ours(data, cfg, 20, Path(out) / "fast")
    elif name == "robust": model, timeline, ips, predict, flops_per_img = run_ours(data, base, 50, Path(out) / "robust")
    else: sys.exit(f"unknown contender {name}")
    reach = {str(t): next((c for c, a in timeline if a >= t), None) for t in THRESHOLDS}
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # training's peak, before the corruptions
    return {
        "contender": name,
        "timeline": timeline,
        "time_to_accuracy_s": reach,
        "final_test_accuracy": timeline[-1][1],
        "train_seconds": timeline[-1][0],
        "images_per_s": ips,
        "train_flops_per_image": flops_per_img,
        "robustness": corrupted_accuracy(predict, data["test"]),
        "peak_rss_mb": peak_mb,
    }


def matmul_peak(dtype, n=2048, reps=10):
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    for _ in range(3): a @ b
    t = time.perf_counter()
    for _ in range(reps): a @ b
    return 2 * n ** 3 * reps / (time.perf_counter() - t)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.environ.get("FINGERS_DATA"))
    ap.add_argument("--contender", choices=["old", "fast", "robust"])
    ap.add_argument("--out", default="/tmp/fingers-bench")
    args = ap.parse_args()
    if not args.data: sys.exit("usage: python bench/train.py --data PATH/TO/fingers.zip (or set FINGERS_DATA)")
    if args.contender:
        print(json.dumps(contender(args.contender, args.data, args.out)))
        return
    import shutil
    shutil.rmtree(args.out, ignore_errors=True)
    load_data(args.data, progress=False)                       # ingest once, outside every contender's clock
    results = {}
    for name in ("fast", "robust", "old"):
        r = subprocess.run(
            [sys.executable, __file__, "--contender", name, "--data", args.data, "--out", args.out],
            capture_output=True,
            text=True,
        )
        if r.returncode: sys.exit(f"{name} failed:\n{r.stderr[-3000:]}")
        results[name] = json.loads(r.stdout.strip().splitlines()[-1])
    torch.set_num_threads(os.cpu_count() or 2)
    peaks = {"fp32": matmul_peak(torch.float32), "bf16": matmul_peak(torch.bfloat16)}
    print(f"machine: {os.cpu_count()} cpus, torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"measured matmul peak: fp32 {peaks['fp32'] / 1e9:.0f} GFLOP/s, bf16 {peaks['bf16'] / 1e9:.0f} GFLOP/s\n")
    head = f"{'':28}" + "".join(f"{n:>12}" for n in results)
    print(head)
    row = lambda label, f: print(f"{label:28}" + "".join(f"{f(r):>12}" for r in results.values()))
    for t in THRESHOLDS:
        row(
            f"seconds to {t:.1%} test acc",
            lambda r, t=t: (
                "never" if r["time_to_accuracy_s"][str(t)] is None else f"{r['time_to_accuracy_s'][str(t)]:.1f}"
            ),
        )
    row("training seconds (total)", lambda r: f"{r['train_seconds']:.1f}")
    row("final test accuracy", lambda r: f"{r['final_test_accuracy']:.4%}")
    row("training images/s", lambda r: f"{r['images_per_s']:.0f}")
    row("training GFLOP/s", lambda r: f"{r['images_per_s'] * r['train_flops_per_image'] / 1e9:.1f}")
    row("  of bf16 matmul peak", lambda r: f"{r['images_per_s'] * r['train_flops_per_image'] / peaks['bf16']:.1%}")
    row("  of fp32 matmul peak", lambda r: f"{r['images_per_s'] * r['train_flops_per_image'] / peaks['fp32']:.1%}")
    row("peak memory (MB, max RSS)", lambda r: f"{r['peak_rss_mb']:.0f}")
    for k in results["old"]["robustness"]:
        row(f"accuracy: {k}", lambda r, k=k: f"{r['robustness'][k]:.1%}")
    old, fast, robust = results["old"], results["fast"], results["robust"]
    t_old = old["time_to_accuracy_s"]["0.99"]
    for name, r in (("fast", fast), ("robust", robust)):
        t = r["time_to_accuracy_s"]["0.99"]
        if t_old and t: print(f"\nratio, time to 99% test accuracy, old / {name}: {t_old / t:.1f}x")
    print(f"ratio, training images/s, fast / old: {fast['images_per_s'] / old['images_per_s']:.1f}x")
    print(f"ratio, total training time, old / robust: {old['train_seconds'] / robust['train_seconds']:.1f}x")
    ok = lambda b: "PASS" if b else "FAIL"
    t999 = fast["time_to_accuracy_s"]["0.999"]
    fast_ok = t999 is not None and t999 <= 10
    print(f"\ntarget >= 99.9% clean test accuracy within 10 s of training (fast): {ok(fast_ok)} "
          f"({t999 if t999 is None else round(t999, 1)} s)")
    print(f"target default robust recipe trains in <= 3 minutes: {ok(robust['train_seconds'] <= 180)} "
          f"({robust['train_seconds']:.0f} s)")
    Path(args.out, "results.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
