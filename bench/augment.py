"""How fast training can draw augmented batches: the batched tensor augmentation that `fingers.train` uses
(`fingers.augment.augment_batch`) against the torchvision v2 `Dataset` pipeline (`fingers.dataset`) through a
`DataLoader`, with changes of the same kinds (flip with the hand swapped, rotation, shift, scale, brightness, contrast,
blur, noise), side by side in one run.

    python bench/augment.py [--data PATH/TO/fingers.zip] [--batches 40]
"""
import argparse
import os
import sys
import time
from pathlib import Path

import torch
from torchvision.transforms import v2

from fingers.augment import augment_batch
from fingers.data import load_data
from fingers.dataset import FingersDataset, RandomHandFlip

sys.path.insert(0, str(Path(__file__).parent))
from machine import machine  # noqa: E402


class AddNoise(v2.Transform):
    "Gaussian sensor noise of a random strength, on float images."
    def transform(self, inpt, params):
        return (inpt + torch.randn_like(inpt) * torch.rand(1) * 0.1).clamp(0, 1)


def v2_pipeline() -> v2.Compose:
    "The same kinds of change as `augment_batch`, as per-image torchvision v2 transforms."
    return v2.Compose([RandomHandFlip(), v2.RandomAffine(degrees=30, translate=(0.12, 0.12), scale=(0.78, 1.28)),
                       v2.ToDtype(torch.float32, scale=True), v2.ColorJitter(brightness=0.25, contrast=0.5),
                       v2.RandomApply([v2.GaussianBlur(11, sigma=(0.1, 2.0))], p=0.5), AddNoise()])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.environ.get("FINGERS_DATA"))
    ap.add_argument("--batches", type=int, default=40)
    ap.add_argument("--batch-size", type=int, default=128)
    args = ap.parse_args()
    data = load_data(args.data, progress=False)
    split, n = data["train"], args.batches * args.batch_size
    print(f"{machine('torch', 'torchvision')}; {torch.get_num_threads()} threads")
    print(f"{'SYNTHETIC' if data.synthetic else 'real'} data; {args.batches} batches of {args.batch_size}")
    x_all = torch.from_numpy(split.images[:n].copy())[:, None]
    y_all = torch.from_numpy(split.labels[:n].astype("int64"))
    results = {}
    t = time.perf_counter()
    for b in range(args.batches):
        sl = slice(b * args.batch_size, (b + 1) * args.batch_size)
        augment_batch(x_all[sl], y_all[sl], 1.0, torch.Generator().manual_seed(b))
    results["augment_batch (training's)"] = n / (time.perf_counter() - t)
    ds = FingersDataset(split, v2_pipeline())
    for workers in (0, 2):
        loader = torch.utils.data.DataLoader(torch.utils.data.Subset(ds, range(n)), batch_size=args.batch_size,
                                             num_workers=workers, persistent_workers=False)
        t = time.perf_counter()
        for _ in loader: pass
        results[f"v2 Dataset + DataLoader, {workers} workers"] = n / (time.perf_counter() - t)
    best = results["augment_batch (training's)"]
    for name, rate in results.items():
        print(f"{name:42} {rate:8.0f} images/s   augment_batch is {best / rate:4.1f}x this")


if __name__ == "__main__":
    main()
