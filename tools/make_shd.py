#!/usr/bin/python3
"""make_shd.py — a small synthetic event data set in the layout of the
Spiking Heidelberg Digits (Cramer et al. 2020), for trying task.name = events
without the real files (numpy + h5py only).

    /usr/bin/python3 tools/make_shd.py OUT_train.h5 OUT_test.h5 \
        [--train 400] [--test 200] [--classes 20] [--channels 700] \
        [--duration 1.0] [--seed 1] [--layout shd|flat] [--time-dtype float32|float16]

Layout written (SHD, the default): /spikes/times and /spikes/units, one
variable-length array per example (seconds as float32 or float16, channels as
uint16), /labels (uint16), /extra/keys (class names). --layout flat writes
the flat layout rcsim also reads: /events/times, /events/units,
/events/example, /labels, /extra/keys.

What is in it: class c is a rising ridge of spikes, its channel moving from
c·channels/classes by channels/4 over the example, in 8 bursts whose timing
depends on the class (burst j at (j + 0.5·(c mod 3)/3)·duration/8), with
Gaussian jitter in channel (sd 3 % of the channels) and time (sd 5 ms), plus
uniform background spikes (a fifth of the total). Examples are shuffled, so
the last N of a file are a fair validation set. Speakers, loudness and the
like are not modelled: it is learnable by design, not a benchmark.
"""
import argparse

import h5py
import numpy as np


def example(rng, c, classes, channels, duration):
    t, u = [], []
    lo = c * channels / classes
    for j in range(8):
        t0 = (j + 0.5 * (c % 3) / 3) * duration / 8
        n = rng.poisson(12)
        tj = t0 + rng.normal(0, 0.005, n)
        uj = lo + (tj / duration) * channels / 4 + rng.normal(0, 0.03 * channels, n)
        t.append(tj)
        u.append(uj)
    nb = rng.poisson(24)
    t.append(rng.uniform(0, duration, nb))
    u.append(rng.uniform(0, channels, nb))
    t, u = np.concatenate(t), np.concatenate(u)
    keep = (t >= 0) & (t < duration)
    t, u = t[keep], np.mod(np.floor(u[keep]), channels).astype(np.uint16)
    order = np.argsort(t, kind="stable")
    return t[order], u[order]


def write(path, n, args, rng):
    labels = rng.integers(0, args.classes, n)
    ex = [example(rng, int(c), args.classes, args.channels, args.duration) for c in labels]
    tdt = np.dtype(args.time_dtype)
    keys = np.array([("class %d" % c).encode() for c in range(args.classes)])
    with h5py.File(path, "w") as f:
        if args.layout == "shd":
            ft = f.create_dataset("spikes/times", (n,), dtype=h5py.vlen_dtype(tdt))
            fu = f.create_dataset("spikes/units", (n,), dtype=h5py.vlen_dtype(np.uint16))
            for i, (t, u) in enumerate(ex):
                ft[i] = t.astype(tdt)
                fu[i] = u
        else:
            f["events/times"] = np.concatenate([t for t, _ in ex]).astype(tdt)
            f["events/units"] = np.concatenate([u for _, u in ex])
            f["events/example"] = np.concatenate([np.full(len(t), i, np.int64) for i, (t, _) in enumerate(ex)])
        f["labels"] = labels.astype(np.uint16)
        f["extra/keys"] = keys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("train")
    ap.add_argument("test")
    ap.add_argument("--train-examples", "--train", dest="ntrain", type=int, default=400)
    ap.add_argument("--test-examples", "--test", dest="ntest", type=int, default=200)
    ap.add_argument("--classes", type=int, default=20)
    ap.add_argument("--channels", type=int, default=700)
    ap.add_argument("--duration", type=float, default=1.0, help="seconds")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--layout", choices=["shd", "flat"], default="shd")
    ap.add_argument("--time-dtype", choices=["float32", "float16"], default="float32")
    args = ap.parse_args()
    if args.classes < 2 or args.channels < 1 or args.duration <= 0:
        ap.error("need --classes >= 2, --channels >= 1, --duration > 0")
    rng = np.random.default_rng(args.seed)
    write(args.train, args.ntrain, args, rng)
    write(args.test, args.ntest, args, rng)


if __name__ == "__main__":
    main()
