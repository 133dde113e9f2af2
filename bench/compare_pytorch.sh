#!/usr/bin/env bash
# compare_pytorch.sh: rcsim against PyTorch (CPU) on temporal MNIST, LSTM-340.
#
# Run from anywhere; it works in the repository root. See bench/README.md.
#
#   bench/compare_pytorch.sh            # N = 12800 training examples, 10,000 test
#   N=51200 bench/compare_pytorch.sh    # more training: more (earlier) spikes
#   QUICK=1 bench/compare_pytorch.sh    # smoke test: N = 1280, 1,000 test examples
#   ONLY_DELTA=1 bench/compare_pytorch.sh  # only the RC + delta rows (trained models)
#
# Environment: N (training examples timed), TEST (test examples), DATA_DIR
# (MNIST .gz files, default ../shared/data/mnist), QUICK=1.
# The two sides run one after the other, never at the same time.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=/usr/bin/python3
PT=bench/pytorch_tmnist.py
CFG=configs/tmnist_lstm340.cfg
DATA_DIR=${DATA_DIR:-../shared/data/mnist}
if [ "${QUICK:-0}" = 1 ]; then
    N=${N:-1280}; TEST=${TEST:-1000}; TUNE_TRAIN=256; TUNE_TEST=512
else
    N=${N:-12800}; TEST=${TEST:-10000}; TUNE_TRAIN=1280; TUNE_TEST=2560
fi

# ---- prerequisites ----
if ! make -q 2>/dev/null; then
    echo "building rcsim (make) ..." >&2
    make >&2
fi
if ! "$PY" -c 'import torch, numpy' 2>/dev/null; then
    echo "error: $PY cannot import torch and numpy. Install them from Debian:" >&2
    echo "    sudo apt-get install -y python3-torch python3-numpy" >&2
    exit 1
fi

