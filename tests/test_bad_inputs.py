"""Every bad input of the corpus (`tests/bad_inputs.py`) against the installed `fingers` command: the exit status and
message it must get, never a traceback or an internal error, nothing left behind, and little memory.

Memory is each command's own peak resident size, read from the kernel. A command that must load PyTorch to judge an
input (a checkpoint, a CUDA device) starts from PyTorch's own footprint, which is measured too and allowed for.
"""

import atexit
import os
import re
import shutil
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path

import pytest
from bad_inputs import Case, build_corpus

MEMORY_MB = 500  # the most one bad input may take
FINGERS = str(Path(sys.executable).parent / "fingers")


@cache
def corpus() -> tuple[Path, dict[str, Case]]:
    "The corpus, built once per test session in a temporary folder."
    root = Path(tempfile.mkdtemp(prefix="fingers-bad-inputs-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    return root, {c.name: c for c in build_corpus(root)}


def pytest_generate_tests(metafunc):
    if "case_name" in metafunc.fixturenames:
        metafunc.parametrize("case_name", list(corpus()[1]))


# A small Python that runs the command and reports its peak memory: measured from a process forked from this small one,
# not from pytest (a child forked from a large process inherits its memory high-water mark, across exec too).
PEAK = """import resource, subprocess, sys
r = subprocess.run(sys.argv[2:], stdout=open(sys.argv[1] + ".out", "w"), stderr=open(sys.argv[1] + ".err", "w"))
open(sys.argv[1], "w").write(f"{r.returncode} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")"""


def run(argv: list[str], env: dict, cwd: Path) -> tuple[int, str, str, float]:
    "(exit status, stdout, stderr, peak memory in MB) of a command."
    report = cwd / "peak.txt"
    subprocess.run([sys.executable, "-S", "-c", PEAK, str(report), *argv], env=env, cwd=cwd, check=True)
    code, kb = report.read_text().split()
    return int(code), Path(f"{report}.out").read_text(), Path(f"{report}.err").read_text(), int(kb) / 1024


@pytest.fixture(scope="session")
def torch_footprint_mb(tmp_path_factory) -> float:
    "The peak memory of a Python that only imports PyTorch."
    code, _, _, mb = run([sys.executable, "-c", "import torch"], dict(os.environ), tmp_path_factory.mktemp("torch"))
    return mb if code == 0 else 0.0


def test_bad_input(case_name, torch_footprint_mb, tmp_path):
    root, cases = corpus()
    case = cases[case_name]
    env = {**os.environ, "FINGERS_CACHE": str(root / "cache"), "WANDB_MODE": "disabled", **case.env}
    env.pop("FINGERS_DATA", None)
    before = {p: Path(p).read_bytes() for p in case.unchanged}
    code, out, err, mb = run([FINGERS, *case.argv], env, tmp_path)
    where = f"{case.name}: fingers {' '.join(case.argv)}\nstdout: {out[-1500:]}\nstderr: {err[-1500:]}"
    assert "Traceback" not in err and "internal error" not in err, where
    assert code == case.code, f"exit {code}, expected {case.code}\n{where}"
    assert case.message in (err if case.code else out + err), f"{case.message!r} not said\n{where}"
    if case.code:  # one clear line, named by the command
        assert re.search(rf"(^|[\r\n])fingers {case.argv[0]}: (error|failed): ", err), where
    for path in case.absent:
        assert not Path(path).exists(), f"{path} was left behind\n{where}"
    for path, data in before.items():
        assert Path(path).read_bytes() == data, f"{path} was changed\n{where}"
    if "newline" in case.name: assert err.count("\n") == 2, f"a line forged by a file name\n{where}"  # its, the total
    leftovers = list((root / "out").rglob("*")) if (root / "out").exists() else []
    assert not leftovers, f"partial output: {leftovers[:5]}\n{where}"
    limit = MEMORY_MB + (torch_footprint_mb if case.needs_torch else 0)
    assert mb < limit, f"{mb:.0f} MB of memory (limit {limit:.0f})\n{where}"


def test_the_corpus_covers_every_command():
    "Each `fingers` command meets bad input here."
    from fingers.cli import COMMANDS

    used = {c.argv[0] for c in corpus()[1].values()}
    assert set(COMMANDS) <= used, set(COMMANDS) - used


def test_corpus_files_are_small():
    "The corpus is made of small files: oversize ones are sparse, and the bombs only claim to be big."
    root, _ = corpus()
    used = sum(p.stat().st_blocks * 512 for p in root.rglob("*") if p.is_file() and "cache" not in p.parts)  # no FIFOs
    assert used < 50_000_000, f"{used:,} bytes on disk"
