"""What `fingers serve` holds under hostile clients and faults, side by side in one run on loopback (issue 20):
requests/s with and without 1,000 idle half-sent connections open, /health latency during costly-picture and
scan-heavy-JPEG loads, peak memory of one worker under the worst accepted pictures, the time a killed or a stopped
worker takes to be replaced (both listening again), and the requests lost when the service is told to stop (SIGTERM)
under load. The load comes from Python threads (httpx) on the same cores, so requests/s are only comparable within
this file's run.

    python bench/faults.py [--seconds 8] > bench/faults.txt
"""

import argparse
import os
import signal
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
from machine import machine  # noqa: E402
from serving import LiveServer, tiny_model  # noqa: E402
from test_faults import connections, grey16_png, hand, listening, many_scans_jpeg, under_load, wait_for, worker_pids  # noqa: E402


def throughput(url: str, seconds: float, clients: int = 8) -> tuple[float, int]:
    "(requests/s, failures) of `clients` threads posting one hand picture each, for `seconds`."
    stop, counts = threading.Event(), []
    def client():
        done = failed = 0
        with httpx.Client(timeout=60) as c:
            while not stop.is_set():
                try: done += c.post(url + "/predict", files=[("files", ("a.png", hand()))]).status_code == 200
                except httpx.HTTPError: failed += 1
        counts.append((done, failed))
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads: t.start()
    time.sleep(seconds); stop.set()
    for t in threads: t.join()
    return sum(d for d, _ in counts) / seconds, sum(f for _, f in counts)


def health_during(url: str, load) -> tuple[list[float], list[int]]:
    "/health latencies while `load()` runs in threads (a list of futures' statuses comes back)."
    with ThreadPoolExecutor(4) as pool:
        sent = load(pool)
        times = []
        while not all(f.done() for f in sent):
            t = time.perf_counter(); httpx.get(url + "/health", timeout=30); times.append(time.perf_counter() - t)
            time.sleep(0.05)
        return times, [f.result().status_code for f in sent]


def replaced(s: LiveServer, how: int) -> float:
    "Seconds from `how` (a signal) to one of two workers until a new one listens in its place."
    wait_for(lambda: listening(s.port) == 2)
    before = worker_pids(s)
    t = time.monotonic()
    os.kill(before[0], how)
    new = lambda: [p for p in worker_pids(s) if p not in before]
    wait_for(lambda: new() and listening(s.port) == 2, 120, 0.02)     # the dead one's socket may linger a moment
    return time.monotonic() - t


def rgba_png(side: int = 4470) -> bytes:
    "A transparent RGBA PNG of side x side (20 Mpx): the costliest accepted picture to decode and composite."
    from io import BytesIO

    from PIL import Image
    b = BytesIO(); Image.fromarray(np.zeros((side, side, 4), np.uint8)).save(b, format="PNG")
    return b.getvalue()


def post(url, files):
    return httpx.post(url + "/predict", files=files, timeout=300)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=8)
    a = ap.parse_args()
    model = tiny_model(Path(tempfile.mkdtemp()))
    print(f"# {machine('onnxruntime', 'uvicorn', 'fastapi')}")
    print(f"# python bench/faults.py --seconds {a.seconds:g}; an untrained model, the hand finder on; "
          "2 workers but where said")

    with LiveServer(model, args=("--workers", "2")) as s:
        base, failed = throughput(s.url, a.seconds)
        idle = connections(s.port, 1000, b"POST /predict HTTP/1.1\r\nHost: x\r\n")
        held, failed_held = throughput(s.url, a.seconds)                 # within client_timeout_s (10 s)
        for x in idle: x.close()
    print(f"requests/s, 8 clients: {base:.0f} ({failed} failed); with 1,000 idle half-sent connections open: "
          f"{held:.0f} ({failed_held} failed)")

    evil, costly = many_scans_jpeg(), grey16_png()
    with LiveServer(model, env={"FINGERS_MAX_BYTES": "1000000"}, args=("--workers", "1")) as s:
        times, statuses = health_during(s.url, lambda pool: [
            pool.submit(post, s.url, [("files", (f"{i}.jpg", evil)) for i in range(16)]) for _ in range(8)])
        print(f"/health during 8 requests of 16 JPEGs of 30,000 scans (one worker): p50 {np.median(times) * 1e3:.1f} "
              f"ms, max {max(times) * 1e3:.1f} ms; answers {sorted(set(statuses))}")
        times, statuses = health_during(s.url, lambda pool: [
            pool.submit(post, s.url, [("files", (f"{i}.png", costly)) for i in range(8)]) for _ in range(4)])
        print(f"/health during 4 requests of 8 16-bit 4470x4470 PNGs (one worker): p50 {np.median(times) * 1e3:.1f} "
              f"ms, max {max(times) * 1e3:.1f} ms; answers {sorted(set(statuses))}; "
              f"peak memory of the worker {s.peak_memory_mb():.0f} MB")
    with LiveServer(model, args=("--workers", "1")) as s:                # a fresh worker: its own peak
        rgba = rgba_png()
        times, statuses = health_during(s.url, lambda pool: [
            pool.submit(post, s.url, [("files", (f"{i}.png", rgba)) for i in range(8)]) for _ in range(4)])
        print(f"/health during 4 requests of 8 RGBA 4470x4470 PNGs (one worker): p50 {np.median(times) * 1e3:.1f} "
              f"ms, max {max(times) * 1e3:.1f} ms; answers {sorted(set(statuses))}; "
              f"peak memory of the worker {s.peak_memory_mb():.0f} MB")

    with LiveServer(model, args=("--workers", "2")) as s:
        killed = replaced(s, signal.SIGKILL)
        stopped = replaced(s, signal.SIGSTOP)
    print(f"a worker killed (SIGKILL): a new one listening after {killed:.1f} s; one stopped (SIGSTOP): after "
          f"{stopped:.1f} s (4 s without a heartbeat, then a new worker's start); the other served throughout")

    with LiveServer(model, args=("--workers", "2")) as s:
        with under_load(s.url, 6, pictures=8, fresh=True) as results:
            wait_for(lambda: len(results) >= 30)
            t = time.monotonic(); s.proc.terminate(); s.proc.wait(30); took = time.monotonic() - t
            wait_for(lambda: any(r == "ConnectError" for r in results))
        done = sum(r == 200 for r in results)
        lost = [r for r in results if r not in (200, "ConnectError")]
    print(f"SIGTERM under load (6 clients, 8 pictures a request): stopped in {took:.1f} s; {done} answered, "
          f"{len(lost)} lost ({', '.join(map(str, lost)) or 'none'}), then refused")


if __name__ == "__main__":
    main()
