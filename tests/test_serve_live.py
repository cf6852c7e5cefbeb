"""The service as clients meet it: a live `fingers serve` on a loopback port, real HTTP, bad inputs of every kind,
an OpenAPI fuzzer, and clients that misbehave while the health probe must keep answering."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO
from pathlib import Path

import httpx
import numpy as np
import pytest
from bad_inputs import png, png_claiming
from PIL import Image
from serving import FINGERS, LiveServer, free_port, tiny_model

from fingers.synthetic import draw_hand


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return tiny_model(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def server(model):
    # two workers, as on the 2 cores the targets are set for, whatever this machine has (test_memory sums them)
    with LiveServer(
        model, env={"FINGERS_MAX_FILES": "8", "FINGERS_MAX_BYTES": "2000000"}, args=("--workers", "2")
    ) as s:
        yield s


def hand_png(n=2, seed=0) -> bytes:
    return png(draw_hand(n, True, np.random.default_rng(seed)))


def image_bytes(arr, fmt, **kw) -> bytes:
    b = BytesIO()
    Image.fromarray(arr).save(b, format=fmt, **kw)
    return b.getvalue()


def post(server, files, **kw) -> httpx.Response:
    return httpx.post(server.url + "/predict", files=files, timeout=30, **kw)


def test_predict(server):
    r = post(
        server,
        [
            ("files", ("a.png", hand_png(1))),
            ("files", ("b.jpg", image_bytes(draw_hand(4, False, np.random.default_rng(1)), "JPEG"))),
        ],
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["predictions"]) == 2 and body["model_version"]
    for p in body["predictions"]:
        assert {"label", "fingers", "hand", "confidence", "uncertain", "probabilities"} <= set(p)
        assert abs(sum(p["probabilities"].values()) - 1) < 1e-4


def test_routes(server):
    assert httpx.get(server.url + "/health").json() == {"status": "alive"}
    assert httpx.get(server.url + "/ready").json()["status"] == "ready"
    assert httpx.get(server.url + "/model").json()["threshold"] == 0.2
    assert "fingers_request_seconds_bucket" in httpx.get(server.url + "/metrics").text
    assert httpx.get(server.url + "/docs").status_code == 200
    assert "How many fingers" in httpx.get(server.url + "/").text


def test_drift_after_predictions(server):
    for i in range(4):
        post(server, [("files", (f"{j}.png", hand_png(j % 6, j))) for j in range(i * 6, i * 6 + 6)])
    d = httpx.get(server.url + "/drift", timeout=60)
    assert d.status_code == 200, d.text
    assert d.json()["n_current"] >= 20 and "drift" in d.json()


def cmyk_jpeg() -> bytes:
    b = BytesIO()
    Image.fromarray(np.stack([draw_hand(3, True, np.random.default_rng(0))] * 3, -1)).convert("CMYK").save(
        b, format="JPEG"
    )
    return b.getvalue()


def animated_gif() -> bytes:
    frames = [Image.fromarray(draw_hand(n, True, np.random.default_rng(n))) for n in (1, 2, 3)]
    b = BytesIO()
    frames[0].save(b, format="GIF", save_all=True, append_images=frames[1:])
    return b.getvalue()


def jpeg_wrong_header() -> bytes:
    j = image_bytes(draw_hand(2, True, np.random.default_rng(0)), "JPEG")
    return j[:2] + bytes(600) + j[602:]


BAD = [  # (what, files, expected status, error kind)
    ("a truncated PNG", [("files", ("cut.png", hand_png()[:300]))], 415, "not_an_image"),
    ("a JPEG with a wrong header", [("files", ("bad.jpg", jpeg_wrong_header()))], 415, "not_an_image"),
    (
        "a decompression bomb (60000x60000 claimed)",
        [("files", ("bomb.png", png_claiming(60000, 60000)))],
        413,
        "too_large",
    ),
    ("a 20000x20000 image (claimed)", [("files", ("big.png", png_claiming(20000, 20000)))], 413, "too_large"),
    ("a 1x1 image", [("files", ("dot.png", png(np.zeros((1, 1), np.uint8))))], 415, "not_an_image"),
    ("an SVG", [("files", ("x.svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>'))], 415, "not_an_image"),
    ("text", [("files", ("notes.txt", b"hello, world"))], 415, "not_an_image"),
    ("a 0-byte file", [("files", ("empty.png", b""))], 413, "empty"),
    ("a file over the byte cap", [("files", ("huge.png", bytes(2_500_000)))], 413, "too_large"),
    ("a wrong field name", [("image", ("a.png", hand_png()))], 422, "malformed"),
    ("1000 parts", [("files", (f"{i}.png", b"x")) for i in range(1000)], 413, "too_many_files"),
]


@pytest.mark.parametrize("what,files,status,kind", BAD, ids=[b[0] for b in BAD])
def test_bad_uploads(server, what, files, status, kind):
    r = post(server, files)
    assert r.status_code == status, f"{what}: {r.status_code} {r.text[:300]}"
    assert r.json()["error"]["kind"] == kind, r.text[:300]


@pytest.mark.parametrize(
    "what,data",
    [
        ("a CMYK JPEG", cmyk_jpeg()),
        ("a 16-bit PNG", png(draw_hand(2, True, np.random.default_rng(0)).astype(np.uint16) * 257)),
        ("an animated GIF", animated_gif()),
    ],
)
def test_odd_but_valid_images(server, what, data):
    r = post(server, [("files", ("odd", data))])
    assert r.status_code == 200, f"{what}: {r.text[:300]}"


def test_malformed_requests(server):
    for r in (
        httpx.post(server.url + "/predict", json={"files": []}),
        httpx.post(
            server.url + "/predict", content=b"garbage", headers={"content-type": "multipart/form-data; boundary=zz"}
        ),
        httpx.get(server.url + "/drift?format=pdf"),
    ):
        assert r.status_code == 422 and r.json()["error"]["kind"] == "malformed", r.text
    r = httpx.post(
        server.url + "/predict", content=b"x" * 30_000_000, headers={"content-type": "multipart/form-data; boundary=z"}
    )
    assert r.status_code == 413


def test_no_file_written_for_a_request(server, tmp_path):
    "Uploads are read in memory: no file appears anywhere named as the client named it."
    name = f"client-chose-this-{time.time_ns()}.png"
    post(server, [("files", (name, hand_png()))])
    found = subprocess.run(
        ["find", "/tmp", "/var/tmp", str(Path.cwd()), "-name", name], capture_output=True, text=True
    ).stdout
    assert not found.strip(), found


def test_schemathesis_finds_no_server_error(server):
    "An OpenAPI fuzzer, bounded: no request it makes gets a 5xx."
    st = shutil.which("schemathesis") or str(Path(sys.executable).parent / "schemathesis")
    r = subprocess.run(
        [
            st,
            "run",
            server.url + "/openapi.json",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "25",
            "--seed",
            "1",
            "--no-color",
            "--request-timeout",
            "120",                        # a 5xx is what it looks for; a busy machine may be slow
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]


def health_times(server, seconds: float) -> list[float]:
    "How long /health takes, polled for `seconds`."
    times, end = [], time.time() + seconds
    while time.time() < end:
        t = time.perf_counter()
        assert httpx.get(server.url + "/health", timeout=5).status_code == 200
        times.append(time.perf_counter() - t)
        time.sleep(0.05)
    return times


def test_slow_clients_do_not_block_health(server):
    "Twenty clients trickle a request body a few bytes at a time; /health keeps answering at once."
    socks = []
    for _ in range(20):
        s = socket.create_connection(("127.0.0.1", server.port))
        s.sendall(
            b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            b"Content-Length: 1000000\r\n\r\n--b\r\n"
        )
        socks.append(s)
    stop = threading.Event()

    def trickle():
        while not stop.is_set():
            for s in socks:
                try:
                    s.sendall(b"x")
                except OSError:
                    pass
            time.sleep(0.1)

    t = threading.Thread(target=trickle)
    t.start()
    try:
        times = health_times(server, 3)
    finally:
        stop.set()
        t.join()
        for s in socks:
            s.close()
    assert max(times) < 0.5, max(times)


def text_bomb_png() -> bytes:
    "A small PNG whose compressed text chunks would inflate to 60 MB as it is opened (fingers refuses it)."
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for i in range(60):
        info.add_text(f"t{i}", "0" * 1_000_000, zip=True)
    b = BytesIO()
    Image.fromarray(draw_hand(2, True, np.random.default_rng(0))).save(b, format="PNG", pnginfo=info)
    return b.getvalue()


def test_concurrent_abuse_does_not_block_health(server):
    "Ninety concurrent requests of large junk, of many images and of PNG text bombs while /health is polled."
    junk = [("files", (f"{i}.png", np.random.default_rng(i).bytes(1_500_000))) for i in range(1)]
    many = [("files", (f"{i}.png", hand_png(i % 6, i))) for i in range(8)]
    bomb = text_bomb_png()
    assert len(bomb) < 200_000
    bombs = [("files", (f"bomb{i}.png", bomb)) for i in range(4)]

    def flood():
        with httpx.Client(timeout=60) as c:
            for files in (junk, many, bombs) * 5:
                c.post(server.url + "/predict", files=files)

    threads = [threading.Thread(target=flood) for _ in range(6)]
    for t in threads:
        t.start()
    times = health_times(server, 3)
    for t in threads:
        t.join()
    assert max(times) < 1.0, max(times)
    assert httpx.get(server.url + "/ready").status_code == 200


def test_memory(server):
    "The serving processes stay small: no PyTorch, evidently only loaded for /drift."
    # the hand finder's two models and their runs cost about 65 MB a worker (at most `readers` pictures at once)
    assert server.peak_memory_mb() < 540, server.peak_memory_mb()


def test_api_key_and_port_from_environment(model):
    from serving import free_port

    port = free_port()
    cmd = [str(Path(sys.executable).parent / "fingers"), "serve", "--model", str(model), "--host", "127.0.0.1"]
    with LiveServer(model, env={"FINGERS_API_KEY": "k3y", "PORT": str(port)}, port=port, command=cmd) as s:
        assert httpx.get(s.url + "/health").status_code == 200 and httpx.get(s.url + "/ready").status_code == 200
        r = post(s, [("files", ("a.png", hand_png()))])
        assert r.status_code == 401 and r.json()["error"]["kind"] == "unauthorized"
        assert post(s, [("files", ("a.png", hand_png()))], headers={"X-API-Key": "k3y"}).status_code == 200
        assert httpx.get(s.url + "/metrics", headers={"Authorization": "Bearer k3y"}).status_code == 200


def test_access_log(model):
    "`fingers serve --access-log`: a line per request (client, request line, status) from every worker; none without."
    lines = {}
    for flag in ((), ("--access-log",)):
        with LiveServer(model, args=("--workers", "2", *flag)) as s:
            start = s.printed_until("serving on http://127.0.0.1:")  # both workers are up
            for _ in range(4):  # connections of their own: either worker may answer each
                assert httpx.get(s.url + "/health?who=me").status_code == 200
            assert httpx.get(s.url + "/nowhere").status_code == 404
            lines[flag] = start + s.printed_until('"GET /nowhere HTTP/1.1"') if flag else start
        if not flag:
            lines[flag] += s.proc.stdout.read()  # all it printed, once it ended
    quiet, logged = lines.values()
    assert "/health" not in quiet and "/ready" not in quiet, quiet
    assert logged.count('"GET /health?who=me HTTP/1.1" 200') == 4, logged
    assert '"GET /nowhere HTTP/1.1" 404' in logged and "Started server process" not in logged, logged


BAD_SETTINGS = [
    ("FINGERS_MAX_FILES", "lots", "FINGERS_MAX_FILES='lots' is not a valid int"),
    ("FINGERS_ACCESS_LOG", "yes", "FINGERS_ACCESS_LOG='yes' must be 1 (on)"),
]


@pytest.mark.parametrize("name,value,says", BAD_SETTINGS)
def test_a_bad_setting_stops_the_start(model, name, value, says):
    r = subprocess.run(
        [str(Path(sys.executable).parent / "fingers"), "serve", "--model", str(model)],
        capture_output=True,
        text=True,
        env={**os.environ, name: value},
        timeout=60,
    )
    assert r.returncode == 2 and says in r.stderr, r.stderr


def test_two_workers_report_all_their_requests(model, tmp_path):
    "`fingers serve --workers 2`: whichever process answers /metrics and /drift sees the images of both; cleaned up."
    with LiveServer(model, env={"TMPDIR": str(tmp_path)}, args=("--workers", "2")) as s:
        for i in range(24):  # a connection each: the kernel hands each to either process
            r = httpx.post(s.url + "/predict", files=[("files", ("a.png", hand_png(i % 6, i)))], timeout=30)
            assert r.status_code == 200, r.text
        for _ in range(6):
            assert "fingers_images_total 24.0" in httpx.get(s.url + "/metrics", timeout=30).text
        for _ in range(3):
            d = httpx.get(s.url + "/drift", timeout=60)
            assert d.status_code == 200 and d.json()["n_current"] == 24, d.text
        (shared,) = tmp_path.glob("fingers-metrics-*")
        pids = {f.stem.rsplit("_", 1)[1] for f in shared.glob("counter_*.db")}
        assert len(pids) == 2, sorted(shared.iterdir())  # both workers counted something
        assert len(list(shared.glob("recent-*.npy"))) == 2  # and each keeps its recent inputs there
    assert not list(tmp_path.glob("fingers-metrics-*"))


def test_default_is_one_worker_per_core(model):
    "Without --workers, `fingers serve` starts a process per usable core (one process serves in place)."
    from fingers.cli import usable_cores

    with LiveServer(model) as s:
        time.sleep(1)
        workers = worker_pids(s)
    assert len(workers) == (usable_cores() if usable_cores() > 1 else 0), workers


def test_workers_from_environment_and_port_taken(model):
    "FINGERS_WORKERS sets the number; a second `fingers serve` on a port in use is refused with a clear error."
    with LiveServer(model, env={"FINGERS_WORKERS": "3"}) as s:
        time.sleep(2)
        assert len(worker_pids(s)) == 3
        exe = str(Path(sys.executable).parent / "fingers")
        r = subprocess.run(
            [exe, "serve", "--model", str(model), "--host", "127.0.0.1", "--port", str(s.port), "--workers", "2"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == 2 and f"cannot listen on 127.0.0.1:{s.port}" in r.stderr, r.stderr
        assert httpx.get(s.url + "/health").status_code == 200


def worker_pids(server: LiveServer) -> list[int]:
    "The worker processes of a `fingers serve` (none when one process serves in place)."
    pid = server.proc.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(c) for c in children if "spawn_main" in Path(f"/proc/{c}/cmdline").read_text()]


def test_connections_spread_over_workers(model, tmp_path):
    "Connections opened at once reach both workers (a socket each, SO_REUSEPORT), not all the first one to wake."
    with LiveServer(model, env={"TMPDIR": str(tmp_path)}, args=("--workers", "2")) as s:
        (shared,) = tmp_path.glob("fingers-metrics-*")
        deadline = time.time() + 60
        while len(list(shared.glob("recent-*.npy"))) < 2 and time.time() < deadline:
            time.sleep(0.2)
        time.sleep(2)  # both are loading their model: let both finish and listen
        clients = [httpx.Client(timeout=30) for _ in range(16)]
        barrier = threading.Barrier(len(clients))

        def first_request(client):
            barrier.wait()
            return client.post(s.url + "/predict", files=[("files", ("a.png", hand_png(2, 0)))]).status_code

        with ThreadPoolExecutor(len(clients)) as pool:
            assert list(pool.map(first_request, clients)) == [200] * len(clients)
        for c in clients:
            c.close()
        per_worker = sorted(int((np.load(f)[:, -1] > 0).sum()) for f in shared.glob("recent-*.npy"))
        assert sum(per_worker) == 16 and per_worker[0] >= 1, per_worker  # all to one: p = 3e-5 if spread at random


def test_workers_end_with_a_killed_supervisor(model):
    "A supervisor killed outright (SIGKILL, out of memory) leaves no worker serving on behind it."
    with LiveServer(model, args=("--workers", "2")) as s:
        time.sleep(2)
        workers = worker_pids(s)
        s.proc.kill()
        s.proc.wait(10)
        deadline = time.time() + 30
        while time.time() < deadline and any(map(running, workers)):
            time.sleep(0.2)
        assert not any(map(running, workers)), workers


def running(pid: int) -> bool:
    "Whether process `pid` exists and has not ended (a zombie waiting to be reaped has)."
    try:
        return "\tZ" not in next(
            x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith("State")
        )
    except FileNotFoundError:
        return False


def spawned(pid: int) -> list[int]:
    "The spawned children (the service check, then the workers) of process `pid`."
    try: children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except FileNotFoundError: return []
    return [int(c) for c in children if "spawn_main" in Path(f"/proc/{c}/cmdline").read_text(errors="replace")]


def answers(port: int) -> bool:
    try: return httpx.get(f"http://127.0.0.1:{port}/health", timeout=0.5).status_code == 200
    except httpx.HTTPError: return False


MOMENTS = {  # what can be seen of each moment of the start, in order
    "checking the service": lambda pid, port: len(spawned(pid)) >= 1,
    "starting the workers": lambda pid, port: len(spawned(pid)) >= 2,
    "serving": lambda pid, port: answers(port),
}


@pytest.mark.parametrize("moment", list(MOMENTS))
def test_ctrl_c_while_starting(model, moment):
    "Ctrl-C (SIGINT to the whole process group) at each moment of the start: a clean stop, no traceback, nothing left."
    port = free_port()
    cmd = [FINGERS, "serve", "--model", str(model), "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline = time.time() + 120
        while not MOMENTS[moment](proc.pid, port):
            assert proc.poll() is None and time.time() < deadline, f"never saw: {moment}"
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGINT)
        try: out, _ = proc.communicate(timeout=60)        # a busy machine: 60 s, then say which process held on
        except subprocess.TimeoutExpired:
            raise AssertionError(f"no clean stop in 60 s; still running:\n{group_processes(proc.pid)}") from None
        assert proc.returncode in (0, 130), (proc.returncode, out)
        assert "Traceback" not in out, out
        deadline = time.time() + 10
        while time.time() < deadline and group_alive(proc.pid): time.sleep(0.2)
        assert not group_alive(proc.pid), "a process of the service outlived it"
    finally:                                                       # only cleans up: the asserts came first
        with contextlib.suppress(ProcessLookupError): os.killpg(proc.pid, signal.SIGKILL)


def group_processes(pgid: int) -> str:
    "Each process of group `pgid`: its pid, state, what it waits in, and its command line."
    lines = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit() and pgid_of(d) == pgid:
            with contextlib.suppress(OSError):
                state = d.joinpath("stat").read_text().rsplit(")", 1)[1].split()[0]
                cmd = d.joinpath("cmdline").read_text().replace("\0", " ")[:160]
                lines.append(f"{d.name} {state} {d.joinpath('wchan').read_text()} {cmd}")
    return "\n".join(lines)


def group_alive(pgid: int) -> bool:
    "Whether any process of group `pgid` still runs (zombies aside)."
    return any(running(int(p.name)) for p in Path("/proc").iterdir() if p.name.isdigit() and pgid_of(p) == pgid)


def pgid_of(proc_dir: Path) -> int | None:
    try: return int(proc_dir.joinpath("stat").read_text().rsplit(")", 1)[1].split()[2])
    except (OSError, ValueError, IndexError): return None


def test_the_supervisor_has_one_thread(model):
    "The supervisor has one thread (no BLAS pool): no other can take a Ctrl-C while the main one starts a worker."
    with LiveServer(model, args=("--workers", "2")) as s:
        assert len(list(Path(f"/proc/{s.proc.pid}/task").iterdir())) == 1
