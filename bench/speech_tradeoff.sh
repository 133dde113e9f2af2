#!/bin/sh
# speech_tradeoff.sh — the paper's Fig. 5 for the speech models: every trained
# model tested with RC-inference over a threshold sweep (`rcsim eval`), then
# the composite curve of the RC-trained models (at each mean spike time, the
# best accuracy any β model reaches answering at least that early) beside the
# same composite of the EOS-trained model(s).
#
#   bench/speech_tradeoff.sh [RUNS] [THRESHOLDS]
#
# RUNS (default runs) holds the run folders of configs/speech_rc_b0,
# speech_rc_b02, speech_rc_b03, speech_rc_b04 and speech_eos (those present
# are used; a missing one is skipped with a note). Each folder's sweep goes
# to RUN/eval/tradeoff.csv (the run's own traces.h5 is left alone). Writes
# RUNS/speech_tradeoff.csv (every point, and whether it is on its composite)
# and RUNS/speech_composite.csv (RC composite points with the EOS composite
# accuracy at the same mean spike time), and prints both curves and the
# number of RC composite points that beat EOS at equal mean spike time.
# Set RCSIM to another binary, CONFIGS to another config folder (default
# configs); EVAL_ARGS adds arguments (e.g. --threads 2).
set -eu
RUNS=${1:-runs}
TH=${2:-0.5,0.6,0.7,0.8,0.85,0.9,0.95,0.975,0.99,0.999}
RCSIM=${RCSIM:-./rcsim}
CONFIGS=${CONFIGS:-configs}
EVAL_ARGS=${EVAL_ARGS:-}
list=""
for name in speech_rc_b0 speech_rc_b02 speech_rc_b03 speech_rc_b04 speech_eos; do
    if [ ! -f "$RUNS/$name/model.h5" ]; then
        echo "speech_tradeoff: $RUNS/$name/model.h5 not found, skipped" >&2
        continue
    fi
    echo "speech_tradeoff: $name: rcsim eval over thresholds $TH" >&2
    # shellcheck disable=SC2086
    "$RCSIM" eval "$CONFIGS/$name.cfg" --model "$RUNS/$name/model.h5" --thresholds "$TH" \
        --out "$RUNS/$name/eval" $EVAL_ARGS
    list="$list $name"
done
[ -n "$list" ] || { echo "speech_tradeoff: no trained speech models in $RUNS" >&2; exit 1; }

/usr/bin/env python3 - "$RUNS" $list <<'EOF'
import csv, sys
runs, names = sys.argv[1], sys.argv[2:]
pts = []  # (curve, model, threshold, ms, accuracy)
for n in names:
    curve = "eos" if n.startswith("speech_eos") else "rc"
    with open(f"{runs}/{n}/eval/tradeoff.csv") as f:
        for r in csv.DictReader(f):
            pts.append((curve, n, float(r["threshold"]), float(r["mean_spike_ms"]), float(r["accuracy"])))

def composite(curve):
    # Pareto frontier: sorted by time, keep a point if it is more accurate than
    # every point answering at the same time or earlier.
    best, out = -1.0, []
    for p in sorted((p for p in pts if p[0] == curve), key=lambda p: (p[3], -p[4])):
        if p[4] > best:
            out.append(p)
            best = p[4]
    return out

def best_at(front, ms):
    acc = [p[4] for p in front if p[3] <= ms + 1e-9]
    return max(acc) if acc else None

rc, eos = composite("rc"), composite("eos")
on = set(rc) | set(eos)
with open(f"{runs}/speech_tradeoff.csv", "w") as f:
    f.write("curve,model,threshold,mean_spike_ms,accuracy,on_composite\n")
    for p in pts:
        f.write(f"{p[0]},{p[1]},{p[2]:g},{p[3]:.2f},{p[4]:.6f},{int(p in on)}\n")
wins = 0
with open(f"{runs}/speech_composite.csv", "w") as f:
    f.write("mean_spike_ms,rc_accuracy,rc_model,rc_threshold,eos_accuracy_at_or_before\n")
    print("RC composite (best accuracy over the beta models at each mean spike time):")
    print(f"  {'ms':>7}  {'RC acc':>7}  {'model':<14} {'theta':>6}  {'EOS acc':>7}")
    for p in rc:
        e = best_at(eos, p[3])
        wins += e is not None and p[4] > e
        es = f"{e:.4f}" if e is not None else "-"
        print(f"  {p[3]:7.1f}  {p[4]:7.4f}  {p[1]:<14} {p[2]:6g}  {es:>7}")
        f.write(f"{p[3]:.2f},{p[4]:.6f},{p[1]},{p[2]:g},{'' if e is None else f'{e:.6f}'}\n")
print("EOS composite:")
for p in eos:
    print(f"  {p[3]:7.1f}  {p[4]:7.4f}  {p[1]:<14} {p[2]:6g}")
if eos:
    print(f"RC composite points more accurate than every EOS point answering at the same mean spike time or earlier: {wins} of {len(rc)}")
print(f"wrote {runs}/speech_tradeoff.csv and {runs}/speech_composite.csv")
EOF
