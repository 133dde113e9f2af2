#!/bin/sh
# compare_snn_ann.sh — the SNN-vs-ANN study on temporal MNIST (paper 3.3 and
# appendix E): trains and tests LSTM-340, ConvLSTM-20 and the LIF SNN, each
# RC- and EOS-trained, then writes a Markdown table.
#
#   bench/compare_snn_ann.sh [EPOCHS] [OUT] [THREADS] [CONFIG.cfg ...]
#
# CONFIG.cfg ...: the configs to compare, one row each, in the order given
# (any task and model type); none given = the six of the study:
# configs/tmnist_lstm340{,_eos}, tmnist_convlstm20{,_eos}, snn_tmnist_{rc,eos}.
# Give "-" for EPOCHS, OUT or THREADS to keep their defaults. OUT is
# relative to the repository. RCSIM: the binary (default ./rcsim, built
# first with make; when set, nothing is built).
#
# EPOCHS overrides train.epochs of every config (e.g. 0.2 for a quick version;
# empty or "-" = each config's own: LSTM 30, ConvLSTM 8 (ConvLSTM-20), SNN 10).
# Each model runs in OUT/CONFIG-NAME (the file name without .cfg, e.g.
# OUT/tmnist_lstm340). OUT defaults to
# runs/ for the configs' own epochs, so models already trained by
# `./rcsim run configs/NAME.cfg` (which writes runs/NAME) are reused, and to
# runs/compare_snn_ann with an EPOCHS override. A model whose
# OUT/NAME/summary.json exists is not retrained (the study resumes after an
# interruption; delete the folder to redo one); the table's epochs column
# says what each model actually ran. Writes OUT/compare_snn_ann.md. Runs one
# at a time: on a small machine two pools must never compete.
#
# Columns: config, model, training mode, epochs, accuracy at the first spike
# (RC-inference), mean spike step (1-based, of T steps), no-spike fraction,
# accuracy at the last step (EOS inference of the same model), MACs per
# example and SynOps per example under RC-inference (two columns: a model
# has one of them, the other shows "-"), and training and RC-inference
# examples/s.
# Cost, both measured by the engine on the test set: SNN = synaptic events
# delivered (SynOps, test.synops_per_example); ANN = multiply-accumulates executed
# (test.macs_per_example: input events, recurrent product, output layer, only
# on the rows and steps actually computed). Older summaries without it take
# it from NAME/eval/tradeoff.csv at train.threshold (`rcsim eval ... --out
# OUT/NAME/eval`), else fall back to the hand count of the recurrent product
# and output layer.
set -e
EPOCHS=${1:--}
OUT_ARG=${2:--}
THREADS=${3:--}
[ $# -gt 3 ] && shift 3 || set --
[ "$THREADS" = "-" ] && THREADS=0
if [ "$OUT_ARG" != "-" ]; then OUT=$OUT_ARG; elif [ "$EPOCHS" = "-" ]; then OUT=runs; else OUT=runs/compare_snn_ann; fi
# Configs given are read from the caller's folder; then, as OUT, from the repository's.
n=$#
for cfg in "$@"; do
    [ -f "$cfg" ] || { echo "compare_snn_ann: $cfg: no such config file (looked for in $(pwd))" >&2; exit 2; }
    case $cfg in /*) ;; *) cfg=$(pwd)/$cfg ;; esac
    set -- "$@" "$cfg"
done
shift $n
case ${RCSIM:-} in ""|/*) ;; *) RCSIM=$(pwd)/$RCSIM ;; esac
cd "$(dirname "$0")/.."
if [ $# -eq 0 ]; then
    set -- configs/tmnist_lstm340.cfg configs/tmnist_lstm340_eos.cfg configs/tmnist_convlstm20.cfg \
           configs/tmnist_convlstm20_eos.cfg configs/snn_tmnist_rc.cfg configs/snn_tmnist_eos.cfg
fi
if [ -z "${RCSIM:-}" ]; then
    make -s rcsim
    RCSIM=./rcsim
fi
mkdir -p "$OUT"
NAMES=""
for cfg in "$@"; do
    name=$(basename "$cfg" .cfg)
    NAMES="$NAMES $name"
    if [ -f "$OUT/$name/summary.json" ]; then
        echo "compare_snn_ann: $name: $OUT/$name/summary.json exists, kept"
        continue
    fi
    epochs_set=""
    if [ "$EPOCHS" != "-" ]; then epochs_set="--set train.epochs=$EPOCHS"; fi
    echo "compare_snn_ann: $RCSIM run $cfg --out $OUT/$name --threads $THREADS $epochs_set"
    # shellcheck disable=SC2086
    "$RCSIM" run "$cfg" --out "$OUT/$name" --threads "$THREADS" --set output.progress=log \
        --set output.log_every_s=60 $epochs_set
done
/usr/bin/python3 - "$OUT" $NAMES <<'PY'
import json, os, sys
out, names = sys.argv[1], sys.argv[2:]
def eval_macs(run, cfg):
    """MACs per example at train.threshold from RUN/eval/tradeoff.csv (rcsim
    eval), for summaries written before summary.json counted them."""
    p = os.path.join(run, "eval", "tradeoff.csv")
    if not os.path.exists(p):
        return None
    import csv
    th = float(cfg.get("train", {}).get("threshold", 0.95))
    for r in csv.DictReader(open(p)):
        if "macs_per_example" in r and abs(float(r["threshold"]) - th) < 1e-9:
            return float(r["macs_per_example"])
    return None
def label(s, cfg):
    m = s.get("model", "?")
    if m == "lstm":
        return f'LSTM-{s.get("hidden", "?")}'
    if m == "convlstm":
        return f'ConvLSTM-{cfg.get("model", {}).get("channels", "?")}'
    if m == "snn":
        return "LIF SNN"
    return m
def cost(s, name):
    """(MACs, SynOps) per example under RC-inference, as table cells."""
    t, cfg, T = s["test"], s["config"], s["steps"]
    if "synops_per_example" in t:
        return "-", f'{t["synops_per_example"] / 1e6:.4g} M'
    if "macs_per_example" in t:
        return f'{t["macs_per_example"] / 1e6:.4g} M', "-"
    em = eval_macs(os.path.join(out, name), cfg)
    if em is not None:
        return f'{em / 1e6:.4g} M', "-"
    steps = t["steps_computed_fraction"] * T
    if s["model"] == "convlstm":
        C, k = cfg["model"]["channels"], cfg["model"]["kernel"]
        return f'{steps * (4 * C * C * k * k * 784 + 10 * C * 784) / 1e6:.4g} M (hand count)', "-"
    H = s["hidden"]
    return f'{steps * (4 * H * H + 10 * H) / 1e6:.4g} M (hand count)', "-"
lines = ["| config | model | training | epochs | accuracy at first spike | mean spike step | no spike "
         "| accuracy at end | MACs per example (RC-inference) | SynOps per example (RC-inference) "
         "| training ex/s | inference ex/s |",
         "|---|---|---|---|---|---|---|---|---|---|---|---|"]
for name in names:
    p = os.path.join(out, name, "summary.json")
    if not os.path.exists(p):
        lines.append(f"| {name} | | | (not run) | | | | | | | | |")
        continue
    s = json.load(open(p))
    t, cfg = s["test"], s["config"]
    ep = cfg.get("train", {}).get("epochs", "")
    if not ep:  # a run of train.examples
        ep = f'{s["train"]["examples"]} examples'

    macs, synops = cost(s, name)
    lines.append(f'| {name} | {label(s, cfg)} | {s.get("mode", "?").upper()} | {ep} | {t["accuracy"]:.4f} | '
                 f'{t["mean_spike_step"]:.2f} | {t["no_spike_fraction"]:.4f} | {t["accuracy_at_end"]:.4f} | '
                 f'{macs} | {synops} | {s["train"]["examples_per_s"]:.0f} | {t["examples_per_s"]:.0f} |')
text = "\n".join(lines) + "\n"
open(os.path.join(out, "compare_snn_ann.md"), "w").write(text)
print(text)
PY
echo "compare_snn_ann: wrote $OUT/compare_snn_ann.md"
