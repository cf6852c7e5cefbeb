"""Serving speed: `fingers serve` (ONNX Runtime, micro-batched; a process per core, and one process with `--workers 1`)
against the naive baseline (FastAPI + eager PyTorch, one image per call; bench/serve_baseline.py), side by side in
one run, under wrk (Debian's HTTP load generator) on loopback: requests/s and latency at 1, 8 and 32 concurrent
connections, errors, and the servers' peak memory (all their processes).

    python bench/serve.py [--seconds 10] [--rounds 1] [--model RUN_DIR] [--against GIT_REF [--against-model RUN_DIR]]
                          [--ceiling]
    # default model: an untrained one of the default width; --against: also the service as it was at that commit

Targets (the serving issue): >= 5x the baseline's throughput at concurrency 32, p99 <= 20 ms at concurrency 8, no
errors, serving process memory under 400 MB.
"""

import argparse
import contextlib
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
from machine import machine  # noqa: E402
from serving import LiveServer, free_port, tiny_model  # noqa: E402
from worktree import checkout  # noqa: E402

LUA = r"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "multipart/form-data; boundary=fingersbench"
local f = io.open("%s", "rb"); local image = f:read("*all"); f:close()
wrk.body = "--fingersbench\r\nContent-Disposition: form-data; name=\"files\"; filename=\"hand.jpg\"\r\n" ..
           "Content-Type: image/jpeg\r\n\r\n" .. image .. "\r\n--fingersbench--\r\n"
