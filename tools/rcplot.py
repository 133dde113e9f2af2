#!/usr/bin/python3
"""rcplot.py — the paper's figures from an rcsim run folder.

    tools/rcplot.py RUN_DIR [--examples N]
    tools/rcplot.py --compare OUT.png LABEL=TRADEOFF.csv LABEL=TRADEOFF.csv ...
    tools/rcplot.py --compare-training OUT.png LABEL=RUN_DIR LABEL=RUN_DIR ...

Writes into RUN_DIR:
  fig_spikes.png    (a) Fig. 1-style panels from traces.h5: labels, first
                    output spikes coloured by class (grey = no spike), and
                    the output activations of the traced examples until their
                    first spike (after it too if the run traced that);
  fig_spike_time.png (b) the spike-time distribution over training, from
                    metrics.csv (validation quantiles p10/p50/p90 and mean;
                    Figs. 2B, 4C);
  fig_tradeoff.png  (c) the speed-accuracy trade-off from tradeoff.csv
                    (written by `rcsim eval`; Figs. 5, 6B). Skipped with a
                    message if the folder has no tradeoff.csv.
--compare overlays the trade-off curves of several models (e.g. an RC model
and its EOS twin, as the paper's Figs. 6B and 10) in one PNG. --compare-training draws, from each run's metrics.csv, the
validation mean first-spike step and the accuracy at the first spike over
training (the paper's Fig. 9 A and B).
Needs python3-h5py, python3-numpy, python3-matplotlib (`make plot-deps`).
"""
import argparse
import csv
import os
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import h5py  # noqa: E402


def fig_spikes(run, nshow):
    path = os.path.join(run, "traces.h5")
    with h5py.File(path, "r") as f:
        rc = f["rc"]
        T = int(rc.attrs["T"])
        tsp = rc["t_sp"][:nshow]          # 1-based
        pred = rc["pred"][:nshow]
        label = rc["label"][:nshow]
        spiked = rc["spiked"][:nshow].astype(bool)
        act = None
        if "activations" in f and "output" in f["activations"]:
            act = f["activations"]["output"][...]          # (examples, T, K)
            act_ids = f["activations"]["output_example_ids"][...]
    n = len(tsp)
    classes = max(int(label.max()) + 1, 2)
    cmap = plt.get_cmap("tab10")
    binary = classes == 2 and (act is None or act.shape[2] == 1)

    def colour(c):
        if binary:
            return "tab:blue" if c == 1 else "tab:red"
        return cmap(c % 10)

    fig, axes = plt.subplots(1, 3, figsize=(13, max(3, 0.18 * n + 1.5)),
                             gridspec_kw={"width_ratios": [1, 4, 4]})
    ax = axes[0]
    for i in range(n):
        ax.barh(i, 1, color=colour(label[i]))
    ax.set_title("label")
    ax.set_xticks([])
    ax.set_ylabel("example")
    ax.set_ylim(n - 0.5, -0.5)
    ax = axes[1]
    for i in range(n):
        if spiked[i]:
            ax.scatter(tsp[i], i, color=colour(pred[i]), s=25, marker="|", linewidths=3)
        else:
            ax.scatter(T, i, color="grey", s=25, marker="|", linewidths=3)
    ax.set_xlim(0.5, T + 0.5)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xlabel("step (1-based)")
    ax.set_title("first output spike (grey: none)")
    ax = axes[2]
    if act is not None and len(act):
        if act.shape[2] == 1:
            img = act[:, :, 0]
            ax.imshow(img, aspect="auto", cmap="coolwarm_r", vmin=0, vmax=1,
                      extent=(0.5, T + 0.5, len(img) - 0.5, -0.5))
            ax.set_title("output activation (blue: positive)")
        else:
            img = np.nanmax(act, axis=2)
            ax.imshow(img, aspect="auto", cmap="viridis", vmin=0, vmax=1,
                      extent=(0.5, T + 0.5, len(img) - 0.5, -0.5))
            ax.set_title("max output probability")
        ax.set_yticks(range(len(act_ids)))
        ax.set_yticklabels([str(int(i)) for i in act_ids], fontsize=6)
        ax.set_xlabel("step (1-based); blank = not computed")
    else:
        ax.text(0.5, 0.5, "no activations traced", ha="center")
    return save(fig, os.path.join(run, "fig_spikes.png"))


