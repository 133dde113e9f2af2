#!/usr/bin/python3
"""rcplot.py — the paper's figures from an rcsim run folder.

Modes (`tools/rcplot.py --help` lists them too):
    tools/rcplot.py RUN_DIR [--examples N]
    tools/rcplot.py RUN_DIR --raster [POP] [--example ID]
    tools/rcplot.py --compare OUT.png LABEL=TRADEOFF.csv LABEL=TRADEOFF.csv ...
    tools/rcplot.py --compare-training OUT.png LABEL=RUN_DIR LABEL=RUN_DIR ...
    tools/rcplot.py --compare-macs OUT.png LABEL=TRADEOFF.csv LABEL=TRADEOFF.csv ...

RUN_DIR alone writes into RUN_DIR:
  fig_spikes.png    (a) Fig. 1-style panels from traces.h5, one row per
                    example (the traced examples when activations were
                    traced, so the three panels show the same rows): labels,
                    first output spikes coloured by class (black x = no
                    spike; no class is drawn in black or grey), and the output
                    activations of the traced examples until their first
                    spike (after it too if the run traced that);
  fig_spike_time.png (b) the spike-time distribution over training, from
                    metrics.csv (validation quantiles p10/p50/p90 and mean;
                    Figs. 2B, 4C);
  fig_tradeoff.png  (c) the speed-accuracy trade-off from tradeoff.csv
                    (written by `rcsim eval`; Figs. 5, 6B). Skipped with a
                    message if the folder has no tradeoff.csv.
traces.h5 and tradeoff.csv are read from RUN_DIR or, where it has none, from
RUN_DIR/eval (where `rcsim eval --out RUN_DIR/eval` writes). A missing
traces.h5 or metrics.csv is reported in one line and the exit status is 1
(the figures that could be drawn are still written).
--raster [POP] draws the spikes of one SNN population (default: the first
hidden one traced, else output) for one example (--example, default the first
traced example, else 0) with the output spikes below it and the first output
spike marked: fig_raster_POP_exID.png. Record hidden spikes with
output.trace_layers (and output.trace_after_spike for every step to T). A
delta LSTM (model.delta_h > 0) writes the hidden events of its traced examples
as the population hidden_events (the default POP there): its raster shows
which unit sent an event at which step, coloured by the value sent.
--compare overlays the trade-off curves of several models (e.g. an RC model
and its EOS twin, as the paper's Figs. 6B and 10) in one PNG. --compare-training draws, from each run's metrics.csv, the
validation mean first-spike step and the accuracy at the first spike over
training (the paper's Fig. 9 A and B). --compare-macs draws accuracy against
multiply-accumulates per example (macs_per_example) from the tradeoff.csv of
LSTM and ConvLSTM models, one labelled curve per file (e.g. dense EOS, RC,
delta, RC + delta; points labelled with θ, and Δh where a file sweeps it; a
file from a delta sweep is drawn as its Pareto front).
Needs python3-h5py, python3-numpy, python3-matplotlib (`make plot-deps`).
"""
import argparse
import csv
import os
import sys

import matplotlib
import matplotlib.ticker  # noqa: E402
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import h5py  # noqa: E402


class Missing(Exception):
    """An input file the figure needs is not there (message for the user)."""


def find_input(run, name):
    """RUN/name, else RUN/eval/name (where `rcsim eval --out RUN/eval` writes);
    Missing if neither exists."""
    for d in (run, os.path.join(run, "eval")):
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    raise Missing(f"{os.path.join(run, name)} not found (nor in {os.path.join(run, 'eval')})")


# Class colours: tab10 without its grey, then tab20's other shades; no class
# is black or grey, which mark "no spike".
_TAB10 = [c for i, c in enumerate(plt.get_cmap("tab10").colors) if i != 7]
_TAB20 = [c for i, c in enumerate(plt.get_cmap("tab20").colors) if i % 2 == 1 and i not in (15,)]
PALETTE = _TAB10 + ["#1a237e"] + _TAB20
NONE_COLOUR = "black"


