#!/usr/bin/python3
"""The README's search study as a plain PyTorch script, for a side-by-side wall time on the same machine.

Usage: /usr/bin/python3 benchmarks/search_torch.py TRIALS.json [--processes 2] [--threads 1]

TRIALS.json comes from `node --conditions=source --import tsx benchmarks/search-torch-trials.ts` (every grid point and
seed of the study, with the resolved architecture effscale trains). Each trial mirrors an effscale trial: the same
network (torch_effnet.EffNet from the same resolved-architecture JSON), the proxy recipe (Adam 2e-3 per 32 images,
linear warmup over 15 steps, cosine to 0.05 of the peak, zero-initialised classifier, BN momentum 0.9 in Keras terms),
one epoch of 10,000 Fashion-MNIST training images resized to the network's resolution and standardized with the
training statistics, then top-1 on 2,000 validation images carved from the training set and 2,000 test images.
Unlike effscale it trains every point, also those whose networks are identical (as a plain script would).
Prints one JSON object: wall seconds, per-trial seconds and accuracies.
"""
import argparse
import gzip
import json
import math
import multiprocessing as mp
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_effnet import EffNet

DATA = "/usr/share/datasets/fashion-mnist"
TRAIN, VAL, TEST, BATCH = 10_000, 2_000, 2_000, 32


def idx(name):
    with gzip.open(f"{DATA}/{name}", "rb") as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def stratified(labels, n, rng):
    per = n // 10
    return np.sort(np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:per] for c in range(10)]))


def load():
    x, y = idx("train-images-idx3-ubyte.gz"), idx("train-labels-idx1-ubyte.gz")
    tx, ty = idx("t10k-images-idx3-ubyte.gz"), idx("t10k-labels-idx1-ubyte.gz")
    rng = np.random.default_rng(0)
    pick = stratified(y, TRAIN + VAL, rng)
    x, y = x[pick], y[pick]
    val = stratified(y, VAL, rng)
    train = np.setdiff1d(np.arange(len(y)), val)
    test = stratified(ty, TEST, rng)
    return (x[train], y[train]), (x[val], y[val]), (tx[test], ty[test])


def prepare(images, resolution, mean, std):
    t = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    t = F.interpolate(t, size=(resolution, resolution), mode="bilinear", align_corners=False)
    return (t - mean) / std


def lr_at(step, total):
    peak, warmup, lrf = 0.002, 15, 0.05
    if step < warmup:
        return peak * (step + 1) / warmup
    t = min(1.0, (step - warmup) / max(1, total - warmup))
    return peak * (((1 + math.cos(math.pi * t)) / 2) * (1 - lrf) + lrf)


def top1(model, x, y):
    model.eval()
    correct = 0
    with torch.inference_mode():
        for i in range(0, len(y), 256):
            correct += int((model(x[i:i + 256]).argmax(1) == torch.from_numpy(y[i:i + 256].astype(np.int64))).sum())
    return correct / len(y)


def run_trial(trial):
    torch.set_num_threads(ARGS.threads)
    started = time.time()
    (x, y), (vx, vy), (tx, ty) = load()
    mean, std = float(x.mean() / 255.0), float(x.std() / 255.0)
    arch = trial["arch"]
    res = arch["inputShape"][0]
    xs, vxs, txs = prepare(x, res, mean, std), prepare(vx, res, mean, std), prepare(tx, res, mean, std)
    torch.manual_seed(trial["seed"])
    model = EffNet(arch)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = 0.1  # Keras 0.9
    head = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    nn.init.zeros_(head.weight)
    nn.init.zeros_(head.bias)
    opt = torch.optim.Adam(model.parameters(), lr=0.002)
    steps = TRAIN // BATCH
    order = torch.randperm(TRAIN, generator=torch.Generator().manual_seed(trial["seed"]))
    labels = torch.from_numpy(y.astype(np.int64))
    t0 = time.time()
    model.train()
    for s in range(steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(s, steps)
        b = order[s * BATCH:(s + 1) * BATCH]
        loss = F.cross_entropy(model(xs[b]), labels[b])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    train_seconds = time.time() - t0
    return {"id": trial["id"], "seed": trial["seed"], "val": top1(model, vxs, vy), "test": top1(model, txs, ty),
            "trainSeconds": train_seconds, "seconds": time.time() - started, "imagesPerSec": steps * BATCH / train_seconds}


def init(args):
    global ARGS
    ARGS = args


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("trials")
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    with open(args.trials) as f:
        trials = json.load(f)
    t0 = time.time()
    with mp.get_context("fork").Pool(args.processes, initializer=init, initargs=(args,)) as pool:
        results = pool.map(run_trial, trials, chunksize=1)
    print(json.dumps({"wallSeconds": time.time() - t0, "processes": args.processes, "threads": args.threads,
                      "torch": torch.__version__, "trials": results}, indent=1))
