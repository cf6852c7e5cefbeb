"""DVC's stages run the CLI through `scripts/fingers`, which finds it with no virtual environment activated."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BARE = {"PATH": "/usr/bin:/bin"}  # no virtual environment active, none of its programs on PATH


def test_every_stage_runs_the_cli_through_the_launcher():
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    for name, stage in stages.items():
        assert stage["cmd"].startswith("sh scripts/fingers "), (name, stage["cmd"])


@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "fingers").exists(), reason="no .venv in this checkout")
def test_the_launcher_finds_the_checkouts_cli_unactivated(tmp_path):
    out = subprocess.run(["sh", str(ROOT / "scripts" / "fingers"), "--version"], env=BARE, cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.startswith("fingers "), out


def test_the_launcher_says_how_to_install_when_there_is_no_cli(tmp_path):
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "fingers", tmp_path / "scripts" / "fingers")   # a checkout with no .venv
    out = subprocess.run(["sh", "scripts/fingers", "--version"], env=BARE, cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 127 and "pip install" in out.stderr, out