def class_colour(c, binary=False):
    """Colour of class c in the spike panels (binary: 1 blue, 0 red)."""
    if binary:
        return "tab:blue" if c == 1 else "tab:red"
    return PALETTE[int(c) % len(PALETTE)]


def spike_rows(rc_ids, act_ids, nshow):
    """Example ids shown, one per row, in every panel of fig_spikes: the traced
    examples (act_ids) when activations were traced, else the first ones."""
    have = set(int(i) for i in rc_ids)
    if act_ids is not None and len(act_ids):
        rows = [int(i) for i in act_ids if int(i) in have]
    else:
        rows = [int(i) for i in rc_ids]
    return rows[:nshow]


def spikes_figure(path, nshow):
    """The fig_spikes figure of traces.h5 at path; returns the figure."""
    with h5py.File(path, "r") as f:
        rc = f["rc"]
        T = int(rc.attrs["T"])
        rc_ids = rc["example_ids"][...]
        tsp_all, pred_all = rc["t_sp"][...], rc["pred"][...]          # t_sp 1-based
        label_all, spiked_all = rc["label"][...], rc["spiked"][...].astype(bool)
        act = act_ids = None
        if "activations" in f and "output" in f["activations"]:
            act = f["activations"]["output"][...]          # (examples, T, K)
            act_ids = f["activations"]["output_example_ids"][...]
    rows = spike_rows(rc_ids, act_ids, nshow)
    at = {int(e): i for i, e in enumerate(rc_ids)}
    n = len(rows)
    sel = np.array([at[e] for e in rows], dtype=int)
    tsp, pred, label, spiked = tsp_all[sel], pred_all[sel], label_all[sel], spiked_all[sel]
    classes = max(int(label_all.max()) + 1 if len(label_all) else 2, 2)
    binary = classes == 2 and (act is None or act.shape[2] == 1)

    fig, axes = plt.subplots(1, 3, figsize=(13, max(3, 0.18 * n + 1.5)), sharey=True,
                             gridspec_kw={"width_ratios": [1, 4, 4]})
    ax = axes[0]
    for i in range(n):
        ax.barh(i, 1, color=class_colour(label[i], binary))
    ax.set_title("label")
    ax.set_xticks([])
    ax.set_ylabel("example")
    ax.set_yticks(range(n))
    ax.set_yticklabels([str(e) for e in rows], fontsize=6)
    ax = axes[1]
    for i in range(n):
        if spiked[i]:
            ax.scatter(tsp[i], i, color=class_colour(pred[i], binary), s=25, marker="|", linewidths=3)
        else:
            ax.scatter(T, i, color=NONE_COLOUR, s=25, marker="x", linewidths=1.5)
    ax.set_xlim(0.5, T + 0.5)
    ax.set_xlabel("step (1-based)")
    ax.set_title("first output spike (colour: class; black x: none)")
    ax = axes[2]
    if act is not None and len(act) and n:
        K = act.shape[2]
        img = np.full((n, T), np.nan)
        pos = {int(e): j for j, e in enumerate(act_ids)}
        for i, e in enumerate(rows):
            if e in pos:
                img[i] = act[pos[e], :, 0] if K == 1 else np.nanmax(act[pos[e]], axis=1)
        cmap, title = ("coolwarm_r", "output activation (blue: positive)") if K == 1 else \
            ("viridis", "max output probability")
        ax.imshow(img, aspect="auto", cmap=cmap, vmin=0, vmax=1, interpolation="nearest",
                  extent=(0.5, T + 0.5, n - 0.5, -0.5))
        ax.set_title(title)
        ax.set_xlabel("step (1-based); blank = not computed")
    else:
        ax.text(0.5, 0.5, "no activations traced", ha="center", transform=ax.transAxes)
    axes[0].set_ylim(n - 0.5, -0.5)
    return fig


