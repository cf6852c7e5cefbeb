#!/bin/bash
# The lent-GPU session behind bench/gpu.txt. Before it, on the workstation:
#   mkdir .device-baseline && git archive c9145f8 fingers params.yaml | tar -x -C .device-baseline
#   pip download (py3.12 wheels of nbdev fastcore execnb matplotlib onnx onnxscript) -d .whl
# then run it there with .device-baseline and .whl carried along; results land in $OUT.
cd "$(dirname "$0")/.." || exit 1
export FINGERS_CACHE=/tmp/fc PYTHONUNBUFFERED=1 MPLBACKEND=Agg
{ date -u; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
  python3 -c "import onnxruntime as o; print('onnxruntime', o.__version__, o.get_available_providers())"; } > "$OUT/machine.txt" 2>&1
PYTHONPATH=$PWD/.device-baseline timeout 170 python3 bench/gpu.py --batches 128 1024 --params .device-baseline/params.yaml \
  --out /tmp/bb --json "$OUT/gpu-baseline.json" > "$OUT/gpu-baseline.txt" 2>&1
echo "baseline rc=$?" >> "$OUT/machine.txt"
PYTHONPATH=$PWD timeout 240 python3 bench/gpu.py --batches 128 1024 2048 2048c --profile --json "$OUT/gpu.json" > "$OUT/gpu.txt" 2>&1
echo "current rc=$?" >> "$OUT/machine.txt"
python3 -m pip install -q --no-index --find-links .whl nbdev fastcore execnb matplotlib onnx onnxscript > "$OUT/pip.txt" 2>&1
grep -l '"#| gpu' nbs/*.ipynb | while read -r nb; do
  PYTHONPATH=$PWD timeout 120 python3 -m nbdev.test --flags gpu --do-print "$nb" >> "$OUT/gpu-cells.txt" 2>&1; echo "$nb rc=$?" >> "$OUT/gpu-cells.txt"
done
