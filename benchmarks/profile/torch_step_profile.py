"""Where a PyTorch training step's time goes, per operator (self CPU time), for the PyTorch twin of a bench config.

python3 benchmarks/profile/torch_step_profile.py ARCH.json [--batch 16] [--threads 1] [--layout channels_last]

ARCH.json: a resolved architecture (benchmarks/profile/arch.ts writes one). The counterpart of step-profile.ts.
"""
import argparse
import json
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from torch_effnet import EffNet  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("arch")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--layout", default="channels_last")
    p.add_argument("--steps", type=int, default=5)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    arch = json.load(open(a.arch))
    fmt = torch.channels_last if a.layout == "channels_last" else torch.contiguous_format
    model = EffNet(arch).to(memory_format=fmt)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    h, w, c = arch["inputShape"]

    def step():
        x = torch.randn(a.batch, c, h, w).contiguous(memory_format=fmt)
        y = torch.randint(0, arch["classes"], (a.batch,))
        opt.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        opt.step()

    for _ in range(3):
        step()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for _ in range(a.steps):
            step()
    rows = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)
    total = sum(e.self_cpu_time_total for e in rows) / a.steps / 1000
    print(f"{total:.1f} ms/step (self CPU, all operators)")
    for e in rows[:25]:
        print(f"{e.key:45s} {e.self_cpu_time_total / a.steps / 1000:8.1f} ms {e.count // a.steps:6d} calls")


if __name__ == "__main__":
    main()
