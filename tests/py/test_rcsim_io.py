"""Named tensors of model.h5 against rcsim's own predictions (issue 16, 2).

Trains a tiny LSTM (with a dense head), a tiny ConvLSTM and two tiny SNNs (conv-pool-fc-fc;
mult reset without biases, RC-trained; subtract reset with biases,
EOS-trained) on generated
MNIST-format images (12x12, 4 classes), runs `rcsim eval` on each, then
re-implements the forward pass in numpy from the tensors tools/rcsim_io.py
loads from /params (names, shapes, gate order and layout attributes only)
and checks, on 100 test examples:
  * the first-spike class and step (traces.h5 /rc pred, t_sp) are rcsim's;
  * the recorded activations (output probabilities; LSTM h; SNN hidden
    potentials) match to 1e-4;
  * SNN: the conv1 spikes of traces.h5 (load_spikes) are numpy's;
then that the same check fails when a tensor is mis-described (gates in
another order, a kernel transposed, fc1's input read channels-last).

An example counts as a match when class and step agree. rcsim sums in
float32 in its own order, numpy in float64: a disagreement is excused only
when numpy saw a decision within 1e-5 of its threshold (printed; none is
expected), and at most 2 per model.

Usage: test_rcsim_io.py RCSIM_BINARY WORKDIR    (exit 0 pass, 1 fail)
"""
import os
import struct
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import rcsim_io  # noqa: E402

N_CHECK = 100
EPS = 1e-5
FAILS = []


def check(ok, msg):
    print(("ok   " if ok else "FAIL ") + msg)
    if not ok:
        FAILS.append(msg)


# ---- data and runs ---------------------------------------------------------

def write_idx(path, arr):
    with open(path, "wb") as f:
        f.write(bytes([0, 0, 8, arr.ndim]))
        for d in arr.shape:
            f.write(struct.pack(">I", d))
        f.write(arr.astype(np.uint8).tobytes())


