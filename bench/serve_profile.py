"""Where a serving process spends its time under load: `fingers serve` profiled with py-spy (sampling, from outside
the process) while wrk keeps 8 connections busy, each sample put in one bucket by the function it is in.

    pip install py-spy && python bench/serve_profile.py --model runs/served [--seconds 10]

Buckets: the model (ONNX Runtime's Session.run), decoding and preparing the photo (fingers.preprocess.prepare),
the drift features of each input, and the rest of Python (HTTP, multipart, routing, JSON, metrics); samples of
threads waiting for work (the event loop's poll, idle worker threads) are counted apart.
"""
import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import machine  # noqa: E402
from serve import LUA, photo_for_load, wrk  # noqa: E402

sys.path.insert(0, str(HERE.parent / "tests"))
from serving import LiveServer  # noqa: E402

WAITING = {"Runner.run", "_worker", "select", "wait", "_bootstrap"}      # innermost functions of idle threads
BUCKETS = (("model (Session.run)", ("Session.run",)), ("decode and prepare", ("prepare_all",)),
           ("drift features", ("image_features", "model_features")))


def bucket(frames: list[str]) -> str:
    "The bucket of one sampled stack (outermost frame first; py-spy's 'thread (PID): NAME' entry may lead)."
    frames = [f for f in frames if not f.startswith("thread (")]
    if not frames: return "waiting for work"
    for name, marks in BUCKETS:
        if any(m in f for f in frames for m in marks): return name
    waiting = frames[-1].split(" (")[0] in WAITING                     # a frame reads 'function (path:line)'
    return "waiting for work" if waiting else "other Python (HTTP, routing, JSON)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, required=True, help="a run folder with model.onnx and model.json")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=8)
    a = ap.parse_args()
    if not shutil.which("wrk") or not shutil.which("py-spy"): sys.exit("needs wrk (apt) and py-spy (pip)")
    tmp = Path(tempfile.mkdtemp())
    script = tmp / "post.lua"
    script.write_text(LUA % photo_for_load(tmp / "hand.jpg"))
    print(f"# python bench/serve_profile.py {' '.join(sys.argv[1:])}\n# {machine('onnxruntime', 'fastapi', 'uvicorn')}")
    with LiveServer(a.model, args=("--workers", "1")) as server:  # one process: py-spy sees all of the serving
        wrk(server.url, a.connections, 2, script)                                     # warm up
        result = {}
        load = threading.Thread(target=lambda: result.update(wrk(server.url, a.connections, a.seconds + 2, script)))
        load.start()
        raw = tmp / "raw.txt"
        subprocess.run(["py-spy", "record", "-p", str(server.proc.pid), "-d", str(a.seconds), "-r", "250",
                        "--format", "raw", "-o", str(raw), "--nonblocking"], check=True, capture_output=True)
        load.join()
        print(f"wrk, {a.connections} connections: {result}")
    counts, total = collections.Counter(), 0
    for line in raw.read_text().splitlines():
        if not line.strip(): continue
        stack, n = line.rsplit(" ", 1)
        counts[bucket(stack.split(";"))] += int(n); total += int(n)
    busy = total - counts["waiting for work"]
    print(f"{total} samples; share of the samples in which the server was working, not waiting:")
    for name, n in counts.most_common():
        if name != "waiting for work": print(f"  {name:38s} {n / busy:6.1%}")
    print(f"  ({counts['waiting for work'] / total:.0%} of all samples: threads waiting for work)")


if __name__ == "__main__":
    main()
