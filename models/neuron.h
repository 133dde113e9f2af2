/* neuron.h — point neurons for network simulation (sim/network.h): NEST's
 * iaf_psc_delta, iaf_psc_exp and iaf_cond_exp behind one small interface.
 *
 * Parameters are in NEST's units (ms, mV, pF, nS, pA) and default to NEST's
 * values. rc_nrn_prop_init turns them into per-step propagators for a step
 * h; rc_nrn_update then advances a contiguous range of neurons (structure of
 * arrays, float) by one step, reading that step's input from one ring-buffer
 * row per input channel. One call per step and range: the loop over neurons
 * is branch-free and vectorises.
 *
 * Conventions (those of NEST; step = the interval (t, t+h]):
 *  - iaf_psc_delta: V ← P22·V + P20·I_e + (sum of the weights arriving this
 *    step, mV). Input arriving while refractory is dropped (NEST's default,
 *    refractory_input = false).
 *  - iaf_psc_exp: exact integration of V and the two synaptic currents
 *    (propagators P22 = e^(−h/τm), P21 = τm·τs/(C(τm−τs))·(e^(−h/τm) −
 *    e^(−h/τs)), which is h/C·e^(−h/τm) when τs = τm, P20 = τm/C·(1 − P22));
 *    weights in pA jump the currents at the end of the step they arrive in,
 *    so they act on V from the next step. Currents keep decaying and
 *    integrating input during refractoriness; only V is clamped.
 *  - iaf_cond_exp: conductances (nS) decay exactly; V by the exponential
 *    midpoint rule: conductances frozen at their value at t + h/2, then V
 *    relaxes exactly towards the resulting equilibrium (second order in h;
 *    tests/test_network.c checks it against RK4 at h/1000). Inhibitory
 *    weights are negative (NEST's sign convention) and add |w| to g_in. Conductances
 *    keep integrating input during refractoriness; V is clamped to V_reset.
 *  - Threshold: V ≥ V_th at the end of a step emits a spike in that step,
 *    V ← V_reset, and the neuron is refractory for round(t_ref/h) steps.
 * V of the psc models is held relative to E_L internally (as in NEST);
 * rc_nrn_v_offset gives what to add for absolute mV. */
#ifndef RC_NEURON_H
#define RC_NEURON_H

#include <stdint.h>
#include "base/status.h"

typedef enum { RC_IAF_PSC_DELTA = 0, RC_IAF_PSC_EXP = 1, RC_IAF_COND_EXP = 2 } rc_nrn_model;

typedef struct {
    rc_nrn_model model;
    double C_m;        /* pF                                               */
    double tau_m;      /* ms (psc models; cond_exp uses g_L)               */
    double g_L;        /* nS (cond_exp)                                    */
    double t_ref;      /* ms                                               */
    double E_L;        /* mV                                               */
    double V_th;       /* mV                                               */
    double V_reset;    /* mV                                               */
    double I_e;        /* pA                                               */
    double tau_syn_ex; /* ms (psc_exp, cond_exp)                           */
    double tau_syn_in; /* ms                                               */
    double E_ex, E_in; /* mV (cond_exp)                                    */
    double V_init_lo;  /* initial V (mV): uniform in [lo, hi]; lo = hi: constant */
    double V_init_hi;
} rc_nrn_params;

/* Per-step constants of one population (float: the state is float). */
typedef struct {
    rc_nrn_model model;
    int nchan;        /* input channels: 1 (delta) or 2 (ex, in)            */
    int32_t nref;     /* refractory steps                                   */
    float theta;      /* threshold in state units                           */
    float v_reset;    /* reset in state units                               */
    float P22, P20Ie; /* psc: V decay, constant drive per step              */
    float P21ex, P21in, P11ex, P11in; /* psc_exp currents; cond: full-step decays */
    float Hex, Hin;   /* cond: half-step decays                             */
    float gL, gLEL_Ie, Eex, Ein, mh_C; /* cond: g_L, g_L·E_L + I_e, reversals, −h/C */
    float v_offset;   /* absolute mV = state + v_offset                     */
} rc_nrn_prop;

/* Fills NEST's defaults for `model`. */
void rc_nrn_params_default(rc_nrn_model model, rc_nrn_params *p);
/* "iaf_psc_delta" ... -> model; -1 if unknown. */
int rc_nrn_model_parse(const char *name);
const char *rc_nrn_model_name(rc_nrn_model m);

/* Checks p (what names the population in messages) and computes the
 * propagators for step h_ms. RC_ERR_CONFIG on a bad value. */
rc_status rc_nrn_prop_init(const rc_nrn_params *p, double h_ms, const char *what, rc_nrn_prop *out,
                           rc_err *err);

/* Initial state value (state units) from V_init uniform u in [0, 1). */
float rc_nrn_v_init(const rc_nrn_params *p, double u);

/* One step of n neurons. V, refr (n); gex, gin (n): synaptic currents (pA)
 * or conductances (nS), unused (may be NULL) for psc_delta; in_ex, in_in
 * (n): this step's input from the ring buffer (in_in unused for psc_delta),
 * read and zeroed. spk (n): set to 1 where the neuron spiked, else 0. */
void rc_nrn_update(const rc_nrn_prop *p, int n, float *restrict V, int32_t *restrict refr,
                   float *restrict gex, float *restrict gin, float *restrict in_ex,
                   float *restrict in_in, uint8_t *restrict spk);

#endif