def make_images(rng, n, off):
    """4 classes: a sparse 6x6 block in one quadrant (jittered), plus noise."""
    lab = (np.arange(n) + off) % 4
    img = np.zeros((n, 12, 12), np.uint8)
    for i in range(n):
        r0 = (lab[i] // 2) * 4 + rng.integers(0, 3)
        c0 = (lab[i] % 2) * 4 + rng.integers(0, 3)
        img[i, r0:r0 + 6, c0:c0 + 6] = rng.integers(20, 200, (6, 6)) * (rng.random((6, 6)) < 0.5)
        m = rng.random((12, 12)) < 0.15
        img[i][m] = rng.integers(20, 200, m.sum())
    return img, lab.astype(np.uint8)


def make_data(d):
    rng = np.random.default_rng(1)
    os.makedirs(d, exist_ok=True)
    a, b = make_images(rng, 400, 0)
    write_idx(f"{d}/train-images-idx3-ubyte", a)
    write_idx(f"{d}/train-labels-idx1-ubyte", b)
    a, b = make_images(rng, 120, 1)
    write_idx(f"{d}/t10k-images-idx3-ubyte", a)
    write_idx(f"{d}/t10k-labels-idx1-ubyte", b)
    return a


COMMON = """[task]
name = tmnist
data_dir = {data}
validation = 40
[train]
select = last
lr = 0.01
batch = 20
val_every = 5
val_size = 40
{train}
[output]
progress = off
{output}
[model]
"""

CONFIGS = {
    "lstm": ("epochs = 4\nthreshold = 0.8", "", "hidden = 20\nhead = 8\n"),
    "convlstm": ("epochs = 4\nthreshold = 0.6", "", "type = convlstm\nchannels = 3\nkernel = 3\n"),
    "snn": ("epochs = 4", "trace_layers = conv1,fc1",
            "type = snn\nlayers = conv8k3p1 pool2 fc32 fc10\nv_th = 0.5\n"),
    "snn_sub_bias": ("epochs = 4\nmode = eos", "trace_layers = conv1",
                     "type = snn\nlayers = conv6k3p0 pool2 fc24 fc10\nv_th = 0.5\ntau = 0.3\n"
                     "reset = subtract\nbias = true\n"),
}


def run(rcsim, *args):
    r = subprocess.run([rcsim, *args], capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stdout, r.stderr)
        raise SystemExit(f"FAIL: rcsim {' '.join(args)} exited {r.returncode}")


def train_and_eval(rcsim, work, name, data):
    train, output, model = CONFIGS[name]
    cfg = f"{work}/{name}.cfg"
    with open(cfg, "w") as f:
        f.write(COMMON.format(data=data, train=train, output=output) + model)
    run(rcsim, "run", cfg, "--out", f"{work}/{name}", "--force", "--threads", "1")
    run(rcsim, "eval", cfg, "--model", f"{work}/{name}/model.h5", "--out", f"{work}/{name}/eval",
        "--threads", "1")
    return f"{work}/{name}/model.h5", f"{work}/{name}/eval/traces.h5"


# ---- numpy forward passes ---------------------------------------------------

def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def lstm_forward(P, gate_order, x, theta):
    """x [T, I]. Returns (pred, tsp 1-based, probs [T, K], h [T, H], margin)."""
    wih, whh = P["lstm/w_ih"].astype(np.float64), P["lstm/w_hh"].astype(np.float64)
    b = P["lstm/b_ih"].astype(np.float64) + P["lstm/b_hh"].astype(np.float64)
    H = whh.shape[1]
    gi = {g: k for k, g in enumerate(gate_order.split(","))}
    heads = sorted(k[:-7] for k in P if k.startswith("head") and k.endswith("/weight"))
    layers = [(P[f"{n}/weight"].astype(np.float64), P[f"{n}/bias"].astype(np.float64)) for n in heads]
    layers.append((P["output/weight"].astype(np.float64), P["output/bias"].astype(np.float64)))
    T = x.shape[0]
    h, c = np.zeros(H), np.zeros(H)
    probs, hs = np.full((T, layers[-1][0].shape[0]), np.nan), np.full((T, H), np.nan)
    th = float(np.float32(theta))
    margin = np.inf
    for t in range(T):
        a = wih @ x[t] + whh @ h + b
        blk = lambda g: a[gi[g] * H:(gi[g] + 1) * H]  # noqa: E731
        sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
        c = sig(blk("f")) * c + sig(blk("i")) * np.tanh(blk("g"))
        h = sig(blk("o")) * np.tanh(c)
        z = h
        for k, (W, bb) in enumerate(layers):
            z = W @ z + bb
            if k < len(layers) - 1:
                z = np.maximum(z, 0)
        p = softmax(z)
        probs[t], hs[t] = p, h
        margin = min(margin, abs(p.max() - th))
        if p.max() >= th:
            return int(np.argmax(p)), t + 1, probs, hs, margin
    return int(np.argmax(p)), T, probs, hs, margin


def convlstm_forward(P, gate_order, x, theta, shape):
    """x [T, pixels] of a one-channel image. Returns (pred, tsp, probs, margin)."""
    wx, wh = P["convlstm/w_x"].astype(np.float64), P["convlstm/w_h"].astype(np.float64)
    b = P["convlstm/b"].astype(np.float64)
    C, pad = wh.shape[1], wh.shape[2] // 2
    gi = {g: k for k, g in enumerate(gate_order.split(","))}
    W, bo = P["output/weight"].astype(np.float64), P["output/bias"].astype(np.float64)
    T = x.shape[0]
    h, c = np.zeros((C, *shape)), np.zeros((C, *shape))
    probs = np.full((T, W.shape[0]), np.nan)
    th = float(np.float32(theta))
    margin = np.inf
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    for t in range(T):
        a = conv2d(x[t].reshape(1, *shape), wx, pad) + conv2d(h, wh, pad) + b[:, None, None]
        blk = lambda g: a[gi[g] * C:(gi[g] + 1) * C]  # noqa: E731
        c = sig(blk("f")) * c + sig(blk("i")) * np.tanh(blk("g"))
        h = sig(blk("o")) * np.tanh(c)
        p = softmax(W @ h.reshape(-1) + bo)
        probs[t] = p
        margin = min(margin, abs(p.max() - th))
        if p.max() >= th:
            return int(np.argmax(p)), t + 1, probs, margin
    return int(np.argmax(p)), T, probs, margin


def test_convlstm(model, traces, imgs):
    P, cfg = rcsim_io.load_model(model)
    A = rcsim_io.load_model_attrs(model)
    rc = rcsim_io.load_predictions(traces)
    T, theta = int(rc["T"]), float(rc["threshold"])
    C, k = int(cfg["model.channels"]), int(cfg["model.kernel"])
    check(P["convlstm/w_x"].shape == (4 * C, 1, k, k) and P["convlstm/w_h"].shape == (4 * C, C, k, k)
          and P["convlstm/b"].shape == (4 * C,) and P["output/weight"].shape == (10, C * imgs[0].size),
          f"convlstm: shapes {[(n, v.shape) for n, v in sorted(P.items())]}")
    order = A["convlstm/w_x"]["gate_order"]
    n = min(N_CHECK, len(rc["pred"]))
    pa, ex = rcsim_io.load_activations(traces, "output")

    def evaluate(P, order):
        res, acts = [], {}
        for i in range(n):
            pred, tsp, probs, margin = convlstm_forward(P, order, rcsim_io.latency_events(imgs[i], T), theta,
                                                        imgs[0].shape)
            res.append((pred, tsp, margin))
            acts[i] = probs
        d = max(np.nanmax(np.abs(pa[j] - acts[int(e)])) for j, e in enumerate(ex) if e < n)
        return res, d
    res, d = evaluate(P, order)
    bad, exc = compare("convlstm", rc, res, n)
    check(not bad and len(exc) <= 2, f"convlstm: first-spike class and step of {n} examples "
          f"({n - len(bad) - len(exc)} equal, {len(exc)} excused, mismatches {bad[:5]}; "
          f"steps {sorted(set(rc['t_sp'][:n]))}, {int(np.sum(rc['spiked'][:n]))} spiked)")
    check(d < 1e-4, f"convlstm: recorded probabilities, max |diff| {d:.2e}")
    P2 = dict(P)
    P2["convlstm/w_h"] = np.ascontiguousarray(P["convlstm/w_h"].transpose(0, 1, 3, 2))
    _, d2 = evaluate(P2, order)
    check(d2 > 1e-4, f"convlstm: a transposed w_h kernel is caught (|diff| {d2:.2e})")


def parse_layers(text):
    out = []
    for tok in text.replace(",", " ").split():
        if tok.startswith("conv"):
            k = tok[4:].split("k")[1]
            out.append(("conv", int(k.split("p")[1]) if "p" in k else 0))
        elif tok.startswith("pool"):
            out.append(("pool", 0))
        else:
            out.append(("fc", 0))
    return out


def conv2d(x, W, pad):
    """x [Cin, H, W], W [Cout, Cin, k, k], stride 1, zero padding."""
    k = W.shape[2]
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))
    Ho, Wo = xp.shape[1] - k + 1, xp.shape[2] - k + 1
    out = np.zeros((W.shape[0], Ho, Wo))
    for dy in range(k):
        for dx in range(k):
            out += np.einsum("oc,chw->ohw", W[:, :, dy, dx], xp[:, dy:dy + Ho, dx:dx + Wo])
    return out


