#!/usr/bin/python3
"""PyTorch (CPU) peer of rcsim's configs/tmnist_lstm340.cfg, for timing.

The same task and model as rcsim's temporal-MNIST run:

* data: MNIST IDX .gz files; train = the first 55,000 training images, test =
  the official 10,000.
* latency code, T = 10: a pixel v > 0 spikes once, at t = ((255 - v)*T)//255
  clipped to T-1; zero pixels never spike. Each batch becomes a dense float
  tensor x[T, B, 784] (PyTorch has no event-driven input).
* model: nn.LSTM(784, 340) -> nn.Linear(340, 10) -> softmax.
* --mode rc: RC training. The LSTM is stepped one step at a time (nn.LSTMCell
  sharing the nn.LSTM's parameters). An example spikes at the first step where
  max softmax >= theta (0.95); its loss CE(p, y) - beta*H(p) (beta 0.165) is
  taken at that step, or at step T-1 if it never spikes. The per-example terms
  are summed and divided by B, so autograd back-propagates each one from its
  own t_sp. The forward stops when every example of the batch has spiked;
  examples that spiked earlier keep being computed (masked, not compacted).
* --mode eos: loss (the same CE - beta*H, as rcsim's eos mode) at step T-1 for
  all, one nn.LSTM call over the whole sequence.
* --mode infer-rc: the same stepping under inference_mode, stopping when every
  example of the batch has spiked; the answer is the class at the first spike,
  else at the last step.
* --mode infer-full: one nn.LSTM call over all T steps, the answer at T-1.

Adam lr 1e-3. Batch 128 for training, 256 for inference (rcsim's train.batch
and test.batch). Two warm-up batches, then the timed ones; encoding the batch
is inside the timing (rcsim's throughput includes its event generation too).

Prints one line of JSON.
"""
import argparse
import gzip
import json
import os
import struct
import sys
import time

# Debian's torch does its matrix products in OpenBLAS (the pthreads build),
# which keeps its own thread pool, sized to the cores unless told otherwise,
# and torch.set_num_threads does not reach it. Tie it to --threads: this must
# happen before torch loads OpenBLAS. An OPENBLAS_NUM_THREADS already set wins.
if __name__ == "__main__":
    _pre = argparse.ArgumentParser(add_help=False)
    _pre.add_argument("--threads", type=int, default=1)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(_pre.parse_known_args()[0].threads))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

T = 10
NPIX = 784
HIDDEN = 340
NCLASS = 10
THETA = 0.95
BETA = 0.165
LR = 1e-3
NTRAIN = 55000


