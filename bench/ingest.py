"""Ingest benchmark: validate + store the real archive, then compare how fast training can start from
the processed file against decoding every PNG again. One process, contenders side by side.

    FINGERS_DATA=../shared/data/fingers.zip python bench/ingest.py
"""
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from fingers.data import RawSource, decode_image, ingest, load_processed, locate_splits


def timed(f):
    t = time.perf_counter(); out = f(); return out, time.perf_counter() - t


def main(source: str) -> None:
    out = Path(tempfile.mkdtemp()) / "fingers.npz"
    data, t_ingest = timed(lambda: ingest(source, out, progress=False))
    n = sum(len(s) for s in data.splits.values())
    print(f"source: {source} ({Path(source).stat().st_size / 1e6:.1f} MB), {n} images, cpus: {os.cpu_count()}")
    print(f"ingest (list, validate every image, write {out.stat().st_size / 1e6:.0f} MB atomically): "
          f"{t_ingest:.2f} s, {n / t_ingest:.0f} img/s   target < 30 s: {'PASS' if t_ingest < 30 else 'FAIL'}")

    _, t_open = timed(lambda: load_processed(out))
    _, t_read = timed(lambda: [np.asarray(s.images).sum() for s in load_processed(out).splits.values()])

    def decode_all():
        with RawSource(source) as raw:
            files = locate_splits(raw.names(), source)
            return [np.stack([decode_image(raw.read(f), f) for f in names]) for names in files.values()]
    _, t_decode = timed(decode_all)
    print(f"open processed (memory-mapped):       {t_open * 1e3:8.1f} ms")
    print(f"open + read every pixel of processed: {t_read * 1e3:8.1f} ms")
    print(f"decode every PNG from the archive:    {t_decode * 1e3:8.1f} ms")
    print(f"ratio decode / (open + read): {t_decode / t_read:.1f}x;  decode / open: {t_decode / t_open:.0f}x")
    out.unlink()


if __name__ == "__main__":
    src = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("FINGERS_DATA")
    if not src: sys.exit("usage: python bench/ingest.py PATH/TO/fingers.zip (or set FINGERS_DATA)")
    main(src)
