#!/usr/bin/env bash
# GPU checks for a CUDA machine (a Compute Engine VM, or the team's lent GPU): the notebooks' `#| gpu` cells,
# then the training notebook on the GPU. Needs the `dev` extras (or at least torch, nbdev, papermill, ipykernel).
#   bash scripts/gpu_check.sh [RUN_DIR] [papermill -p NAME VALUE pairs for the training run...]
# Example: bash scripts/gpu_check.sh runs/gpu -p data ../data/fingers.zip
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-runs/gpu-check}"; shift || true
PY="${PYTHON:-python3}"
"$PY" - <<'PY'
import torch
assert torch.cuda.is_available(), "no CUDA device visible to PyTorch"
p = torch.cuda.get_device_properties(0)
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, {p.name}, {p.total_memory / 2**30:.0f} GiB, bf16: {torch.cuda.is_bf16_supported()}")
PY
echo "== notebooks with GPU cells (nbdev-test --flags gpu)"
grep -l '"#| gpu' nbs/*.ipynb | while read -r nb; do nbdev-test --flags gpu --do-print "$nb"; done
echo "== the training notebook on the GPU -> $out"
"$PY" -m fingers.cli train --out "$out" -p device cuda "$@"
"$PY" - "$out" <<'PY'
import json, sys
from pathlib import Path
run = Path(sys.argv[1])
m, h = json.loads((run / "metrics.json").read_text()), json.loads((run / "history.json").read_text())
print(json.dumps(m, indent=1))
for r in h: print(f"epoch {r['epoch']}: {r['seconds']:.2f} s, {r['images_per_s']:.0f} img/s, val_acc {r['val_acc']:.4f}")
PY
