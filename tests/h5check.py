#!/usr/bin/python3
"""h5check.py — reads an rcsim traces file with h5py, as a third-party reader
would, and checks it against the expectations in a JSON file written by
tests/test_traces.c.

Why a second reader: the C test proves the file says what we wrote; this
proves that h5py/numpy (what users open traces with) see the SONATA layout,
the dtypes, the `sorting` enum, the units and the same numbers.

Usage: h5check.py TRACES.h5 EXPECTED.json
Prints OK and exits 0, or prints every mismatch and exits 1.
"""
import json
import sys

import h5py
import numpy as np

problems = []


def check(cond, msg):
    if not cond:
        problems.append(msg)
    return cond


def text(v):
    """Attribute strings come back as bytes (fixed-length) or str (variable)."""
    if isinstance(v, np.ndarray) and v.shape == ():
        v = v[()]
    return v.decode("utf-8") if isinstance(v, (bytes, np.bytes_)) else str(v)


def check_dtype(ds, want, where):
    check(ds.dtype == np.dtype(want), f"{where}: dtype {ds.dtype}, expected {want}")


def check_population(f, name, exp, T, dt):
    where = f"/spikes/{name}"
    if not check(where in f, f"{where}: missing"):
        return
    g = f[where]
    for k in ("timestamps", "node_ids", "example_ids"):
        if not check(k in g, f"{where}/{k}: missing"):
            return
    ts, nodes, ex = g["timestamps"], g["node_ids"], g["example_ids"]
    check_dtype(ts, "<f8", f"{where}/timestamps")
    check_dtype(nodes, "<u8", f"{where}/node_ids")
    check_dtype(ex, "<u8", f"{where}/example_ids")
    for ds in (ts, nodes, ex):
        check(ds.ndim == 1 and ds.shape[0] == exp["n"], f"{ds.name}: shape {ds.shape}, expected ({exp['n']},)")
        check(ds.maxshape == (None,), f"{ds.name}: maxshape {ds.maxshape}, expected unlimited")
        check(ds.compression == "gzip" and ds.compression_opts == 4,
              f"{ds.name}: compression {ds.compression} {ds.compression_opts}, expected gzip 4")
    check(text(ts.attrs.get("units", b"")) == "ms", f"{where}/timestamps: units {ts.attrs.get('units')!r}")

    sid = g.attrs.get_id("sorting") if "sorting" in g.attrs else None
    if check(sid is not None, f"{where}: no sorting attribute"):
        members = h5py.check_enum_dtype(sid.dtype)
        check(members == {"none": 0, "by_id": 1, "by_time": 2}, f"{where}: sorting enum {members}")
        check(sid.dtype == np.dtype("u1"), f"{where}: sorting base type {sid.dtype}, expected uint8")
        check(int(g.attrs["sorting"]) == 2, f"{where}: sorting = {g.attrs['sorting']}, expected 2 (by_time)")

    t, n, e = ts[()], nodes[()], ex[()]
    check(len(t) == exp["n"], f"{where}: {len(t)} spikes, expected {exp['n']}")
    if len(t) != exp["n"]:
        return
    check(bool(np.all(np.diff(t) >= 0)), f"{where}: timestamps not sorted by time")
    check(bool(np.all(np.diff(e.astype(np.int64)) >= 0)), f"{where}: example_ids not non-decreasing")
    # Each timestamp is (example_id*T + step)*dt with 0 <= step < T, exactly.
    k = np.rint(t / dt).astype(np.uint64)
    check(bool(np.all(k.astype(np.float64) * dt == t)), f"{where}: timestamps not whole steps of dt")
    step = k.astype(np.int64) - e.astype(np.int64) * T
    check(bool(np.all((step >= 0) & (step < T))), f"{where}: timestamp outside its example's window")
    check(int(n.sum(dtype=np.uint64)) == exp["node_ids_sum"],
          f"{where}: node_ids sum {int(n.sum(dtype=np.uint64))}, expected {exp['node_ids_sum']}")
    check(int(e.sum(dtype=np.uint64)) == exp["example_ids_sum"],
          f"{where}: example_ids sum {int(e.sum(dtype=np.uint64))}, expected {exp['example_ids_sum']}")
    check(int(step.sum()) == exp["steps_sum"], f"{where}: steps sum {int(step.sum())}, expected {exp['steps_sum']}")
    if exp["n"]:
        check([int(e[0]), int(step[0]), int(n[0])] == exp["first"],
              f"{where}: first spike {[int(e[0]), int(step[0]), int(n[0])]}, expected {exp['first']}")
        check([int(e[-1]), int(step[-1]), int(n[-1])] == exp["last"],
              f"{where}: last spike {[int(e[-1]), int(step[-1]), int(n[-1])]}, expected {exp['last']}")


