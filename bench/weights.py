"""How much smaller each ONNX model file gets when every weight is stored once (`fingers.optimize.share_weights`), and
that it computes the same: the files as variants were written before sharing (every weight twice, once per branch of
the test-time flip, after batch-norm fusion) against the same graphs with shared weights, in one run.

    python bench/weights.py runs/real/model.onnx runs/variants/graph/model.onnx runs/variants/int8/model.onnx
"""

import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

from fingers.optimize import share_weights

sys.path.insert(0, str(Path(__file__).parent))
from machine import machine  # noqa: E402


def logits(path: Path, x: np.ndarray) -> np.ndarray:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"image": x})[0]


def main(paths: list[str]) -> None:
    print(machine("onnx", "onnxruntime"))
    x = np.random.default_rng(0).random((32, 1, 128, 128), dtype=np.float32)
    reference = Path(paths[0]).stat().st_size
    print(f"sizes relative to the first file, {paths[0]} ({reference / 1000:.0f} kB)\n")
    header = f"{'model':40} {'as written kB':>14} {'shared kB':>10} {'copies':>7}"
    print(f"{header} {'smaller than first':>19} {'same logits':>12}")
    with tempfile.TemporaryDirectory() as tmp:
        for p in map(Path, paths):
            model = onnx.load(str(p))
            copies = share_weights(model)
            shared = Path(tmp) / "shared.onnx"
            onnx.save(model, str(shared))
            same = np.array_equal(logits(p, x), logits(shared, x))
            size = shared.stat().st_size
            print(
                f"{str(p):40} {p.stat().st_size / 1000:>14.0f} {size / 1000:>10.0f} {copies:>7} "
                f"{reference / size:>18.2f}x {str(same):>12}"
            )


if __name__ == "__main__":
    main(sys.argv[1:] or ["runs/real/model.onnx", "runs/variants/graph/model.onnx", "runs/variants/int8/model.onnx"])
