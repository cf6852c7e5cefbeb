"""Live counting on the page: answers a second while the webcam runs (issue 19's target: >= 5 at 640x480, 2 cores).

    python bench/live_page.py [--model RUN] [--picture a.jpg] [--seconds 10]

Chromium (headless, Debian's, driven by Playwright) opens the page of `fingers serve` (all its workers, on the same
cores as the browser), its fake camera playing `--picture` (default: a drawn hand) at 640x480; the page sends a frame
as soon as the last is answered (at most 8 a second) and draws the answer over the video. Counted: the answers the
page drew in `--seconds`, after the first.
"""
import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from machine import machine  # noqa: E402


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path)
    ap.add_argument("--picture", type=Path)
    ap.add_argument("--seconds", type=float, default=10)
    a = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright
    from serving import LiveServer, tiny_model

    from fingers.synthetic import draw_hand
    tmp = Path(tempfile.mkdtemp())
    model = a.model or tiny_model(tmp)
    picture = a.picture or tmp / "hand.jpg"
    if not a.picture:
        hand = np.stack([draw_hand(3, True, np.random.default_rng(0))] * 3, -1)
        Image.fromarray(hand).resize((640, 480)).save(picture)
    video = tmp / "camera.y4m"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-loop", "1", "-i", str(picture), "-t", "3", "-r", "10",
                    "-vf", "scale=640:480,format=yuv420p", str(video)], check=True)
    print(f"# python bench/live_page.py {' '.join(sys.argv[1:])}\n# {machine('onnxruntime')}")
    with LiveServer(model) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}"])
        page = browser.new_page()
        page.goto(server.url + "/")
        page.click("#camera-start")
        answers = lambda: int(page.get_attribute("#live", "data-answers") or 0)
        page.wait_for_function("Number(document.getElementById('live').dataset.answers || 0) >= 1", timeout=60_000)
        first, t = answers(), time.perf_counter()
        page.wait_for_timeout(a.seconds * 1000)
        n, seconds = answers() - first, time.perf_counter() - t
        print(f"{n} answers in {seconds:.1f} s: {n / seconds:.1f} a second; the last: {page.inner_text('#live')!r}")
        browser.close()


if __name__ == "__main__":
    main()
