#!/bin/sh
# compare_snn_ann.sh — the SNN-vs-ANN study on temporal MNIST (paper 3.3 and
# appendix E): trains and tests LSTM-340, ConvLSTM-20 and the LIF SNN, each
# RC- and EOS-trained, then writes a Markdown table.
#
#   bench/compare_snn_ann.sh [EPOCHS] [OUT] [THREADS]
#
# EPOCHS overrides train.epochs of every config (e.g. 0.2 for a quick version;
# empty or "-" = each config's own: LSTM 30, ConvLSTM 5, SNN 10). OUT (default
# runs/compare_snn_ann) gets one run folder per model and table.md. A model
# whose OUT/NAME/summary.json exists is not retrained (the study resumes
# after an interruption; delete the folder to redo one). Runs one at a time:
# on a small machine two pools must never compete.
#
# Columns: accuracy at the first spike (RC-inference), mean spike step
# (1-based, of T = 10), no-spike fraction, accuracy at the last step (EOS
# inference of the same model), cost per example under RC-inference, and
# training and RC-inference examples/s.
# Cost: SNN = synaptic events delivered (test.synops_per_example, measured).
# ANN = multiply-accumulates of the dense recurrent product and the output
# layer per computed step × steps computed (test.steps_computed_fraction · T),
# i.e. LSTM-H: 4H² + 10H; ConvLSTM-C (k×k on 28×28): 4C·C·k²·784 + 10·C·784;
# the input side (event scatter) is left out for the ANNs.
set -e
EPOCHS=${1:--}
OUT=${2:-runs/compare_snn_ann}
THREADS=${3:-0}
cd "$(dirname "$0")/.."
make -s rcsim
mkdir -p "$OUT"
for spec in lstm340:tmnist_lstm340 lstm340_eos:tmnist_lstm340_eos \
            convlstm20:tmnist_convlstm20 convlstm20_eos:tmnist_convlstm20_eos \
            snn:snn_tmnist_rc snn_eos:snn_tmnist_eos; do
    name=${spec%%:*}
    cfg=configs/${spec#*:}.cfg
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
rows = [("LSTM-340", "lstm340", "RC"), ("LSTM-340", "lstm340_eos", "EOS"),
        ("ConvLSTM-20", "convlstm20", "RC"), ("ConvLSTM-20", "convlstm20_eos", "EOS"),
        ("LIF SNN", "snn", "RC"), ("LIF SNN", "snn_eos", "EOS")]
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
    elif s["model"] == "convlstm":
        C, k = cfg["model"]["channels"], cfg["model"]["kernel"]
        cost = f'{steps * (4 * C * C * k * k * 784 + 10 * C * 784) / 1e6:.2f} M MACs'
    else:
        H = s["hidden"]
        cost = f'{steps * (4 * H * H + 10 * H) / 1e6:.2f} M MACs'
    lines.append(f'| {model} | {mode} | {ep} | {t["accuracy"]:.4f} | {t["mean_spike_step"]:.2f} | '
                 f'{t["no_spike_fraction"]:.4f} | {t["accuracy_at_end"]:.4f} | {cost} | '
                 f'{s["train"]["examples_per_s"]:.0f} | {t["examples_per_s"]:.0f} |')
text = "\n".join(lines) + "\n"
open(os.path.join(out, "table.md"), "w").write(text)
print(text)
PY
echo "compare_snn_ann: wrote $OUT/table.md"
