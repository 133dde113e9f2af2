#!/bin/sh
# scaling.sh — how rcsim scales with threads and input sparsity.
#
#   bench/scaling.sh [OUTDIR]          (default runs/scaling)
#   QUICK=1 bench/scaling.sh           smoke test: seconds, not minutes
#
# Runs build/bench/scaling (one CSV row per point; see bench/scaling.c):
#   strong  LSTM-340 (batch 128) and ConvLSTM-20 (batch 16), threads 1..cores
#   weak    neurons per thread fixed: LSTM 170·P units, ConvLSTM 10·P channels
#   sparse  LSTM-340 (batch 128) on all cores, 1 % .. 100 % of inputs active
#   lif     a LIF layer under event load (fc2000 -> fc10): strong scaling
#           and the input-sparsity sweep
# A step is one full-length training batch (T = 10: forward, BPTT, Adam).
# Inputs: 28x28 event grid, 2 % of (step, channel) pairs active (about
# temporal MNIST's rate) except in the sparsity sweep.
# Writes OUTDIR/scaling.csv (with speedup and parallel efficiency) and, with
# python3-matplotlib (make plot-deps), OUTDIR/scaling_{strong,weak,sparse}.png.
#
# Environment: THREADS="1 2 4 8" (default 1..cores), PLACEMENT=spread|compact,
# BATCHES / CONV_BATCHES (timed batches per point), BIN (the driver).
# Run it on a quiet machine: the numbers are wall-clock times.
set -eu
cd "$(dirname "$0")/.."
OUT=${1:-runs/scaling}
BIN=${BIN:-build/bench/scaling}
PLACEMENT=${PLACEMENT:-spread}
QUICK=${QUICK:-0}
[ -x "$BIN" ] || make "$BIN"
mkdir -p "$OUT"
CORES=$("$BIN" --cores)
if [ "$QUICK" = 1 ]; then
    BATCHES=${BATCHES:-2}; CONV_BATCHES=${CONV_BATCHES:-1}; WARM=1; CONV_B=2
    MAXT=$([ "$CORES" -ge 2 ] && echo 2 || echo 1)
    SPARSE="0.01 0.1 1"
else
    BATCHES=${BATCHES:-20}; CONV_BATCHES=${CONV_BATCHES:-5}; WARM=2; CONV_B=16
    MAXT=$CORES
    SPARSE="0.01 0.02 0.05 0.1 0.2 0.5 1"
fi
THREADS=${THREADS:-$(seq 1 "$MAXT" | tr '\n' ' ')}
ACTIVE=0.02
RAW="$OUT/scaling_raw.csv"
echo "experiment,$("$BIN" --header --model lif 2>/dev/null | head -1)" > "$RAW"

point() { # experiment, driver args...
    exp=$1; shift
    row=$("$BIN" --placement "$PLACEMENT" "$@") || return $?
    echo "$exp,$row" >> "$RAW"
    echo "$exp,$row"
}

echo "rcsim scaling: $CORES cores, threads: $THREADS, placement $PLACEMENT$( [ "$QUICK" = 1 ] && echo ', QUICK')"
for p in $THREADS; do
    point strong --model lstm --units 340 --threads "$p" --batch 128 --active $ACTIVE --batches "$BATCHES" --warmup $WARM
done
for p in $THREADS; do
    point strong --model convlstm --units 20 --threads "$p" --batch $CONV_B --active $ACTIVE --batches "$CONV_BATCHES" --warmup 1
done
for p in $THREADS; do
    point weak --model lstm --units $((170 * p)) --threads "$p" --batch 128 --active $ACTIVE --batches "$BATCHES" --warmup $WARM
    point weak --model convlstm --units $((10 * p)) --threads "$p" --batch $CONV_B --active $ACTIVE --batches "$CONV_BATCHES" --warmup 1
done
PMAX=$(echo $THREADS | awk '{print $NF}')
for f in $SPARSE; do
    point sparse --model lstm --units 340 --threads "$PMAX" --batch 128 --active "$f" --batches "$BATCHES" --warmup $WARM
done
# A LIF layer under event load (fc2000 -> fc10, no bias: fully event-driven;
# one example per thread at a time, so batch 128 and threads 1..P), then its
# input-sparsity sweep on all threads.
for p in $THREADS; do
    point strong --model lif --units 2000 --threads "$p" --batch 128 --active $ACTIVE --batches "$BATCHES" --warmup $WARM
done
for f in $SPARSE; do
    point sparse --model lif --units 2000 --threads "$PMAX" --batch 128 --active "$f" --batches "$BATCHES" --warmup $WARM
done
/usr/bin/python3 bench/scaling_plot.py "$RAW" "$OUT"