def save(fig, out):
    """Lays out, writes and closes fig; returns out."""
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def read_csv(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    return rows


def fig_spike_time(run):
    rows = read_csv(os.path.join(run, "metrics.csv"))
    ex = np.array([float(r["examples"]) for r in rows])
    p10 = np.array([float(r["val_spike_step_p10"]) for r in rows])
    p50 = np.array([float(r["val_spike_step_p50"]) for r in rows])
    p90 = np.array([float(r["val_spike_step_p90"]) for r in rows])
    mean = np.array([float(r["val_mean_spike_step"]) for r in rows])
    acc = np.array([float(r["val_accuracy"]) for r in rows])
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.fill_between(ex, p10, p90, alpha=0.3, label="p10-p90")
    ax.plot(ex, p50, label="median")
    ax.plot(ex, mean, "--", label="mean")
    ax.set_xlabel("training examples")
    ax.set_ylabel("validation first-spike step")
    ax2 = ax.twinx()
    ax2.plot(ex, acc, color="black", alpha=0.4, lw=0.8, label="val accuracy")
    ax2.set_ylabel("validation accuracy (RC)")
    ax.legend(loc="upper right")
    ax.set_title("spike time over training")
    return save(fig, os.path.join(run, "fig_spike_time.png"))


def read_tradeoff(path):
    """threshold, accuracy and mean_spike_step columns of an `rcsim eval` tradeoff.csv."""
    rows = read_csv(path)
    cols = ("threshold", "accuracy", "mean_spike_step")
    for key in cols:
        if not rows or key not in rows[0]:
            sys.exit(f"rcplot: {path}: no '{key}' column; expected a tradeoff.csv from `rcsim eval`")
    return tuple([float(r[k]) for r in rows] for k in cols)


def fig_tradeoff(run):
    path = os.path.join(run, "tradeoff.csv")
    if not os.path.exists(path):  # `rcsim eval` writes into RUN/eval by default
        path = os.path.join(run, "eval", "tradeoff.csv")
    if not os.path.exists(path):
        print(f"rcplot: {path} not found (run `rcsim eval --model {run}/model.h5` first); trade-off plot skipped")
        return None
    th, acc, st = read_tradeoff(path)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(st, acc, "o-")
    for x, y, t in zip(st, acc, th):
        ax.annotate(f"θ={t:g}", (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel("mean first-spike step")
    ax.set_ylabel("accuracy (RC-inference)")
    ax.set_title("speed-accuracy trade-off")
    return save(fig, os.path.join(run, "fig_tradeoff.png"))


def fig_compare(out, specs, title):
    fig, ax = plt.subplots(figsize=(6, 4))
    for spec in specs:
        label, sep, path = spec.partition("=")
        if not sep or not path:
            sys.exit(f"rcplot: --compare: '{spec}': expected LABEL=TRADEOFF.csv")
        if not os.path.exists(path):
            sys.exit(f"rcplot: {path}: not found (run `rcsim eval` first)")
        th, acc, st = read_tradeoff(path)
        line, = ax.plot(st, acc, "o-", label=label)
        for x, y, t in zip(st, acc, th):
            ax.annotate(f"{t:g}", (x, y), fontsize=6, xytext=(3, -8), textcoords="offset points",
                        color=line.get_color())
    ax.set_xlabel("mean first-spike step")
    ax.set_ylabel("accuracy (RC-inference)")
    ax.set_title(title)
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    return save(fig, out)


def fig_compare_training(out, specs, title):
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for spec in specs:
        label, sep, run = spec.partition("=")
        path = os.path.join(run, "metrics.csv")
        if not sep or not run:
            sys.exit(f"rcplot: --compare-training: '{spec}': expected LABEL=RUN_DIR")
        if not os.path.exists(path):
            sys.exit(f"rcplot: {path}: not found (expected a run folder of `rcsim run`)")
        rows = read_csv(path)
        if not rows or "val_mean_spike_step" not in rows[0]:
            sys.exit(f"rcplot: {path}: no validation columns")
        ex = [float(r["examples"]) for r in rows]
        ax1.plot(ex, [float(r["val_mean_spike_step"]) for r in rows], label=label)
        ax2.plot(ex, [float(r["val_accuracy"]) for r in rows], label=label)
    ax1.set_xlabel("training examples")
    ax1.set_ylabel("validation mean first-spike step")
    ax1.set_title("A. first-spike time")
    ax2.set_xlabel("training examples")
    ax2.set_ylabel("validation accuracy at the first spike")
    ax2.set_title("B. accuracy at the first spike")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    return save(fig, out)


# The comparison modes: flag -> (description, default title, item name, figure).
COMPARE_MODES = {
    "--compare-training": ("spike time and accuracy over training, several runs", "",
                           "LABEL=RUN_DIR", fig_compare_training),
    "--compare": ("overlay trade-off curves", "speed-accuracy trade-off (labels: threshold)",
                  "LABEL=TRADEOFF.csv", fig_compare),
}


def main():
    mode = COMPARE_MODES.get(sys.argv[1]) if len(sys.argv) > 1 else None
    if mode:
        desc, title, item, fig = mode
        ap = argparse.ArgumentParser(description=desc)
        ap.add_argument(sys.argv[1], dest="out", metavar="OUT.png", required=True)
        ap.add_argument("--title", default=title)
        ap.add_argument("items", nargs="+", metavar=item)
        a = ap.parse_args()
        print(f"rcplot: wrote {fig(a.out, a.items, a.title)}")
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run", help="run folder (summary.json, metrics.csv, traces.h5)")
    ap.add_argument("--examples", type=int, default=40, help="examples shown in the spike panels")
    a = ap.parse_args()
    if not os.path.isdir(a.run):
        sys.exit(f"rcplot: {a.run}: not a folder")
    for p in (fig_spikes(a.run, a.examples), fig_spike_time(a.run), fig_tradeoff(a.run)):
        if p:
            print(f"rcplot: wrote {p}")


if __name__ == "__main__":
    main()
