#!/bin/sh
# network_scaling.sh — how rcsim's network engine scales (issue 13):
#   size:   Brunel-style networks from 1,000 to 1,000,000 neurons, each for a
#           short simulated time, at SIZE_THREADS threads;
#   strong: Brunel (configs/brunel.cfg, 12,500 neurons) at 1, 2, ... threads.
# Writes $OUT/network_scaling.csv (one row per run) and, through
# bench/network_scaling_plot.py, docs/network_scaling.png (QUICK: into $OUT).
#
# The networks (the size sweep), from configs/brunel.cfg:
#   N_E = 0.8 N, N_I = 0.2 N, iaf_psc_delta, tau_m 20 ms, theta 20 mV,
#   reset 0, t_ref 2 ms, delay 1.5 ms, dt 0.1 ms, g = 5, eta = 2;
#   indegree C_E = min(CE_MAX, N_E / 10) (Brunel's connection probability
#   0.1 for the small ones, NEST's 1000 from N = 12,500 up), C_I = C_E / 4;
#   J = 0.1 mV * 1000 / C_E, so J * C_E = 100 mV as in Brunel's network;
#   external Poisson rate per neuron nu_ext = eta * theta / (J * tau_m)
#   = 20 kHz * C_E / 1000, weight J.
# Holding J * C_E and eta fixed keeps the mean input (external and
# recurrent) of every neuron the same as Brunel's, hence the same
# asynchronous-irregular regime (about 30 Hz); with C_E < 1000 the input
# fluctuations grow by sqrt(1000 / C_E), so the smallest networks fire
# somewhat faster: the rate column shows by how much. From N = 12,500 on
# (C_E = 1000) every network is Brunel's with more neurons. With CE_MAX =
# 1000 the 1,000,000-neuron network has 1.25e9 synapses (about 5 GiB at
# 4 bytes each): set CE_MAX=500 if memory asks (the csv says C_E).
#
# Columns: experiment, neurons, C_E, J_mV, nu_ext_hz, threads, synapses,
# simulated_s, build_s, sim_s, wall_per_sim_s (wall seconds per simulated
# second, build excluded), syn_events_per_s, bytes_per_synapse, peak_rss_mb,
# rate_hz (all neurons), speedup and efficiency (strong: T(1) / T(P), / P).
#
# Usage: bench/network_scaling.sh             (the full run: minutes)
#        QUICK=1 bench/network_scaling.sh     (smoke test: seconds)
# Environment: SIZES, SIM_MS, SIZE_THREADS, CE_MAX, STRONG_THREADS,
#              STRONG_MS, OUT.
set -eu
cd "$(dirname "$0")/.."

PY=/usr/bin/python3
if [ "${QUICK:-0}" = 1 ]; then
    SIZES=${SIZES:-"1000 4000"}
    SIM_MS=${SIM_MS:-50}
    STRONG_MS=${STRONG_MS:-20}
    OUT=${OUT:-runs/network_scaling_quick}
    PNG="$OUT/network_scaling.png"
else
    SIZES=${SIZES:-"1000 3000 10000 30000 100000 300000 1000000"}
    SIM_MS=${SIM_MS:-200}
    STRONG_MS=${STRONG_MS:-1000}
    OUT=${OUT:-runs/network_scaling}
    PNG=docs/network_scaling.png
fi
SIZE_THREADS=${SIZE_THREADS:-2}
STRONG_THREADS=${STRONG_THREADS:-"1 2"}
if [ "${QUICK:-0}" = 1 ]; then REPS=${REPS:-1}; else REPS=${REPS:-3}; fi
CE_MAX=${CE_MAX:-1000}

[ -x ./rcsim ] || make -s rcsim
mkdir -p "$OUT"
CSV="$OUT/network_scaling.csv"
echo "experiment,neurons,C_E,J_mV,nu_ext_hz,threads,synapses,simulated_s,build_s,sim_s,wall_per_sim_s,syn_events_per_s,bytes_per_synapse,peak_rss_mb,rate_hz,speedup,efficiency" >"$CSV"