def fig_spikes(run, nshow):
    path = find_input(run, "traces.h5")
    return save(spikes_figure(path, nshow), os.path.join(run, "fig_spikes.png"))


def read_spikes(f, pop, T, dt):
    """(steps 0-based, node ids, example ids) of /spikes/pop."""
    g = f["spikes"][pop]
    ex = g["example_ids"][...].astype(np.int64)
    steps = np.rint(g["timestamps"][...] / dt - ex * T).astype(np.int64)
    return steps, g["node_ids"][...].astype(np.int64), ex


def fig_raster(run, pop, example):
    """Spikes of one population for one example, output spikes below."""
    path = find_input(run, "traces.h5")
    fig, pop, example = raster_figure(path, pop, example)
    return save(fig, os.path.join(run, f"fig_raster_{pop}_ex{example}.png"))


def raster_figure(path, pop, example):
    """The raster of fig_raster from traces.h5 at path; returns (figure,
    population, example). An event population (a delta LSTM's
    hidden_events: a `values` column) is coloured by each event's value."""
    with h5py.File(path, "r") as f:
        pops = list(f["spikes"])
        hidden = [p for p in pops if p != "output" and len(f["spikes"][p]["node_ids"])]
        if pop is None:
            pop = hidden[0] if hidden else "output"
        if pop not in pops:
            raise Missing(f"{path}: no population '{pop}' under /spikes (it has: {', '.join(pops)}); "
                          "trace it with output.trace_layers")
        T, dt = int(f.attrs.get("T", f["rc"].attrs["T"])), float(f.attrs["dt_ms"])
        if example is None:
            acts = f.get("activations")
            ids = acts["output_example_ids"][...] if acts is not None and "output_example_ids" in acts else []
            example = int(ids[0]) if len(ids) else 0
        rc_ids = list(f["rc"]["example_ids"][...])
        if example not in rc_ids:
            raise Missing(f"{path}: no example {example} in /rc (it has {len(rc_ids)} examples)")
        r = rc_ids.index(example)
        tsp, spiked = int(f["rc"]["t_sp"][r]), bool(f["rc"]["spiked"][r])
        attrs = f["spikes"][pop].attrs
        size = int(attrs["size"]) if "size" in attrs else None
        shape = [int(x) for x in attrs["shape"]] if "shape" in attrs else None
        dims = str(attrs["dims"]) if "dims" in attrs else ""
        st, nd, ex = read_spikes(f, pop, T, dt)
        vals = f["spikes"][pop]["values"][...] if "values" in f["spikes"][pop] else None
        ost, ond, oex = read_spikes(f, "output", T, dt)
        K = int(f["spikes"]["output"].attrs.get("size", max(2, int(ond.max()) + 1 if len(ond) else 2)))
    m, om = ex == example, oex == example
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(8, 6), sharex=True, gridspec_kw={"height_ratios": [4, 1]})
    colour, what, how = "black", "spikes", ""
    if shape and dims.endswith("channel"):
        colour, how = [class_colour(c) for c in nd[m] % shape[-1]], " (colour: channel)"
    if vals is not None:
        what, how = "events", " (colour: the value sent)"
        lim = float(np.abs(vals[m]).max()) if m.any() else 1.0
        pts = ax.scatter(st[m] + 1, nd[m], s=12, c=vals[m], cmap="coolwarm", vmin=-lim, vmax=lim, marker="s")
        # An inset beside the panel: stealing room from it would misalign the shared step axis.
        fig.colorbar(pts, cax=ax.inset_axes([1.02, 0, 0.025, 1]), label="event value (change since the unit's last event)")
    else:
        ax.scatter(st[m] + 1, nd[m], s=4, c=colour, marker="|")
    ax.set_ylabel(f"{pop} node id" + (f" ({dims}: {shape})" if shape else ""))
    if size:
        ax.set_ylim(-0.5, size - 0.5)
    ax.set_title(f"{pop}: {int(m.sum())} {what} of example {example}{how}")
    ax2.scatter(ost[om] + 1, ond[om], s=30, c=[class_colour(c) for c in ond[om]], marker="|", linewidths=2)
    ax2.set_ylabel("output class")
    ax2.set_ylim(-0.5, K - 0.5)
    ax2.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax2.set_xlabel("step (1-based)")
    for a in (ax, ax2):
        if spiked:
            a.axvline(tsp, color="grey", lw=0.8, ls="--")
    ax2.set_xlim(0.5, T + 0.5)
    ax2.set_title("output spikes" + (f" (first at step {tsp}, dashed)" if spiked else " (none)"), fontsize=9)
    return fig, pop, example


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
    path = os.path.join(run, "metrics.csv")
    if not os.path.exists(path):
        raise Missing(f"{path} not found (expected the folder of `rcsim run`); spike-time plot skipped")
    rows = read_csv(path)
    if not rows or "val_spike_step_p50" not in rows[0]:
        raise Missing(f"{path}: no validation rows; spike-time plot skipped")
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
    try:
        path = find_input(run, "tradeoff.csv")
    except Missing as e:
        print(f"rcplot: {e} (run `rcsim eval --model {run}/model.h5` first); trade-off plot skipped")
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


