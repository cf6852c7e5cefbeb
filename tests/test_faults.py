"""Faults and hostile clients against a live `fingers serve` on loopback: idle and half-sent requests by the
thousand, a JPEG of thousands of scans, costly pictures at once, a full temporary disk, workers killed, stopped and
terminated under load. Each loop is bounded, every socket and process is cleaned up; tests wait on events (an answer,
a process gone, a new pid), never on a fixed delay being long enough."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO
from pathlib import Path

import httpx
import numpy as np
import pytest
from bad_inputs import png
from PIL import Image
from serving import FINGERS, LiveServer, free_port, tiny_model

from fingers.synthetic import draw_hand


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return tiny_model(tmp_path_factory.mktemp("model"))


def hand() -> bytes:
    return png(draw_hand(3, True, np.random.default_rng(0)))


def predict(url: str, files: list, timeout: float = 60) -> httpx.Response:
    return httpx.post(url + "/predict", files=files, timeout=timeout)


def wait_for(what, seconds: float = 60, every: float = 0.1):
    "Poll `what()` until it is true (its value), for at most `seconds`: an event, with a bound for a broken build."
    deadline = time.monotonic() + seconds
    while not (value := what()):
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}"
        time.sleep(every)
    return value


def worker_pids(server: LiveServer) -> list[int]:
    pid = server.proc.pid
    try: children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except FileNotFoundError: return []
    return [int(c) for c in children if "spawn_main" in Path(f"/proc/{c}/cmdline").read_text(errors="replace")]


def health_ok(server: LiveServer) -> float:
    "The time /health takes; it must answer 200 (how fast is bench/faults.py's to say: timing is not a test)."
    t = time.perf_counter()
    assert httpx.get(server.url + "/health", timeout=10).status_code == 200
    return time.perf_counter() - t


def connections(port: int, n: int, send: bytes = b"") -> list[socket.socket]:
    out = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        if send: s.sendall(send)
        out.append(s)
    return out


def test_a_thousand_idle_connections_shut_nobody_out(model):
    "1,000 sockets that send half a request and wait: /health and /predict are still answered, and the idle are shed."
    env = {"FINGERS_MAX_CONNECTIONS": "300", "FINGERS_CLIENT_TIMEOUT_S": "600"}    # shed, not timed out
    with LiveServer(model, env=env, args=("--workers", "1")) as s:
        socks = connections(s.port, 1000, b"GET /health HTTP/1.1\r\nHost: x\r\n")
        try:
            health_ok(s)
            assert predict(s.url, [("files", ("a.png", hand()))]).status_code == 200
            assert [answer(x) for x in socks[:100]] == [b""] * 100      # the oldest: closed, unanswered, for room
        finally:
            for x in socks: x.close()


def answer(sock: socket.socket) -> bytes:
    "All the server sends on `sock` until it closes the connection."
    sock.settimeout(60)
    got = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(65536): got += chunk
    return got


def test_a_half_sent_request_gets_408(model):
    "A client that stops in its headers, or in its body, is answered 408 (JSON) and closed after client_timeout_s."
    with LiveServer(model, env={"FINGERS_CLIENT_TIMEOUT_S": "1"}, args=("--workers", "1")) as s:
        for start in (b"GET /health HTTP/1.1\r\nHost: x\r\n",
                      b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                      b"Content-Length: 100000\r\n\r\n--b\r\n"):
            (sock,) = connections(s.port, 1, start)
            got = answer(sock)
            sock.close()
            assert got.startswith(b"HTTP/1.1 408 ") and b'"kind": "timeout"' in got, got[:300]
        health_ok(s)
        assert f"serving on http://127.0.0.1:{s.port} with 1 worker (Ctrl-C" in _stop_and_read(s)   # where it is


def many_scans_jpeg() -> bytes:
    "A 640x480 progressive JPEG with 30,000 empty scans after its own: 0.5 MB, about a second to decode in full."
    b = BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (480, 640, 3), np.uint8)).save(
        b, "JPEG", progressive=True, quality=90)
    data = b.getvalue()
    last = data[data.rindex(b"\xff\xda"):]
    return data[:-2] + last[:2 + int.from_bytes(last[2:4], "big")] * 30_000 + b"\xff\xd9"


def test_scan_heavy_jpegs_are_refused_at_once(model):
    "Sixteen JPEGs of 30,000 scans in one request: 415 before decoding, and /health answers throughout."
    evil = many_scans_jpeg()
    with LiveServer(model, env={"FINGERS_MAX_BYTES": "1000000"}, args=("--workers", "1")) as s:
        with ThreadPoolExecutor(4) as pool:
            sent = [pool.submit(predict, s.url, [("files", (f"{i}.jpg", evil)) for i in range(16)]) for _ in range(4)]
            times = [health_ok(s) for _ in range(10)]
            answers = [f.result() for f in sent]
    assert {r.status_code for r in answers} == {415}, [r.text for r in answers]
    assert "30,010 scans" in answers[0].json()["error"]["message"] and times


def grey16_png(side: int = 4470) -> bytes:
    "A 16-bit grey PNG of side x side (20 Mpx, under the cap) that compresses to a few tens of kB."
    b = BytesIO()
    Image.fromarray(np.zeros((side, side), np.uint16)).save(b, format="PNG")
    return b.getvalue()


def test_costly_pictures_at_once_stay_within_memory(model):
    """Six requests of twelve 20-Mpx 16-bit PNGs at once, more than a worker holds: all answered in turn (they wait
    for room), /health within 1 s, peak memory bounded."""
    costly = grey16_png()
    with LiveServer(model, env={"FINGERS_QUEUE_TIMEOUT_S": "600"}, args=("--workers", "1")) as s:
        with ThreadPoolExecutor(6) as pool:
            sent = [pool.submit(predict, s.url, [("files", (f"{i}.png", costly)) for i in range(12)], 900)
                    for _ in range(6)]
            times = []
            while not all(f.done() for f in sent): times.append(health_ok(s)); time.sleep(0.1)
            answers = [f.result() for f in sent]
        peak = s.peak_memory_mb()
    assert [r.status_code for r in answers] == [200] * 6, [r.text[:200] for r in answers]
    assert times and peak < 450, peak            # one process: the model, the finder and one picture at a time


def unshare_works() -> bool:
    if not shutil.which("unshare"): return False
    r = subprocess.run(["unshare", "-rm", "true"], capture_output=True)
    return r.returncode == 0


@pytest.mark.skipif(not unshare_works(), reason="needs `unshare -rm` to mount a small tmpfs")
def test_a_full_temporary_disk_gives_507_and_no_worker_dies(model, tmp_path):
    "TMPDIR on an 8 MB tmpfs, filled by a stalled upload: uploads get 507, small ones and /drift still work."
    port, tmp = free_port(), tmp_path / "small"
    tmp.mkdir()                                                  # 4 MB of it: the two workers' metrics files
    script = (f"mount -t tmpfs -o size=8m tmpfs {tmp} && exec {FINGERS} serve {model} --host 127.0.0.1 "
              f"--port {port} --workers 2")
    env = {"TMPDIR": str(tmp), "FINGERS_CLIENT_TIMEOUT_S": "120", "FINGERS_MAX_BYTES": "5000000"}
    with LiveServer(model, env=env, port=port, command=["unshare", "-rm", "sh", "-c", script]) as s:
        workers = wait_for(lambda: len(worker_pids(s)) == 2 and worker_pids(s))
        stalled = connections(port, 1, b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; "
                              b"boundary=b\r\nContent-Length: 6000000\r\n\r\n--b\r\nContent-Disposition: form-data; "
                              b'name="files"; filename="a.png"\r\n\r\n')[0]
        try:
            stalled.sendall(bytes(4_500_000))                      # spooled to the tmpfs, which it fills
            big, statuses = [("files", ("big.png", bytes(3_900_000)))], []
            wait_for(lambda: statuses.append(predict(s.url, big).status_code) or 507 in statuses)
            assert set(statuses) <= {507, 415}, statuses          # 415 (zeros): before the disk was full
            for i in range(24):                                    # small uploads stay in memory: served
                assert predict(s.url, [("files", (f"{i}.png", hand()))]).status_code == 200
            assert httpx.get(s.url + "/metrics", timeout=30).status_code == 200
            d = httpx.get(s.url + "/drift", timeout=120)
            assert d.status_code in (200, 507), d.text             # the report's files: no room, said so
        finally:
            stalled.close()
        assert sorted(worker_pids(s)) == sorted(workers)          # none died
        assert s.proc.poll() is None


def load(url: str, stop: threading.Event, results: list, pictures: int = 1, fresh: bool = False) -> None:
    "Predictions one after another until `stop`: each outcome in `results` (a status, or the error's type)."
    files = [("files", (f"{i}.png", hand())) for i in range(pictures)]
    with httpx.Client(timeout=60) as c:
        while not stop.is_set():
            try:
                if fresh: results.append(httpx.post(url + "/predict", files=files, timeout=60).status_code)
                else: results.append(c.post(url + "/predict", files=files).status_code)
            except httpx.HTTPError as e: results.append(type(e).__name__)


@contextlib.contextmanager
def under_load(url: str, clients: int = 4, **kw):
    "`clients` threads of `load` while inside; their outcomes."
    stop, results = threading.Event(), []
    threads = [threading.Thread(target=load, args=(url, stop, results), kwargs=kw) for _ in range(clients)]
    for t in threads: t.start()
    try: yield results
    finally:
        stop.set()
        for t in threads: t.join()


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGSTOP])
def test_a_dead_or_stopped_worker_is_replaced_under_load(model, how):
    "kill -9 or SIGSTOP one of two workers under load: a new one takes its place; only its in-flight requests fail."
    with LiveServer(model, args=("--workers", "2")) as s:
        said = s.printed_until("serving on http://127.0.0.1:")   # both workers up, as the supervisor says
        before = wait_for(lambda: len(worker_pids(s)) == 2 and worker_pids(s))
        with under_load(s.url) as results:
            wait_for(lambda: len(results) >= 20)
            os.kill(before[0], how)
            after = wait_for(lambda: (p := worker_pids(s)) and len(p) == 2 and before[0] not in p and p, 60)
            seen = len(results)
            wait_for(lambda: len(results) >= seen + 40)        # served on after the replacement
        assert s.proc.poll() is None
        lost = [r for r in results if r not in (200, "ConnectError")]   # refused connections never reached it
        assert len(lost) <= 8, lost        # a client's request in flight, and one queued for the lost worker's socket
        assert results[-30:] == [200] * 30, results[seen:]
        assert before[1] in after
        out = said + _stop_and_read(s)
    assert "starting another" in out and "serving on http://127.0.0.1:" in out, out


def _stop_and_read(s: LiveServer) -> str:
    s.proc.terminate()
    out, _ = s.proc.communicate(timeout=60)
    return out


def listening(port: int) -> int:
    "How many sockets listen on loopback `port` (a worker each)."
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(1 for x in lines if x.split()[3] == "0A" and int(x.split()[1].split(":")[1], 16) == port)


def cpu_seconds(pid: int) -> float:
    "The CPU time process `pid` has used."
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_sigterm_finishes_requests_in_flight(model):
    "SIGTERM while a worker is busy with a long request: that request is answered, then the service ends (exit 0)."
    costly = grey16_png()
    with LiveServer(model, args=("--workers", "2")) as s:
        wait_for(lambda: listening(s.port) == 2)                     # both up: no model load to mistake for ours
        workers = worker_pids(s)
        before = {p: cpu_seconds(p) for p in workers}
        with ThreadPoolExecutor(1) as pool:
            long = pool.submit(predict, s.url, [("files", (f"{i}.png", costly)) for i in range(8)], 300)
            wait_for(lambda: any(cpu_seconds(p) - before[p] > 0.5 for p in workers), 120, 0.05)   # at it
            s.proc.terminate()
            r = long.result()
        assert r.status_code == 200 and len(r.json()["predictions"]) == 8, r.text[:300]
        assert s.proc.wait(60) == 0
