#!/usr/bin/python3
"""check_run.py — reads a run folder's traces.h5 with h5py, as a user would,
and checks it against the run's summary.json.

Usage: check_run.py RUN_DIR
Checks: SONATA layout (/spikes/output/{timestamps,node_ids,example_ids}),
dtypes, the `sorting` enum (by_time = 2), `units` = ms, timestamps sorted and
inside each example's window, one output spike per example that spiked,
/rc/t_sp mean equal to summary.json's test.mean_spike_step, /rc accuracy
equal to test.accuracy, root attributes. Prints OK or the problems (exit 1).
"""
import json
import sys

import h5py
import numpy as np

run = sys.argv[1]
problems = []


def check(cond, msg):
    if not cond:
        problems.append(msg)


s = json.load(open(f"{run}/summary.json"))
with h5py.File(f"{run}/traces.h5", "r") as f:
    g = f["spikes/output"]
    ts, ni, ei = g["timestamps"], g["node_ids"], g["example_ids"]
    check(ts.dtype == np.float64, f"timestamps dtype {ts.dtype}")
    check(ni.dtype == np.uint64, f"node_ids dtype {ni.dtype}")
    check(ei.dtype == np.uint64, f"example_ids dtype {ei.dtype}")
    u = ts.attrs["units"]
    check((u.decode() if isinstance(u, bytes) else str(u)) == "ms", f"units {u!r}")
    enum = h5py.check_enum_dtype(g.attrs.get_id("sorting").dtype)
    check(enum == {"none": 0, "by_id": 1, "by_time": 2}, f"sorting enum {enum}")
    check(int(g.attrs["sorting"]) == 2, "sorting is not by_time")
    rc = f["rc"]
    T = int(rc.attrs["T"])
    dt = float(f.attrs["dt_ms"])
    tsp, pred, label, spiked = rc["t_sp"][...], rc["pred"][...], rc["label"][...], rc["spiked"][...]
    check(rc["t_sp"].dtype == np.int32 and rc["spiked"].dtype == np.uint8, "rc dtypes")
    n = s["test"]["examples"]
    check(len(tsp) == n, f"{len(tsp)} rc rows, summary has {n} examples")
    check(len(ni) == int(spiked.sum()), f"{len(ni)} output spikes, {int(spiked.sum())} examples spiked")
    check(abs(tsp.mean() - s["test"]["mean_spike_step"]) < 1e-6,
          f"mean t_sp {tsp.mean()} vs summary {s['test']['mean_spike_step']}")
    check(abs((pred == label).mean() - s["test"]["accuracy"]) < 1e-9, "accuracy differs from summary")
    # Work accounting, hand-derived for an LSTM core with the plain head
    # (H -> K): each computed step costs 4H*H (recurrent) + H*K (head), each
    # input event 4H; a dense full pass reads all nin inputs at all T steps.
    st = s["test"]
    H = int(s["config"]["model"]["hidden"])
    K = 1 if s["config"]["task"]["name"] == "spotting" else 10
    nin = 1 if K == 1 else 784
    rows = st["steps_computed_fraction"] * T
    # Step 0 has h_{-1} = 0: its recurrent product is skipped and not counted.
    want = rows * (4 * H * H + H * K) - 4 * H * H + st["events_per_example"] * 4 * H
    check(abs(st["macs_per_example"] - want) <= 1e-6 * want,
          f"macs_per_example {st['macs_per_example']} vs hand count {want}")
    check(abs(st["macs_dense_full"] - T * (4 * H * (H + nin) + H * K)) < 1e-6, "macs_dense_full")
    check(0 < st["events_per_example"] <= rows, "events_per_example (one input channel)")
    t = ts[...]
    check(bool(np.all(np.diff(t) >= 0)), "timestamps not sorted")
    e = ei[...].astype(np.int64)
    check(bool(np.all((t >= e * T * dt) & (t < (e + 1) * T * dt))), "timestamp outside its example window")
    # Each spike sits at its example's t_sp (0-based step = t_sp - 1), node = pred.
    ids = rc["example_ids"][...] if "example_ids" in rc else np.arange(n)
    pos = {int(x): i for i, x in enumerate(ids)}
    for k in range(min(len(e), 500)):
        i = pos[int(e[k])]
        check(abs(t[k] - (e[k] * T + tsp[i] - 1) * dt) < 1e-9, f"spike {k} time")
        check(int(ni[k]) == int(pred[i]), f"spike {k} node")
    for a in ("rcsim_version", "config", "seed"):
        check(a in f.attrs, f"root attribute {a} missing")
if problems:
    print("\n".join(problems))
    sys.exit(1)
print("OK")
