#!/usr/bin/python3
"""Brian2 (C++ standalone) peer of rcsim's network benchmarks: brunel, coba, cuba.

Usage: /usr/bin/python3 bench/brian2_net.py NET THREADS SIM_S OUTDIR [options]

  NET      brunel | coba | cuba
  THREADS  OpenMP threads of the standalone binary (0 = no OpenMP)
  SIM_S    simulated time in seconds
  OUTDIR   where the generated C++ project goes (OUTDIR/code) and results.json

Options:
  --seed N            Brian2 random seed (default 1)
  --conn RULE         coba/cuba connectivity: bernoulli (p = 0.02, no autapses; the
                      default, as issue 13 says) or indegree (NEST's examples: fixed
                      indegree 64/16 with autapses and multapses)
  --vinit MODE        coba/cuba initial V: nest (COBA -70 mV, CUBA -49 mV for every
                      neuron, NEST's values; the default) or uniform (U[V_reset, V_th),
                      Brian2's examples)
  --brian-order       use Brian2's own ordering (delivery after thresholds, delay D,
                      refractory t_ref) instead of emulating NEST's step (the default)

Parameters and sources: bench/network_params.md (NEST's brunel_delta_nest.py and
brette_et_al_2007/{coba,cuba}.py).

Emulating NEST's update order (default):
  * refractory = t_ref + dt. Brian2 freezes v while timestep(t - lastspike) <
    timestep(refractory); NEST freezes it for t_ref/dt steps after the spike step,
    which needs one more step in Brian2's test.
  * Brunel (iaf_psc_delta): NEST adds the inputs arriving in step s to V after the
    leak and before the threshold test of step s, and drops them while refractory.
    Brian2 here: the synaptic pathway and the PoissonInput run in the
    'before_thresholds' slot (after the state update), the on_pre statement is
    `v += w*int(not_refractory)`, and the delay is D - dt, because a pathway that runs
    before the thresholds of step n sees the spikes of step n-1.
  * COBA/CUBA: the conductance/current jumps land after the state update of the arrival
    step in both simulators (Brian2's default 'synapses' slot), so the delay is D.
  * CUBA: exact integration (Brian2 'exact' = NEST's propagators); COBA:
    'exponential_euler' (g decays exactly; v relaxes exponentially towards the
    conductance-weighted reversal with the conductances of the step's start).
    NEST itself integrates iaf_cond_exp with adaptive RKF45.
  * Threshold test v >= V_th (NEST), not v > V_th.
  * Poisson kick (COBA/CUBA): a PoissonGroup of 50 sources active in steps 10 < s <= 510
    (NEST's poisson_generator with start 1 ms, stop 51 ms), one_to_one onto the first 50
    E neurons with the excitatory weight and delay 0.1 ms. A PoissonGroup draws one
    Bernoulli spike per step (p = 0.03); NEST draws Poisson(0.03): P(>=2) = 4e-4.
  * Brunel's external drive: PoissonInput(N = C_E = 1000, rate = 20 Hz, weight J), a
    Binomial(1000, 0.002) per neuron and step (NEST: Poisson(2.0); same mean).

Output: machine-readable lines `BRIAN2 key=value` on stdout and OUTDIR/results.json with
  compile_s    code generation + C++ compilation (Python side, wall)
  binary_s     wall time of the standalone binary (loads arrays, creates synapses,
               simulates, writes results)
  sim_s        Brian2's own timing of the simulation loop (results/last_run_info.txt):
               excludes compilation and synapse creation
  build_s      binary_s - sim_s (synapse creation, I/O)
  rate_<pop>   mean rate (Hz) of all neurons of the population over the whole run
  cv_<pop>     mean CV of the inter-spike intervals over neurons with >= 3 spikes
  spikes_<pop>, n_<pop>, synapses
"""
import argparse
import json
import os
import sys
import time

import numpy as np
from brian2 import (set_device, device, prefs, seed, defaultclock, NeuronGroup,
                    Synapses, PoissonInput, PoissonGroup, SpikeMonitor, Network,
                    ms, mV, pF, nS, pA, Hz, second)


def emit(key, value):
    print(f"BRIAN2 {key}={value}", flush=True)


def cv_mean(i, t, n):
    """Mean CV of ISIs over neurons with at least 3 spikes (2 ISIs)."""
    if len(i) == 0:
        return float('nan')
    order = np.lexsort((t, i))
    i, t = i[order], t[order]
    starts = np.searchsorted(i, np.arange(n))
    ends = np.searchsorted(i, np.arange(n), side='right')
    cvs = []
    for a, b in zip(starts, ends):
        if b - a >= 3:
            isi = np.diff(t[a:b])
            m = isi.mean()
            if m > 0:
                cvs.append(isi.std() / m)
    return float(np.mean(cvs)) if cvs else float('nan')


