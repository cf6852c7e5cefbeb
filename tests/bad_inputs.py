"""The bad-input corpus: every kind of input that a hostile or careless user can give every `fingers` command, made in a
folder by `build_corpus`, each with the exit status and the message fragment it must get. `tests/test_bad_inputs.py`
runs them all; `python scripts/make_bad_inputs.py DIR` writes the corpus for a look by hand.

Nothing here is large on disk: oversize files are sparse, and bombs are small files that claim to be large.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image


@dataclass
class Case:
    "One bad input: the arguments, the exit status and stderr fragment it must get, and what must not exist after."

    name: str  # what the case is, e.g. 'predict: a text file'
    argv: list[str]
    code: int = 2  # 2: refused as bad input; 0: handled
    message: str = ""  # a fragment of stderr (or of stdout for code 0)
    absent: list[str] = field(default_factory=list)  # paths that must not exist afterwards (no partial output)
    env: dict[str, str] = field(default_factory=dict)
    needs_torch: bool = False  # the command must load PyTorch to judge this input
    unchanged: list[str] = field(default_factory=list)  # inputs whose bytes must be the same afterwards


def png(arr: np.ndarray, **kw) -> bytes:
    b = BytesIO()
    Image.fromarray(arr).save(b, format="PNG", **kw)
    return b.getvalue()


def png_claiming(w: int, h: int) -> bytes:
    "A PNG whose header states a picture of w x h, with almost no data behind it (a decompression bomb)."
    chunk = lambda kind, data: struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def hand(n: int = 2, seed: int = 0) -> np.ndarray:
    from fingers.synthetic import draw_hand

    return draw_hand(n, True, np.random.default_rng(seed))


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def sparse(path: Path, size: int) -> Path:
    "A file of `size` bytes that takes no disk space."
    write(path, b"\0")
    os.truncate(path, size)
    return path


def kaggle_download(root: Path, per_class: int = 2) -> Path:
    "A small, valid Kaggle-style download folder."
    from fingers.core import CLASSES, finger_count, hand_side
    from fingers.synthetic import draw_hand

    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        for c, name in enumerate(CLASSES):
            for i in range(per_class):
                img = draw_hand(finger_count(c), hand_side(c) == "R", rng)
                write(root / split / f"{split}{c:02d}{i:02d}-0000-0000_{name}.png", png(img))
    return root


def zip_of(folder: Path, dest: Path, rename=lambda rel: rel, extra: dict | None = None) -> Path:
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(folder.rglob("*.png")):
            z.write(p, rename(p.relative_to(folder).as_posix()))
        for rel, data in (extra or {}).items():
            z.writestr(rel, data)
    return dest


def good_model(folder: Path) -> Path:
    "A tiny exported model (untrained) with its card: what the commands on exported models are given."
    import torch

    from fingers.model import FingerNet, export_onnx
    from fingers.predict import write_model_card

    torch.manual_seed(0)
    write_model_card(export_onnx(FingerNet(4).eval(), folder / "model.onnx"), threshold=0.2)
    return folder


def build_corpus(root: str | os.PathLike) -> list[Case]:
    "Write the corpus under `root` (an empty folder) and return its cases."
    from fingers.data import make_synthetic
    from fingers.drift import build_reference
    from fingers.predict import CARD, Predictor, model_version

    root = Path(root)
    out = root / "out"  # every case's output goes under here, and must not appear
    model = good_model(root / "model")
    data = make_synthetic(root / "data.npz", n_train=3, n_test=2)
    data_npz = str(root / "data.npz")
    ref = build_reference(np.asarray(data["train"].images), Predictor(model), root / "ref.json")
    cases: list[Case] = []

    # --- images, through `fingers predict` -------------------------------------------------------------------------
    def predict(name, path, message, code=2):
        cases.append(Case(f"predict: {name}", ["predict", "--model", str(model), str(path)], code, message))

    img = root / "images"
    predict("a text file", write(img / "notes.png", "hello"), "not a readable image")
    predict("an empty file", write(img / "empty.png", b""), "empty file")
    predict("a truncated PNG", write(img / "cut.png", png(hand())[:300]), "not a readable image")
    b = BytesIO()
    Image.fromarray(hand()).save(b, format="JPEG")
    predict(
        "a JPEG with a wrong header",
        write(img / "header.jpg", b.getvalue()[:2] + bytes(600) + b.getvalue()[602:]),  # its tables zeroed
        "not a readable image",
    )
    predict("a PNG claiming 60000x60000", write(img / "bomb60k.png", png_claiming(60000, 60000)), "pixels accepted")
    predict("a PNG claiming 20000x20000", write(img / "bomb20k.png", png_claiming(20000, 20000)), "pixels accepted")
    predict("a 7000x7000 PNG", write(img / "big.png", png(np.zeros((7000, 7000), np.uint8))), "is more than the")
    predict("a 40000x16 PNG (padding bomb)", write(img / "narrow.png", png_claiming(40000, 16)), "too narrow")
    predict("a 1x1 image", write(img / "dot.png", png(np.zeros((1, 1), np.uint8))), "too small")
    predict("an SVG", write(img / "drawing.svg", '<svg xmlns="http://www.w3.org/2000/svg"/>'), "not a readable image")
    predict(
        "an SVG named .png", write(img / "svg.png", '<svg xmlns="http://www.w3.org/2000/svg"/>'), "not a readable image"
    )
    predict("a 30 MB file", sparse(img / "huge.png", 30_000_000), "bytes is more than")
    predict("a missing file", img / "none.png", "no image or folder at")
    (img / "emptydir").mkdir()
    predict("an empty folder", img / "emptydir", "holds no image files")
    (img / "dirlike.png").mkdir()
    predict("a folder named like an image", img / "dirlike.png", "holds no image files")
    frames = [Image.fromarray(hand(n)) for n in (1, 2, 3)]
    b = BytesIO()
    frames[0].save(b, format="GIF", save_all=True, append_images=frames[1:])
    predict("an animated GIF (its first frame)", write(img / "anim.gif", b.getvalue()), '"label"', code=0)
    b = BytesIO()
    Image.fromarray(np.stack([hand()] * 3, -1)).convert("CMYK").save(b, format="JPEG")
    predict("a CMYK JPEG", write(img / "cmyk.jpg", b.getvalue()), '"label"', code=0)
    predict("a 16-bit PNG", write(img / "deep.png", png(hand().astype(np.uint16) * 257)), '"label"', code=0)
    good = write(img / "good.png", png(hand()))
    cases.append(
        Case(
            "predict: good, text, good (each gets its line)",
            ["predict", "--model", str(model), str(good), str(img / "notes.png"), str(good)],
            2,
            "1 of 3 input(s) could not be read",
        )
    )

    # --- models and cards -----------------------------------------------------------------------------------------
    def with_card(name, card) -> Path:
        folder = root / "models" / name
        folder.mkdir(parents=True)
        shutil.copy(model / "model.onnx", folder / "model.onnx")
        if card is not None:
            write(folder / CARD, card if isinstance(card, str) else json.dumps(card))
        return folder

    card = json.loads((model / CARD).read_text())
    for name, bad, message in [
        ("no card", None, "no model card"),
        ("card not JSON", "{threshold", "not JSON"),
        ("card null", "null", "expected a JSON object"),
        ("card a list", "[1, 2]", "expected a JSON object"),
        ("threshold NaN", {**card, "threshold": float("nan")}, "is not a number in [0, 1)"),
        ("threshold -1", {**card, "threshold": -1}, "is not a number in [0, 1)"),
        ("threshold 2", {**card, "threshold": 2}, "is not a number in [0, 1)"),
        ("threshold a list", {**card, "threshold": [0.5]}, "is not a number in [0, 1)"),
        ("threshold a string", {**card, "threshold": "0.5"}, "is not a number in [0, 1)"),
        ("no version", {k: v for k, v in card.items() if k != "version"}, "version None"),
        ("another model's card", {**card, "version": "0123456789abcdef"}, "belongs to another model file"),
        ("other classes", {**card, "classes": ["a"]}, "differ from"),
        ("threshold of 400 digits", json.dumps(card).replace(f'"threshold": {card["threshold"]}', '"threshold": '
                                                              + "9" * 400), "is not a number in [0, 1)"),
        ("card nested 100,000 deep", "[" * 100_000 + "]" * 100_000, "nested too deep"),
    ]:
        cases.append(
            Case(
                f"model: {name}",
                ["predict", "--model", str(with_card(name.replace(" ", "-"), bad)), str(good)],
                2,
                message,
            )
        )
    junk = write(root / "models" / "junk" / "model.onnx", b"not onnx")
    write(junk.parent / CARD, json.dumps({**card, "version": model_version(junk)}))
    cases.append(Case("model: not ONNX", ["predict", "--model", str(junk), str(good)], 2, "not a loadable ONNX model"))
    cases.append(Case("model: missing", ["predict", "--model", str(root / "nomodel"), str(good)], 2, "no model file"))
    write(root / "models" / "pt" / "model.pt", b"x")
    write(root / "models" / "pt" / "checkpoint.pt", b"x")
    for f in ("model.pt", "checkpoint.pt"):
        cases.append(
            Case(
                f"evaluate --model {f}",
                [
                    "evaluate",
                    "--model",
                    str(root / "models" / "pt" / f),
                    "--data",
                    data_npz,
                    "--out",
                    str(out / f"ev-{f}"),
                ],
                2,
                "this command takes the exported model",
                [str(out / f"ev-{f}")],
            )
        )

    # --- data, through `fingers data` -----------------------------------------------------------------------------
    dl = kaggle_download(root / "download")

    def data_case(name, source, message, extra_env=None):
        target = out / f"data-{len(cases)}.npz"
        cases.append(
            Case(
                f"data: {name}",
                ["data", "--source", str(source), "--out", str(target)],
                2,
                message,
                [str(target)],
                extra_env or {},
            )
        )

    def variant(name, files: dict) -> Path:
        d = root / "downloads" / name
        shutil.copytree(dl, d)
        for rel, content in files.items():
            write(d / rel, content)
        return d

    data_case("missing", root / "none.zip", "does not exist")
    data_case("not an archive", write(root / "notes.txt", "hello"), "neither a folder nor a zip")
    with zipfile.ZipFile(root / "empty.zip", "w"):
        pass
    data_case("empty zip", root / "empty.zip", "is empty")
    data_case(
        "train only", zip_of(dl / "train", root / "train-only.zip", lambda r: "train/" + r), "split test/ is missing"
    )
    write(root / "cut.zip", zip_of(dl, root / "whole.zip").read_bytes()[:-40])
    data_case("truncated zip", root / "cut.zip", "cut.zip")
    data_case("corrupt PNG", variant("corrupt", {"train/c-0000-0000_0L.png": png(hand())[:200]}), "cannot decode")
    data_case("wrong size", variant("size", {"train/s-0000-0000_1L.png": png(hand()[:100, :100])}), "size 100x100")
    data_case("colour", variant("colour", {"train/r-0000-0000_2L.png": png(np.stack([hand()] * 3, -1))}), "mode RGB")
    data_case("bad name", variant("name", {"train/hand_7L.png": png(hand())}), "file name is not")
    leak = next((dl / "train").iterdir())
    data_case("same id in train and test", variant("leak", {f"test/{leak.name}": leak.read_bytes()}), "leakage")
    data_case(
        "one id, two labels",
        variant("twolabels", {f"train/{leak.name[:-6]}5R.png": leak.read_bytes()}),
        "under 2 labels",
    )
    d = variant("dirlike", {})
    (d / "train" / "x-0000-0000_1L.png").mkdir()
    data_case("folder named like an image", d, "a folder named like an image")
    data_case(
        "names that climb out (../)", zip_of(dl, root / "climb.zip", lambda r: "../" + r), "a path outside the download"
    )
    d = variant("notutf8", {})
    with open(os.path.join(os.fsencode(d / "train"), b"\xff\xfe-0000-0000_1L.png"), "wb") as fh:
        fh.write(png(hand()))
    data_case("a name that is not UTF-8", d, "not valid UTF-8")
    data_case(
        "a 3 MB member",
        zip_of(dl, root / "big.zip", extra={"train/big-0000-0000_1L.png": os.urandom(3_000_000)}),
        "too large for an image",
    )
    data_case(
        "a zip bomb member (1 GiB of zeros, 1 MB packed)", zip_bomb(dl, root / "bomb.zip"), "too large for an image"
    )
    data_case(
        "a PNG claiming 60000x60000",
        variant("claim", {"train/claim-0000-0000_3L.png": png_claiming(60000, 60000)}),
        "a decompression bomb",
    )
    cases.append(
        Case("data: --out is a folder", ["data", "--source", str(dl), "--out", str(img)], 2, "it is a folder")
    )
    cases.append(
        Case(
            "data: --out under a file",
            ["data", "--source", str(dl), "--out", str(root / "notes.txt" / "x.npz")],
            2,
            "is a file, not a folder",
        )
    )
    cases.append(
        Case(
            "data: --out where nothing can be written",
            ["data", "--source", str(dl), "--out", "/proc/fingers/x.npz"],
            2,
            "cannot write",
        )
    )
    cases.append(
        Case(
            "data: FINGERS_CACHE is a file",
            ["data", "--source", str(dl)],
            2,
            "FINGERS_CACHE=",
            env={"FINGERS_CACHE": str(root / "notes.txt")},
        )
    )
    write(root / "damaged.npz", (root / "data.npz").read_bytes()[:5000])
    cases.append(
        Case(
            "evaluate: a damaged processed file",
            ["evaluate", "--model", str(model), "--data", str(root / "damaged.npz"), "--out", str(out / "ev-damaged")],
            2,
            "damaged processed file",
            [str(out / "ev-damaged")],
        )
    )

    # --- training: `fingers train` and `fingers fit` ------------------------------------------------------------------
    def train_case(name, extra, message, folder=None, needs_torch=False):
        for cmd in ("train", "fit"):
            run = folder or out / f"{cmd}-{len(cases)}"
            argv = [cmd, "--out", str(run)]
            cases.append(
                Case(
                    f"{cmd}: {name}",
                    [*argv, "-p", "data", data_npz, "-p", "batch_size", "8", *extra],
                    2,
                    message,
                    [] if folder else [str(run)],
                    needs_torch=needs_torch,
                )
            )

    for name, (p, v), message in [
        ("unknown parameter", ("epoch", "3"), "unknown parameter(s) epoch"),
        ("epochs 0", ("epochs", "0"), "epochs must be at least 1"),
        ("epochs 2.5", ("epochs", "2.5"), "epochs must be int"),
        ("epochs text", ("epochs", "many"), "epochs must be int"),
        ("lr negative", ("lr", "-1"), "lr must be positive"),
        ("lr nan", ("lr", "nan"), "lr must be positive"),
        ("batch 0", ("batch_size", "0"), "batch_size must be at least 1"),
        ("batch larger than the data", ("batch_size", "5000"), "is larger than the"),
        ("width 0", ("width", "0"), "width must be at least 1"),
        ("val_fraction 1.5", ("val_fraction", "1.5"), "between 0 and 1"),
        ("augment -1", ("augment", "-1"), "augment must be >= 0"),
        ("precision fp16", ("precision", "fp16"), "precision must be one of"),
        ("device tpu", ("device", "tpu"), "device must be one of"),
        ("data missing", ("data", str(root / "none.zip")), "does not exist"),
    ]:
        train_case(name, ["-p", p, v], message)
    run = out / "train-wandb"
    cases.append(
        Case(
            "train: wandb_mode maybe",
            ["train", "--out", str(run), "-p", "wandb_mode", "maybe"],
            2,
            "wandb_mode must be one of",
            [str(run)],
        )
    )
    if not Path("/dev/nvidia0").exists():
        train_case(
            "device cuda on a machine without one", ["-p", "device", "cuda"], "CUDA is not available", needs_torch=True
        )
    write(root / "file-not-folder", "x")
    train_case("output is a file", [], "it is a file", folder=root / "file-not-folder")
    old = root / "old-run"
    write(old / "checkpoint.pt", b"\0" * 64)
    train_case("a folder that holds a run", [], "already holds a training run", folder=old)
    for cmd in ("train", "fit"):
        argv = [cmd, "--out", str(old)]
        cases.append(
            Case(
                f"{cmd}: resume from a damaged checkpoint",
                [*argv, "--resume", "-p", "data", data_npz, "-p", "batch_size", "8"],
                2,
                "is not a readable checkpoint",
                needs_torch=True,
            )
        )
        run = out / f"{cmd}-noparams"
        argv = [cmd, str(run)] if cmd == "train" else [cmd, "--out", str(run)]
        cases.append(
            Case(
                f"{cmd}: a parameters file that is missing",
                [*argv, "--params", str(root / "none.yaml")],
                2,
                "no parameters file at",
                [str(run)],
            )
        )
    write(root / "bad-params.yaml", "train: {epochs: 3\n")
    cases.append(
        Case(
            "train: a malformed parameters file",
            ["train", "--out", str(out / "t-params"), "--params", str(root / "bad-params.yaml")],
            2,
            "cannot read",
            [str(out / "t-params")],
        )
    )
    cases.append(
        Case(
            "train: photos folder missing",
            [
                "train",
                "--out",
                str(out / "t-photos"),
                "-p",
                "data",
                data_npz,
                "-p",
                "batch_size",
                "8",
                "--photos",
                str(root / "nophotos"),
            ],
            2,
            "no folder at",
            [str(out / "t-photos")],
        )
    )

    # --- judging a model: evaluate, evaluate-photos, robustness -------------------------------------------------------
    cases.append(
        Case(
            "evaluate: a split that does not exist",
            ["evaluate", "--model", str(model), "--data", data_npz, "--split", "val", "--out", str(out / "ev-split")],
            2,
            "split 'val' not in",
            [str(out / "ev-split")],
        )
    )
    cases.append(
        Case(
            "evaluate: --out is a file",
            ["evaluate", "--model", str(model), "--data", data_npz, "--out", str(root / "notes.txt")],
            2,
            "it is a file",
        )
    )
    cases.append(
        Case(
            "evaluate-photos: no folder",
            ["evaluate-photos", str(root / "nophotos"), "--model", str(model)],
            2,
            "no folder at",
        )
    )
    (root / "unlabelled" / "cats").mkdir(parents=True)
    cases.append(
        Case(
            "evaluate-photos: no labelled sub-folders",
            ["evaluate-photos", str(root / "unlabelled"), "--model", str(model)],
            2,
            "no sub-folders named 0-5",
        )
    )
    write(root / "badphotos" / "3" / "x.jpg", "not a photo")
    cases.append(
        Case(
            "evaluate-photos: only unreadable photos",
            ["evaluate-photos", str(root / "badphotos"), "--model", str(model), "--out", str(out / "ph-bad")],
            2,
            "hold no readable images",
            [str(out / "ph-bad")],
        )
    )
    cases.append(
        Case(
            "robustness: a negative sample size",
            [
                "robustness",
                "--model",
                str(model),
                "--data",
                data_npz,
                "--per-class",
                "-1",
                "--out",
                str(out / "rob-neg"),
            ],
            2,
            "per_class must be",
            [str(out / "rob-neg")],
        )
    )

    # --- drift -------------------------------------------------------------------------------------------------------
    feats = json.loads(ref.read_text())

    def drift_ref(name, content) -> Path:
        return write(root / "refs" / f"{name}.json", content if isinstance(content, str) else json.dumps(content))

    photos = root / "photos"
    for i in range(24):
        write(photos / f"p{i:02d}.png", png(hand(i % 6, i)))
    for name, content, message in [
        ("not JSON", "{", "is not a drift reference"),
        ("a list", "[1]", "expected a JSON object"),
        (
            "values that are text",
            {**feats, "features": {**feats["features"], "brightness": ["x"] * 36}},
            "not a list of numbers",
        ),
        ("features as a list", {**feats, "features": list(feats["features"])}, "no features"),
        ("NaN values", {**feats, "features": {**feats["features"], "contrast": [float("nan")] * 36}}, "not finite"),
        ("one image", {**feats, "features": {k: v[:1] for k, v in feats["features"].items()}}, "fewer than 20 images"),
        ("another model's", {**feats, "model_version": "0123456789abcdef"}, "reference was built with model version"),
    ]:
        target = out / f"drift-{len(cases)}"
        cases.append(
            Case(
                f"drift: reference {name}",
                [
                    "drift",
                    "--reference",
                    str(drift_ref(name.replace(" ", "-"), content)),
                    "--model",
                    str(model),
                    "--current",
                    str(photos),
                    "--out",
                    str(target),
                ],
                2,
                message,
                [str(target)],
            )
        )
    cases.append(
        Case(
            "drift: no reference",
            ["drift", "--reference", str(root / "none.json"), "--current", str(photos), "--out", str(out / "d-none")],
            2,
            "no drift reference at",
            [str(out / "d-none")],
        )
    )
    for name, folder, message in [
        ("an empty folder", img / "emptydir", "holds no image files"),
        ("only unreadable images", write(root / "unreadable" / "x.png", "x").parent, "no readable image in"),
        ("too few images", write(root / "few" / "a.png", png(hand())).parent, "at least 20 are needed"),
    ]:
        cases.append(
            Case(
                f"drift: {name}",
                [
                    "drift",
                    "--reference",
                    str(ref),
                    "--model",
                    str(model),
                    "--current",
                    str(folder),
                    "--out",
                    str(out / f"d-{len(cases)}"),
                ],
                2,
                message,
                [str(out / f"d-{len(cases)}")],
            )
        )
    cases.append(
        Case(
            "drift-reference: --out is a folder",
            ["drift-reference", "--model", str(model), "--data", data_npz, "--out", str(img)],
            2,
            "it is a folder",
        )
    )
    cases.append(
        Case(
            "drift-reference: no model",
            ["drift-reference", "--model", str(root / "nomodel"), "--data", data_npz, "--out", str(out / "r.json")],
            2,
            "no model file",
            [str(out / "r.json")],
        )
    )
    cases.append(
        Case(
            "drift-reference: max-images 0",
            [
                "drift-reference",
                "--model",
                str(model),
                "--data",
                data_npz,
                "--max-images",
                "0",
                "--out",
                str(out / "r0.json"),
            ],
            2,
            "max_images must be",
            [str(out / "r0.json")],
        )
    )
    # --- inputs are never destroyed, and never hang a command ---------------------------------------------------------
    keep = root / "keep"
    kept_model = good_model(keep / "run")
    shutil.copy(root / "ref.json", keep / "ref.json")
    write(keep / "photos" / "3" / "p.png", png(hand(3)))
    write(keep / "dl.zip", (root / "data.npz").read_bytes())              # stands for a download: any file will do
    os.symlink(keep / "dl.zip", keep / "link-to-dl.zip")
    os.mkfifo(keep / "fifo")
    ref_json = json.loads((root / "ref.json").read_text())
    huge = {**ref_json, "features": {k: [1e308] * len(v) for k, v in ref_json["features"].items()}}
    for name, argv, message, unchanged in [
        ("data: --out is its --source", ["data", "--source", keep / "dl.zip", "--out", keep / "dl.zip"],
         "an input is never changed", [keep / "dl.zip"]),
        ("data: --out a link to its --source", ["data", "--source", keep / "dl.zip", "--out", keep / "link-to-dl.zip"],
         "would write over or into source", [keep / "dl.zip"]),
        ("drift-reference: --out the model card", ["drift-reference", "--model", kept_model, "--data", data_npz,
         "--out", kept_model / CARD], "would write over or into model", [kept_model / CARD]),
        ("drift-reference: --out the model", ["drift-reference", "--model", kept_model / "model.onnx", "--data",
         data_npz, "--out", kept_model / "model.onnx"], "would write over or into model", [kept_model / "model.onnx"]),
        ("evaluate: --out the folder of the model", ["evaluate", "--model", kept_model / "model.onnx", "--data",
         data_npz, "--out", kept_model], "would write over or into model", [kept_model / CARD]),
        ("evaluate-photos: --out inside a class folder", ["evaluate-photos", keep / "photos", "--model", model,
         "--out", keep / "photos" / "3" / "report"], "would write over or into folder",
         [keep / "photos" / "3" / "p.png"]),
        ("data: --out a device", ["data", "--source", "synthetic:1:1", "--out", "/dev/null"], "out /dev/null: a device",
         []),
        ("data: --source a FIFO", ["data", "--source", keep / "fifo", "--out", out / "f.npz"], "a device, FIFO", []),
        ("data: --source /dev/zero", ["data", "--source", "/dev/zero", "--out", out / "z.npz"], "/dev/zero", []),
        ("drift: a reference of 1e308s", ["drift", "--reference", write(keep / "ref308.json", json.dumps(huge)),
         "--current", data_npz, "--out", out / "d308"], "not features of pictures", []),
    ]:
        cases.append(Case(f"inputs: {name}", [str(a) for a in argv], 2, message,
                          unchanged=[str(u) for u in unchanged]))
    newline = write(img / "forged\nfingers predict: error: other.png", "not an image")
    cases.append(Case("predict: a file name with a newline", ["predict", "--model", str(model), str(newline)], 2,
                      "forged\\nfingers predict: error: other.png"))

    # --- serving: `fingers serve` refuses to start -----------------------------------------------------------------
    cases.append(Case("serve: no model", ["serve", "--model", str(root / "nomodel")], 2, "no model file"))
    cases.append(
        Case(
            "serve: a card of another model",
            ["serve", "--model", str(root / "models" / "another-model's-card")],
            2,
            "belongs to another model file",
        )
    )
    cases.append(Case("serve: port 70000", ["serve", "--model", str(model), "--port", "70000"], 2,
                      "port must be 1-65535"))
    cases.append(
        Case(
            "serve: a setting that is not a number",
            ["serve", "--model", str(model)],
            2,
            "is not a valid int",
            env={"FINGERS_MAX_FILES": "lots"},
        )
    )
    cases.append(
        Case(
            "serve: a missing drift reference",
            ["serve", "--model", str(model), "--port", "1"],
            2,
            "no drift reference at",
            env={"FINGERS_DRIFT_REFERENCE": str(root / "none.json")},
        )
    )

    assert len({c.name for c in cases}) == len(cases), "case names must be unique"
    assert not out.exists()
    return cases


def zip_bomb(download: Path, dest: Path) -> Path:
    "A valid download plus one member that unpacks to 1 GiB of zeros (about 1 MB packed)."
    zip_of(download, dest)
    with (
        zipfile.ZipFile(dest, "a", zipfile.ZIP_DEFLATED) as z,
        z.open("train/bomb-0000-0000_1L.png", "w", force_zip64=True) as m,
    ):
        block = bytes(1 << 20)
        for _ in range(1024):
            m.write(block)
    return dest
