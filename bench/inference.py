"""Inference variants of a trained model, side by side in one run: file size, latency at batch 1 (p50, p99), throughput
at batch 256, clean test accuracy, robustness score, and sign-digits (reported, never used to choose).

    FINGERS_DATA=../shared/data/fingers.zip python bench/inference.py runs/real [--out runs/variants]

The run folder must hold model.pt, model.onnx and its card (a `fingers train` run). Variants, each in its own folder
under --out with its own card (threshold chosen as training chooses it, on held-out hands in new scenes):
  fp32          the model as trained and exported (the baseline)
  graph         ONNX Runtime's graph optimisations, saved
  int8          int8 static quantisation, calibrated on training images (plain and in new scenes)
  int4          the same with 4-bit weights (activations in 8 bits)
  noflip        the same weights exported without the test-time flip (half the work per image)
  noflip-int8   both
  pruned        channels pruned to width 8 (fingers.model.prune_channels), fine-tuned for --epochs-prune epochs
  distilled     width 8 trained from scratch with the model as teacher (fingers.train, teacher=...)
  + the int8 forms of pruned and distilled (--skip-training leaves out these four)
Timed only, to show what the export of 2026-11-28 buys (the flip as one batch of 2N, FlipTTA; the stem's |x| as
ReLUs, fingers.model.SplitPolarStem, so that int8 runs end to end): fp32-before and int8-before, the same weights
exported as before (the network run twice, |x| in float; fp32-before: the same logits as fp32; int8-before:
calibrated on its own graph, so close to int8's, not scored).
The serving default is the variant with the highest batch-1 throughput among those within the bounds training applies
(fingers.optimize.within_bounds: at least 99.9% clean test accuracy, at most 0.5 points of robustness score and of
accuracy on held-out hands in new scenes below fp32). Timings interleave the variants (repeats rounds of
all of them) so that background load hits them alike.
"""
import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import machine  # noqa: E402


