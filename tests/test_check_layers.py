"""scripts/check_layers.py on small notebook folders: it passes a clean one and names each kind of offender."""

import importlib.util
import json
from pathlib import Path

import pytest

spec = importlib.util.spec_from_file_location("check_layers", Path(__file__).parents[1] / "scripts" / "check_layers.py")
check_layers = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_layers)


def notebook(folder: Path, name: str, *sources: str) -> None:
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None}
    cells = [{**cell, "source": s} for s in sources]
    (folder / name).write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))


@pytest.fixture
def nbs(tmp_path):
    notebook(tmp_path, "00_core.ipynb", "#| default_exp core")
    notebook(tmp_path, "10_model.ipynb", "#| default_exp model", "from fingers.core import x")
    notebook(tmp_path, "90_cli.ipynb", "#| default_exp cli", "from fingers import core, model")
    return tmp_path


def test_a_clean_folder_passes(nbs, capsys):
    assert check_layers.main(nbs) == 0 and "every import points down" in capsys.readouterr().out


@pytest.mark.parametrize(
    "name,sources,says",
    [
        ("05_data.ipynb", ("#| default_exp data", "from fingers.model import y"), "model from the higher layer 10"),
        ("05_data.ipynb", ("#| default_exp data", "import fingers.nothing"), "fingers.nothing, which no notebook"),
        ("20_eval.ipynb", ("#| default_exp evaluate", "from fingers.cli import main"), "imports fingers.cli"),
        ("10_train.ipynb", ("#| default_exp train",), "10_train.ipynb: numbered 10 as 10_model.ipynb is"),
    ],
)
def test_each_offender_is_named(nbs, capsys, name, sources, says):
    notebook(nbs, name, *sources)
    assert check_layers.main(nbs) == 1 and says in capsys.readouterr().err