"""


def photo_for_load(path: Path) -> Path:
    "The photo every request posts: a drawn hand as a 480x360 colour JPEG, written to `path`."
    from fingers.synthetic import draw_hand

    Image.fromarray(np.stack([draw_hand(3, True, np.random.default_rng(0))] * 3, -1)).resize((480, 360)).save(path)
    return path


def default_model(folder: Path) -> Path:
    "An untrained FingerNet of the default width (the compute of a trained one), exported with its card and model.pt."
    import torch

    from fingers.config import load_params
    from fingers.model import FingerNet, export_onnx, save_model
    from fingers.predict import write_model_card

    torch.manual_seed(0)
    net = FingerNet(load_params()[0].width).eval()
    save_model(net, folder / "model.pt")
    write_model_card(export_onnx(net, folder / "model.onnx"), threshold=0.5)
    return folder


def wrk(url: str, connections: int, seconds: int, script: Path) -> dict:
    "Requests/s, latency percentiles (ms) and errors of one wrk run."
    out = subprocess.run(
        [
            "wrk",
            "-t",
            "1",
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "--latency",
            "-s",
            str(script),
            url + "/predict",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    ms = lambda v, u: float(v) * {"us": 1e-3, "ms": 1, "s": 1e3, "m": 6e4}[u]
    lat = {int(p): ms(v, u) for p, v, u in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)}
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]),
        "p50": lat[50],
        "p99": lat[99],
        "errors": errors,
    }


def old_server(folder: Path) -> list[str]:
    "The command that serves `fingers.serve:app` from the package in `folder` (a checkout of another commit)."
    code = (
        "import sys; sys.meta_path = [f for f in sys.meta_path if 'editable' not in repr(f)]; "  # not this checkout's
        f"sys.path.insert(0, {str(folder)!r}); import fingers, uvicorn; "
        f"assert fingers.__file__.startswith({str(folder)!r}), fingers.__file__; "
        "uvicorn.run('fingers.serve:app', host='127.0.0.1', port=int(sys.argv[1]), log_level='warning', "
        "access_log=False)"
    )
    return [sys.executable, "-c", code]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=1, help="rounds, the contenders in turn; medians are reported")
    ap.add_argument("--model", type=Path, help="a run folder with model.onnx, model.json and model.pt")
    ap.add_argument("--against", metavar="GIT_REF", help="also serve with the package as it was at this commit")
    ap.add_argument(
        "--ceiling",
        action="store_true",
        help="also serve a tiny model (FingerNet(4)): what everything but the model allows",
    )
    ap.add_argument(
        "--against-model",
        type=Path,
        metavar="RUN_DIR",
        help="the model that --against serves (its export as of that commit; default: --model)",
    )
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    tmp, cleanup = Path(tempfile.mkdtemp()), contextlib.ExitStack()
    model = args.model or default_model(tmp / "model")
    photo = photo_for_load(tmp / "hand.jpg")
    script = tmp / "post.lua"
    script.write_text(LUA % photo)
    print(machine("onnxruntime", "torch", "fastapi", "uvicorn"))
    print(
        f"wrk on loopback, {args.seconds} s per level, one 480x360 JPEG per request; model {model}"
        + (f" (at {args.against[:10]}: {args.against_model})" if args.against and args.against_model else "")
    )
    print(
        f"median of {args.rounds} round(s), the contenders in turn, each round starting with the next; errors summed\n"
    )
    port = free_port()
    baseline = [
        sys.executable,
        "-m",
        "uvicorn",
        "--app-dir",
        str(Path(__file__).parent),
        "serve_baseline:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    contenders = {}
    if args.against:
        old_port = free_port()
        old_model = args.against_model or model
        contenders[f"at {args.against[:10]}"] = LiveServer(
            old_model,
            env={"FINGERS_MODEL": str(Path(old_model).resolve())},
            port=old_port,
            command=[*old_server(cleanup.enter_context(checkout(args.against, tmp / "old"))), str(old_port)],
        )
    contenders |= {
        "fingers serve": LiveServer(model),  # one process per usable core
        "  --workers 1": LiveServer(model, args=("--workers", "1")),
        "baseline": LiveServer(model, env={"MODEL": str(model / "model.pt")}, port=port, command=baseline),
    }
    if args.ceiling:
        (tmp / "tiny").mkdir()
        contenders["  tiny model"] = LiveServer(tiny_model(tmp / "tiny"))

    def measure(name: str, server: LiveServer) -> dict:
        "One round for one contender: requests/s and latency at each concurrency, and its peak memory."
        if name == "baseline":  # the baseline has no /ready: wait for it to answer
            server.proc = subprocess.Popen(server.cmd, env=server.env)
            for _ in range(120):
                try:
                    httpx.post(server.url + "/predict", files={"files": ("h.jpg", photo.read_bytes())}, timeout=2)
                    break
                except httpx.HTTPError:
                    time.sleep(0.5)
        else:
            server.__enter__()
            time.sleep(3)  # /ready answered by one worker: let the others finish loading too
        try:
            wrk(server.url, 4, 2, script)  # warm up
            out = {c: wrk(server.url, c, args.seconds, script) for c in (1, 8, 32)}
            return out | {"memory": server.peak_memory_mb()}
        finally:
            server.__exit__()

    names, runs = list(contenders), {name: [] for name in contenders}
    try:
        for r in range(args.rounds):  # each round starts with the next contender: a slow spell hits all alike
            for name in names[r % len(names) :] + names[: r % len(names)]:
                runs[name].append(measure(name, contenders[name]))
    finally:
        cleanup.close()                                 # the checkout of --against, if any
    med = lambda xs: float(np.median(xs))
    results = {
        name: {c: {k: med([x[c][k] for x in rs]) for k in ("rps", "p50", "p99")} for c in (1, 8, 32)}
        | {"memory": max(x["memory"] for x in rs)}
        for name, rs in runs.items()
    }
    for name, rs in runs.items():
        for c in (1, 8, 32):
            results[name][c]["errors"] = sum(x[c]["errors"] for x in rs)
    print(f"{'':18}{'conc':>5}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for name, r in results.items():
        for c in (1, 8, 32):
            print(f"{name:18}{c:>5}{r[c]['rps']:>10.0f}{r[c]['p50']:>9.1f}{r[c]['p99']:>9.1f}{r[c]['errors']:>8}")
        print(f"{name:18} peak memory of the serving processes, summed: {r['memory']:.0f} MB")
    base = results["baseline"]
    if args.against:
        before = results[f"at {args.against[:10]}"]
        for c in (1, 8, 32):
            ratio = results["fingers serve"][c]["rps"] / before[c]["rps"]
            print(f"ratio, requests/s at concurrency {c:>2}, fingers serve / at {args.against[:10]}: {ratio:.1f}x")
    if args.ceiling:
        tiny = results["  tiny model"][32]["rps"]
        print(
            f"ceiling: the service with a tiny model (FingerNet(4), a 15th of the compute) at concurrency 32: "
            f"{tiny:.0f} requests/s, {tiny / base[32]['rps']:.1f}x the baseline"
        )
    ok = lambda b: "PASS" if b else "FAIL"
    for name in ("fingers serve", "  --workers 1"):
        ours = results[name]
        label = name.strip() if "workers" in name else name
        for c in (1, 8, 32):
            print(
                f"ratio, requests/s at concurrency {c:>2}, {label} / baseline: {ours[c]['rps'] / base[c]['rps']:.1f}x"
            )
        print(f"\n{label}:")
        print(f"target >= 5x the baseline's throughput at concurrency 32: {ok(ours[32]['rps'] >= 5 * base[32]['rps'])}")
        print(f"target p99 <= 20 ms at concurrency 8: {ok(ours[8]['p99'] <= 20)} ({ours[8]['p99']:.1f} ms)")
        print(f"target zero errors: {ok(sum(ours[c]['errors'] for c in (1, 8, 32)) == 0)}")
        print(
            f"target serving memory under 400 MB: {ok(ours['memory'] < 400)} ({ours['memory']:.0f} MB, all processes)\n"
        )


if __name__ == "__main__":
    main()