def timings(variants: dict[str, Path], rounds: int, threads: int) -> dict[str, dict]:
    "p50/p99 latency at batch 1 and images/s at batch 256, interleaved over `rounds` rounds."
    from fingers.optimize import time_model
    b1 = {k: [] for k in variants}
    b256 = {k: [] for k in variants}
    for _ in range(rounds):
        for name, folder in variants.items():
            r = time_model(folder / "model.onnx", batch=1, repeats=200, threads=1)
            b1[name].append(r)
            b256[name].append(time_model(folder / "model.onnx", batch=256, repeats=5, threads=threads)["images_per_s"])
    return {k: {"p50_ms": float(np.median([r["p50_ms"] for r in b1[k]])),
                "p99_ms": float(np.median([r["p99_ms"] for r in b1[k]])),
                "images_per_s_b1": float(np.median([r["images_per_s"] for r in b1[k]])),
                "images_per_s_b256": float(np.median(b256[k]))} for k in variants}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--out", type=Path, default=Path("runs/variants"))
    ap.add_argument("--data", default=os.environ.get("FINGERS_DATA"))
    ap.add_argument("--photos", type=Path, default=Path(os.environ.get("FINGERS_PHOTOS",
                                                                        "../shared/data/sign-digits.zip")))
    ap.add_argument("--width", type=int, default=8, help="width of the pruned and distilled models")
    ap.add_argument("--epochs-prune", type=int, default=3)
    ap.add_argument("--epochs-distill", type=int, default=None, help="default: the run's epochs")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2, help="threads at batch 256 (batch 1: one)")
    ap.add_argument("--skip-training", action="store_true", help="leave out the pruned and distilled variants")
    a = ap.parse_args(argv)
    import torch
    from photos import photos_folder

    from fingers.config import TrainConfig, load_params
    from fingers.data import balanced_indices, load_data, split_train_val
    from fingers.evaluate import evaluate_predictions
    from fingers.model import FlipTTA, export_onnx, load_model, prune_channels, save_model
    from fingers.optimize import optimize_graph, quantize_int8, within_bounds, write_variant_card
    from fingers.predict import Predictor, read_card
    from fingers.report import evaluate_run
    from fingers.scenes import scene_validation
    from fingers.train import fit

    print(f"# python bench/inference.py {' '.join(sys.argv[1:])}")
    print(f"# {machine('torch', 'onnxruntime', 'numpy')}")
    data = load_data(a.data, progress=False)
    if data.synthetic: sys.exit("bench/inference.py needs the real data: --data or FINGERS_DATA")
    card = read_card(a.run / "model.onnx")
    known = {f.name for f in dataclasses.fields(TrainConfig)}              # a card from an older run lacks new fields
    cfg = dataclasses.replace(load_params(HERE.parent / "params.yaml")[0],
                              **{**{k: v for k, v in card["config"].items() if k in known}, "data": a.data,
                                 "device": "cpu"})
    train_idx, val_idx = split_train_val(data["train"].labels, cfg.val_fraction, cfg.seed)
    train_images, train_labels = data["train"].images[train_idx], data["train"].labels[train_idx]
    # The threshold images (as training uses) and the calibration images (training split only: plain and in scenes)
    threshold_images, threshold_labels = scene_validation(data["train"].images[val_idx], data["train"].labels[val_idx])
    pick = balanced_indices(train_labels, per_class=24, seed=1)
    scenes, _ = scene_validation(train_images[pick], train_labels[pick], rounds=1, seed=20_000)
    calibration = np.concatenate([train_images[pick], scenes])
    out = a.out
    model = load_model(a.run / "model.pt")
    wrap = (lambda m: FlipTTA(m).eval()) if card.get("test_time_flip") else (lambda m: m)
    variants: dict[str, Path] = {}
    notes: dict[str, str] = {}
    train_seconds: dict[str, float] = {}

    def add(name: str, onnx_maker, note: str) -> None:
        folder = out / name
        onnx_maker(folder / "model.onnx")
        write_variant_card(folder / "model.onnx", a.run / "model.onnx", threshold_images, name)
        variants[name], notes[name] = folder, note
        print(f"made {name}: {note}", file=sys.stderr)

    add("fp32", lambda p: export_onnx(wrap(model), p), "as trained" + (", with the test-time flip" if
                                                                        card.get("test_time_flip") else ""))
    add("graph", lambda p: optimize_graph(variants["fp32"] / "model.onnx", p), "ONNX Runtime graph optimisations")
    add("int8", lambda p: quantize_int8(variants["fp32"] / "model.onnx", p, calibration), "int8 static, QDQ")
    add("int4", lambda p: quantize_int8(variants["fp32"] / "model.onnx", p, calibration, weight_bits=4),
        "int8 static, 4-bit weights")
    if card.get("test_time_flip"):
        add("noflip", lambda p: export_onnx(model, p), "no test-time flip")
        add("noflip-int8", lambda p: quantize_int8(variants["noflip"] / "model.onnx", p, calibration),
            "no flip, int8")
    timed_only: dict[str, Path] = {}
    if card.get("test_time_flip"):                 # exported as before: the network run twice, |x| in the stem
        export_onnx(FlipTTA(model, one_batch=False).eval(), out / "fp32-before" / "model.onnx",
                    split_stem=False)
        quantize_int8(out / "fp32-before" / "model.onnx", out / "int8-before" / "model.onnx", calibration)
        timed_only = {k: out / k for k in ("fp32-before", "int8-before")}
    if not a.skip_training:
        # Pruned to a narrower width, then a short fine-tune from the kept weights
        small = prune_channels(model, a.width)
        save_model(small, out / "pruned-init.pt")
        t = time.perf_counter()
        pruned_cfg = dataclasses.replace(cfg, width=a.width, epochs=a.epochs_prune, lr=cfg.lr / 2,
                                         init=str(out / "pruned-init.pt"))
        pruned = fit(pruned_cfg, out / "pruned-train", data=data, progress=False).model
        train_seconds["pruned"] = time.perf_counter() - t
        add("pruned", lambda p: export_onnx(wrap(pruned), p), f"width {a.width}, {a.epochs_prune} epochs fine-tune")
        add("pruned-int8", lambda p: quantize_int8(variants["pruned"] / "model.onnx", p, calibration), "pruned, int8")
        # Distilled: the narrow model trained from scratch with the big one as teacher
        t = time.perf_counter()
        distill_cfg = dataclasses.replace(cfg, width=a.width, epochs=a.epochs_distill or cfg.epochs,
                                          teacher=str(a.run / "model.pt"))
        distilled = fit(distill_cfg, out / "distilled-train", data=data, progress=False).model
        train_seconds["distilled"] = time.perf_counter() - t
        add("distilled", lambda p: export_onnx(wrap(distilled), p), f"width {a.width}, distilled, {distill_cfg.epochs} "
            "epochs")
        add("distilled-int8", lambda p: quantize_int8(variants["distilled"] / "model.onnx", p, calibration),
            "distilled, int8")

    torch.set_num_threads(os.cpu_count() or 2)
    t = timings({**variants, **timed_only}, a.rounds, a.threads)
    with __import__("tempfile").TemporaryDirectory() as tmp:
        photos = photos_folder(a.photos, Path(tmp)) if a.photos.exists() else None
        scores = {}
        for name, folder in variants.items():
            predictor = Predictor(folder)
            rep = evaluate_run(predictor, data, photos=photos, progress=False)
            s = rep["summary"]
            scene = evaluate_predictions(predictor.probabilities(threshold_images), threshold_labels)
            scores[name] = {"accuracy": s["accuracy"], "robustness": s["robustness_score"],
                            "scene_accuracy": scene["finger_count_accuracy"],
                            "photos": s.get("photos_count_accuracy"), "uncertain": s.get("photos_uncertain_share"),
                            "size_kb": (folder / "model.onnx").stat().st_size / 1e3}
    base = scores["fp32"]
    ok = {k for k, s in scores.items() if not within_bounds(s, base)}      # the bounds training applies
    best = max(ok, key=lambda k: t[k]["images_per_s_b1"])
    print("\n| variant | what | size (kB) | batch 1 p50 (ms) | p99 (ms) | batch 1 img/s | batch 256 img/s | "
          "clean test acc | robustness | held-out hands in scenes | sign-digits | within bounds |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for k in variants:
        s, tk = scores[k], t[k]
        photo = f"{s['photos']:.1%}" if s["photos"] is not None else "-"
        print(f"| {k} | {notes[k]} | {s['size_kb']:.0f} | {tk['p50_ms']:.3f} | {tk['p99_ms']:.3f} | "
              f"{tk['images_per_s_b1']:.0f} | {tk['images_per_s_b256']:.0f} | {s['accuracy']:.4%} | "
              f"{s['robustness']:.4f} | {s['scene_accuracy']:.2%} | {photo} | {'yes' if k in ok else 'no'} |")
    f = t["fp32"]
    print("\nratios against fp32: " + "; ".join(
        f"{k}: {t[k]['images_per_s_b1'] / f['images_per_s_b1']:.2f}x batch-1 throughput, "
        f"{t[k]['images_per_s_b256'] / f['images_per_s_b256']:.2f}x batch-256, "
        f"{base['size_kb'] / scores[k]['size_kb']:.2f}x smaller" for k in variants if k != "fp32"))
    for k in timed_only:
        now, kb = k.split("-")[0], (timed_only[k] / "model.onnx").stat().st_size / 1e3
        print(f"{k} (timed only; the same weights as {now}): {t[k]['images_per_s_b1']:.0f} img/s at batch 1, "
              f"{t[k]['images_per_s_b256']:.0f} at batch 256, {kb:.0f} kB; {now} as exported now: "
              f"{t[now]['images_per_s_b1'] / t[k]['images_per_s_b1']:.2f}x at batch 1, "
              f"{t[now]['images_per_s_b256'] / t[k]['images_per_s_b256']:.2f}x at batch 256")
    print(f"fine-tune / distillation training seconds: {json.dumps({k: round(v) for k, v in train_seconds.items()})}")
    print(f"\nserving default (fastest at batch 1 within the bounds): {best}")
    (out / "results.json").write_text(json.dumps({"timings": t, "scores": scores, "notes": notes, "best": best,
                                                  "train_seconds": train_seconds}, indent=1))


if __name__ == "__main__":
    main()
