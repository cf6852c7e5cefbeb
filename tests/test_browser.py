"""The web page in a real headless Chromium (Debian's, driven by Playwright): upload a photo and read the answer, take a
picture with the webcam (Chromium's fake camera playing a video made from a test image), and give the API key when the
service asks for one. Screenshots land in `test-artifacts/` (or $TEST_ARTIFACTS)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image
from serving import LiveServer, tiny_model

from fingers.core import CLASSES
from fingers.synthetic import draw_hand

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", "test-artifacts"))
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError("Chromium is missing: .ci/run installs the Debian package chromium")
    pytest.skip("no Chromium here (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return tiny_model(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    "A colour photo of a hand, 480x360, as a phone might send it."
    hand = draw_hand(3, True, np.random.default_rng(0))
    path = tmp_path_factory.mktemp("photo") / "hand.jpg"
    Image.fromarray(np.stack([hand] * 3, -1)).resize((480, 360)).save(path, quality=92)
    return path


@pytest.fixture(scope="module")
def camera_video(photo, tmp_path_factory) -> Path:
    "A two-second video of the photo, for Chromium's fake camera."
    video = tmp_path_factory.mktemp("video") / "hand.y4m"
    subprocess.run(
        [
            "ffmpeg",
            "-loglevel",
            "error",
            "-y",
            "-loop",
            "1",
            "-i",
            str(photo),
            "-t",
            "2",
            "-r",
            "10",
            "-vf",
            "scale=640:480,format=yuv420p",
            str(video),
        ],
        check=True,
    )
    return video


@pytest.fixture(scope="module")
def browser(camera_video):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                *FLAGS,
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={camera_video}",
            ],
        )
        yield b
        b.close()


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_upload_a_photo(browser, model, photo):
    with LiveServer(model) as server:
        want = httpx.post(server.url + "/predict", files={"files": ("hand.jpg", photo.read_bytes())}).json()[
            "predictions"
        ][0]
        page = browser.new_page()
        page.goto(server.url + "/")
        page.set_input_files("#file", str(photo))
        page.wait_for_selector("#answer[data-label]", timeout=20_000)
        assert page.get_attribute("#answer", "data-label") == want["label"]
        hand = "right" if want["hand"] == "R" else "left"
        assert page.inner_text("#answer").startswith(f"{want['fingers']} finger") and hand in page.inner_text("#answer")
        assert page.locator("#bars .bar").count() == len(CLASSES)
        assert page.get_attribute("#input-image", "src").startswith("data:image/png;base64,")  # what the model saw
        assert page.is_visible("#uncertain") == want["uncertain"]
        assert page.locator("#boxes div").count() == len(want["hands"]) == 1       # the hand found, boxed
        box = page.locator("#boxes div").bounding_box(); pic = page.locator("#photo").bounding_box()
        x0, y0, x1, y1 = (v / 480 * pic["width"] for v in want["box"])              # the photo is 480 pixels wide
        assert abs(box["x"] - pic["x"] - x0) < 3 and abs(box["width"] - (x1 - x0)) < 5, (box, pic, want["box"])
        shot(page, "upload")


def test_a_photo_without_a_hand(browser, model, tmp_path):
    "A picture the finder sees no hand in is answered so, with no count guessed and no bars."
    empty = tmp_path / "wall.jpg"
    Image.fromarray(np.full((360, 480, 3), 200, np.uint8)).save(empty)
    with LiveServer(model) as server:
        page = browser.new_page()
        page.goto(server.url + "/")
        page.set_input_files("#file", str(empty))
        page.wait_for_selector("#answer[data-label]", timeout=20_000)
        assert page.get_attribute("#answer", "data-label") == "none"
        assert page.inner_text("#answer") == "No hand found" and page.is_visible("#uncertain")
        assert page.locator("#bars .bar").count() == 0 and page.locator("#boxes div").count() == 0
        shot(page, "no-hand")


def test_take_a_webcam_picture(browser, model):
    with LiveServer(model) as server:
        page = browser.new_page()
        page.goto(server.url + "/")
        page.click("#camera-start")
        page.wait_for_function("document.getElementById('video').videoWidth > 0", timeout=20_000)
        page.click("#camera-shoot")
        page.wait_for_selector("#answer[data-label]", timeout=20_000)
        assert page.get_attribute("#answer", "data-label") in CLASSES
        assert page.locator("#bars .bar").count() == len(CLASSES)
        shot(page, "webcam")


def test_live_counting(browser, model):
    "While the webcam runs, frame after frame is counted: each hand boxed over the video, the count said."
    with LiveServer(model) as server:
        page = browser.new_page()
        page.goto(server.url + "/")
        page.click("#camera-start")
        page.wait_for_function("Number(document.getElementById('live').dataset.answers || 0) >= 3", timeout=60_000)
        assert page.get_attribute("#live", "data-hands") == "1"          # the fake camera shows one drawn hand
        assert page.inner_text("#live").startswith("live: ") and "finger" in page.inner_text("#live")
        drawn = page.evaluate(
            "() => { const c = document.getElementById('overlay');"
            " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
            " let n = 0; for (let i = 3; i < d.length; i += 4) n += d[i] > 0; return n; }"
        )
        assert drawn > 100, drawn                                           # the box and its count, over the video
        shot(page, "live")
        page.click("#camera-stop")                                          # stops the loop and the camera
        assert page.is_hidden("#live") and page.evaluate("document.getElementById('video').srcObject === null")


def test_the_page_asks_for_the_key_once(browser, model, photo):
    with LiveServer(model, env={"FINGERS_API_KEY": "k3y"}) as server:
        page = browser.new_page()
        page.goto(server.url + "/")
        page.set_input_files("#file", str(photo))
        page.wait_for_selector("#key-box", state="visible", timeout=20_000)
        shot(page, "asks-for-key")
        page.fill("#key", "k3y")
        page.click("#key-save")
        page.wait_for_selector("#answer[data-label]", timeout=20_000)
        page.set_input_files("#file", str(photo))  # the second picture needs no key again
        page.wait_for_timeout(500)
        assert not page.is_visible("#key-box")


def test_a_bad_file_shows_an_error(browser, model, photo, tmp_path):
    "A file that is no picture: its error alone, nothing left of the answer before it, no broken picture."
    (tmp_path / "notes.png").write_bytes(b"not a picture")
    with LiveServer(model) as server:
        page = browser.new_page()
        page.goto(server.url + "/")
        assert not page.is_visible("#input-image") and not page.is_visible("#photo")   # nothing before a first answer
        page.set_input_files("#file", str(photo))
        page.wait_for_selector("#answer[data-label]", timeout=20_000)
        page.set_input_files("#file", str(tmp_path / "notes.png"))
        page.wait_for_selector("#error", state="visible", timeout=20_000)
        assert "not a readable image" in page.inner_text("#error")
        assert page.inner_text("#answer") == "No answer" and page.get_attribute("#answer", "data-label") is None
        assert page.inner_text("#confidence") == "" and page.locator("#bars .bar").count() == 0
        assert not page.is_visible("#input-image") and not page.is_visible("#photo")
        shot(page, "bad-file")


def test_a_synthetic_model_says_so(browser, model, tmp_path):
    "A model that learnt from drawn hands is marked on the page from the start; one that did not is not."
    for folder, marked in ((model, False), (tiny_model(tmp_path, synthetic=True), True)):
        with LiveServer(folder) as server:
            page = browser.new_page()
            page.goto(server.url + "/")
            page.wait_for_function("document.getElementById('model').textContent !== ''", timeout=20_000)
            assert page.is_visible("#synthetic") == marked
            if marked:
                assert "drawn hands" in page.inner_text("#synthetic")
                shot(page, "synthetic")

def offline_page(browser, base: str):
    "A page that can reach `base` only, as on a machine without internet; the list of what it tried elsewhere."
    page, elsewhere = browser.new_page(), []
    def only_here(route):
        if route.request.url.startswith(base): route.continue_()
        else: elsewhere.append(route.request.url); route.abort()
    page.route("**/*", only_here)
    return page, elsewhere


def test_the_api_docs_render_offline(browser, model):
    "/docs (Swagger UI) and /redoc (ReDoc) show every operation with nothing fetched from outside the service."
    with LiveServer(model) as server:
        page, elsewhere = offline_page(browser, server.url)
        page.goto(server.url + "/docs")
        page.wait_for_selector(".opblock-summary-path", timeout=20_000)
        paths = set(page.locator(".opblock-summary-path").all_inner_texts())
        assert {"/predict", "/health", "/ready", "/model", "/metrics", "/drift"} <= paths, paths
        shot(page, "docs")
        page.goto(server.url + "/redoc")
        page.wait_for_selector("text=Classify one or several images", timeout=20_000)
        shot(page, "redoc")
        # ReDoc's own "API docs by Redocly" logo is its one outside file: it removes it when the fetch fails
        assert [u for u in elsewhere if u != "https://cdn.redoc.ly/redoc/logo-mini.svg"] == [], elsewhere


def test_the_dvc_plots_render_offline(browser, tmp_path):
    "`dvc plots show` fills the committed page (.dvc/plots.html) that carries Vega itself: each chart draws offline."
    dvc = Path(sys.executable).with_name("dvc")
    subprocess.run([str(dvc), "plots", "show", "-o", str(tmp_path)], cwd=ROOT, check=True, capture_output=True)
    page, elsewhere = offline_page(browser, "file://")
    page.goto((tmp_path / "index.html").as_uri())
    charts = "document.querySelectorAll('.vega-embed canvas, .vega-embed svg').length"
    page.wait_for_function(f"{charts} >= 3", timeout=20_000)   # loss, accuracy, confusion (the images need the cache)
    shot(page, "dvc-plots")
    assert elsewhere == [], elsewhere
