"""Make the hand finder's models, `fingers/assets/hands/`, from MediaPipe's two hand models as ONNX.

    bash bench/mediapipe/convert.sh              # palm_detection_full.onnx, hand_landmark_full.onnx (from the wheel)
    python scripts/hand_models.py [bench/mediapipe/models] [fingers/assets/hands]

Two exact rewrites, checked against the source on random inputs before anything is written:
- every PRelu(y, a) becomes a*y + (1-a)*relu(y), as two per-channel 1x1 convolutions and an add, which ONNX Runtime
  keeps in its blocked layout (a PRelu made it reorder the tensor before and after, and ran on one thread);
- the weights are stored as float16 with a Cast to float32, which ONNX Runtime folds when it loads the model: the
  MediaPipe models hold float16 weights, so this loses nothing (checked: every weight converts back exactly).
Then `SHA256SUMS` (which `fingers.hands` checks when it loads the models) and MediaPipe's licence are written beside
them.
"""
import hashlib
import shutil
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

MODELS = {"palm_detection_full.onnx": (1, 192, 192, 3), "hand_landmark_full.onnx": (1, 224, 224, 3)}


def rewrite_prelu(graph: onnx.GraphProto) -> int:
    "Replace each PRelu by a*y + (1-a)*relu(y) with per-channel 1x1 convolutions; the number replaced."
    init = {t.name: t for t in graph.initializer}
    nodes, slopes, n = [], set(), 0
    for node in graph.node:
        if node.op_type != "PRelu":
            nodes.append(node); continue
        y, a_name = node.input
        a = numpy_helper.to_array(init[a_name]).astype(np.float32).reshape(-1)
        c, base = a.size, node.name or node.output[0]
        wa = numpy_helper.from_array(a.reshape(c, 1, 1, 1), f"{base}/slope")
        wb = numpy_helper.from_array((1 - a).reshape(c, 1, 1, 1), f"{base}/one_minus_slope")
        graph.initializer.extend([wa, wb]); slopes.add(a_name)
        nodes += [helper.make_node("Relu", [y], [f"{base}/relu"], name=f"{base}/relu"),
                  helper.make_node("Conv", [y, wa.name], [f"{base}/ay"], name=f"{base}/ay", group=c,
                                   kernel_shape=[1, 1]),
                  helper.make_node("Conv", [f"{base}/relu", wb.name], [f"{base}/br"], name=f"{base}/br", group=c,
                                   kernel_shape=[1, 1]),
                  helper.make_node("Add", [f"{base}/ay", f"{base}/br"], list(node.output), name=f"{base}/sum")]
        n += 1
    del graph.node[:]; graph.node.extend(nodes)
    used = {i for nd in graph.node for i in nd.input}
    keep = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]; graph.initializer.extend(keep)
    return n


def store_float16(graph: onnx.GraphProto) -> int:
    "Store float32 weights that float16 holds exactly as float16, each behind a Cast; the number stored so."
    casts, n = [], 0
    for t in graph.initializer:
        a = numpy_helper.to_array(t)
        if a.dtype != np.float32 or a.size < 16 or not np.array_equal(a.astype(np.float16).astype(np.float32), a):
            continue
        name = t.name
        t.CopyFrom(numpy_helper.from_array(a.astype(np.float16), f"{name}/f16"))
        casts.append(helper.make_node("Cast", [f"{name}/f16"], [name], name=f"{name}/cast", to=onnx.TensorProto.FLOAT))
        n += 1
    nodes = casts + list(graph.node)
    del graph.node[:]; graph.node.extend(nodes)
    return n


def outputs(model: onnx.ModelProto, x: np.ndarray) -> list[np.ndarray]:
    import onnxruntime as ort
    s = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return s.run(None, {s.get_inputs()[0].name: x})


def main(src: Path = Path("bench/mediapipe/models"), out: Path = Path("fingers/assets/hands")) -> None:
    out.mkdir(parents=True, exist_ok=True)
    sums = []
    for name, shape in MODELS.items():
        model = onnx.load(src / name)
        before = onnx.ModelProto(); before.CopyFrom(model)
        n_prelu, n_f16 = rewrite_prelu(model.graph), store_float16(model.graph)
        onnx.checker.check_model(model)
        for seed in range(3):
            x = np.random.default_rng(seed).random(shape, dtype=np.float32)
            for a, b in zip(outputs(before, x), outputs(model, x)):
                err = float(np.abs(a - b).max() / max(1.0, np.abs(a).max()))
                if err > 1e-5: sys.exit(f"{name}: the rewritten model differs by {err:.2g} (relative)")
        source = hashlib.sha256((src / name).read_bytes()).hexdigest()
        onnx.helper.set_model_props(model, {**{p.key: p.value for p in model.metadata_props},
                                            "fingers_rewrite": f"scripts/hand_models.py: {n_prelu} PRelu as 1x1 "
                                                               f"convolutions, {n_f16} weights stored as float16",
                                            "fingers_source_onnx_sha256": source})
        data = model.SerializeToString()
        (out / name).write_bytes(data)
        sums.append(f"{hashlib.sha256(data).hexdigest()}  {name}")
        print(f"{name}: {n_prelu} PRelu rewritten, {n_f16} weights as float16, {len(data) / 1e6:.1f} MB")
    (out / "SHA256SUMS").write_text("\n".join(sums) + "\n")
    shutil.copy(src / "LICENSE.mediapipe", out / "LICENSE")
    print((out / "SHA256SUMS").read_text(), end="")


if __name__ == "__main__":
    main(*map(Path, sys.argv[1:3]))