def build_brunel(args, dt):
    NE, NI = 10000, 2500
    CE, CI = 1000, 250
    tau_m, theta, V_reset, E_L = 20*ms, 20*mV, 0*mV, 0*mV
    t_ref = 2*ms
    J, g, eta = 0.1*mV, 5.0, 2.0
    D = 1.5*ms
    nu_th = theta / (J*CE*tau_m)
    nu_ex = eta*nu_th                         # per external synapse: 20 Hz
    nest = not args.brian_order
    ns = {'tau_m': tau_m, 'theta': theta, 'V_reset': V_reset, 'E_L': E_L}
    P = NeuronGroup(NE + NI, 'dv/dt = -(v - E_L)/tau_m : volt (unless refractory)',
                    threshold='v >= theta', reset='v = V_reset',
                    refractory=(t_ref + dt) if nest else t_ref,
                    method='exact', namespace=ns, name='brunel')
    P.v = 0*mV                               # NEST: V_m = 0 for every neuron
    guard = '*int(not_refractory_post)'      # NEST iaf_psc_delta drops refractory input
    rng = np.random.default_rng(args.seed)
    syns = []
    for name, lo, hi, C, w in (('exc', 0, NE, CE, J), ('inh', NE, NE + NI, CI, -g*J)):
        S = Synapses(P[lo:hi], P, on_pre=f'v_post += w_syn{guard}',
                     namespace={'w_syn': w}, name=f'syn_{name}')
        # fixed indegree, autapses and multapses allowed (NEST defaults):
        # every target draws C sources uniformly with replacement
        src = rng.integers(0, hi - lo, size=(NE + NI) * C, dtype=np.int32)
        tgt = np.repeat(np.arange(NE + NI, dtype=np.int32), C)
        S.connect(i=src, j=tgt)
        S.delay = (D - dt) if nest else D
        if nest:
            S.pre.when = 'before_thresholds'
        syns.append(S)
    poi = PoissonInput(P, 'v', N=CE, rate=nu_ex,
                       weight=f'{float(J/mV)!r}*mV' + ('*int(not_refractory)' if nest else ''),
                       when='before_thresholds' if nest else 'synapses')
    pops = {'E': (P[:NE], NE), 'I': (P[NE:], NI)}
    nsyn = (NE + NI) * (CE + CI)
    return [P, poi] + syns, pops, nsyn, {'w_ext': J}


