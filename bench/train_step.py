"""One training step of the default model on the CPU (forward, backward, AdamW at half resolution), by precision,
memory layout and batch size, side by side in one process; with --profile, where the default step's time goes, by
operator and tensor shape (torch.profiler), and the share of the stem's full-size (64x64) activations.

    python bench/train_step.py [--profile]
"""
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine  # noqa: E402

from fingers.config import load_params  # noqa: E402
from fingers.core import SIZE  # noqa: E402
from fingers.model import FingerNet, autocast  # noqa: E402


def step_ms(precision: str, channels_last: bool, batch: int, steps: int = 8, profile: bool = False) -> float:
    "Milliseconds per training step, after two warm-up steps; `profile`: print where the time goes, by shape."
    cfg, _ = load_params(Path(__file__).resolve().parent.parent / "params.yaml")
    torch.manual_seed(0)
    net = FingerNet(cfg.width, depth=cfg.depth, margin=cfg.margin)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    net = net.to(memory_format=fmt)
    opt = torch.optim.AdamW(net.parameters(), 1e-3)
    x = torch.rand(batch, 1, SIZE // 2, SIZE // 2).contiguous(memory_format=fmt)   # training runs at half resolution
    y = torch.randint(0, 12, (batch,))

    def step():
        with autocast(torch.device("cpu"), precision): logits = net(x, half=True)
        loss = F.cross_entropy(logits.float(), y); opt.zero_grad(); loss.backward(); opt.step()
    for _ in range(2): step()
    t = time.perf_counter()
    for _ in range(steps): step()
    ms = (time.perf_counter() - t) / steps * 1e3
    if profile:
        from torch.profiler import ProfilerActivity
        from torch.profiler import profile as torch_profile
        with torch_profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
            for _ in range(4): step()
        events = prof.key_averages(group_by_input_shape=True)
        total = sum(e.self_cpu_time_total for e in events)
        stem = f"[{batch}, {cfg.width}, {SIZE // 2}, {SIZE // 2}]"       # the stem's activations, before the first pool
        on_stem = sum(e.self_cpu_time_total for e in events if str(e.input_shapes).startswith("[" + stem))
        print(events.table(sort_by="self_cpu_time_total", row_limit=20, max_name_column_width=28,
                           max_shapes_column_width=56))
        print(f"operators whose first input is the stem's activations {stem}: {on_stem / total:.0%} of the step's "
              "operator time")
    return ms


if __name__ == "__main__":
    if "--profile" in sys.argv[1:]:
        print(f"# python bench/train_step.py --profile\n# {machine('torch')}; {torch.get_num_threads()} threads")
        print(f"default step (bf16, channels_last, batch 128): {step_ms('bf16', True, 128, profile=True):.0f} ms")
        sys.exit()
    print(f"# python bench/train_step.py\n# {machine('torch')}; {torch.get_num_threads()} threads")
    rows = [(p, cl, b, step_ms(p, cl, b)) for p in ("bf16", "fp32") for cl in (True, False) for b in (32, 128, 256)]
    best = min(ms / b for *_, b, ms in rows)
    print("| precision | channels_last | batch | ms a step | images/s | vs fastest |\n|---|---|---|---|---|---|")
    for p, cl, b, ms in rows:
        slower = (ms / b) / best
        print(f"| {p} | {'yes' if cl else 'no'} | {b} | {ms:.0f} | {b / ms * 1e3:.0f} | {slower:.2f}x slower |")
