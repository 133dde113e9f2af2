#!/usr/bin/python3
"""nir_forward.py NIR IMAGES_IDX T TRACES — an independent reading of a NIR
file: numpy simulates the graph as NIR defines it (each LIF node's ODE
tau*dv/dt = (v_leak - v) + r*I stepped by forward Euler with the dt of
/node/metadata, spike when v > v_threshold, then v <- v_reset, or v - V_th
when metadata/reset_mode = subtract; Conv2d as PyTorch's cross-correlation;
AvgPool2d; Flatten in C, H, W order; Affine/Linear) in float64 on the first
examples of an MNIST-format image file, latency-coded as rcsim's encoder
does (pixel v > 0 spikes once at step ((255 - v)*T)//255, clipped to T-1),
and reads the answer as rcsim's rank coding does (first step with an output
spike; the class with the largest potential; without a spike, argmax at
T-1). Compares with rcsim's traces.h5 (rc/pred, rc/t_sp: steps used, the
0-based spike step + 1; rc/spiked) and
exits 1 unless at least 98 % of the examples agree on all three (float64
against rcsim's float32 may flip a potential that sits on the threshold).
A wrong weight layout or τ convention in the file agrees on few."""
import struct
import sys

import h5py
import numpy as np


def s(v):
    return v.decode("utf8") if isinstance(v, bytes) else str(v)


def conv2d(x, w, b, pad):
    c, h, wd = x.shape
    co, ci, k, _ = w.shape
    xp = np.zeros((c, h + 2 * pad, wd + 2 * pad))
    xp[:, pad:pad + h, pad:pad + wd] = x
    ho, wo = h + 2 * pad - k + 1, wd + 2 * pad - k + 1
    out = np.zeros((co, ho, wo))
    for dy in range(k):
        for dx in range(k):
            out += np.einsum("oc,chw->ohw", w[:, :, dy, dx], xp[:, dy:dy + ho, dx:dx + wo])
    return out + b[:, None, None]


def main():
    path, images, T, traces = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    f = h5py.File(path, "r")
    node, nodes = f["node"], f["node/nodes"]
    meta = node["metadata"] if "metadata" in node else {}
    dt = float(meta["dt"][()]) if "dt" in meta else 1e-4
    sub = "reset_mode" in meta and s(meta["reset_mode"][()]) == "subtract"
    edges = [(s(a), s(b)) for a, b in node["edges"][()]]
    nxt = dict(edges)
    chain, cur = [], [n for n in nodes if s(nodes[n]["type"][()]) == "Input"][0]
    while cur in nxt:
        cur = nxt[cur]
        chain.append((cur, s(nodes[cur]["type"][()]), nodes[cur]))
    tr = h5py.File(traces, "r")
    want_pred, want_tsp, want_sp = tr["rc/pred"][()], tr["rc/t_sp"][()], tr["rc/spiked"][()]
    n = len(want_pred)
    with open(images, "rb") as fi:
        _, cnt, H, W = struct.unpack(">IIII", fi.read(16))
        pix = np.frombuffer(fi.read(n * H * W), dtype=np.uint8).reshape(n, H, W).astype(int)
    agree = 0
    for e in range(n):
        step = np.minimum(((255 - pix[e]) * T) // 255, T - 1)
        state = {}
        tsp, pred, spiked = T - 1, None, 0
        for t in range(T):
            x = ((pix[e] > 0) & (step == t)).astype(float)[None]
            for name, typ, g in chain:
                if typ == "Conv2d":
                    x = conv2d(x, g["weight"][()].astype(np.float64), g["bias"][()].astype(np.float64), int(g["padding"][()][0]))
                elif typ in ("Affine", "Linear"):
                    x = g["weight"][()].astype(np.float64) @ x + (g["bias"][()] if typ == "Affine" else 0)
                elif typ == "AvgPool2d":
                    c, h, w = x.shape
                    x = x[:, :h // 2 * 2, :w // 2 * 2].reshape(c, h // 2, 2, w // 2, 2).mean(axis=(2, 4))
                elif typ == "Flatten":
                    x = x.reshape(-1)
                elif typ == "LIF":
                    tau, r, vl, vth, vr = (g[k][()] for k in ("tau", "r", "v_leak", "v_threshold", "v_reset"))
                    v = state.get(name, np.zeros_like(tau))
                    v = v + dt / tau * (vl - v + r * x)
                    z = v > vth
                    state[name + "_pre"] = v.copy()
                    state[name] = np.where(z, v - vth, v) if sub else np.where(z, vr, v)
                    x = z.astype(float)
                elif typ == "Output":
                    pass
            last_lif = [nm for nm, ty, _ in chain if ty == "LIF"][-1]
            if x.any():
                tsp, pred, spiked = t, int(np.argmax(state[last_lif + "_pre"])), 1
                break
        if pred is None:
            pred = int(np.argmax(state[last_lif + "_pre"]))
        agree += pred == want_pred[e] and tsp + 1 == want_tsp[e] and spiked == want_sp[e]
    print("nir_forward: %s: %d of %d examples as rcsim (pred, t_sp, spiked)" % (path, agree, n))
    sys.exit(0 if agree >= 0.98 * n else 1)


main()
