#!/usr/bin/python3
"""network_scaling_plot.py CSV PNG — fills the strong-scaling speedup and
efficiency columns of bench/network_scaling.sh's csv (in place) and draws
PNG: wall seconds per simulated second and synaptic events per second
against network size, and the strong-scaling efficiency on Brunel.

speedup(P) = sim_s(1 thread) / sim_s(P); efficiency = speedup / P
(simulation time only; build time excluded). Needs matplotlib for the PNG
(the csv is written either way)."""
import csv
import statistics
import os
import sys


def main():
    path, png = sys.argv[1], sys.argv[2]
    with open(path) as f:
        rows = list(csv.DictReader(f))
    fields = list(rows[0].keys()) if rows else []
    strong_all = [r for r in rows if r["experiment"] == "strong"]
    med = {}  # threads -> median sim_s over the repeated runs
    for t in sorted({int(r["threads"]) for r in strong_all}):
        med[t] = statistics.median(float(r["sim_s"]) for r in strong_all if int(r["threads"]) == t)
    for r in strong_all:
        if 1 in med:
            s = med[1] / float(r["sim_s"])
            r["speedup"], r["efficiency"] = "%.3f" % s, "%.3f" % (s / int(r["threads"]))
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    for t, m in med.items():
        runs = " ".join(r["sim_s"] for r in strong_all if int(r["threads"]) == t)
        if 1 in med:
            print("strong scaling, Brunel 12,500: %d thread(s): median sim %.4f s (runs: %s), speedup %.3f, "
                  "efficiency %.3f" % (t, m, runs, med[1] / m, med[1] / m / t))
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("network_scaling_plot: matplotlib missing, no PNG", file=sys.stderr)
        return
    size = [r for r in rows if r["experiment"] == "size"]
    strong = [r for r in rows if r["experiment"] == "strong"]
    fig, ax = plt.subplots(1, 3, figsize=(14, 4))
    n = [int(r["neurons"]) for r in size]
    ax[0].loglog(n, [float(r["wall_per_sim_s"]) for r in size], "o-")
    ax[0].set_xlabel("neurons")
    ax[0].set_ylabel("wall s per simulated s")
    ax[0].set_title("size (threads: %s)" % (size[0]["threads"] if size else "-"))
    for r in size:
        ax[0].annotate("C_E %s\n%.0f Hz" % (r["C_E"], float(r["rate_hz"])), (int(r["neurons"]), float(r["wall_per_sim_s"])),
                       fontsize=7, textcoords="offset points", xytext=(4, -14))
    ax[1].semilogx(n, [float(r["syn_events_per_s"]) for r in size], "o-")
    ax[1].set_xlabel("neurons")
    ax[1].set_ylabel("synaptic events per wall s")
    ax[1].set_title("throughput")
    if 1 in med:  # median efficiency per thread count
        ax[2].bar([str(t) for t in med], [med[1] / m / t for t, m in med.items()])
    ax[2].axhline(0.8, color="gray", linestyle="--", linewidth=1)
    ax[2].set_ylim(0, 1.1)
    ax[2].set_xlabel("threads")
    ax[2].set_ylabel("parallel efficiency")
    ax[2].set_title("strong scaling, Brunel 12,500")
    fig.tight_layout()
    os.makedirs(os.path.dirname(png) or ".", exist_ok=True)
    fig.savefig(png, dpi=120)
    print("network_scaling_plot: wrote %s" % png)


if __name__ == "__main__":
    main()