def snn_forward(P, A, layers, x, img_shape):
    """x [T, pixels]. Returns (pred, tsp 1-based, uout [T, K], uhid [T, n],
    conv1 spikes as a set of (step, node id channels-last), margin)."""
    g = A["snn"]
    vth, tau, reset, bias = float(g["v_th"]), float(g["tau"]), g["reset"], float(g["bias"]) != 0
    names, nc, nf = [], 0, 0
    lif = [i for i, (kind, _) in enumerate(layers) if kind != "pool"]
    for i, (kind, _) in enumerate(layers):
        if kind == "conv":
            nc += 1
            names.append(f"snn/conv{nc}")
        elif kind == "fc":
            nf += 1
            names.append("snn/output" if i == lif[-1] else f"snn/fc{nf}")
        else:
            names.append(None)
    W = {n: P[n + "/weight"].astype(np.float64) for n in names if n}
    B = {n: P[n + "/bias"].astype(np.float64) for n in names if n}
    pads = {n: int(A[n + "/weight"]["padding"]) for n in names if n and n.startswith("snn/conv")}
    T = x.shape[0]
    r = {n: None for n in names if n}
    uout, uhid, sp1 = [], [], set()
    margin = np.inf
    pred, tsp = None, None
    for t in range(T):
        cur = x[t].reshape(1, *img_shape).astype(np.float64)
        for i, n in enumerate(names):
            kind = layers[i][0]
            if kind == "pool":
                C, Hh, Ww = cur.shape
                Hh2, Ww2 = Hh // 2, Ww // 2
                cur = cur[:, :2 * Hh2, :2 * Ww2].reshape(C, Hh2, 2, Ww2, 2).mean(axis=(2, 4))
                continue
            I = conv2d(cur, W[n], pads[n]) if kind == "conv" else W[n] @ cur.reshape(-1)
            if bias:
                I = I + (B[n][:, None, None] if kind == "conv" else B[n])
            u = I if r[n] is None else tau * r[n] + I
            o = (u > vth).astype(np.float64)
            margin = min(margin, np.abs(u - vth).min())
            r[n] = u * (1 - o) if reset == "mult" else u - vth * o
            if n == "snn/conv1":
                cc, yy, xx = np.nonzero(o)
                sp1.update((t, (y * o.shape[2] + xc) * o.shape[0] + ch) for ch, y, xc in zip(cc, yy, xx))
            if n == names[lif[-2]]:
                uhid.append(u.reshape(-1).copy())
            if n == names[lif[-1]]:
                uout.append(u.copy())
            cur = o
        if cur.any() and pred is None:
            pred, tsp = int(np.argmax(uout[-1])), t + 1
            break
    if pred is None:
        pred, tsp = int(np.argmax(uout[-1])), T
    return pred, tsp, np.array(uout), np.array(uhid), sp1, margin