def read_macs(path):
    """Rows of a tradeoff.csv as (macs_per_example, accuracy, threshold,
    delta_h, delta_x; None for a file without delta columns) sorted by MACs;
    exits with a message when the file has no MAC column (an SNN's) or is no
    tradeoff.csv."""
    if not os.path.exists(path):
        sys.exit(f"rcplot: {path}: not found (run `rcsim eval` first)")
    rows = read_csv(path)
    for key in ("threshold", "accuracy", "macs_per_example"):
        if not rows or key not in rows[0]:
            sys.exit(f"rcplot: {path}: no '{key}' column; expected a tradeoff.csv of an LSTM or ConvLSTM model "
                     "from `rcsim eval` (an SNN's has synops_per_example)")
    opt = lambda r, k: float(r[k]) if r.get(k) not in (None, "") else None  # noqa: E731
    pts = [(float(r["macs_per_example"]), float(r["accuracy"]), float(r["threshold"]), opt(r, "delta_h"),
            opt(r, "delta_x")) for r in rows]
    return sorted(pts, key=lambda p: (p[0], p[1]))


def pareto(pts):
    """The points (sorted by MACs) that no other point beats: each is more
    accurate than every point with at most its MACs."""
    best, out = -1.0, []
    for p in sorted(pts, key=lambda p: (p[0], -p[1])):
        if p[1] > best:
            out.append(p)
            best = p[1]
    return out


def macs_figure(specs, title):
    """Accuracy against MACs per example, one curve per LABEL=TRADEOFF.csv
    through its points sorted by MACs; a file that sweeps the delta
    thresholds too (eval --delta-h/--delta-x) gets its Pareto front as the
    curve and its other points as faint markers. Points are labelled with θ
    (and Δh, Δx where the file sweeps them); log x when the MACs span more
    than 20x."""
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    allx = []
    for spec in specs:
        label, sep, path = spec.partition("=")
        if not sep or not path:
            sys.exit(f"rcplot: --compare-macs: '{spec}': expected LABEL=TRADEOFF.csv")
        pts = read_macs(path)
        allx += [p[0] for p in pts]
        sweeps_dh, sweeps_dx = len({p[3] for p in pts}) > 1, len({p[4] for p in pts}) > 1
        curve = pareto(pts) if sweeps_dh or sweeps_dx else pts
        line, = ax.plot([p[0] for p in curve], [p[1] for p in curve], "o-",
                        label=label + (" (Pareto front)" if curve is not pts else ""))
        rest = [p for p in pts if p not in curve]
        if rest:
            ax.scatter([p[0] for p in rest], [p[1] for p in rest], s=14, color=line.get_color(), alpha=0.35)
        for px, py, t, dh, dx in pts:
            ax.annotate(f"θ={t:g}" + (f", Δh={dh:g}" if sweeps_dh else "") + (f", Δx={dx:g}" if sweeps_dx else ""),
                        (px, py), fontsize=6, xytext=(3, -8), textcoords="offset points", color=line.get_color())
    if allx and min(allx) > 0 and max(allx) / min(allx) > 20:
        ax.set_xscale("log")
    ax.set_xlabel("multiply-accumulates per example (RC-inference)")
    ax.set_ylabel("accuracy (RC-inference)")
    ax.set_title(title)
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    return fig


