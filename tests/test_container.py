"""The `serve` image, built and run with podman as CI can (no Docker engine, no Docker Hub): on a local Debian base made
with debootstrap, with a tiny model copied in by the MODEL_DIR build argument. It must start, become ready, answer a
prediction, hold no PyTorch, run as a non-root user, pass its own health check, and be gone afterwards. (hadolint checks
the Dockerfile in test_cloud.py.)"""

import os
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from bad_inputs import png
from serving import free_port, tiny_model

from fingers.synthetic import draw_hand

REPO = Path(__file__).resolve().parent.parent
BASE = "localhost/fingers-base:bookworm"
IMAGE = "localhost/fingers-serve:test"

if not shutil.which("podman"):
    if os.environ.get("CI"):
        raise RuntimeError("podman is missing: .ci/run installs podman, runc, buildah and debootstrap")
    pytest.skip("no podman here", allow_module_level=True)


def podman(*args, check=True, timeout=1200) -> subprocess.CompletedProcess:
    conf = Path(__file__).parent / "containers.conf"  # runc, and ulimits the sandbox allows
    r = subprocess.run(
        ["podman", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "CONTAINERS_CONF": str(conf)},
    )
    if check:
        assert r.returncode == 0, f"podman {' '.join(args)}:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r


@pytest.fixture(scope="module")
def base_image(tmp_path_factory):
    "A Debian bookworm image with Python, made with debootstrap once and kept."
    if podman("image", "exists", BASE, check=False).returncode == 0:
        return BASE
    rootfs = tmp_path_factory.mktemp("rootfs")
    subprocess.run(
        [
            "debootstrap",
            "--variant=minbase",
            "--include=python3,python3-venv,ca-certificates",
            "bookworm",
            str(rootfs),
            "http://deb.debian.org/debian",
        ],
        check=True,
        capture_output=True,
        timeout=1200,
    )
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    r = subprocess.run(
        ["podman", "import", "-", BASE],
        stdin=tar.stdout,
        capture_output=True,
        text=True,
        env={**os.environ, "CONTAINERS_CONF": str(Path(__file__).parent / "containers.conf")},
    )
    assert tar.wait() == 0 and r.returncode == 0, r.stderr
    return BASE


@pytest.fixture(scope="module")
def image(base_image, tmp_path_factory):
    model_dir = REPO / ".container-model"  # in the build context, for MODEL_DIR; ignored by git
    shutil.rmtree(model_dir, ignore_errors=True)
    tiny_model(model_dir)
    ca = "/etc/ssl/certs/ca-certificates.crt"  # pip inside the build trusts what the host trusts
    try:
        podman(
            "build",
            "--format",
            "docker",
            "--target",
            "serve",
            "--build-arg",
            f"BASE={base_image}",
            "--build-arg",
            "MODEL_DIR=.container-model",
            "-v",
            f"{ca}:{ca}:ro",
            "--env",
            f"PIP_CERT={ca}",
            "-t",
            IMAGE,
            str(REPO),
        )
    finally:
        shutil.rmtree(model_dir, ignore_errors=True)
    yield IMAGE
    podman("rmi", "-f", IMAGE, check=False)
    podman("image", "prune", "-f", check=False)


def test_the_serve_image(image):
    port, name = free_port(), f"fingers-test-{os.getpid()}"
    podman("run", "-d", "--rm", "--name", name, "--network", "host", "-e", f"PORT={port}", image)
    try:
        url, deadline = f"http://127.0.0.1:{port}", time.time() + 90
        while time.time() < deadline:
            try:
                if httpx.get(url + "/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail("the container never became ready:\n" + podman("logs", name, check=False).stdout[-3000:])
        r = httpx.post(
            url + "/predict", files={"files": ("hand.png", png(draw_hand(2, True, np.random.default_rng(0))))}
        )
        assert r.status_code == 200 and r.json()["predictions"][0]["label"], r.text
        assert r.json()["predictions"][0]["hands"], r.text          # the hand finder's models are in the image
        assert "<title>fingers" in httpx.get(url + "/").text          # and the web page
        assert podman("exec", name, "python", "-c", "import torch", check=False).returncode != 0, (
            "PyTorch is in the image"
        )
        assert podman("exec", name, "id", "-u").stdout.strip() != "0", "the service runs as root"
        assert podman("healthcheck", "run", name, check=False).returncode == 0, "the image's health check fails"
    finally:
        t0 = time.time()
        podman("stop", "-t", "10", name, check=False)
        stopped_in = time.time() - t0
    deadline = time.time() + 30  # --rm removes the stopped container in the background
    while name in podman("ps", "-a", "--format", "{{.Names}}").stdout and time.time() < deadline:
        time.sleep(0.5)
    assert name not in podman("ps", "-a", "--format", "{{.Names}}").stdout, "the container was not removed"
    print(f"podman stop took {stopped_in:.1f} s")
    assert stopped_in < 8, f"the service did not stop on SIGTERM within 8 s (took {stopped_in:.1f} s): it was killed"