def read_idx(path):
    """An IDX file (gzip-compressed) as a numpy uint8 array."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if arr.size != int(np.prod(dims)):
        raise ValueError(f"{path}: {arr.size} values, header says {dims}")
    return arr.reshape(dims)


def load_split(data_dir, prefix, n=None):
    img = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"))
    lab = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"))
    img = img.reshape(img.shape[0], -1)
    if n is not None:
        img, lab = img[:n], lab[:n]
    return img, lab


def latency_steps(img):
    """Spike step of every pixel, int64 [B, 784]; silent pixels get T (a
    dummy row that encode() drops)."""
    v = img.astype(np.int64)
    t = np.minimum(((255 - v) * T) // 255, T - 1)
    t[v == 0] = T
    return t


def encode(img):
    """Dense x[T, B, 784] for one batch of uint8 images [B, 784]."""
    st = torch.from_numpy(latency_steps(img))
    x = torch.zeros(T + 1, st.shape[0], NPIX)
    x.scatter_(0, st.unsqueeze(0), 1.0)
    return x[:T]


def blas_threads():
    """Threads of the OpenBLAS that torch loaded (None if not OpenBLAS)."""
    try:
        import ctypes
        return ctypes.CDLL("libopenblas.so.0").openblas_get_num_threads()
    except (OSError, AttributeError):
        return None


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(NPIX, HIDDEN)
        self.fc = nn.Linear(HIDDEN, NCLASS)
        # A cell sharing the LSTM's parameters, for stepping one step at a time.
        self.cell = nn.LSTMCell(NPIX, HIDDEN)
        self.cell.weight_ih = self.lstm.weight_ih_l0
        self.cell.weight_hh = self.lstm.weight_hh_l0
        self.cell.bias_ih = self.lstm.bias_ih_l0
        self.cell.bias_hh = self.lstm.bias_hh_l0


def rc_loss(logits, y):
    """Sum over rows of CE(p, y) - beta * H(p)."""
    lp = F.log_softmax(logits, dim=1)
    ce = F.nll_loss(lp, y, reduction="sum")
    ent = -(lp.exp() * lp).sum()
    return ce - BETA * ent


def rc_forward(net, x, y, train):
    """Step the LSTM until every example has spiked (or T). Returns the summed
    loss (train) or None, the predictions, the 0-based spike steps and the
    number of steps the batch ran."""
    B = x.shape[1]
    h = x.new_zeros(B, HIDDEN)
    c = x.new_zeros(B, HIDDEN)
    spiked = torch.zeros(B, dtype=torch.bool)
    pred = torch.zeros(B, dtype=torch.long)
    tsp = torch.full((B,), T - 1, dtype=torch.long)
    loss = None
    ran = 0
    for t in range(T):
        h, c = net.cell(x[t], (h, c))
        logits = net.fc(h)
        ran = t + 1
        with torch.no_grad():
            pmax, cls = logits.detach().softmax(dim=1).max(dim=1)
            new = ~spiked & (pmax >= THETA) if t < T - 1 else ~spiked
        if new.any():
            idx = new.nonzero().squeeze(1)
            pred[idx] = cls[idx]
            tsp[idx] = t
            spiked |= new
            if train:
                term = rc_loss(logits.index_select(0, idx), y.index_select(0, idx))
                loss = term if loss is None else loss + term
            if bool(spiked.all()):
                break
    return loss, pred, tsp, ran


def rcsim_row(g, u, H, tile=16):
    """rcsim's tiled gate row of gate g, unit u (models/lstm.h)."""
    k = u // tile
    w = min(tile, H - k * tile)
    return 4 * tile * k + g * w + (u - k * tile)


