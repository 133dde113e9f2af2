#!/usr/bin/env bash
# contention.sh: how rcsim and PyTorch slow down on a busy machine.
#
# LSTM-340 temporal MNIST (configs/tmnist_lstm340.cfg, bench/pytorch_tmnist.py,
# the same pair as bench/compare_pytorch.sh). Five workloads:
#   rcsim RC training, rcsim RC-inference (one `rcsim run`: both rates; the
#   run's pool, which has one thread per idle core),
#   rcsim eval: RC-inference of the alone run's model by `rcsim eval` (every
#   core, batches taken whole by the threads; median of 5 passes),
#   PyTorch RC training (--mode rc), PyTorch full-length inference (--mode infer-full),
# each run alone, then beside 1 and beside 3 CPU-bound competitors
# (`yes > /dev/null`, killed after each run). Prints ex/s and the slowdown
# factor (alone / beside) per workload. Short runs: seconds each.
#
#   bench/contention.sh            # N = 3840 training, 5000 test examples
#   bench/contention.sh --quick    # smoke test: N = 512, 1000 test
#
# Environment: N, TEST, DATA_DIR (MNIST .gz, default ../shared/data/mnist),
# PT_THREADS / PT_BLAS (PyTorch's torch and OpenBLAS threads, default 2 / 1),
# THREADS (rcsim's sim.threads, default 0 = one per core), COMPETITORS
# (default "0 1 3"). Run it on an otherwise idle machine: the competitors are
# the only load it should see (it warns when the load average is high).
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=0
for a in "$@"; do
    case $a in
        --quick) QUICK=1 ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "usage: bench/contention.sh [--quick]" >&2; exit 2 ;;
    esac
done
PY=/usr/bin/python3
PT=bench/pytorch_tmnist.py
CFG=configs/tmnist_lstm340.cfg
DATA_DIR=${DATA_DIR:-../shared/data/mnist}
if [ "$QUICK" = 1 ]; then N=${N:-512}; TEST=${TEST:-1000}; else N=${N:-3840}; TEST=${TEST:-5000}; fi
PT_THREADS=${PT_THREADS:-2}
PT_BLAS=${PT_BLAS:-1}
THREADS=${THREADS:-0}
COMPETITORS=${COMPETITORS:-0 1 3}

if ! make -q 2>/dev/null; then echo "building rcsim (make) ..." >&2; make >&2; fi
"$PY" -c 'import torch, numpy' 2>/dev/null || { echo "error: $PY cannot import torch and numpy" >&2; exit 1; }

WORK=$(mktemp -d /tmp/rcsim_contention.XXXXXX)
PIDS=()
stop_competitors() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    PIDS=()
}
trap 'stop_competitors; rm -rf "$WORK"' EXIT
start_competitors() { # start_competitors K
    local i
    for ((i = 0; i < $1; i++)); do
        yes >/dev/null &
        PIDS+=($!)
    done
}

. bench/lib.sh  # (the script is at the repository root now)
warn_if_busy "the 'alone' runs are not alone"

declare -A EPS
# The run's settings; eval of its model needs the same ones.
SETS=(--set task.data_dir="$DATA_DIR" --set train.examples="$N" --set train.epochs=0
      --set train.val_every=1000000 --set train.val_size=100 --set test.size="$TEST"
      --set train.select=last --set output.traces=false --set output.progress=off)
run_rcsim() { # run_rcsim K
    local out=$WORK/rc_$1
    if ! ./rcsim run "$CFG" "${SETS[@]}" --threads "$THREADS" --out "$out" >"$out.log" 2>&1; then
        cat "$out.log" >&2; exit 1
    fi
    EPS[rc_train,$1]=$(jget "$out/summary.json" train.examples_per_s)
    EPS[rc_infer,$1]=$(jget "$out/summary.json" test.examples_per_s)
}
run_eval() { # run_eval K: RC-inference of the alone run's model
    local out=$WORK/ev_$1
    if ! ./rcsim eval "$CFG" --model "$WORK/rc_0/model.h5" "${SETS[@]}" \
        --thresholds 0.95,0.95,0.95,0.95,0.95 --no-end --threads "$THREADS" --out "$out" >"$out.log" 2>&1; then
        cat "$out.log" >&2; exit 1
    fi
    EPS[rc_eval,$1]=$(awk -F, 'NR > 1 { print $7 }' "$out/tradeoff.csv" | sort -g | sed -n 3p)
}
run_pt() { # run_pt MODE KEY EXAMPLES K
    OPENBLAS_NUM_THREADS=$PT_BLAS "$PY" "$PT" --mode "$1" --examples "$3" --threads "$PT_THREADS" \
        --data-dir "$DATA_DIR" >"$WORK/pt.json"
    EPS[$2,$4]=$(jget "$WORK/pt.json" examples_per_s)
}

for k in $COMPETITORS; do
    echo "== beside $k competitor(s) ==" >&2
    start_competitors "$k"; run_rcsim "$k"; stop_competitors
    [ -f "$WORK/rc_0/model.h5" ] || { echo "error: the list COMPETITORS must start with 0 (rcsim eval tests that run's model)" >&2; exit 2; }
    start_competitors "$k"; run_eval "$k"; stop_competitors
    start_competitors "$k"; run_pt rc pt_train "$N" "$k"; stop_competitors
    start_competitors "$k"; run_pt infer-full pt_infer "$TEST" "$k"; stop_competitors
done

echo
echo "Contention, LSTM-340 temporal MNIST, $(nproc) CPUs; rcsim sim.threads=$THREADS;" \
     "PyTorch torch threads $PT_THREADS, OpenBLAS threads $PT_BLAS; training N = $N, test $TEST"
echo
hdr="| workload |"; sep="|---|"
for k in $COMPETITORS; do
    if [ "$k" = 0 ]; then hdr+=" alone ex/s |"; sep+="---|"
    else hdr+=" beside $k: ex/s (slowdown) |"; sep+="---|"; fi
done
echo "$hdr"; echo "$sep"
for key in rc_train rc_infer rc_eval pt_train pt_infer; do
    case $key in
        rc_train) label="rcsim RC training" ;;     rc_infer) label="rcsim RC-inference (run)" ;;
        rc_eval) label="rcsim RC-inference (eval)" ;;
        pt_train) label="PyTorch RC training" ;;   pt_infer) label="PyTorch full-length inference" ;;
    esac
    line="| $label |"
    first=""
    for k in $COMPETITORS; do
        v=${EPS[$key,$k]}
        [ -z "$first" ] && first=$v
        line+=$("$PY" -c 'import sys
v, a, k = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
print(f" {v:,.0f} |" if k == "0" else f" {v:,.0f} ({a / v:.2f}x) |")' "$v" "$first" "$k")
    done
    echo "$line"
done
