/* neuron.c — NEST's iaf_psc_delta, iaf_psc_exp and iaf_cond_exp: defaults,
 * parameter checks, propagators and the per-step update (conventions in
 * neuron.h).
 *
 * Why it is built this way: propagators are computed once in double and
 * stored as float, like the state; the update loops are written as
 * straight-line selects over arrays (no branch on the spike or the
 * refractory counter) so the compiler vectorises them; rc_expf
 * (models/fastmath.h) keeps the conductance model's exponential inside the
 * vector loop. */
#include <math.h>
#include <string.h>

#include "models/fastmath.h"
#include "models/neuron.h"

static const char *const model_names[] = { "iaf_psc_delta", "iaf_psc_exp", "iaf_cond_exp" };

int rc_nrn_model_parse(const char *name)
{
    for (int m = 0; m < 3; m++)
        if (!strcmp(name, model_names[m])) return m;
    return -1;
}

const char *rc_nrn_model_name(rc_nrn_model m)
{
    return (unsigned)m < 3 ? model_names[m] : "?";
}

void rc_nrn_params_default(rc_nrn_model model, rc_nrn_params *p)
{
    memset(p, 0, sizeof *p);
    p->model = model;
    p->C_m = 250.0;
    p->tau_m = 10.0;
    p->g_L = 16.6667;
    p->t_ref = 2.0;
    p->E_L = -70.0;
    p->V_th = -55.0;
    p->V_reset = model == RC_IAF_COND_EXP ? -60.0 : -70.0;
    p->tau_syn_ex = model == RC_IAF_COND_EXP ? 0.2 : 2.0;
    p->tau_syn_in = 2.0;
    p->E_ex = 0.0;
    p->E_in = -85.0;
    p->V_init_lo = p->V_init_hi = p->E_L;
}

/* P21 of NEST's psc_exp: the voltage response at h to a unit current that
 * decays with tau_s, with the tau_s = tau_m limit taken when they coincide. */
static double propagator_21(double tau_s, double tau_m, double C, double h)
{
    if (fabs(tau_m - tau_s) < 1e-9 * tau_m) return h / C * exp(-h / tau_m);
    /* e^(-h/τm) − e^(-h/τs) = −e^(-h/τm)·expm1(−h(1/τs − 1/τm)), exact for close taus */
    const double d = -exp(-h / tau_m) * expm1(-h * (1.0 / tau_s - 1.0 / tau_m));
    return tau_m * tau_s / (C * (tau_m - tau_s)) * d;
}

rc_status rc_nrn_prop_init(const rc_nrn_params *p, double h, const char *what, rc_nrn_prop *o,
                           rc_err *err)
{
    memset(o, 0, sizeof *o);
    const int cond = p->model == RC_IAF_COND_EXP, delta = p->model == RC_IAF_PSC_DELTA;
    if (!(p->C_m > 0)) return rc_err_set(err, RC_ERR_CONFIG, "%s: C_m = %g pF (expected > 0)", what, p->C_m);
    if (!cond && !(p->tau_m > 0))
        return rc_err_set(err, RC_ERR_CONFIG, "%s: tau_m = %g ms (expected > 0)", what, p->tau_m);
    if (cond && !(p->g_L > 0)) return rc_err_set(err, RC_ERR_CONFIG, "%s: g_L = %g nS (expected > 0)", what, p->g_L);
    if (!delta && !(p->tau_syn_ex > 0 && p->tau_syn_in > 0))
        return rc_err_set(err, RC_ERR_CONFIG, "%s: tau_syn_ex = %g, tau_syn_in = %g ms (expected > 0)", what,
                          p->tau_syn_ex, p->tau_syn_in);
    if (!(p->t_ref >= 0)) return rc_err_set(err, RC_ERR_CONFIG, "%s: t_ref = %g ms (expected >= 0)", what, p->t_ref);
    if (!(p->V_reset < p->V_th))
        return rc_err_set(err, RC_ERR_CONFIG, "%s: V_reset = %g mV must be below V_th = %g mV", what, p->V_reset,
                          p->V_th);
    if (!(p->V_init_lo <= p->V_init_hi))
        return rc_err_set(err, RC_ERR_CONFIG, "%s: V_init range [%g, %g] is empty", what, p->V_init_lo,
                          p->V_init_hi);
    o->model = p->model;
    o->nchan = delta ? 1 : 2;
    o->nref = (int32_t)lround(p->t_ref / h);
    if (cond) {
        o->theta = (float)p->V_th;
        o->v_reset = (float)p->V_reset;
        o->v_offset = 0.0f;
        o->P11ex = (float)exp(-h / p->tau_syn_ex);
        o->P11in = (float)exp(-h / p->tau_syn_in);
        o->Hex = (float)exp(-0.5 * h / p->tau_syn_ex);
        o->Hin = (float)exp(-0.5 * h / p->tau_syn_in);
        o->gL = (float)p->g_L;
        o->gLEL_Ie = (float)(p->g_L * p->E_L + p->I_e);
        o->Eex = (float)p->E_ex;
        o->Ein = (float)p->E_in;
        o->mh_C = (float)(-h / p->C_m);
        return RC_OK;
    }
    o->theta = (float)(p->V_th - p->E_L);
    o->v_reset = (float)(p->V_reset - p->E_L);
    o->v_offset = (float)p->E_L;
    o->P22 = (float)exp(-h / p->tau_m);
    o->P20Ie = (float)(-p->tau_m / p->C_m * expm1(-h / p->tau_m) * p->I_e);
    if (!delta) {
        o->P11ex = (float)exp(-h / p->tau_syn_ex);
        o->P11in = (float)exp(-h / p->tau_syn_in);
        o->P21ex = (float)propagator_21(p->tau_syn_ex, p->tau_m, p->C_m, h);
        o->P21in = (float)propagator_21(p->tau_syn_in, p->tau_m, p->C_m, h);
    }
    return RC_OK;
}