def load_rcsim(net, path):
    """Copies rcsim's kept model (model.h5 /tensors/kept_params) into net.
    Layout (models/net.h): w_ih (nin, 4H) tiled, w_hh (4H tiled, H), b_ih, b_hh
    (4H tiled), then the output layer W (10, H), b (10)."""
    import h5py
    with h5py.File(path, "r") as f:
        p = np.asarray(f["tensors/kept_params"][...], dtype=np.float32)
    H, nin, K = HIDDEN, NPIX, NCLASS
    o = 0
    w_ih = p[o:o + nin * 4 * H].reshape(nin, 4 * H); o += nin * 4 * H
    w_hh = p[o:o + 4 * H * H].reshape(4 * H, H); o += 4 * H * H
    b_ih = p[o:o + 4 * H]; o += 4 * H
    b_hh = p[o:o + 4 * H]; o += 4 * H
    fw = p[o:o + K * H].reshape(K, H); o += K * H
    fb = p[o:o + K]; o += K
    assert o == len(p), f"{path}: {len(p)} parameters, expected {o} (LSTM-{H}, no head)"
    rows = np.array([rcsim_row(g, u, H) for g in range(4) for u in range(H)])
    with torch.no_grad():
        net.lstm.weight_ih_l0.copy_(torch.from_numpy(w_ih[:, rows].T.copy()))
        net.lstm.weight_hh_l0.copy_(torch.from_numpy(w_hh[rows, :].copy()))
        net.lstm.bias_ih_l0.copy_(torch.from_numpy(b_ih[rows].copy()))
        net.lstm.bias_hh_l0.copy_(torch.from_numpy(b_hh[rows].copy()))
        net.fc.weight.copy_(torch.from_numpy(fw.copy()))
        net.fc.bias.copy_(torch.from_numpy(fb.copy()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mode", choices=["rc", "eos", "infer-rc", "infer-full"], required=True)
    ap.add_argument("--examples", type=int, default=None,
                    help="examples to time (default 12800 for training, 10000 for inference)")
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads, and OPENBLAS_NUM_THREADS unless set")
    ap.add_argument("--batch", type=int, default=None, help="default 128 (training), 256 (inference)")
    ap.add_argument("--data-dir", default="../shared/data/mnist")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--save", default=None, help="training modes: write the state_dict here at the end")
    ap.add_argument("--load", default=None, help="start from this state_dict (inference: the model to test)")
    ap.add_argument("--load-rcsim", default=None,
                    help="inference: test rcsim's kept model from this model.h5 (same weights on both sides)")
    a = ap.parse_args()

    train = a.mode in ("rc", "eos")
    N = a.examples if a.examples is not None else (12800 if train else 10000)
    B = a.batch if a.batch is not None else (128 if train else 256)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)

    if train:
        img, lab = load_split(a.data_dir, "train", NTRAIN)
    else:
        img, lab = load_split(a.data_dir, "t10k")
    labels = torch.from_numpy(lab.astype(np.int64))
    n_data = len(lab)

    net = Net()
    if a.load:
        net.load_state_dict(torch.load(a.load))
    if a.load_rcsim:
        load_rcsim(net, a.load_rcsim)
    opt = torch.optim.Adam(net.parameters(), lr=LR) if train else None

    # Batch order: training visits a fresh permutation each epoch (as rcsim
    # does); inference runs the test set in order, wrapping around.
    warm = 2
    nb = (N + B - 1) // B
    order = []
    need = (warm + nb) * B
    while sum(len(o) for o in order) < need:
        order.append(rng.permutation(n_data) if train else np.arange(n_data))
    order = np.concatenate(order)

    losses, correct, counted, sum_tsp, sum_ran = [], 0, 0, 0, 0
    t0 = None
    for b in range(warm + nb):
        if b == warm:
            t0 = time.perf_counter()
        n = B if b < warm or (b - warm + 1) * B <= N else N - (b - warm) * B
        idx = order[b * B:b * B + n]
        x = encode(img[idx])
        y = labels[idx]
        if a.mode == "rc":
            loss, pred, tsp, ran = rc_forward(net, x, y, True)
            loss = loss / n
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        elif a.mode == "eos":
            out, _ = net.lstm(x)
            logits = net.fc(out[-1])
            loss = rc_loss(logits, y) / n
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            pred = logits.detach().argmax(dim=1)
            tsp, ran = torch.full((n,), T - 1), T
        elif a.mode == "infer-rc":
            with torch.inference_mode():
                _, pred, tsp, ran = rc_forward(net, x, y, False)
            loss = None
        else:
            with torch.inference_mode():
                out, _ = net.lstm(x)
                pred = net.fc(out[-1]).argmax(dim=1)
            tsp, ran, loss = torch.full((n,), T - 1), T, None
        if loss is not None:
            losses.append(float(loss))
        if b >= warm:
            correct += int((pred == y).sum())
            counted += n
            sum_tsp += int(tsp.sum()) + n
            sum_ran += ran * n
    wall = time.perf_counter() - t0

    if a.save and train:
        torch.save(net.state_dict(), a.save)
    k = max(1, min(5, len(losses) // 2))
    res = {
        "mode": a.mode,
        "examples_per_s": round(counted / wall, 1),
        "threads": a.threads,
        "torch": torch.__version__,
        "examples": counted,
        "batch": B,
        "wall_s": round(wall, 3),
        "openblas_threads": blas_threads(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "unset"),
        "mean_spike_step": round(sum_tsp / counted, 4),
        "steps_computed_fraction": round(sum_ran / (counted * T), 4),
        "model": a.load if a.load else "untrained",
    }
    if train:
        res["train_accuracy"] = round(correct / counted, 4)
        res["loss_first"] = round(float(np.mean(losses[:k])), 4)
        res["loss_last"] = round(float(np.mean(losses[-k:])), 4)
    else:
        res["accuracy"] = round(correct / counted, 4)
    print(json.dumps(res))


if __name__ == "__main__":
    sys.exit(main())
