#!/bin/sh
# same_results.sh — are a build's results identical to a reference's?
#
#   bench/same_results.sh REF_DIR [RCSIM]        compare RCSIM (default ./rcsim)
#                                                with the summaries in REF_DIR
#   bench/same_results.sh --make-ref REF_DIR RCSIM   fill REF_DIR with RCSIM's runs
#
# Twelve runs: six configs (short versions of the README's experiments) at
# --threads 1 and 2. Every summary.json number is compared digit for digit,
# except timings (wall_s, examples_per_s), the git revision and the output
# folder; config keys the reference build did not have (new keys at their
# defaults) are listed, not compared. Prints one line per run (same / DIFFERENT with the first differing
# keys) and exits 1 if any run differs. Needs ../shared/data (MNIST, speech).
set -u
make_ref=0
if [ "${1:-}" = "--make-ref" ]; then make_ref=1; shift; fi
REF=${1:?usage: bench/same_results.sh [--make-ref] REF_DIR [RCSIM]}
BIN=${2:-./rcsim}
if [ $make_ref = 1 ]; then OUT=$REF; else OUT=${OUT:-runs/same_results}; fi
PY=/usr/bin/python3
mkdir -p "$OUT"
rm -f "$OUT/.failed" # a marker an interrupted earlier call may have left

runs="default|configs/default.cfg|
spotting|configs/spotting.cfg|--set train.examples=200000
lstm340|configs/tmnist_lstm340.cfg|--set train.epochs=1
convlstm10|configs/tmnist_convlstm10.cfg|--set train.epochs=0.05
snn_rc|configs/snn_tmnist_rc.cfg|--set train.epochs=0.2
speech_b02|configs/speech_rc_b02.cfg|--set train.epochs=2"

fail=0
for th in 1 2; do
  echo "$runs" | while IFS='|' read -r name cfg extra; do
    dir="$OUT/${name}_t$th"
    rm -rf "$dir"
    # shellcheck disable=SC2086
    if ! "$BIN" run "$cfg" $extra --threads $th --out "$dir" > "$dir.log" 2>&1; then
      echo "$name threads=$th: run FAILED (see $dir.log)"; echo x >> "$OUT/.failed"; continue
    fi
    [ $make_ref = 1 ] && { echo "$name threads=$th: reference written"; continue; }
    if $PY - "$REF/${name}_t$th/summary.json" "$dir/summary.json" <<'PYEOF'
import json, sys
SKIP = {"wall_s", "examples_per_s", "git_revision", "dir"}
def flat(x, p=""):
    if isinstance(x, dict):
        for k, v in x.items():
            if k not in SKIP:
                yield from flat(v, p + "." + k)
    elif isinstance(x, list):
        for i, v in enumerate(x):
            yield from flat(v, p + "[%d]" % i)
    else:
        yield p, x
a = dict(flat(json.load(open(sys.argv[1]))))
b = dict(flat(json.load(open(sys.argv[2]))))
# Config keys the reference build did not have yet (new keys at their
# defaults, echoed in summary.json's config) are not results: listed, not compared.
added = [k for k in b if k.startswith(".config.") and k not in a]
diff = [k for k in sorted(set(a) | set(b)) if k not in added and a.get(k, "<missing>") != b.get(k, "<missing>")]
if diff:
    print("DIFFERENT:", ", ".join("%s %r -> %r" % (k, a.get(k, "<missing>"), b.get(k, "<missing>")) for k in diff[:5]))
    sys.exit(1)
print("same (%d values)%s" % (len(a), "; new config keys: " + ", ".join(k[8:] for k in added) if added else ""))
PYEOF
    then :; else echo x >> "$OUT/.failed"; fi | sed "s/^/$name threads=$th: /"
  done
done
if [ -f "$OUT/.failed" ]; then rm -f "$OUT/.failed"; echo "RESULT: some runs differ or failed"; exit 1; fi
echo "RESULT: all twelve runs identical"