WORK=$(mktemp -d /tmp/rcsim_vs_pytorch.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

. bench/lib.sh  # (the script is at the repository root now)
warn_if_busy "something else is running and the timings will be low"

# pt MODE EXAMPLES THREADS BLAS_THREADS POLICY OUTFILE [extra args]: one
# PyTorch run. THREADS goes to torch.set_num_threads (OpenMP); BLAS_THREADS to
# OPENBLAS_NUM_THREADS: Debian's torch does its products in OpenBLAS (pthreads
# build), whose own pool torch.set_num_threads does not reach.
pt() {
    local mode=$1 n=$2 th=$3 bt=$4 pol=$5 out=$6
    shift 6
    local envs=(OPENBLAS_NUM_THREADS="$bt")
    [ "$pol" = unset ] || envs+=(OMP_WAIT_POLICY="$pol")
    env -u OMP_WAIT_POLICY "${envs[@]}" "$PY" "$PT" --mode "$mode" --examples "$n" --threads "$th" \
        --data-dir "$DATA_DIR" "$@" >"$out"
}

# tune MODE EXAMPLES [extra args]: every combination of 1 or 2 torch threads,
# 1 or 2 OpenBLAS threads, OMP_WAIT_POLICY unset or PASSIVE; sets BEST_TH,
# BEST_BT and BEST_POL to the fastest.
tune() {
    local mode=$1 n=$2
    shift 2
    local best=0 th bt pol eps
    for th in 1 2; do
        for bt in 1 2; do
            for pol in unset PASSIVE; do
                pt "$mode" "$n" "$th" "$bt" "$pol" "$WORK/tune.json" "$@"
                eps=$(jget "$WORK/tune.json" examples_per_s)
                printf '  tune %-10s torch threads=%s OpenBLAS threads=%s OMP_WAIT_POLICY=%-7s %9.1f ex/s\n' \
                    "$mode" "$th" "$bt" "$pol" "$eps" >&2
                if "$PY" -c "import sys; sys.exit(0 if $eps > $best else 1)"; then
                    best=$eps; BEST_TH=$th; BEST_BT=$bt; BEST_POL=$pol
                fi
            done
        done
    done
    echo "  best for $mode: torch threads=$BEST_TH, OpenBLAS threads=$BEST_BT, OMP_WAIT_POLICY=$BEST_POL" >&2
}

declare -A PT_EPS PT_SET

row() { # row LABEL RCSIM_EPS PT_EPS SETTING
    "$PY" -c 'import sys
l, a, b, s = sys.argv[1:]
print(f"| {l} | {float(a):,.0f} | {float(b):,.0f} ({s}) | {float(a)/float(b):.2f} |")' "$@"
}
MODEL=${MODEL:-runs/tmnist_lstm340/model.h5}
if [ "${ONLY_DELTA:-0}" != 1 ]; then
echo "== PyTorch: training (N = $N, tuning runs of $TUNE_TRAIN examples) ==" >&2
for mode in rc eos; do
    tune "$mode" "$TUNE_TRAIN"
    extra=()
    [ "$mode" = rc ] && extra=(--save "$WORK/pt_rc.pt")
    pt "$mode" "$N" "$BEST_TH" "$BEST_BT" "$BEST_POL" "$WORK/pt_$mode.json" "${extra[@]}"
    PT_EPS[$mode]=$(jget "$WORK/pt_$mode.json" examples_per_s)
    PT_SET[$mode]="torch ${BEST_TH}t, BLAS ${BEST_BT}t, OMP_WAIT_POLICY $BEST_POL"
    echo "  $mode: $(cat "$WORK/pt_$mode.json")" >&2
done

echo "== PyTorch: inference of the RC-trained model ($TEST test examples, tuning runs of $TUNE_TEST) ==" >&2
for mode in infer-rc infer-full; do
    tune "$mode" "$TUNE_TEST" --load "$WORK/pt_rc.pt"
    pt "$mode" "$TEST" "$BEST_TH" "$BEST_BT" "$BEST_POL" "$WORK/pt_$mode.json" --load "$WORK/pt_rc.pt"
    PT_EPS[$mode]=$(jget "$WORK/pt_$mode.json" examples_per_s)
    PT_SET[$mode]="torch ${BEST_TH}t, BLAS ${BEST_BT}t, OMP_WAIT_POLICY $BEST_POL"
    echo "  $mode: $(cat "$WORK/pt_$mode.json")" >&2
done

# ---- rcsim ----
RC_COMMON=(--set task.data_dir="$DATA_DIR" --set train.examples="$N" --set train.epochs=0
           --set train.val_every=1000000 --set train.val_size=100 --set test.size="$TEST"
           --set train.select=last --set output.traces=false --set output.progress=off)
echo "== rcsim: RC training (N = $N) + test ==" >&2
if ! ./rcsim run "$CFG" "${RC_COMMON[@]}" --out "$WORK/rc_rc" >"$WORK/rc_rc.log" 2>&1; then
    cat "$WORK/rc_rc.log" >&2; exit 1
fi
echo "== rcsim: EOS training (N = $N) ==" >&2
if ! ./rcsim run "$CFG" "${RC_COMMON[@]}" --set train.mode=eos --out "$WORK/rc_eos" >"$WORK/rc_eos.log" 2>&1; then
    cat "$WORK/rc_eos.log" >&2; exit 1
fi
S=$WORK/rc_rc/summary.json
RC_TRAIN=$(jget "$S" train.examples_per_s)
RC_EOS=$(jget "$WORK/rc_eos/summary.json" train.examples_per_s)
RC_INF=$(jget "$S" test.examples_per_s)
RC_FULL=$(jget "$S" test.eos_inference.examples_per_s)
RC_THREADS=$(jget "$S" threads)

# ---- report ----
P=$WORK/pt
echo
echo "rcsim vs PyTorch, temporal MNIST, LSTM-340 (T = 10), training N = $N examples, test $TEST examples"
echo "(rcsim: $RC_THREADS threads; PyTorch: per mode the fastest of torch threads 1/2 x OpenBLAS threads 1/2 x OMP_WAIT_POLICY unset/PASSIVE)"
echo
echo "| mode | rcsim ex/s | PyTorch ex/s (setting) | ratio rcsim/PyTorch |"
echo "|---|---|---|---|"
row "RC training (batch 128)" "$RC_TRAIN" "${PT_EPS[rc]}" "${PT_SET[rc]}"
row "EOS training (batch 128)" "$RC_EOS" "${PT_EPS[eos]}" "${PT_SET[eos]}"
row "RC-inference (batch 256)" "$RC_INF" "${PT_EPS[infer-rc]}" "${PT_SET[infer-rc]}"
row "full-length inference (batch 256)" "$RC_FULL" "${PT_EPS[infer-full]}" "${PT_SET[infer-full]}"
row "**rcsim RC-inference vs PyTorch full-length inference**" "$RC_INF" "${PT_EPS[infer-full]}" "${PT_SET[infer-full]}"
echo
echo "Inference uses each side's own model after RC training on the same N = $N examples,"
echo "so how early it spikes depends on N (a barely trained model spikes late or never"
echo "and RC-inference then runs nearly all T steps):"
echo
echo "| | rcsim | PyTorch |"
echo "|---|---|---|"
printf '| RC training: steps computed / (examples x T) | %s | %s (whole batch, masked) |\n' \
    "$(jget "$S" train.steps_computed_fraction)" "$(jget "$P"_rc.json steps_computed_fraction)"
printf '| RC training: training accuracy (all N) | %s | %s |\n' \
    "$(tail -n 1 "$WORK/rc_rc/metrics.csv" | cut -d, -f6)" "$(jget "$P"_rc.json train_accuracy)"
printf '| test accuracy, RC-inference | %s | %s |\n' "$(jget "$S" test.accuracy)" "$(jget "$P"_infer-rc.json accuracy)"
printf '| test accuracy, full length | %s | %s |\n' "$(jget "$S" test.eos_inference.accuracy)" "$(jget "$P"_infer-full.json accuracy)"
printf '| test mean spike step (1-based, no spike = T) | %s | %s |\n' "$(jget "$S" test.mean_spike_step)" "$(jget "$P"_infer-rc.json mean_spike_step)"
printf '| RC-inference: steps computed fraction | %s | %s (whole batch, masked) |\n' \
    "$(jget "$S" test.steps_computed_fraction)" "$(jget "$P"_infer-rc.json steps_computed_fraction)"
echo
echo "rcsim $(./rcsim info | grep BLAS)"
"$PY" -c 'import ctypes, os, re, torch
m = re.search(r"BLAS_INFO=([^,]*)", torch.__config__.show())
print("torch", torch.__version__, "| BLAS_INFO =", m.group(1) if m else "?")
try:
    ob = ctypes.CDLL("libopenblas.so.0")
    ob.openblas_get_config.restype = ob.openblas_get_corename.restype = ctypes.c_char_p
    print("torch BLAS:", ob.openblas_get_config().decode(), "(core %s)" % ob.openblas_get_corename().decode(),
          "via", os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3"))
except (OSError, AttributeError):
    print("torch BLAS: not OpenBLAS (", os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3"), ")")'

# ---- the same fully trained model on both sides ----
# MODEL (default runs/tmnist_lstm340/model.h5, from `rcsim run
# configs/tmnist_lstm340.cfg`): rcsim's kept model, loaded into PyTorch with
# --load-rcsim (same weights: both sides must print the same accuracy and
# mean spike step). This is the headline inference comparison.
if [ -f "$MODEL" ] && "$PY" -c 'import h5py' 2>/dev/null; then
    echo "== same trained model on both sides: $MODEL ==" >&2
    ./rcsim eval "$CFG" --model "$MODEL" --out "$WORK/ev" --thresholds 0.95 \
        --set task.data_dir="$DATA_DIR" --set test.size="$TEST" --set output.progress=off 2>/dev/null
    RC_SAME=$(awk -F, 'NR == 2 {print $7}' "$WORK/ev/tradeoff.csv")
    RC_SAME_ACC=$(awk -F, 'NR == 2 {print $2}' "$WORK/ev/tradeoff.csv")
    RC_SAME_TSP=$(awk -F, 'NR == 2 {print $3}' "$WORK/ev/tradeoff.csv")
    for mode in infer-rc infer-full; do
        tune "$mode" "$TUNE_TEST" --load-rcsim "$MODEL"
        pt "$mode" "$TEST" "$BEST_TH" "$BEST_BT" "$BEST_POL" "$WORK/same_$mode.json" --load-rcsim "$MODEL"
        PT_EPS[same_$mode]=$(jget "$WORK/same_$mode.json" examples_per_s)
        PT_SET[same_$mode]="torch ${BEST_TH}t, BLAS ${BEST_BT}t, OMP_WAIT_POLICY $BEST_POL"
    done
    echo
    echo "Same trained model ($MODEL) on both sides, $TEST test examples, threshold 0.95:"
    echo "rcsim accuracy $RC_SAME_ACC at mean spike step $RC_SAME_TSP; PyTorch accuracy" \
         "$(jget "$WORK/same_infer-rc.json" accuracy) at mean spike step $(jget "$WORK/same_infer-rc.json" mean_spike_step)"
    echo
    echo "| mode | rcsim ex/s | PyTorch ex/s (setting) | ratio rcsim/PyTorch |"
    echo "|---|---|---|---|"
    row "RC-inference (PyTorch masks the batch)" "$RC_SAME" "${PT_EPS[same_infer-rc]}" "${PT_SET[same_infer-rc]}"
    row "**rcsim RC-inference vs PyTorch full-length inference**" "$RC_SAME" "${PT_EPS[same_infer-full]}" "${PT_SET[same_infer-full]}"
else
    echo "(no $MODEL, or no h5py: skipped the same-model comparison; train it with" \
         "./rcsim run $CFG --out runs/tmnist_lstm340)" >&2
fi
fi # ONLY_DELTA

# ---- RC + delta inference ----
# DELTA_MODEL (default runs/tmnist_lstm340_delta/model.h5, from `rcsim run
# configs/tmnist_lstm340_delta.cfg`): the RC-trained delta LSTM (issue 15)
# under RC-inference with its hidden-event threshold, against PyTorch's
# full-length inference of the same weights (dense: PyTorch has no delta
# path; its cost does not depend on the weights). Also the non-delta RC
# model (MODEL) in rcsim, side by side, for the delta speed-up itself.
DCFG=configs/tmnist_lstm340_delta.cfg
DELTA_MODEL=${DELTA_MODEL:-runs/tmnist_lstm340_delta/model.h5}
if [ -f "$DELTA_MODEL" ] && [ -f "$MODEL" ] && "$PY" -c 'import h5py' 2>/dev/null; then
    echo "== RC + delta: $DELTA_MODEL ==" >&2
    ev_row() { # ev_row CFG MODEL OUT: tradeoff.csv row at threshold 0.95
        ./rcsim eval "$1" --model "$2" --out "$3" --thresholds 0.95 \
            --set task.data_dir="$DATA_DIR" --set test.size="$TEST" --set output.progress=off 2>/dev/null
    }
    ev_row "$DCFG" "$DELTA_MODEL" "$WORK/evd"
    ev_row "$CFG" "$MODEL" "$WORK/evr"
    col() { "$PY" -c 'import csv, sys
r = list(csv.DictReader(open(sys.argv[1])))[0]
print(r[sys.argv[2]])' "$1" "$2"; }
    RC_D=$(col "$WORK/evd/tradeoff.csv" examples_per_s)
    RC_R=$(col "$WORK/evr/tradeoff.csv" examples_per_s)
    tune infer-full "$TUNE_TEST" --load-rcsim "$DELTA_MODEL"
    pt infer-full "$TEST" "$BEST_TH" "$BEST_BT" "$BEST_POL" "$WORK/delta_full.json" --load-rcsim "$DELTA_MODEL"
    PT_D=$(jget "$WORK/delta_full.json" examples_per_s)
    echo
    echo "RC + delta ($DELTA_MODEL, delta_h from $DCFG), $TEST test examples, threshold 0.95:"
    echo "rcsim accuracy $(col "$WORK/evd/tradeoff.csv" accuracy) at mean spike step" \
         "$(col "$WORK/evd/tradeoff.csv" mean_spike_step), $(col "$WORK/evd/tradeoff.csv" macs_per_example) MACs per example" \
         "($(col "$WORK/evd/tradeoff.csv" hidden_events_per_example) hidden events); non-delta RC model: accuracy" \
         "$(col "$WORK/evr/tradeoff.csv" accuracy) at $(col "$WORK/evr/tradeoff.csv" mean_spike_step)," \
         "$(col "$WORK/evr/tradeoff.csv" macs_per_example) MACs"
    echo
    echo "| mode | rcsim ex/s | other ex/s | ratio |"
    echo "|---|---|---|---|"
    "$PY" -c 'import sys
a, b = map(float, sys.argv[1:3])
print(f"| rcsim RC + delta vs rcsim RC (non-delta model) | {a:,.0f} | {b:,.0f} (rcsim) | {a/b:.2f} |")' "$RC_D" "$RC_R"
    row "**rcsim RC + delta inference vs PyTorch full-length inference**" "$RC_D" "$PT_D" \
        "torch ${BEST_TH}t, BLAS ${BEST_BT}t, OMP_WAIT_POLICY $BEST_POL"
else
    echo "(no $DELTA_MODEL or $MODEL, or no h5py: skipped the RC + delta row; train it with" \
         "./rcsim run $DCFG --out runs/tmnist_lstm340_delta)" >&2
fi
