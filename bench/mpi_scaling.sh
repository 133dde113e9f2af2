#!/bin/sh
# mpi_scaling.sh — data-parallel training over MPI ranks against threads in
# one rank: training examples/s of LSTM-340 on temporal MNIST.
#
#   bench/mpi_scaling.sh [OUTDIR]            (default runs/mpi_scaling)
#   EXAMPLES=256 bench/mpi_scaling.sh        smoke test: seconds
#
# Four runs of the same training (train.examples examples, no validation
# until the end, 1 test example, no traces):
#   threads2_shards1   1 rank × 2 threads, train.shards = 1 (one process today)
#   threads2           1 rank × 2 threads, train.shards = SHARDS
#   ranks1             mpirun -np 1 --bind-to core, 1 thread, SHARDS
#   ranks2             mpirun -np 2 --bind-to core, 1 thread each, SHARDS
# ranks1, ranks2 and threads2 train the same bits (train.shards fixed);
# threads2_shards1 is the plain whole-batch path. Prints one line per run
# (training examples/s from summary.json, ms per batch, gradient bytes) and the ratio
# ranks2 / threads2_shards1 (issue 14's acceptance: >= 0.85), and writes
# OUTDIR/mpi_scaling.csv. Run it on a quiet machine: wall-clock numbers.
#
# Environment: BIN (./rcsim), CFG (configs/tmnist_lstm340.cfg; its data_dir
# must exist, ../shared/data/mnist), EXAMPLES (12800 = 100 batches of 128),
# SHARDS (2), MPIRUN (mpirun --oversubscribe --allow-run-as-root), EXTRA
# (more --set options for every run).
set -eu
cd "$(dirname "$0")/.."
OUT=${1:-runs/mpi_scaling}
BIN=${BIN:-./rcsim}
CFG=${CFG:-configs/tmnist_lstm340.cfg}
EXAMPLES=${EXAMPLES:-12800}
SHARDS=${SHARDS:-2}
MPIRUN=${MPIRUN:-mpirun --oversubscribe --allow-run-as-root}
EXTRA=${EXTRA:-}
PY=/usr/bin/python3
[ -x "$BIN" ] || make "$BIN"
command -v mpirun >/dev/null || { echo "mpi_scaling: mpirun not found (apt-get install openmpi-bin)" >&2; exit 1; }
mkdir -p "$OUT"
common="--set train.epochs=0 --set train.examples=$EXAMPLES --set train.val_every=1000000000 --set train.val_size=1 --set test.size=1
        --set output.traces=false --set output.progress=off --set output.checkpoint_every=0 $EXTRA"

# run NAME P THREADS SHARDS: one training; P = 0 runs without mpirun.
run() {
    name=$1 p=$2 th=$3 sh=$4 dir=$OUT/$1
    rm -rf "$dir"
    if [ "$p" = 0 ]; then
        # shellcheck disable=SC2086
        "$BIN" run "$CFG" --out "$dir" --threads "$th" --set train.shards="$sh" $common 2>"$OUT/$name.err" ||
            { cat "$OUT/$name.err" >&2; exit 1; }
    else
        # shellcheck disable=SC2086
        $MPIRUN -np "$p" --bind-to core "$BIN" run "$CFG" --out "$dir" --threads "$th" --set train.shards="$sh" $common 2>"$OUT/$name.err" ||
            { cat "$OUT/$name.err" >&2; exit 1; }
    fi
    "$PY" - "$dir/summary.json" "$name" "$p" "$th" "$sh" <<'EOF' | tee -a "$OUT/mpi_scaling.csv"
import json, sys
s = json.load(open(sys.argv[1]))
t = s["train"]
exs = t["examples_per_s"]
batch = s["config"]["train"]["batch"]
print("%s,%s,%s,%s,%.1f,%.2f,%d" % (sys.argv[2], max(int(sys.argv[3]), 1), sys.argv[4], sys.argv[5], exs,
                                  1000.0 * float(batch) / exs, 4 * s["parameters"]))
EOF
}

echo "run,ranks,threads_per_rank,shards,train_examples_per_s,ms_per_batch,gradient_bytes" > "$OUT/mpi_scaling.csv"
cat "$OUT/mpi_scaling.csv"
run threads2_shards1 0 2 1
run threads2 0 2 "$SHARDS"
run ranks1 1 1 "$SHARDS"
run ranks2 2 1 "$SHARDS"
"$PY" - "$OUT/mpi_scaling.csv" <<'EOF'
import csv, sys
r = {row["run"]: float(row["train_examples_per_s"]) for row in csv.DictReader(open(sys.argv[1]))}
print("ranks2 / threads2_shards1 = %.3f   ranks2 / threads2 = %.3f   ranks2 / ranks1 = %.3f"
      % (r["ranks2"] / r["threads2_shards1"], r["ranks2"] / r["threads2"], r["ranks2"] / r["ranks1"]))
EOF
