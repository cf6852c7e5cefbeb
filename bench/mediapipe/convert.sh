#!/usr/bin/env bash
# MediaPipe's two hand models (palm detection, hand landmarks; Apache 2.0) as ONNX, for bench/photos.py's reference line:
# taken from the mediapipe 0.10.14 wheel on PyPI, converted with tf2onnx, made byte-reproducible.
# Usage: bench/mediapipe/convert.sh [OUT_DIR] [WHEEL]
#   (defaults: bench/mediapipe/models, and mediapipe==0.10.14 for cp311 manylinux x86_64 downloaded from PyPI)
# Needs python3.11 and PyPI. The throwaway venv (tensorflow-cpu + tf2onnx) is only used for the conversion.
set -euo pipefail
OUT=$(realpath -m "${1:-$(dirname "$0")/models}")
WHEEL=${2:-}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
WHEEL_SHA=a807328339e7356fda0bb14df12fedbf1d33bdf81649c5f8666b0026b1cc30b4

if [ -z "$WHEEL" ]; then
  python3.11 -m pip download mediapipe==0.10.14 --no-deps --only-binary=:all: \
    --python-version 3.11 --platform manylinux2014_x86_64 -d "$WORK/whl" -q
  WHEEL=$(ls "$WORK"/whl/mediapipe-0.10.14-*.whl)
fi
echo "$WHEEL_SHA  $WHEEL" | sha256sum -c -

mkdir -p "$WORK/tflite" "$OUT"
unzip -q -j -o "$WHEEL" -d "$WORK/tflite" \
  mediapipe/modules/palm_detection/palm_detection_full.tflite \
  mediapipe/modules/hand_landmark/hand_landmark_full.tflite \
  mediapipe-0.10.14.dist-info/LICENSE
( cd "$WORK/tflite" && sha256sum -c - <<'EOF'
1b14e9422c6ad006cde6581a46c8b90dd573c07ab7f3934b5589e7cea3f89a54  palm_detection_full.tflite
11c272b891e1a99ab034208e23937a8008388cf11ed2a9d776ed3d01d0ba00e3  hand_landmark_full.tflite
EOF
)

# CONVERT_VENV=/path/to/venv reuses a venv that already has these pins (saves the ~600 MB install)
PY=${CONVERT_VENV:+$CONVERT_VENV/bin/python}
if [ -z "$PY" ]; then
  python3.11 -m venv "$WORK/venv"
  "$WORK/venv/bin/pip" install -q tensorflow-cpu==2.21.0 tf2onnx==1.17.0 onnx==1.23.2 numpy==2.4.6 protobuf==7.36.2
  PY="$WORK/venv/bin/python"
fi
HERE=$(cd "$(dirname "$0")" && pwd)
for m in palm_detection_full hand_landmark_full; do
  "$PY" -m tf2onnx.convert --tflite "$WORK/tflite/$m.tflite" --output "$WORK/$m.raw.onnx" --opset 17 \
    > "$WORK/$m.log" 2>&1 || { cat "$WORK/$m.log"; exit 1; }
  # tf2onnx names/orders folded constants nondeterministically: canonicalise so the sha256 is reproducible
  "$PY" "$HERE/canonicalize_onnx.py" "$WORK/$m.raw.onnx" "$OUT/$m.onnx" \
    source="mediapipe==0.10.14 wheel, mediapipe/modules/*/$m.tflite (Apache-2.0)" \
    source_sha256="$(sha256sum "$WORK/tflite/$m.tflite" | cut -d' ' -f1)" \
    converter="tf2onnx 1.17.0 --tflite --opset 17, tensorflow-cpu 2.21.0, canonicalize_onnx.py"
done
cp "$WORK/tflite/LICENSE" "$OUT/LICENSE.mediapipe"
( cd "$OUT" && ls -l ./*.onnx && sha256sum ./*.onnx )
