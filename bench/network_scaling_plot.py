#!/usr/bin/python3
"""network_scaling_plot.py CSV PNG — fills the strong-scaling speedup and
efficiency columns of bench/network_scaling.sh's csv (in place) and draws
PNG: wall seconds per simulated second and synaptic events per second
against network size, and the strong-scaling efficiency on Brunel.

speedup(P) = sim_s(1 thread) / sim_s(P); efficiency = speedup / P
(simulation time only; build time excluded). Needs matplotlib for the PNG
(the csv is written either way)."""
import csv
import os
import sys


def main():
    path, png = sys.argv[1], sys.argv[2]
    with open(path) as f:
        rows = list(csv.DictReader(f))
    fields = list(rows[0].keys()) if rows else []
    base = [r for r in rows if r["experiment"] == "strong" and int(r["threads"]) == 1]
    for r in rows:
        if r["experiment"] == "strong" and base:
            s = float(base[0]["sim_s"]) / float(r["sim_s"])
            r["speedup"], r["efficiency"] = "%.3f" % s, "%.3f" % (s / int(r["threads"]))
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    for r in rows:
        if r["experiment"] == "strong":
            print("strong scaling, Brunel 12,500: %s thread(s): sim %s s, speedup %s, efficiency %s"
                  % (r["threads"], r["sim_s"], r["speedup"], r["efficiency"]))
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
    t = [int(r["threads"]) for r in strong]
    ax[2].bar([str(x) for x in t], [float(r["efficiency"] or 0) for r in strong])
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