def main():
    if len(sys.argv) != 3:
        print("usage: h5check.py TRACES.h5 EXPECTED.json", file=sys.stderr)
        return 2
    with open(sys.argv[2]) as fh:
        exp = json.load(fh)
    T, dt = exp["T"], exp["dt_ms"]
    with h5py.File(sys.argv[1], "r") as f:
        a = f.attrs
        check(text(a.get("rcsim_version", b"")) == exp["version"], f"/: rcsim_version {a.get('rcsim_version')!r}")
        check(text(a.get("git_revision", b"")) == exp["git_revision"], f"/: git_revision {a.get('git_revision')!r}")
        check(text(a.get("config", b"")) == exp["config"], "/: config text differs")
        check(a.get("seed") is not None and a["seed"].dtype == np.uint64 and int(a["seed"]) == exp["seed"],
              f"/: seed {a.get('seed')!r}, expected uint64 {exp['seed']}")
        check(a.get("dt_ms") is not None and a["dt_ms"].dtype == np.float64 and float(a["dt_ms"]) == dt,
              f"/: dt_ms {a.get('dt_ms')!r}")

        pops = exp["populations"]
        check("spikes" in f and sorted(f["spikes"].keys()) == sorted(pops),
              f"/spikes: populations {sorted(f['spikes'].keys()) if 'spikes' in f else None}, expected {sorted(pops)}")
        for name, pe in pops.items():
            check_population(f, name, pe, T, dt)

        if check("rc" in f, "/rc: missing"):
            rc = f["rc"]
            ra = rc.attrs
            check(float(ra["threshold"]) == exp["threshold"] and ra["threshold"].dtype == np.float64, "/rc: threshold")
            check(float(ra["beta"]) == exp["beta"] and ra["beta"].dtype == np.float64, "/rc: beta")
            check(text(ra["mode"]) == exp["mode"], f"/rc: mode {ra['mode']!r}")
            check(int(ra["T"]) == T and ra["T"].dtype == np.int32, f"/rc: T {ra['T']!r}")
            ee = exp["examples"]
            cols = {"t_sp": "<i4", "pred": "<i4", "label": "<i4", "spiked": "u1", "example_ids": "<u8"}
            data = {}
            for k, dt_ in cols.items():
                if check(k in rc, f"/rc/{k}: missing"):
                    check_dtype(rc[k], dt_, f"/rc/{k}")
                    data[k] = rc[k][()]
                    check(data[k].shape == (ee["n"],), f"/rc/{k}: shape {data[k].shape}, expected ({ee['n']},)")
            if len(data) == len(cols) and all(v.shape == (ee["n"],) for v in data.values()):
                for k in cols:
                    s = int(data[k].astype(np.int64).sum())
                    check(s == ee["sums"][k], f"/rc/{k}: sum {s}, expected {ee['sums'][k]}")
                if ee["n"]:
                    first = [int(data[k][0]) for k in cols]
                    last = [int(data[k][-1]) for k in cols]
                    check(first == ee["first"], f"/rc: first row {first}, expected {ee['first']}")
                    check(last == ee["last"], f"/rc: last row {last}, expected {ee['last']}")
                check(bool(np.all(np.diff(data["example_ids"].astype(np.int64)) > 0)), "/rc/example_ids not increasing")

        acts = exp["activations"]
        check("activations" in f, "/activations: missing")
        if "activations" in f:
            want = sorted(list(acts) + [k + "_example_ids" for k in acts])
            check(sorted(f["activations"].keys()) == want,
                  f"/activations: {sorted(f['activations'].keys())}, expected {want}")
        for layer, ae in acts.items():
            where = f"/activations/{layer}"
            if not check(where in f and where + "_example_ids" in f, f"{where}: missing"):
                continue
            ds = f[where]
            check_dtype(ds, "<f4", where)
            check(list(ds.shape) == ae["shape"], f"{where}: shape {ds.shape}, expected {ae['shape']}")
            check(ds.chunks == (1, ae["shape"][1], ae["shape"][2]), f"{where}: chunks {ds.chunks}")
            ids = f[where + "_example_ids"]
            check_dtype(ids, "<u8", where + "_example_ids")
            check([int(x) for x in ids[()]] == ae["example_ids"], f"{where}_example_ids: {ids[()]}")
            if list(ds.shape) != ae["shape"]:
                continue
            v = ds[()]
            check(int(np.isnan(v).sum()) == ae["nan_count"], f"{where}: {int(np.isnan(v).sum())} NaN, expected {ae['nan_count']}")
            for e, t, u, val in ae["probes"]:
                got = v[e, t, u]
                if val is None:
                    check(bool(np.isnan(got)), f"{where}[{e},{t},{u}] = {got}, expected NaN")
                else:
                    check(got == np.float32(val), f"{where}[{e},{t},{u}] = {got!r}, expected {np.float32(val)!r}")

    if problems:
        for p in problems:
            print("h5check: " + sys.argv[1] + ": " + p, file=sys.stderr)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
