"""DVC's stages run the CLI through `scripts/fingers`, which finds it with no virtual environment activated."""

import json
import shutil
import subprocess
import sys
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


def test_a_changed_parameter_is_no_change_of_the_package(tmp_path):
    "fingers/assets/params.yaml links to params.yaml: `-S train.lr=...` changes the train stage's params, not the code."
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    params = clone / "params.yaml"
    params.write_text(params.read_text().replace("  lr: 0.004", "  lr: 0.008"))
    dvc = str(Path(sys.executable).with_name("dvc"))
    status = json.loads(subprocess.run([dvc, "status", "--json"], cwd=clone, check=True, capture_output=True,
                                       text=True).stdout)
    changed = {name: {k: v for e in entries if isinstance(e, dict) for k, v in e.items()}     # each stage's changes
               for name, entries in status.items()}
    assert "fingers" not in changed.get("data", {}).get("changed deps", {}), status
    assert "fingers" not in changed.get("train", {}).get("changed deps", {}), status
    assert changed["train"]["changed deps"]["params.yaml"] == {"train": "modified"}, status     # what did change
