#!/usr/bin/python3
"""PyTorch twin of the effscale tfjs model, built from the same resolved-architecture JSON.

Usage: /usr/bin/python3 benchmarks/torch_effnet.py ARCH.json [--batch 32] [--steps 8] [--warmup 2] [--warmup-seconds 0]
       [--threads 2] [--layouts nchw,channels_last] [--params-only] [--seed 0]

ARCH.json is JSON.stringify(resolveArchitecture(spec)) from @effscale/core. Prints one JSON object on stdout:
parameter counts (trainable, and with BN running statistics as tfjs countParams() counts them) and, per memory
layout, median images/s of a training step (Adam, cross-entropy) and of a forward pass on fresh random inputs, and
the process's peak RSS after the training steps (run one layout per process to get each layout's own).
"""
import argparse
import json
import math
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

BN_MOMENTUM = 0.01  # PyTorch momentum = 1 - Keras momentum (0.99)
BN_EPSILON = 1e-3
TRUNCATED_NORMAL_STDDEV = 0.87962566103423978


def same_padding(size, kernel, stride):
    """TensorFlow 'same' padding (before, after) for one spatial axis: the extra pixel goes after."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def conv_init(weight, fan_out):
    """Keras VarianceScaling(2.0, fan_out, truncated_normal)."""
    std = math.sqrt(2.0 / fan_out) / TRUNCATED_NORMAL_STDDEV
    nn.init.trunc_normal_(weight, 0.0, std, -2 * std, 2 * std)


class SameConv(nn.Module):
    """Conv2d with TensorFlow 'same' padding: symmetric padding goes into the conv, asymmetric into a pad."""

    def __init__(self, layer):
        super().__init__()
        h, w, cin = layer["inputShape"]
        cout = layer["outputShape"][-1]
        k, s = layer["kernel"], layer.get("stride", 1)
        groups = layer.get("groups", 1)
        ph, pw = same_padding(h, k, s), same_padding(w, k, s)
        symmetric = ph[0] == ph[1] and pw[0] == pw[1]
        self.pad = None if symmetric else (pw[0], pw[1], ph[0], ph[1])
        padding = (ph[0], pw[0]) if symmetric else 0
        self.conv = nn.Conv2d(cin, cout, k, s, padding=padding, groups=groups, bias=layer.get("bias", False))
        # Keras computes fans on its own kernel layout: [k, k, in, out] for a conv, [k, k, C, 1] for a depthwise one.
        conv_init(self.conv.weight, k * k * (1 if layer["op"] == "depthwise_conv2d" else cout))
        if self.conv.bias is not None:
            nn.init.zeros_(self.conv.bias)
        self.act = ACTIVATIONS[layer["activation"]]() if layer.get("activation") else None

    def forward(self, x):
        if self.pad is not None:
            x = F.pad(x, self.pad)
        x = self.conv(x)
        return self.act(x) if self.act is not None else x


class StochasticDepth(nn.Module):
    """Drops the residual branch of whole samples (Keras Dropout with noise_shape (None, 1, 1, 1))."""

    def __init__(self, rate):
        super().__init__()
        self.rate = rate

    def forward(self, x):
        if not self.training or self.rate == 0:
            return x
        keep = 1.0 - self.rate
        mask = torch.empty((x.shape[0], 1, 1, 1), dtype=x.dtype, device=x.device).bernoulli_(keep)
        return x * mask / keep


class GlobalAvgPool(nn.Module):
    def forward(self, x):
        return x.mean(dim=(2, 3))


class SeReshape(nn.Module):
    def forward(self, x):
        return x.reshape(x.shape[0], x.shape[1], 1, 1)


class Logits(nn.Module):
    """Dense layer whose softmax is left to the loss (cross-entropy on logits) or applied by predict()."""

    def __init__(self, layer):
        super().__init__()
        self.fc = nn.Linear(layer["inputShape"][-1], layer["outputShape"][-1], bias=layer.get("bias", True))
        limit = math.sqrt(3 * (1 / 3) / layer["outputShape"][-1])  # VarianceScaling(1/3, fan_out, uniform)
        nn.init.uniform_(self.fc.weight, -limit, limit)
        nn.init.zeros_(self.fc.bias)

    def forward(self, x):
        return self.fc(x)


ACTIVATIONS = {"swish": nn.SiLU, "sigmoid": nn.Sigmoid}


def make_module(layer):
    op = layer["op"]
    if op in ("conv2d", "depthwise_conv2d"):
        return SameConv(layer)
    if op == "batch_norm":
        return nn.BatchNorm2d(layer["outputShape"][-1], eps=BN_EPSILON, momentum=BN_MOMENTUM)
    if op in ACTIVATIONS:
        return ACTIVATIONS[op]()
    if op == "global_avg_pool":
        return GlobalAvgPool()
    if op == "reshape":
        return SeReshape()
    if op == "dropout":
        return nn.Dropout(layer["rate"])
    if op == "stochastic_depth":
        return StochasticDepth(layer["rate"])
    if op == "dense":
        return Logits(layer)
    if op in ("multiply", "add", "softmax"):
        return nn.Identity()
    raise ValueError(f"layer '{layer['name']}': unknown op '{op}'")


class EffNet(nn.Module):
    """Walks the layer list exactly as the tfjs builder does: block inputs feed the residual add,
    the SE squeeze input feeds the excite multiply. Returns logits."""

    def __init__(self, arch):
        super().__init__()
        self.ops = []
        self.layers = nn.ModuleDict()
        for layer in arch["layers"]:
            self.layers[layer["name"]] = make_module(layer)
            self.ops.append((layer["name"], layer["op"], layer["role"], layer["block"]))

    def forward(self, x):
        block, block_input, se_input = None, None, None
        for name, op, role, blk in self.ops:
            if blk != block:
                block, block_input, se_input = blk, x, None
            if op == "global_avg_pool" and role == "se":
                se_input = x
            if op == "multiply":
                x = se_input * x
            elif op == "add":
                x = x + block_input
            elif op == "softmax":
                pass
            else:
                x = self.layers[name](x)
        return x


# tfjs weight name -> (attribute path in our module, how to turn the tfjs layout into PyTorch's)
WEIGHT_MAP = {
    ("conv2d", "kernel"): ("conv.weight", (3, 2, 0, 1)),  # [k, k, in, out] -> [out, in, k, k]
    ("conv2d", "bias"): ("conv.bias", None),
    ("depthwise_conv2d", "depthwise_kernel"): ("conv.weight", (2, 3, 0, 1)),  # [k, k, C, 1] -> [C, 1, k, k]
    ("batch_norm", "gamma"): ("weight", None),
    ("batch_norm", "beta"): ("bias", None),
    ("batch_norm", "moving_mean"): ("running_mean", None),
    ("batch_norm", "moving_variance"): ("running_var", None),
    ("dense", "kernel"): ("fc.weight", (1, 0)),
    ("dense", "bias"): ("fc.bias", None),
}


def check_against_tfjs(arch, dump_dir):
    """Loads the weights the tfjs model dumped, runs its input, and compares with its predictions."""
    import numpy as np

    with open(f"{dump_dir}/dump.json") as f:
        manifest = json.load(f)
    data = np.fromfile(f"{dump_dir}/dump.bin", dtype="<f4")

    def tensor(entry):
        n = int(np.prod(entry["shape"]))
        return torch.from_numpy(data[entry["offset"]:entry["offset"] + n].reshape(entry["shape"]).copy())

    model = EffNet(arch)
    ops = {layer["name"]: layer["op"] for layer in arch["layers"]}
    loaded = set()
    for w in manifest["weights"]:
        key = (ops.get(w["layer"]), w["name"])
        if key not in WEIGHT_MAP:
            raise ValueError(f"tfjs weight '{w['layer']}/{w['name']}' has no PyTorch counterpart")
        attr, perm = WEIGHT_MAP[key]
        target = model.layers[w["layer"]]
        for part in attr.split("."):
            target = getattr(target, part)
        value = tensor(w)
        if perm is not None:
            value = value.permute(*perm)
        if tuple(value.shape) != tuple(target.shape):
            raise ValueError(f"'{w['layer']}/{w['name']}': shape {tuple(value.shape)} vs PyTorch {tuple(target.shape)}")
        with torch.no_grad():
            target.copy_(value)
        loaded.add(f"{w['layer']}.{attr}")
    expected = {n for n, _ in model.named_parameters()} | {
        n for n, _ in model.named_buffers() if n.endswith(("running_mean", "running_var"))
    }
    expected = {n[len("layers."):] for n in expected}
    if loaded != expected:
        raise ValueError(f"not loaded from tfjs: {sorted(expected - loaded)[:5]}")

    model.eval()
    captured = {}
    feat = manifest["features"]
    model.layers[feat["layer"]].register_forward_hook(lambda m, i, o: captured.update(features=o))
    x = tensor(manifest["input"]).permute(0, 3, 1, 2).contiguous()  # NHWC -> NCHW
    with torch.inference_mode():
        ours = torch.softmax(model(x), dim=1)
    theirs = tensor(manifest["output"])
    ours_f = captured["features"].permute(0, 2, 3, 1)  # NCHW -> NHWC
    theirs_f = tensor(feat)
    return {
        "weightsLoaded": len(manifest["weights"]),
        "maxAbsDiff": float((ours - theirs).abs().max()),
        "argmaxEqual": bool(torch.equal(ours.argmax(1), theirs.argmax(1))),
        "featureLayer": feat["layer"],
        # relative to the largest activation, so the tolerance does not depend on the features' scale
        "featureRelDiff": float((ours_f - theirs_f).abs().max() / theirs_f.abs().max().clamp_min(1e-12)),
    }


def count_params(model):
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    stats = sum(b.numel() for n, b in model.named_buffers() if n.endswith(("running_mean", "running_var")))
    return trainable, trainable + stats


def median_ips(times, batch):
    return batch / statistics.median(times)


def bench_layout(arch, layout, batch, steps, warmup, seed, warmup_seconds=0.0):
    torch.manual_seed(seed)
    model = EffNet(arch)
    fmt = torch.channels_last if layout == "channels_last" else torch.contiguous_format
    model = model.to(memory_format=fmt)
    h, w, c = arch["inputShape"]
    classes = arch["classes"]
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def fresh():
        x = torch.randn(batch, c, h, w).contiguous(memory_format=fmt)
        y = torch.randint(0, classes, (batch,))
        return x, y

    model.train()
    train_times, losses = [], []
    warm, warm_spent = 0, 0.0
    # Warm-up: at least `warmup` steps and `warmup_seconds` (when warmup > 0), then the measured steps.
    while len(train_times) < steps:
        x, y = fresh()
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        dt = time.perf_counter() - t0
        if warm < warmup or (warmup > 0 and warm_spent < warmup_seconds):
            warm += 1
            warm_spent += dt
        else:
            train_times.append(dt)
            losses.append(float(loss))
    # ru_maxrss is in KiB on Linux: the process's peak so far, i.e. over model build and training steps.
    train_max_rss_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)

    model.eval()
    fwd_times = []
    with torch.inference_mode():
        for i in range(warmup + steps):
            x, _ = fresh()
            t0 = time.perf_counter()
            torch.softmax(model(x), dim=1)
            dt = time.perf_counter() - t0
            if i >= warmup:
                fwd_times.append(dt)

    return {
        "trainImagesPerSec": median_ips(train_times, batch),
        "forwardImagesPerSec": median_ips(fwd_times, batch),
        "trainStepSeconds": train_times,
        "forwardSeconds": fwd_times,
        "finalLoss": losses[-1] if losses else None,
        "trainMaxRssMB": train_max_rss_mb,
    }


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("arch", help="resolved architecture JSON file")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--warmup-seconds", type=float, default=0.0, help="warm-up also lasts at least this long")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--layouts", default="nchw,channels_last")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--params-only", action="store_true")
    p.add_argument("--check", metavar="DIR", help="compare predictions with a tfjs weight dump (dump.json, dump.bin)")
    a = p.parse_args(argv)
    for name in ("batch", "steps", "threads"):
        if getattr(a, name) < 1:
            p.error(f"--{name} {getattr(a, name)} must be >= 1")
    if a.warmup < 0:
        p.error(f"--warmup {a.warmup} must be >= 0")
    layouts = [s.strip() for s in a.layouts.split(",") if s.strip()]
    for lay in layouts:
        if lay not in ("nchw", "channels_last"):
            p.error(f"--layouts: unknown layout '{lay}' (allowed: nchw, channels_last)")

    with open(a.arch) as f:
        arch = json.load(f)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    trainable, total = count_params(EffNet(arch))
    out = {
        "name": arch.get("name"),
        "torchVersion": torch.__version__,
        "threads": torch.get_num_threads(),
        "batch": a.batch,
        "steps": a.steps,
        "warmup": a.warmup,
        "trainableParams": trainable,
        "params": total,
        "layouts": {},
    }
    if a.check:
        out["check"] = check_against_tfjs(arch, a.check)
    if not a.params_only:
        for lay in layouts:
            print(f"torch {arch.get('name')} {lay}: {a.warmup} warm-up + {a.steps} steps, batch {a.batch}", file=sys.stderr)
            out["layouts"][lay] = bench_layout(arch, lay, a.batch, a.steps, a.warmup, a.seed, a.warmup_seconds)
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
