#!/bin/sh
# compare_snn_ann.sh — the SNN-vs-ANN study on temporal MNIST (paper 3.3 and
# appendix E): trains and tests LSTM-340, ConvLSTM-20 and the LIF SNN, each
# RC- and EOS-trained, then writes a Markdown table.
#
#   bench/compare_snn_ann.sh [EPOCHS] [OUT] [THREADS]
#
# EPOCHS overrides train.epochs of every config (e.g. 0.2 for a quick version;
# empty or "-" = each config's own: LSTM 30, ConvLSTM 8 (ConvLSTM-20), SNN 10).
# Each model runs in OUT/CONFIG-NAME (e.g. OUT/tmnist_lstm340). OUT defaults to
# runs/ for the configs' own epochs, so models already trained by
# `./rcsim run configs/NAME.cfg` (which writes runs/NAME) are reused, and to
# runs/compare_snn_ann with an EPOCHS override. A model whose
# OUT/NAME/summary.json exists is not retrained (the study resumes after an
# interruption; delete the folder to redo one); the table's epochs column
# says what each model actually ran. Writes OUT/compare_snn_ann.md. Runs one
# at a time: on a small machine two pools must never compete.
#
# Columns: accuracy at the first spike (RC-inference), mean spike step
# (1-based, of T = 10), no-spike fraction, accuracy at the last step (EOS
# inference of the same model), cost per example under RC-inference, and
# training and RC-inference examples/s.
# Cost, both measured by the engine on the test set: SNN = synaptic events
# delivered (test.synops_per_example); ANN = multiply-accumulates executed
# (test.macs_per_example: input events, recurrent product, output layer, only
# on the rows and steps actually computed). Older summaries without it take
# it from NAME/eval/tradeoff.csv at train.threshold (`rcsim eval ... --out
# OUT/NAME/eval`), else fall back to the hand count of the recurrent product
# and output layer.
set -e
EPOCHS=${1:--}
if [ "$EPOCHS" = "-" ]; then OUT=${2:-runs}; else OUT=${2:-runs/compare_snn_ann}; fi
THREADS=${3:-0}
cd "$(dirname "$0")/.."
make -s rcsim
mkdir -p "$OUT"
for name in tmnist_lstm340 tmnist_lstm340_eos tmnist_convlstm20 tmnist_convlstm20_eos \
            snn_tmnist_rc snn_tmnist_eos; do
    cfg=configs/$name.cfg
    if [ -f "$OUT/$name/summary.json" ]; then
        echo "compare_snn_ann: $name: $OUT/$name/summary.json exists, kept"
        continue
    fi
    set -- run "$cfg" --out "$OUT/$name" --threads "$THREADS" --set output.progress=log --set output.log_every_s=60
    if [ "$EPOCHS" != "-" ]; then set -- "$@" --set train.epochs="$EPOCHS"; fi
    echo "compare_snn_ann: ./rcsim $*"
    ./rcsim "$@"
done
/usr/bin/python3 - "$OUT" "$EPOCHS" <<'PY'
import json, os, sys
out, epochs = sys.argv[1], sys.argv[2]
rows = [("LSTM-340", "tmnist_lstm340", "RC"), ("LSTM-340", "tmnist_lstm340_eos", "EOS"),
        ("ConvLSTM-20", "tmnist_convlstm20", "RC"), ("ConvLSTM-20", "tmnist_convlstm20_eos", "EOS"),
        ("LIF SNN", "snn_tmnist_rc", "RC"), ("LIF SNN", "snn_tmnist_eos", "EOS")]
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
lines = ["| model | training | epochs | accuracy at first spike | mean spike step | no spike | accuracy at end "
         "| cost per example (RC-inference) | training ex/s | inference ex/s |",
         "|---|---|---|---|---|---|---|---|---|---|"]
for model, name, mode in rows:
    p = os.path.join(out, name, "summary.json")
    if not os.path.exists(p):
        lines.append(f"| {model} | {mode} | (not run) | | | | | | | |")
        continue
    s = json.load(open(p))
    t, cfg = s["test"], s["config"]
    T = s["steps"]
    ep = cfg.get("train", {}).get("epochs", "")
    steps = t["steps_computed_fraction"] * T
    if "synops_per_example" in t:
        cost = f'{t["synops_per_example"] / 1e6:.2f} M SynOps'
    elif "macs_per_example" in t:
        cost = f'{t["macs_per_example"] / 1e6:.2f} M MACs'
    elif (em := eval_macs(os.path.join(out, name), cfg)) is not None:
        cost = f'{em / 1e6:.2f} M MACs'
    elif s["model"] == "convlstm":
        C, k = cfg["model"]["channels"], cfg["model"]["kernel"]
        cost = f'{steps * (4 * C * C * k * k * 784 + 10 * C * 784) / 1e6:.2f} M MACs (hand count)'
    else:
        H = s["hidden"]
        cost = f'{steps * (4 * H * H + 10 * H) / 1e6:.2f} M MACs (hand count)'
    lines.append(f'| {model} | {mode} | {ep} | {t["accuracy"]:.4f} | {t["mean_spike_step"]:.2f} | '
                 f'{t["no_spike_fraction"]:.4f} | {t["accuracy_at_end"]:.4f} | {cost} | '
                 f'{s["train"]["examples_per_s"]:.0f} | {t["examples_per_s"]:.0f} |')
text = "\n".join(lines) + "\n"
open(os.path.join(out, "compare_snn_ann.md"), "w").write(text)
print(text)
PY
echo "compare_snn_ann: wrote $OUT/compare_snn_ann.md"
