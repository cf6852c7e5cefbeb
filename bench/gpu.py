"""Training speed on one GPU: the default recipe (params.yaml) as `fingers.train.fit` runs it, at the default batch and
at larger batches (`fingers.config.peak_lr` scales the learning rate by the square root of the batch), on a data set
of the real one's size.

    python bench/gpu.py [--batches 128 1024 2048 2048c] [--epochs 15] [--profile]     # 'c': with torch.compile

The real archive cannot travel to a lent GPU machine (189 MB), so the images are the embedded synthetic hands: 300
drawn per class, repeated to the real training split's 18,000 (the cost per image is what is measured; accuracy on
them says only that training works). Reported per batch size: steady-state training images/s (epochs after the
first), the whole recipe's training wall time, the model's share of the GPU's measured bf16 matmul peak, and with
--profile, the CUDA time by operator for a few steps.
"""
import argparse
import dataclasses
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import machine  # noqa: E402


def _draw(args):
    from fingers.core import finger_count, is_right
    from fingers.synthetic import POSES, draw_hand, draw_posed_hand
    kind, seed, i, c = args
    rng = np.random.default_rng([seed, i])
    if kind == "hand": return draw_hand(finger_count(c), bool(is_right(c)), rng)
    count, right = i % 6, bool((i // 6) % 2)
    return draw_posed_hand(POSES[count][rng.integers(len(POSES[count]))], right, rng)


def synthetic_like_real(per_class: int = 300, repeat: int = 5):
    "A Processed data set of the real one's shape: `per_class` drawn hands a class, the training split repeated."
    from fingers.data import Processed, Split
    labels = (np.arange(12 * per_class) % 12).astype(np.uint8)
    with ProcessPoolExecutor() as pool:
        images = np.stack(list(pool.map(_draw, [("hand", 0, i, int(c)) for i, c in enumerate(labels)], chunksize=64)))
    train = Split(np.tile(images, (repeat, 1, 1)), np.tile(labels, repeat),
                  np.array([f"s{i}" for i in range(repeat * len(labels))]))
    test = Split(images[:1200], labels[:1200], np.array([f"t{i}" for i in range(len(images[:1200]))]))
    return Processed({"train": train, "test": test},
                     {"source": "synthetic-like-real", "source_checksum": f"bench-gpu-{per_class}-{repeat}",
                      "synthetic": True})


def cache_posed_hands(n: int, seed: int) -> None:
    "Draw the posed hands that training mixes in, on every core, into the cache where fingers.train looks."
    from fingers.data import cache_dir
    from fingers.train import POSED_HANDS_VERSION
    path = cache_dir() / f"posed-hands-v{POSED_HANDS_VERSION}-{n}-{seed}.npz"
    if path.exists(): return
    with ProcessPoolExecutor() as pool:
        images = np.stack(list(pool.map(_draw, [("posed", 1000 + seed, i, 0) for i in range(n)], chunksize=64)))
    labels = np.array([2 * (i % 6) + (i // 6) % 2 for i in range(n)], np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, images=images, labels=labels)


def bf16_peak(n: int = 8192, reps: int = 20) -> float:
    a, b = (torch.randn(n, n, device="cuda", dtype=torch.bfloat16) for _ in range(2))
    for _ in range(3): a @ b
    torch.cuda.synchronize(); t = time.perf_counter()
    for _ in range(reps): a @ b
    torch.cuda.synchronize()
    return 2 * n**3 * reps / (time.perf_counter() - t)


def run(cfg, data, out: Path) -> dict:
    from fingers.train import fit

    try:
        from fingers.config import peak_lr
    except ImportError:                                      # code from before peak_lr (--baseline): scale lr here
        cfg = dataclasses.replace(cfg, lr=cfg.lr * (cfg.batch_size / 128) ** 0.5)
        def peak_lr(c): return c.lr
    t = time.perf_counter()
    res = fit(cfg, out, data=data, progress=False)
    wall = time.perf_counter() - t
    h = res.history
    steady = [r["images_per_s"] for r in h[1:]] or [h[0]["images_per_s"]]
    return {"batch": cfg.batch_size, "compiled": getattr(cfg, "torch_compile", False), "lr": peak_lr(cfg),
            "epochs": cfg.epochs,
            "train_seconds": sum(r["seconds"] for r in h),
            "wall_seconds_incl_setup": wall, "images_per_s": float(np.median(steady)),
            "first_epoch_s": h[0]["seconds"], "val_acc": h[-1]["val_acc"]}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", nargs="+", default=["128", "1024", "2048"], help="a 'c' suffix adds torch.compile")
    ap.add_argument("--epochs", type=int, default=None, help="default: params.yaml's")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--out", type=Path, default=Path("/tmp/bench-gpu"))
    ap.add_argument("--json", type=Path)
    ap.add_argument("--device", default="cuda", help="cpu: a dry run of the script itself")
    ap.add_argument("--per-class", type=int, default=300)
    ap.add_argument("--params", default="params.yaml", help="the recipe (another commit's, with its code)")
    a = ap.parse_args(argv)
    from fingers.config import load_params
    from fingers.data import split_train_val
    from fingers.model import FingerNet, count_macs
    from fingers.train import drawn_hands_for
    cuda = a.device == "cuda"
    assert torch.cuda.is_available() or not cuda, "no CUDA device"
    print(f"# python bench/gpu.py {' '.join(sys.argv[1:])}")
    import fingers
    print(f"# code: {Path(fingers.__file__).parent}")
    if cuda:
        p = torch.cuda.get_device_properties(0)
        print(f"# {machine('torch', 'numpy')}; {p.name}, {p.total_memory / 2**30:.0f} GiB, CUDA {torch.version.cuda}")
    t = time.perf_counter()
    data = synthetic_like_real(a.per_class)
    base, _ = load_params(a.params, device=a.device)
    n_train = len(split_train_val(data["train"].labels, base.val_fraction, base.seed)[0])
    cache_posed_hands(drawn_hands_for(n_train), base.seed)
    print(f"# data: {len(data['train'])} training images (synthetic, 300 a class repeated), made in "
          f"{time.perf_counter() - t:.0f} s on {os.cpu_count()} cores")
    peak = bf16_peak() if cuda else float("nan")
    macs = count_macs(FingerNet(**{k: getattr(base, k) for k in ("width", "depth", "margin")}).to(a.device))
    print(f"# measured bf16 matmul peak {peak / 1e12:.0f} TFLOP/s; model {macs / 1e6:.1f} M multiply-adds a forward "
          f"pass (half resolution), so 3 x 2 x that a training image")
    rows = []
    for spec in a.batches:
        batch, compiled = int(spec.rstrip("c")), spec.endswith("c")
        extra = {"torch_compile": compiled} if hasattr(base, "torch_compile") else {}
        if compiled and not extra: continue                  # the baseline had no torch_compile
        cfg = dataclasses.replace(base, batch_size=batch, epochs=a.epochs or base.epochs, data="synthetic", **extra)
        try: r = run(cfg, data, a.out / f"b{spec}")
        except Exception as e:  # noqa: BLE001 - one failed configuration must not hide the others
            print(f"batch {batch}: failed: {type(e).__name__}: {e}"); continue
        r["model_tflops"] = 6 * macs * r["images_per_s"] / 1e12
        r["share_of_bf16_peak"] = r["model_tflops"] * 1e12 / peak
        rows.append(r)
        print(json.dumps(r), flush=True)
    print("\n| batch | torch.compile | lr | training images/s | whole recipe, training s | first epoch s | "
          "model TFLOP/s | of bf16 peak | final val acc |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['batch']} | {'yes' if r['compiled'] else 'no'} | {r['lr']:.4f} | {r['images_per_s']:.0f} | "
              f"{r['train_seconds']:.1f} | "
              f"{r['first_epoch_s']:.1f} | {r['model_tflops']:.1f} | {r['share_of_bf16_peak']:.2%} | "
              f"{r['val_acc']:.4f} |")
    if len(rows) > 1:
        print(f"\nratio, images/s, batch {rows[-1]['batch']} / batch {rows[0]['batch']}: "
              f"{rows[-1]['images_per_s'] / rows[0]['images_per_s']:.1f}x")
    if a.profile and cuda:
        from fingers.scenes import Recipe, TrainingImages, training_batch
        from fingers.train import step_generator
        batch = max(int(b.rstrip("c")) for b in a.batches)
        train = TrainingImages.from_images(data["train"].images[:20000], data["train"].labels[:20000], "cuda")
        model = FingerNet(**{k: getattr(base, k) for k in ("width", "depth", "margin")}).cuda()
        model = model.to(memory_format=torch.channels_last)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
        recipe = Recipe(base.augment, base.scenes, 0.0, base.thumbs)
        def step(i):
            idx = torch.randint(0, len(train), (batch,), device="cuda")
            x, y = training_batch(train, idx, recipe, step_generator(0, 0, i, "cuda"))
            with torch.autocast("cuda", dtype=torch.bfloat16):
                loss = torch.nn.functional.cross_entropy(model(x.contiguous(memory_format=torch.channels_last),
                                                                half=True).float(), y)
            opt.zero_grad(); loss.backward(); opt.step()
        for i in range(3): step(i)
        torch.cuda.synchronize()
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU,
                                                torch.profiler.ProfilerActivity.CUDA]) as prof:
            for i in range(5): step(i)
            torch.cuda.synchronize()
        print(f"\n# profile of 5 steps at batch {batch} (training_batch + forward + backward + AdamW):")
        print(prof.key_averages().table(sort_by="cuda_time_total", row_limit=25, max_name_column_width=40))
    if a.json: a.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
