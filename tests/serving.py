"""Start and stop a live `fingers serve` on a free loopback port, for the tests and the benchmark."""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

FINGERS = str(Path(sys.executable).parent / "fingers")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    "`fingers serve --model MODEL` in a process of its own on a free loopback port; a context manager awaiting /ready."

    def __init__(
        self,
        model: str | os.PathLike,
        env: dict | None = None,
        args: tuple = (),
        port: int | None = None,
        command: list[str] | None = None,
    ):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.cmd = command or [FINGERS, "serve", "--model", str(model), "--host", "127.0.0.1", "--port", str(self.port),
                               *args]
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> LiveServer:
        self.proc = subprocess.Popen(
            self.cmd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server stopped: {self.proc.stdout.read()[-3000:]}")
            try:
                if httpx.get(self.url + "/ready", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.__exit__()
        raise RuntimeError("the server was not ready within 60 s")

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def printed_until(self, text: str, seconds: float = 60) -> str:
        "What the server has printed, read as it comes until a line holds `text` (an error after `seconds`)."
        fd, out, deadline = self.proc.stdout.fileno(), b"", time.monotonic() + seconds
        while text.encode() not in out:
            if not select.select([fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
                raise RuntimeError(f"the server did not print {text!r} within {seconds} s: {out[-3000:]!r}")
            if not (chunk := os.read(fd, 65536)):
                raise RuntimeError(f"the server ended before it printed {text!r}: {out[-3000:]!r}")
            out += chunk
        return out.decode()

    def peak_memory_mb(self) -> float:
        "Peak resident memory (VmHWM) of the server and all its processes (the workers of `--workers N`), summed."
        return _tree_peak_mb(self.proc.pid)


def _tree_peak_mb(pid: int) -> float:
    "Peak resident memory of process `pid` and its descendants, summed; 0 for a process gone meanwhile."
    try:
        status = Path(f"/proc/{pid}/status").read_text().splitlines()
        children = [int(c) for t in Path(f"/proc/{pid}/task").iterdir() for c in (t / "children").read_text().split()]
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    own = sum(int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:"))
    return own + sum(_tree_peak_mb(c) for c in children)


def tiny_model(folder: Path, synthetic: bool = False) -> Path:
    "An untrained tiny model exported with its card (`synthetic`: saying it learnt from drawn hands) and a reference."
    import torch

    from fingers.drift import build_reference
    from fingers.model import FingerNet, export_onnx
    from fingers.predict import Predictor, write_model_card
    from fingers.synthetic import synthetic_images

    torch.manual_seed(0)
    write_model_card(export_onnx(FingerNet(4).eval(), folder / "model.onnx"), threshold=0.2,
                     **({"synthetic_data": True} if synthetic else {}))
    build_reference(synthetic_images(3, seed=0)[0], Predictor(folder), folder / "drift_reference.json")
    return folder