def build_vogels(args, dt, kind):
    NE, NI = 3200, 800
    N = NE + NI
    nest = not args.brian_order
    t_ref = 5*ms
    D = 0.1*ms
    if kind == 'coba':
        ns = dict(C_m=200*pF, g_L=10*nS, E_L=-60*mV, V_th=-50*mV, V_reset=-60*mV,
                  E_ex=0*mV, E_in=-80*mV, tau_ex=5*ms, tau_in=10*ms,
                  w_ex=6*nS, w_in=67*nS)
        eqs = '''dv/dt = (g_L*(E_L - v) + g_ex*(E_ex - v) + g_in*(E_in - v))/C_m : volt (unless refractory)
                 dg_ex/dt = -g_ex/tau_ex : siemens
                 dg_in/dt = -g_in/tau_in : siemens'''
        method = 'exponential_euler'
        on_ex, on_in = 'g_ex_post += w_ex', 'g_in_post += w_in'
        v0_nest = -70*mV                     # iaf_cond_exp default V_m (see params doc)
    else:
        ns = dict(C_m=200*pF, tau_m=20*ms, E_L=-49*mV, V_th=-50*mV, V_reset=-60*mV,
                  tau_ex=5*ms, tau_in=10*ms, w_ex=16.2*pA, w_in=-139.5*pA)
        eqs = '''dv/dt = -(v - E_L)/tau_m + (I_ex + I_in)/C_m : volt (unless refractory)
                 dI_ex/dt = -I_ex/tau_ex : amp
                 dI_in/dt = -I_in/tau_in : amp'''
        method = 'exact'
        on_ex, on_in = 'I_ex_post += w_ex', 'I_in_post += w_in'
        v0_nest = -49*mV                     # NEST cuba.py: V_m = -49 mV
    P = NeuronGroup(N, eqs, threshold='v >= V_th', reset='v = V_reset',
                    refractory=(t_ref + dt) if nest else t_ref,
                    method=method, namespace=ns, name=kind)
    if args.vinit == 'nest':
        P.v = v0_nest
    else:
        P.v = 'V_reset + rand()*(V_th - V_reset)'
    syns = []
    nsyn = 0
    rng = np.random.default_rng(args.seed)
    for name, lo, hi, on_pre in (('exc', 0, NE, on_ex), ('inh', NE, N, on_in)):
        S = Synapses(P[lo:hi], P, on_pre=on_pre, namespace=ns, name=f'syn_{name}')
        if args.conn == 'bernoulli':
            # no autapses: global index of the source is i + lo
            S.connect(condition=f'i + {lo} != j', p=0.02)
        else:
            C = int(0.02 * (hi - lo))
            src = rng.integers(0, hi - lo, size=N * C, dtype=np.int32)
            tgt = np.repeat(np.arange(N, dtype=np.int32), C)
            S.connect(i=src, j=tgt)
        S.delay = D
        syns.append(S)
    # Poisson kick: NEST poisson_generator (300 Hz, start 1 ms, stop 51 ms) -> first 50
    # E neurons; active in steps 10 < s <= 510, i.e. t in (1.0 ms, 51.0 ms]
    kick = PoissonGroup(50, rates='300*Hz*int(t > 1.05*ms)*int(t < 51.05*ms)',
                        name='kick')
    K = Synapses(kick, P[:50], on_pre=on_ex, namespace=ns, name='syn_kick')
    K.connect(j='i')
    K.delay = D
    pops = {'E': (P[:NE], NE), 'I': (P[NE:], NI)}
    return [P, kick, K] + syns, pops, None, {}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('net', choices=['brunel', 'coba', 'cuba'])
    ap.add_argument('threads', type=int)
    ap.add_argument('sim_s', type=float)
    ap.add_argument('outdir')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--conn', choices=['bernoulli', 'indegree'], default='bernoulli')
    ap.add_argument('--vinit', choices=['nest', 'uniform'], default='nest')
    ap.add_argument('--brian-order', action='store_true')
    args = ap.parse_args()

    outdir = os.path.abspath(args.outdir)
    os.makedirs(outdir, exist_ok=True)
    code = os.path.join(outdir, 'code')
    set_device('cpp_standalone', directory=code, build_on_run=False)
    prefs.devices.cpp_standalone.openmp_threads = args.threads
    seed(args.seed)
    dt = 0.1*ms
    defaultclock.dt = dt

    t0 = time.time()
    if args.net == 'brunel':
        objs, pops, nsyn, _ = build_brunel(args, dt)
    else:
        objs, pops, nsyn, _ = build_vogels(args, dt, args.net)
    mons = {p: SpikeMonitor(g, name=f'mon_{p}') for p, (g, n) in pops.items()}
    T = args.sim_s*second
    net = Network(*objs, *mons.values())
    net.run(T)
    tc = time.time()
    device.build(directory=code, compile=True, run=False, with_output=False)
    compile_s = time.time() - tc
    pre_s = tc - t0
    tr = time.time()
    device.run(code, False, [])
    binary_s = time.time() - tr
    sim_s = float(device._last_run_time)

    res = {'net': args.net, 'threads': args.threads, 'sim_time_s': args.sim_s,
           'seed': args.seed, 'conn': args.conn, 'vinit': args.vinit,
           'order': 'brian' if args.brian_order else 'nest',
           'python_setup_s': pre_s, 'compile_s': compile_s, 'binary_s': binary_s,
           'sim_s': sim_s, 'build_s': binary_s - sim_s}
    if nsyn is None:
        nsyn = int(sum(len(o) for o in objs if isinstance(o, Synapses) and o.name != 'syn_kick'))
    res['synapses'] = int(nsyn)
    for p, (g, n) in pops.items():
        m = mons[p]
        i = np.asarray(m.i[:], dtype=np.int64)
        t = np.asarray(m.t[:] / second, dtype=np.float64)
        res[f'n_{p}'] = n
        res[f'spikes_{p}'] = int(len(i))
        res[f'rate_{p}'] = len(i) / (n * args.sim_s)
        res[f'cv_{p}'] = cv_mean(i, t, n)
    with open(os.path.join(outdir, 'results.json'), 'w') as f:
        json.dump(res, f, indent=1)
    for k, v in res.items():
        emit(k, f'{v:.6g}' if isinstance(v, float) else v)


if __name__ == '__main__':
    main()