# run EXPERIMENT N C_E THREADS MS: one rcsim run of the scaled network, one csv row.
run() {
    exp=$1 n=$2 ce=$3 t=$4 ms=$5
    ne=$((n * 4 / 5))
    ni=$((n - ne))
    ci=$((ce / 4))
    j=$($PY -c "print(0.1 * 1000 / $ce)")
    gj=$($PY -c "print(-5 * 0.1 * 1000 / $ce)")
    nu=$($PY -c "print(20000.0 * $ce / 1000)")
    dir="$OUT/${exp}_n${n}_t$t"
    echo "== $exp: N = $n (C_E = $ce, J = $j mV, nu_ext = $nu Hz), $t thread(s), $ms ms" >&2
    ./rcsim run configs/brunel.cfg --threads "$t" --out "$dir" --force \
        --set sim.time_ms="$ms" --set output.traces=false --set output.progress=off \
        --set population.E.size=$ne --set population.I.size=$ni \
        --set projection.EE.indegree=$ce --set projection.EI.indegree=$ce \
        --set projection.IE.indegree=$ci --set projection.II.indegree=$ci \
        --set projection.EE.weight="$j" --set projection.EI.weight="$j" \
        --set projection.IE.weight="$gj" --set projection.II.weight="$gj" \
        --set source.noise_E.rate_hz="$nu" --set source.noise_I.rate_hz="$nu" \
        --set source.noise_E.weight="$j" --set source.noise_I.weight="$j" \
        >"$dir.log" 2>&1 || { echo "network_scaling: rcsim failed, see $dir.log" >&2; exit 1; }
    $PY - "$exp" "$n" "$ce" "$j" "$nu" "$t" "$dir/summary.json" >>"$CSV" <<'EOF'
import json, sys
exp, n, ce, j, nu, t, path = sys.argv[1:8]
s = json.load(open(path))
net, tm = s["network"], s["timing"]
spikes = sum(p["spikes"] for p in s["populations"].values())
rate = spikes / (int(n) * tm["simulated_s"])
print(",".join(str(x) for x in [
    exp, n, ce, j, nu, t, net["synapses"], tm["simulated_s"], "%.4f" % tm["build_s"], "%.4f" % tm["sim_s"],
    "%.4f" % tm["real_time_factor"], "%.4g" % tm["syn_events_per_s"], "%.3f" % net["bytes_per_synapse"],
    "%.1f" % tm["peak_rss_mb"], "%.2f" % rate, "", ""]))
EOF
}

# wait_quiet: up to 180 s until both cores are >= 95 % idle over 2 s (the
# kernel may still be busy returning the memory of an earlier large run to the
# host: system and iowait time with no process running).
wait_quiet() {
    for _ in $(seq 1 90); do
        idle=$($PY - <<'PYEOF'
import time
def snap():
    v = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return v[3], sum(v)
i0, t0 = snap(); time.sleep(2); i1, t1 = snap()
print("%.3f" % ((i1 - i0) / max(1, t1 - t0)))
PYEOF
)
        $PY -c "import sys; sys.exit(0 if $idle >= 0.95 else 1)" && return 0
        echo "network_scaling: machine busy (idle $idle), waiting" >&2
    done
    echo "network_scaling: warning: the machine never became quiet; strong scaling numbers are low" >&2
}

# Strong scaling first: after the 1,000,000-neuron run the kernel spends a
# core for a while reclaiming its 5 GB (kdamond, compaction), which showed as
# 2-thread runs 30-60 % slower. REPS rounds of (1, 2, ... threads) one after the other; the
# plotter takes the median per thread count (single runs vary by +-10 % here).
wait_quiet
for r in $(seq 1 "$REPS"); do
    for t in $STRONG_THREADS; do
        run strong 12500 1000 "$t" "$STRONG_MS"
    done
done

for n in $SIZES; do
    ce=$((n * 4 / 5 / 10))
    [ "$ce" -le "$CE_MAX" ] || ce=$CE_MAX
    [ "$ce" -ge 4 ] || ce=4
    run size "$n" "$ce" "$SIZE_THREADS" "$SIM_MS"
done
$PY bench/network_scaling_plot.py "$CSV" "$PNG"
echo "network_scaling: $CSV, $PNG" >&2
