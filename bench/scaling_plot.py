#!/usr/bin/python3
"""scaling_plot.py RAW.csv OUTDIR — speedup and parallel efficiency for the
rows bench/scaling.sh measured; writes OUTDIR/scaling.csv and, if matplotlib
is installed, OUTDIR/scaling_{strong,weak,sparse}.png.

strong: speedup = ms(1 thread) / ms(P), efficiency = speedup / P.
weak:   neurons per thread are fixed, but an LSTM or ConvLSTM unit's cost grows
        with the layer's width (every unit reads all of h), so the work per
        thread grows with P. Efficiency is therefore work-normalised:
        GMAC/s(P) / (P * GMAC/s(1)); speedup = P * efficiency (scaled speedup).
sparse: speedup = ms(100 % active) / ms(f); no efficiency.
"""
import csv
import os
import sys


def main():
    raw, out = sys.argv[1], sys.argv[2]
    with open(raw) as f:
        rows = list(csv.DictReader(f))
    base = {}
    for r in rows:
        p, e, m = int(r["threads"]), r["experiment"], r["model"]
        if e in ("strong", "weak") and p == 1:
            base[(e, m)] = r
        if e == "sparse" and float(r["input_active"]) == 1.0:
            base[(e, m)] = r
    for r in rows:
        p, e, m = int(r["threads"]), r["experiment"], r["model"]
        b = base.get((e, m))
        r["speedup"] = r["efficiency"] = ""
        if not b:
            continue
        if e == "strong":
            s = float(b["ms_per_step"]) / float(r["ms_per_step"])
            r["speedup"], r["efficiency"] = "%.3f" % s, "%.3f" % (s / p)
        elif e == "weak":
            eff = float(r["gmac_per_s"]) / (p * float(b["gmac_per_s"]))
            r["speedup"], r["efficiency"] = "%.3f" % (p * eff), "%.3f" % eff
        elif e == "sparse":
            r["speedup"] = "%.3f" % (float(b["ms_per_step"]) / float(r["ms_per_step"]))
    cols = list(rows[0].keys()) if rows else []
    path = os.path.join(out, "scaling.csv")
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        w.writerows(rows)
    print("wrote", path)
    for r in rows:
        if r["efficiency"]:
            print("%-6s %-8s %5s units %2s threads: %9s ms/step, speedup %s, efficiency %s" % (
                r["experiment"], r["model"], r["units"], r["threads"], r["ms_per_step"], r["speedup"],
                r["efficiency"]))
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed (make plot-deps): no PNGs, the CSV has every number")
        return
    for exp, xkey, xlabel, logx in (("strong", "threads", "threads", False),
                                    ("weak", "threads", "threads (neurons per thread fixed)", False),
                                    ("sparse", "input_active", "fraction of inputs active per step", True)):
        sel = [r for r in rows if r["experiment"] == exp]
        if not sel:
            continue
        panels = [("ms_per_step", "ms per step"), ("events_per_s", "input events / s"),
                  ("speedup", "speedup"), ("efficiency", "parallel efficiency")]
        if exp == "sparse":
            panels = panels[:3]
        fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4))
        for ax, (key, label) in zip(axes, panels):
            for m in sorted({r["model"] for r in sel}):
                pts = [(float(r[xkey]), float(r[key])) for r in sel if r["model"] == m and r[key] != ""]
                pts.sort()
                if pts:
                    ax.plot([x for x, _ in pts], [y for _, y in pts], "o-", label=m)
            if key == "speedup" and exp != "sparse":
                xs = sorted({float(r[xkey]) for r in sel})
                ax.plot(xs, xs, "k:", lw=1, label="ideal")
            if key == "efficiency":
                ax.axhline(1.0, color="k", ls=":", lw=1)
                ax.axhline(0.8, color="r", ls=":", lw=1)
            if logx:
                ax.set_xscale("log")
            if key in ("ms_per_step", "events_per_s"):
                ax.set_yscale("log")
            ax.set_xlabel(xlabel)
            ax.set_ylabel(label)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
        fig.suptitle("rcsim %s scaling" % exp if exp != "sparse" else "rcsim input-sparsity sweep")
        fig.tight_layout()
        png = os.path.join(out, "scaling_%s.png" % exp)
        fig.savefig(png, dpi=110)
        plt.close(fig)
        print("wrote", png)


if __name__ == "__main__":
    main()
