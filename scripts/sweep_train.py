"""Entry point for `wandb agent` (see sweep.yaml): runs the training notebook with the sweep's values.

The agent calls `python scripts/sweep_train.py --lr=0.004 --width=16 ...` with WANDB_RUN_ID and WANDB_SWEEP_ID set;
the notebook's wandb.init picks those up, so each trial is one run of the sweep.
"""
import os
import sys

from fingers.cli import main

if __name__ == "__main__":
    pairs = [a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--") and "=" in a]
    run_dir = f"runs/sweep-{os.environ.get('WANDB_RUN_ID', 'local')}"
    overrides = [x for name, value in pairs for x in ("-p", name, value)]
    sys.exit(main(["train", "--out", run_dir, "-p", "wandb_mode", "online", *overrides]))
