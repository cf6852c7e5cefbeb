"""One line that says where a benchmark ran: date, CPU model, cores, Python and library versions."""
import datetime
import os
import platform
from pathlib import Path


def cpu_model() -> str:
    "The CPU's model name, as /proc/cpuinfo gives it (or the platform's best guess)."
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"): return line.split(":", 1)[1].strip()
    except OSError: pass
    return platform.processor() or platform.machine()


def machine(*libraries: str) -> str:
    "Date, CPU, core count, Python and the versions of `libraries` (those importable)."
    import importlib.metadata as md
    versions = []
    for lib in libraries:
        try: versions.append(f"{lib} {md.version(lib)}")
        except md.PackageNotFoundError: pass
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"{date}; {cpu_model()}, {os.cpu_count()} cores; Python {platform.python_version()}; " + ", ".join(versions)


if __name__ == "__main__":
    print(machine("torch", "onnxruntime", "numpy"))
