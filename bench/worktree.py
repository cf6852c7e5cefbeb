"""The repository as it was at a git commit, checked out beside it: a benchmark's "before" contender."""
import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def checkout(ref: str, folder: Path) -> Iterator[Path]:
    "The repository at commit `ref`, checked out into `folder` (a detached git worktree) and removed afterwards."
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(folder), ref], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(folder)], check=False)