# ---- comparisons --------------------------------------------------------------

def compare(name, rc, results, n):
    """results: list of (pred, tsp, margin) for examples 0..n-1."""
    bad, excused = [], []
    for i in range(n):
        pred, tsp, margin = results[i]
        if pred == rc["pred"][i] and tsp == rc["t_sp"][i]:
            continue
        (excused if margin < EPS else bad).append((i, pred, tsp, int(rc["pred"][i]), int(rc["t_sp"][i]), margin))
    for e in excused:
        print(f"     {name}: example {e[0]} excused (decision within {e[5]:.2e} of the threshold)")
    return bad, excused


def test_lstm(model, traces, imgs):
    P, cfg = rcsim_io.load_model(model)
    A = rcsim_io.load_model_attrs(model)
    rc = rcsim_io.load_predictions(traces)
    T, theta = int(rc["T"]), float(rc["threshold"])
    H, I = int(cfg["model.hidden"]), imgs[0].size
    check(P["lstm/w_ih"].shape == (4 * H, I) and P["lstm/w_hh"].shape == (4 * H, H)
          and P["lstm/b_ih"].shape == (4 * H,) and P["head1/weight"].shape == (8, H)
          and P["output/weight"].shape == (10, 8), f"lstm: shapes {[(k, v.shape) for k, v in sorted(P.items())]}")
    order = A["lstm/w_ih"]["gate_order"]
    check(order == "i,f,g,o", f"lstm: gate_order attribute '{order}'")
    n = min(N_CHECK, len(rc["pred"]))

    def evaluate(P, order):
        res, acts = [], {}
        for i in range(n):
            pred, tsp, probs, hs, margin = lstm_forward(P, order, rcsim_io.latency_events(imgs[i], T), theta)
            res.append((pred, tsp, margin))
            acts[i] = (probs, hs)
        return res, acts
    res, acts = evaluate(P, order)
    bad, exc = compare("lstm", rc, res, n)
    check(not bad and len(exc) <= 2, f"lstm: first-spike class and step of {n} examples "
          f"({n - len(bad) - len(exc)} equal, {len(exc)} excused, mismatches {bad[:5]})")
    spiked = int(np.sum(rc["spiked"][:n]))
    check(0 < spiked < n and len(set(rc["t_sp"][:n])) >= 3,
          f"lstm: the examples exercise the rule ({spiked} of {n} spiked, steps {sorted(set(rc['t_sp'][:n]))})")
    pa, ex = rcsim_io.load_activations(traces, "output")
    ha, ex2 = rcsim_io.load_activations(traces, "lstm")
    d = max(np.nanmax(np.abs(pa[j] - acts[int(e)][0])) for j, e in enumerate(ex) if e < n)
    dh = max(np.nanmax(np.abs(ha[j] - acts[int(e)][1])) for j, e in enumerate(ex2) if e < n)
    check(d < 1e-4 and dh < 1e-4, f"lstm: recorded probabilities and h of {len(ex)} examples, max |diff| {d:.2e}, {dh:.2e}")
    # Mis-described: the gates read in another order.
    res2, acts2 = evaluate(P, "f,i,g,o")
    bad2, _ = compare("lstm(f,i,g,o)", rc, res2, n)
    d2 = max(np.nanmax(np.abs(pa[j] - acts2[int(e)][0])) for j, e in enumerate(ex) if e < n)
    check(len(bad2) > 0 or d2 > 1e-3, f"lstm: gate order f,i,g,o is caught ({len(bad2)} mismatches, |diff| {d2:.2e})")
    P3 = dict(P)
    P3["lstm/w_ih"] = P["lstm/w_ih"].reshape(I, 4 * H).T  # (I, 4H) storage read as if it were [4H, I]
    res3, acts3 = evaluate(P3, order)
    d3 = max(np.nanmax(np.abs(pa[j] - acts3[int(e)][0])) for j, e in enumerate(ex) if e < n)
    check(d3 > 1e-3, f"lstm: w_ih described as (I, 4H) storage is caught (|diff| {d3:.2e})")


