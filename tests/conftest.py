"""Tests that are not notebook cells: a live server, a browser, a container, the bad-input corpus (`pytest tests`)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