float rc_nrn_v_init(const rc_nrn_params *p, double u)
{
    const double v = p->V_init_lo + u * (p->V_init_hi - p->V_init_lo);
    return (float)(p->model == RC_IAF_COND_EXP ? v : v - p->E_L);
}

/* Refractory clamp, threshold and reset, shared by the three models: v is
 * the freshly integrated potential. */
#define RC_NRN_FIRE(i, v)                                            \
    do {                                                             \
        const int32_t r_ = refr[i];                                  \
        const float vc_ = r_ > 0 ? V[i] : (v);                       \
        const int s_ = vc_ >= theta;                                 \
        V[i] = s_ ? vreset : vc_;                                    \
        refr[i] = s_ ? nref : (r_ > 0 ? r_ - 1 : 0);                 \
        spk[i] = (uint8_t)s_;                                        \
    } while (0)

static void update_delta(const rc_nrn_prop *p, int n, float *restrict V, int32_t *restrict refr,
                         float *restrict in, uint8_t *restrict spk)
{
    const float P22 = p->P22, drive = p->P20Ie, theta = p->theta, vreset = p->v_reset;
    const int32_t nref = p->nref;
    for (int i = 0; i < n; i++) {
        const float v = P22 * V[i] + drive + in[i]; /* input while refractory: dropped */
        in[i] = 0.0f;
        RC_NRN_FIRE(i, v);
    }
}

static void update_exp(const rc_nrn_prop *p, int n, float *restrict V, int32_t *restrict refr,
                       float *restrict iex, float *restrict iin, float *restrict in_ex,
                       float *restrict in_in, uint8_t *restrict spk)
{
    const float P22 = p->P22, drive = p->P20Ie, theta = p->theta, vreset = p->v_reset;
    const float P21e = p->P21ex, P21i = p->P21in, P11e = p->P11ex, P11i = p->P11in;
    const int32_t nref = p->nref;
    for (int i = 0; i < n; i++) {
        const float v = P22 * V[i] + drive + P21e * iex[i] + P21i * iin[i];
        iex[i] = P11e * iex[i] + in_ex[i];
        iin[i] = P11i * iin[i] + in_in[i];
        in_ex[i] = 0.0f;
        in_in[i] = 0.0f;
        RC_NRN_FIRE(i, v);
    }
}

static void update_cond(const rc_nrn_prop *p, int n, float *restrict V, int32_t *restrict refr,
                        float *restrict gex, float *restrict gin, float *restrict in_ex,
                        float *restrict in_in, uint8_t *restrict spk)
{
    const float theta = p->theta, vreset = p->v_reset, gL = p->gL, base = p->gLEL_Ie;
    const float Eex = p->Eex, Ein = p->Ein, mh_C = p->mh_C;
    const float P11e = p->P11ex, P11i = p->P11in, He = p->Hex, Hi = p->Hin;
    const int32_t nref = p->nref;
    for (int i = 0; i < n; i++) {
        const float ge = gex[i] * He, gi = gin[i] * Hi; /* conductances at t + h/2 */
        const float gt = gL + ge + gi;
        const float vinf = (base + ge * Eex + gi * Ein) / gt;
        const float v = vinf + (V[i] - vinf) * rc_expf(mh_C * gt);
        gex[i] = P11e * gex[i] + in_ex[i];
        gin[i] = P11i * gin[i] - in_in[i]; /* inhibitory weights are < 0: g_in += |w| */
        in_ex[i] = 0.0f;
        in_in[i] = 0.0f;
        RC_NRN_FIRE(i, v);
    }
}

void rc_nrn_update(const rc_nrn_prop *p, int n, float *restrict V, int32_t *restrict refr,
                   float *restrict gex, float *restrict gin, float *restrict in_ex,
                   float *restrict in_in, uint8_t *restrict spk)
{
    switch (p->model) {
    case RC_IAF_PSC_DELTA: update_delta(p, n, V, refr, in_ex, spk); break;
    case RC_IAF_PSC_EXP: update_exp(p, n, V, refr, gex, gin, in_ex, in_in, spk); break;
    case RC_IAF_COND_EXP: update_cond(p, n, V, refr, gex, gin, in_ex, in_in, spk); break;
    }
}