def test_snn(name, model, traces, imgs):
    P, cfg = rcsim_io.load_model(model)
    A = rcsim_io.load_model_attrs(model)
    rc = rcsim_io.load_predictions(traces)
    T = int(rc["T"])
    layers = parse_layers(cfg["model.layers"])
    n = min(N_CHECK, len(rc["pred"]))
    shape = imgs[0].shape
    w1 = P["snn/conv1/weight"]
    check(w1.ndim == 4 and w1.shape[1] == 1 and w1.shape[2] == w1.shape[3] == 3,
          f"{name}: conv1 weight [Cout, Cin, k, k] = {w1.shape}")
    sp_t, sp_id, sp_ex = rcsim_io.load_spikes(traces, "conv1", steps=True)

    def evaluate(P):
        res, ua, spikes = [], {}, set()
        for i in range(n):
            pred, tsp, uo, uh, sp1, margin = snn_forward(P, A, layers, rcsim_io.latency_events(imgs[i], T), shape)
            res.append((pred, tsp, margin))
            ua[i] = (uo, uh)
            spikes.update((i, t, j) for t, j in sp1)
        return res, ua, spikes
    res, ua, spikes = evaluate(P)
    bad, exc = compare(name, rc, res, n)
    check(not bad and len(exc) <= 2, f"{name}: first-spike class and step of {n} examples "
          f"({n - len(bad) - len(exc)} equal, {len(exc)} excused, mismatches {bad[:5]})")
    check(len(set(rc["pred"][:n])) >= 2, f"{name}: predictions vary ({sorted(set(rc['pred'][:n]))}, steps "
          f"{sorted(set(rc['t_sp'][:n]))}, {int(np.sum(rc['spiked'][:n]))} spiked)")
    pa, ex = rcsim_io.load_activations(traces, "output")
    ha, _ = rcsim_io.load_activations(traces, "hidden")
    d = dh = 0.0
    for j, e in enumerate(ex):
        if e >= n or any(b[0] == e for b in exc):
            continue
        uo, uh = ua[int(e)]
        k = len(uo)
        d = max(d, np.abs(pa[j, :k] - np.array([softmax(u) for u in uo])).max())
        dh = max(dh, np.abs(ha[j, :k] - uh).max())
    check(d < 1e-4 and dh < 1e-4, f"{name}: recorded output softmax and hidden potentials, max |diff| {d:.2e}, {dh:.2e}")
    got = {(int(e), int(t), int(i)) for t, i, e in zip(sp_t, sp_id, sp_ex) if e < n}
    check(got == spikes and len(got) > 0,
          f"{name}: conv1 spikes from load_spikes equal numpy's ({len(got)} vs {len(spikes)})")
    # Mis-described: kernel transposed; fc1's input read channels-last.
    P2 = dict(P)
    P2["snn/conv1/weight"] = np.ascontiguousarray(P["snn/conv1/weight"].transpose(0, 1, 3, 2))
    _, _, sp2 = evaluate(P2)
    check(sp2 != spikes, f"{name}: a transposed conv1 kernel is caught")
    fc = "snn/fc1/weight"
    C = P["snn/conv1/weight"].shape[0]
    P3 = dict(P)
    nin = P[fc].shape[1]
    hw = nin // C
    P3[fc] = np.ascontiguousarray(P[fc].reshape(-1, hw, C).transpose(0, 2, 1).reshape(-1, nin))
    res3, ua3, _ = evaluate(P3)
    bad3, _ = compare(name + "(fc1 channels-last)", rc, res3, n)
    dd = max(np.abs(ua3[i][1][:min(len(ua3[i][1]), len(ua[i][1]))] - ua[i][1][:min(len(ua3[i][1]), len(ua[i][1]))]).max()
             for i in range(n))
    check(len(bad3) > 0 or dd > 1e-3, f"{name}: fc1 input order (y, x, c) is caught ({len(bad3)} mismatches)")


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    rcsim, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    imgs = make_data(f"{work}/mn")
    m, tr = train_and_eval(rcsim, work, "lstm", f"{work}/mn")
    test_lstm(m, tr, imgs)
    m, tr = train_and_eval(rcsim, work, "convlstm", f"{work}/mn")
    test_convlstm(m, tr, imgs)
    for name in ("snn", "snn_sub_bias"):
        m, tr = train_and_eval(rcsim, work, name, f"{work}/mn")
        test_snn(name, m, tr, imgs)
    if FAILS:
        print(f"{len(FAILS)} check(s) failed")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
