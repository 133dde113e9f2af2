#!/bin/sh
# compare_brian2.sh — rcsim against Brian2 2.5 (C++ standalone) on the three
# benchmark networks of issue 13, one after the other on this machine:
#   brunel (NEST brunel_delta_nest.py), coba, cuba (Brette et al. 2007 1 and 2),
#   at 1 and 2 threads.
# Prints: network, threads, simulation seconds of each side (build/compile
# excluded), ratio rcsim/Brian2, mean rate E and I (Hz) and mean ISI CV on both
# sides, then the build/compile times separately. Parameters:
# bench/network_params.md; the Brian2 side: bench/brian2_net.py.
#
# Usage: bench/compare_brian2.sh            (all networks, threads 1 2)
#   NETS="brunel" THREADS="1" SIM_S=0.2 bench/compare_brian2.sh
# Environment:
#   NETS      networks (default: brunel coba cuba)
#   THREADS   thread counts (default: 1 2)
#   SIM_S     simulated seconds for both sides (default: 1). rcsim reads the
#             simulated time from configs/$net.cfg; when SIM_S is not 1 it is
#             passed with --set (see RCSIM_TIME_KEY below)
#   BRIAN_ARGS extra options for brian2_net.py (e.g. --conn indegree)
#   OUT       results folder (default: runs/brian2cmp)
# Brian2 compiles each (network, threads) project once: minutes per row.
set -eu
cd "$(dirname "$0")/.."

PY=/usr/bin/python3            # Debian's python3 with python3-brian
NETS=${NETS:-"brunel coba cuba"}
THREADS=${THREADS:-"1 2"}
SIM_S=${SIM_S:-1}
OUT=${OUT:-runs/brian2cmp}
BRIAN_ARGS=${BRIAN_ARGS:-}
# The config key for the simulated time (ms), used only when SIM_S != 1.
RCSIM_TIME_KEY=${RCSIM_TIME_KEY:-sim.time_ms}

$PY -c 'import brian2' 2>/dev/null || { echo "compare_brian2: Brian2 missing (apt-get install python3-brian)" >&2; exit 1; }
[ -x ./rcsim ] || make -s rcsim
mkdir -p "$OUT"
ROWS="$OUT/rows.jsonl"
: > "$ROWS"

for net in $NETS; do
    for t in $THREADS; do
        rdir="$OUT/rcsim_${net}_t$t"
        bdir="$OUT/brian2_${net}_t$t"
        extra=""
        if [ "$SIM_S" != 1 ]; then
            extra="--set $RCSIM_TIME_KEY=$($PY -c "print(float('$SIM_S')*1000)")"
        fi
        echo "== $net, $t thread(s): rcsim" >&2
        # shellcheck disable=SC2086
        ./rcsim run "configs/$net.cfg" --threads "$t" --out "$rdir" --force $extra >"$OUT/rcsim_${net}_t$t.log" 2>&1 ||
            { echo "compare_brian2: rcsim failed, see $OUT/rcsim_${net}_t$t.log" >&2; exit 1; }
        echo "== $net, $t thread(s): Brian2 (compiles first)" >&2
        # shellcheck disable=SC2086
        $PY bench/brian2_net.py "$net" "$t" "$SIM_S" "$bdir" $BRIAN_ARGS >"$OUT/brian2_${net}_t$t.log" 2>&1 ||
            { echo "compare_brian2: Brian2 failed, see $OUT/brian2_${net}_t$t.log" >&2; exit 1; }
        $PY - "$net" "$t" "$rdir/summary.json" "$bdir/results.json" >>"$ROWS" <<'EOF'
import json, sys
net, t, rpath, bpath = sys.argv[1:5]
r = json.load(open(rpath))
b = json.load(open(bpath))

# rcsim's network summary.json: timing.{sim_s, build_s}, populations.NAME.{rate_hz, cv_isi}
sim_s = float(r['timing']['sim_s'])
build_s = float(r['timing']['build_s'])
pops = r['populations']
pe, pi = 'E', 'I'
def pstat(p, key):
    return float(pops[p][key])
RATE, CV = 'rate_hz', 'cv_isi'
# -------------------------------------------------------------------------
row = dict(net=net, threads=int(t),
           r_sim=sim_s, b_sim=b['sim_s'], ratio=sim_s / b['sim_s'],
           r_rE=pstat(pe, RATE), r_rI=pstat(pi, RATE), b_rE=b['rate_E'], b_rI=b['rate_I'],
           r_cvE=pstat(pe, CV), r_cvI=pstat(pi, CV), b_cvE=b['cv_E'], b_cvI=b['cv_I'],
           r_build=build_s, b_compile=b['compile_s'], b_build=b['build_s'])
print(json.dumps(row))
EOF
    done
done

$PY - "$ROWS" "$SIM_S" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(f"simulated time {sys.argv[2]} s per run; sim = simulation loop only (build/compile excluded)")
h = (f"{'network':8} {'thr':>3} {'rcsim s':>8} {'Brian2 s':>9} {'ratio':>6} "
     f"{'rate E r/b (Hz)':>16} {'rate I r/b (Hz)':>16} {'dE%':>5} {'dI%':>5} {'CV E r/b':>11} {'CV I r/b':>11}")
print(h)
print('-' * len(h))
for x in rows:
    dE = 100 * (x['r_rE'] - x['b_rE']) / x['b_rE'] if x['b_rE'] else float('nan')
    dI = 100 * (x['r_rI'] - x['b_rI']) / x['b_rI'] if x['b_rI'] else float('nan')
    print(f"{x['net']:8} {x['threads']:>3} {x['r_sim']:8.3f} {x['b_sim']:9.3f} {x['ratio']:6.2f} "
          f"{x['r_rE']:7.2f}/{x['b_rE']:<8.2f} {x['r_rI']:7.2f}/{x['b_rI']:<8.2f} {dE:5.1f} {dI:5.1f} "
          f"{x['r_cvE']:5.2f}/{x['b_cvE']:<5.2f} {x['r_cvI']:5.2f}/{x['b_cvI']:<5.2f}")
print()
print("build times (not in the ratio): rcsim build = network construction;"
      " Brian2 compile = code generation + C++ compile, Brian2 build = binary wall - sim loop (synapse creation, I/O)")
print(f"{'network':8} {'thr':>3} {'rcsim build s':>13} {'Brian2 compile s':>16} {'Brian2 build s':>14}")
for x in rows:
    print(f"{x['net']:8} {x['threads']:>3} {x['r_build']:13.2f} {x['b_compile']:16.1f} {x['b_build']:14.2f}")
EOF