def fig_compare_macs(out, specs, title):
    return save(macs_figure(specs, title), out)


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
    "--compare-macs": ("accuracy against multiply-accumulates per example, one curve per tradeoff.csv",
                       "MACs-accuracy trade-off", "LABEL=TRADEOFF.csv", fig_compare_macs),
}


def parser():
    ap = argparse.ArgumentParser(
        prog="rcplot.py", description="The paper's figures from rcsim run folders.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="modes:\n"
               "  RUN_DIR                      fig_spikes.png, fig_spike_time.png, fig_tradeoff.png in RUN_DIR\n"
               "  RUN_DIR --raster [POP]       one population's spikes for one example (--example ID)\n"
               "  --compare OUT.png LABEL=TRADEOFF.csv ...        overlay trade-off curves\n"
               "  --compare-training OUT.png LABEL=RUN_DIR ...    spike time and accuracy over training\n"
               "  --compare-macs OUT.png LABEL=TRADEOFF.csv ...   accuracy against MACs per example\n"
               "traces.h5 and tradeoff.csv are taken from RUN_DIR or else RUN_DIR/eval.")
    ap.add_argument("items", nargs="*", metavar="RUN_DIR | LABEL=PATH",
                    help="the run folder, or the compare modes' LABEL=PATH items")
    modes = ap.add_mutually_exclusive_group()
    for flag, (desc, _title, item, _fig) in COMPARE_MODES.items():
        modes.add_argument(flag, metavar="OUT.png", help=f"{desc}; items: {item}")
    modes.add_argument("--raster", nargs="?", const="", metavar="POP",
                       help="raster of population POP (default: the first traced hidden one) for one example")
    ap.add_argument("--example", type=int, help="--raster: the example id (default: the first traced one, else 0)")
    ap.add_argument("--examples", type=int, default=40, help="examples shown in the spike panels (default 40)")
    ap.add_argument("--title", help="compare modes: the figure's title")
    return ap


def main():
    ap = parser()
    a = ap.parse_args()
    for flag, (_desc, title, item, fig) in COMPARE_MODES.items():
        out = getattr(a, flag.lstrip("-").replace("-", "_"))
        if out is not None:
            if not a.items:
                ap.error(f"{flag} needs at least one {item}")
            print(f"rcplot: wrote {fig(out, a.items, title if a.title is None else a.title)}")
            return 0
    if len(a.items) != 1:
        ap.error("expected one RUN_DIR (or a --compare mode)")
    run = a.items[0]
    if not os.path.isdir(run):
        sys.exit(f"rcplot: {run}: not a folder")
    if a.raster is not None:
        figs = [lambda: fig_raster(run, a.raster or None, a.example)]
    else:
        figs = [lambda: fig_spikes(run, a.examples), lambda: fig_spike_time(run), lambda: fig_tradeoff(run)]
    bad = 0
    for make in figs:
        try:
            p = make()
        except Missing as e:
            print(f"rcplot: {e}", file=sys.stderr)
            bad = 1
            continue
        except (OSError, KeyError, ValueError) as e:
            print(f"rcplot: {run}: cannot draw a figure: {e}", file=sys.stderr)
            bad = 1
            continue
        if p:
            print(f"rcplot: wrote {p}")
    return bad


if __name__ == "__main__":
    sys.exit(main())
