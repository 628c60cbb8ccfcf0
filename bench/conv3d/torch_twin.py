"""PyTorch twin of bench/conv3d/run.ts: the same layers and the same U-Net training step on CPU.

Reads a JSON job from stdin (written by run.ts) and prints one JSON object with the median wall
and CPU seconds per layer (forward + backward) and per training step. One thread, as the
TypeScript side.
"""
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
torch.manual_seed(0)


def median_timing(fn, warmup, repeats):
    """Median wall seconds and median CPU seconds (user + system of this process)."""
    for _ in range(warmup):
        fn()
    wall = []
    cpu = []
    for _ in range(repeats):
        start = time.perf_counter()
        start_cpu = time.process_time()
        fn()
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start)
    return {"wall": statistics.median(wall), "cpu": statistics.median(cpu)}


def layer_timing(layer, batch, warmup, repeats):
    """Times forward + backward (input and weight gradients) of one layer, channels-first."""
    d, h, w = layer["size"]
    cin, cout = layer["cin"], layer["cout"]
    x = torch.randn(batch, cin, d, h, w, requires_grad=True)
    if layer["kind"] == "transpose":
        weight = torch.randn(cin, cout, 2, 2, 2, requires_grad=True)
        op = lambda: F.conv_transpose3d(x, weight, stride=2)
    else:
        k, stride = layer["kernel"], layer["stride"]
        weight = torch.randn(cout, cin, k, k, k, requires_grad=True)
        op = lambda: F.conv3d(x, weight, stride=stride, padding=k // 2)
    dy = torch.randn_like(op().detach())

    def step():
        x.grad = None
        weight.grad = None
        op().backward(dy)

    return median_timing(step, warmup, repeats)


class ConvNormAct(torch.nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv = torch.nn.Conv3d(cin, cout, 3, stride=stride, padding=1)
        self.norm = torch.nn.InstanceNorm3d(cout, eps=1e-5, affine=True)

    def forward(self, x):
        return F.leaky_relu(self.norm(self.conv(x)), 0.01)


class UNet(torch.nn.Module):
    """Same layers as src/nn/network.ts: two conv-norm-act per stage, strided conv down,
    transposed conv up, concatenated skip, 1x1x1 heads on every decoder stage."""

    def __init__(self, in_channels, classes, features):
        super().__init__()
        self.encoder = torch.nn.ModuleList()
        for i, f in enumerate(features):
            cin = in_channels if i == 0 else features[i - 1]
            self.encoder.append(torch.nn.Sequential(ConvNormAct(cin, f, 1 if i == 0 else 2), ConvNormAct(f, f, 1)))
        self.up = torch.nn.ModuleList()
        self.decoder = torch.nn.ModuleList()
        self.heads = torch.nn.ModuleList()
        for s in range(len(features) - 1):
            f = features[s]
            self.up.append(torch.nn.ConvTranspose3d(features[s + 1], f, 2, stride=2))
            self.decoder.append(torch.nn.Sequential(ConvNormAct(2 * f, f, 1), ConvNormAct(f, f, 1)))
            self.heads.append(torch.nn.Conv3d(f, classes, 1))

    def forward(self, x):
        skips = []
        h = x
        for stage in self.encoder:
            h = stage(h)
            skips.append(h)
        outputs = []
        for s in range(len(self.decoder) - 1, -1, -1):
            h = self.decoder[s](torch.cat([self.up[s](h), skips[s]], 1))
            outputs.insert(0, self.heads[s](h))
        return outputs


def dice_ce(logits, labels, classes):
    one_hot = F.one_hot(labels, classes).permute(0, 4, 1, 2, 3).float()
    ce = F.cross_entropy(logits, labels)
    p = torch.softmax(logits, 1)[:, 1:]
    y = one_hot[:, 1:]
    intersect = (p * y).sum((2, 3, 4))
    dice = (2 * intersect + 1e-5) / torch.clamp(p.sum((2, 3, 4)) + y.sum((2, 3, 4)) + 1e-5, min=1e-8)
    return ce - dice.mean()


def training_step_timing(job):
    net_job = job["network"]
    batch = net_job["batch"]
    d, h, w = net_job["patch"]
    classes = net_job["classes"]
    net = UNet(net_job["inChannels"], classes, net_job["features"])
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.99, nesterov=True, weight_decay=3e-5)
    x = torch.randn(batch, net_job["inChannels"], d, h, w)
    labels = torch.randint(0, classes, (batch, d, h, w))
    weights = net_job["supervisionWeights"]

    def step():
        optimizer.zero_grad()
        outputs = net(x)
        terms = []
        for output, weight in zip(outputs, weights):
            if weight == 0:
                continue
            size = output.shape[2:]
            scaled = F.interpolate(labels[:, None].float(), size=size, mode="nearest-exact")[:, 0].long()
            terms.append(weight * dice_ce(output, scaled, classes))
        loss = sum(terms)
        loss.backward()
        optimizer.step()

    return median_timing(step, job["warmup"], job["stepRepeats"])


def main():
    job = json.load(sys.stdin)
    layers = [layer_timing(layer, job["batch"], job["warmup"], job["repeats"]) for layer in job["layers"]]
    result = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "layers": layers,
        "step": training_step_timing(job),
    }
    # The same step with one thread per core, the setting PyTorch starts with.
    torch.set_num_threads(os.cpu_count() or 1)
    result["stepAllCores"] = training_step_timing(job)
    result["allCoresThreads"] = torch.get_num_threads()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
