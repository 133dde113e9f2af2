/* nir_convert.c — rcsim's LIF layers <-> a NIR chain (see nir_app.h for the
 * τ/β convention and README "NIR export and import" for where it is exact).
 *
 * Layouts: rcsim keeps maps channels last and weights in the order an event
 * needs them (conv (Cin, k, k, Cout), fc (nin, nout)); NIR is PyTorch's
 * (conv (Cout, Cin, k, k), fc (Nout, Nin), maps [C, H, W], a Flatten in
 * C, H, W order). Both directions permute with the same index formulas. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sim/app/nir_app.h"

static double *filled(size_t n, double v)
{
    double *a = malloc((n ? n : 1) * sizeof *a);
    for (size_t i = 0; a && i < n; i++) a[i] = v;
    return a;
}

rc_status rc_nir_from_lif(const rc_lif_shape *sn, const float *P, double dt_ms, rc_nir_net *n, rc_err *err)
{
    memset(n, 0, sizeof *n);
    for (int l = 0; l < sn->nl; l++) /* not mapped yet: refused, never exported as plain fc */
        if (sn->L[l].rec || sn->L[l].li)
            return rc_err_set(err, RC_ERR_CONFIG, "export-nir: layer %d (%s%d%s) is recurrent or a leaky-integrator readout; "
                              "only conv, pool2 and fc LIF layers can be exported to NIR so far", l + 1,
                              sn->L[l].rec ? "rfc" : "li", sn->L[l].cout, sn->L[l].adapt ? "a" : "");
    const rc_lif_layer *L0 = &sn->L[0];
    n->in_rank = L0->kind == RC_LIF_CONV ? 3 : 1;
    n->in_shape[0] = n->in_rank == 3 ? L0->cin : L0->nin;
    n->in_shape[1] = n->in_rank == 3 ? L0->hin : 1;
    n->in_shape[2] = n->in_rank == 3 ? L0->win : 1;
    const double beta = sn->tau, tau = RC_NIR_DT / (1.0 - beta);
    for (int l = 0; l < sn->nl; l++, n->nl++) {
        const rc_lif_layer *L = &sn->L[l];
        rc_nir_layer *D = &n->L[l];
        D->kind = L->kind == RC_LIF_CONV ? RC_NIR_CONV : L->kind == RC_LIF_POOL ? RC_NIR_POOL : RC_NIR_FC;
        D->cin = L->cin; D->hin = L->hin; D->win = L->win;
        D->cout = L->cout; D->hout = L->hout; D->wout = L->wout;
        D->k = L->k; D->pad = L->pad;
        if (L->kind == RC_LIF_POOL) continue;
        const size_t N = (size_t)L->nout, co = (size_t)L->cout;
        D->w = malloc(L->nw * sizeof *D->w);
        D->b = L->kind == RC_LIF_CONV || sn->bias ? malloc(co * sizeof *D->b) : NULL;
        D->tau = filled(N, tau); D->r = filled(N, tau / RC_NIR_DT); D->v_leak = filled(N, 0.0);
        D->v_th = filled(N, sn->vth); D->v_reset = filled(N, 0.0);
        if (!D->w || (!D->b && (L->kind == RC_LIF_CONV || sn->bias)) || !D->tau || !D->r || !D->v_leak || !D->v_th ||
            !D->v_reset) {
            n->nl++;
            rc_nir_free(n);
            return rc_err_set(err, RC_ERR_NOMEM, "out of memory building the NIR graph");
        }
        if (D->b) memcpy(D->b, P + L->b, co * sizeof *D->b);
        if (L->kind != RC_LIF_CONV) {
            const rc_lif_layer *Q = l > 0 ? &sn->L[l - 1] : NULL;
            D->flat = Q && Q->kind != RC_LIF_FC;
            if (D->flat) { D->cflat = Q->cout; D->hflat = Q->hout; D->wflat = Q->wout; }
        }
        for (size_t k = 0; k < L->nw; k++) D->w[rc_lif_torch_index(sn, l, k)] = P[L->w + k];
    }
    rc_nir_meta *m = &n->meta;
    m->has_dt = m->has_dt_ms = m->has_reset = m->has_beta = m->has_bias = 1;
    m->dt = RC_NIR_DT;
    m->dt_ms = dt_ms;
    m->reset_sub = sn->reset == RC_RESET_SUB;
    m->beta = beta;
    m->bias = sn->bias;
    rc_lif_describe(sn, m->layers, sizeof m->layers);
    return RC_OK;
}

/* ---- import ----------------------------------------------------------------- */

/* Every LIF of the chain must share one τ and one V_th (rcsim has one per
 * network), with v_leak = 0, v_reset = 0 and r = τ/dt; *tau0, *vth0 get them. */
static rc_status check_neurons(const rc_nir_net *n, const char *pre, double dt, double *tau0, double *vth0, rc_err *err)
{
    const char *first = NULL;
    *tau0 = *vth0 = 0;
    for (int l = 0; l < n->nl; l++) {
        const rc_nir_layer *D = &n->L[l];
        if (D->kind == RC_NIR_POOL) continue;
        const size_t N = (size_t)D->cout * D->hout * D->wout;
        if (!first) { first = D->lif; *tau0 = D->tau[0]; *vth0 = D->v_th[0]; }
        for (size_t i = 0; i < N; i++) {
            if (D->tau[i] != *tau0)
                return rc_err_set(err, RC_ERR_DATA, "%s: node '%s' (LIF): tau[%zu] = %g differs from tau = %g of '%s'; "
                                  "rcsim's LIF layers share one decay factor", pre, D->lif, i, D->tau[i], *tau0, first);
            if (D->v_th[i] != *vth0)
                return rc_err_set(err, RC_ERR_DATA, "%s: node '%s' (LIF): v_threshold[%zu] = %g differs from %g of '%s'; "
                                  "rcsim's LIF layers share one V_th", pre, D->lif, i, D->v_th[i], *vth0, first);
            if (D->v_leak[i] != 0 || D->v_reset[i] != 0)
                return rc_err_set(err, RC_ERR_DATA, "%s: node '%s' (LIF): v_leak[%zu] = %g, v_reset[%zu] = %g; expected 0 "
                                  "(rcsim's LIF rests and resets at 0)", pre, D->lif, i, D->v_leak[i], i, D->v_reset[i]);
            if (!(fabs(D->r[i] * dt / D->tau[i] - 1.0) <= 1e-6))
                return rc_err_set(err, RC_ERR_DATA, "%s: node '%s' (LIF): r[%zu] = %g; expected tau/dt = %g (dt = %g s: "
                                  "rcsim adds its input with gain 1)", pre, D->lif, i, D->r[i], D->tau[i] / dt, dt);
        }
    }
    if (!(*vth0 >= 1e-6 && *vth0 <= 1e6))
        return rc_err_set(err, RC_ERR_DATA, "%s: node '%s' (LIF): v_threshold = %g; expected 1e-6 to 1e6 (model.v_th's range)",
                          pre, first, *vth0);
    return RC_OK;
}

static rc_status check_input(const rc_nir_net *n, const char *pre, int cin, int h, int w, rc_err *err)
{
    const int *s = n->in_shape;
    const int img = h > 1 || w > 1;
    const int ok = n->in_rank == 3 ? s[0] == cin && s[1] == h && s[2] == w
                                   : (long long)s[0] == (long long)cin * h * w && n->L[0].kind == RC_NIR_FC;
    if (ok) return RC_OK;
    char have[64];
    if (n->in_rank == 3) snprintf(have, sizeof have, "[%d, %d, %d]", s[0], s[1], s[2]);
    else snprintf(have, sizeof have, "[%d]", s[0]);
    return rc_err_set(err, RC_ERR_CONFIG, "%s: the Input node's shape is %s; the task's data is %s [%d, %d, %d]%s", pre,
                      have, img ? "an image" : "a vector of", img ? cin : cin * h * w, img ? h : 1, img ? w : 1,
                      n->in_rank == 1 && img && n->L[0].kind != RC_NIR_FC ? " (a conv needs [C, H, W])" : "");
}

/* P's weights and biases from the chain (inverse of rc_nir_from_lif). */
static void copy_params(const rc_nir_net *n, const rc_lif_shape *sn, float *P)
{
    for (int l = 0; l < sn->nl; l++) {
        const rc_lif_layer *L = &sn->L[l];
        const rc_nir_layer *D = &n->L[l];
        if (L->kind == RC_LIF_POOL) continue;
        const size_t co = (size_t)L->cout;
        for (size_t c = 0; c < co; c++) P[L->b + c] = D->b ? D->b[c] : 0.0f;
        for (size_t k = 0; k < L->nw; k++) P[L->w + k] = D->w[rc_lif_torch_index(sn, l, k)];
    }
}

rc_status rc_nir_to_lif(const rc_nir_net *n, const char *cfg_path, const char *nir_path, int cin, int h, int w,
                        rc_lif_shape *sn, float *P, rc_err *err)
{
    char pre[4200];
    snprintf(pre, sizeof pre, "%s: model.nir = %s", cfg_path, nir_path);
    rc_status st = check_input(n, pre, cin, h, w, err);
    if (st) return st;
    char layers[512] = "", msg[512];
    size_t o = 0;
    for (int l = 0; l < n->nl && o < sizeof layers; l++) {
        const rc_nir_layer *D = &n->L[l];
        int k = D->kind == RC_NIR_CONV ? snprintf(layers + o, sizeof layers - o, "%sconv%dk%dp%d", l ? " " : "", D->cout, D->k, D->pad)
              : D->kind == RC_NIR_POOL ? snprintf(layers + o, sizeof layers - o, "%spool2", l ? " " : "")
                                       : snprintf(layers + o, sizeof layers - o, "%sfc%d", l ? " " : "", D->cout);
        o += k > 0 ? (size_t)k : 0;
    }
    if (rc_lif_parse(sn, layers, cin, h, w, msg, sizeof msg))
        return rc_err_set(err, RC_ERR_CONFIG, "%s: its layers (%s) do not fit the task's input: %s", pre, layers, msg);
    for (int l = 0; l < sn->nl; l++)
        if (sn->L[l].nout != n->L[l].cout * n->L[l].hout * n->L[l].wout || sn->L[l].nin != n->L[l].cin * n->L[l].hin * n->L[l].win)
            return rc_err_set(err, RC_ERR_CONFIG, "%s: node '%s': %d inputs and %d outputs, where rcsim's layer %d (%s) has "
                              "%d and %d", pre, n->L[l].name, n->L[l].cin * n->L[l].hin * n->L[l].win,
                              n->L[l].cout * n->L[l].hout * n->L[l].wout, l + 1, layers, sn->L[l].nin, sn->L[l].nout);
    const rc_nir_meta *m = &n->meta;
    const double dt = m->has_dt ? m->dt : RC_NIR_DT;
    double tau = 0, vth = 0;
    if ((st = check_neurons(n, pre, dt, &tau, &vth, err))) return st;
    double beta = 1.0 - dt / tau;
    if (m->has_beta && fabs(m->beta - beta) <= 1e-6) beta = m->beta; /* rcsim's own file: β exactly */
    if (!(beta >= 0 && beta <= 0.999999))
        return rc_err_set(err, RC_ERR_DATA, "%s: LIF tau = %g s with dt = %g s gives beta = 1 - dt/tau = %g; rcsim needs "
                          "0 <= beta <= 0.999999 (model.tau's range, i.e. tau >= dt)", pre, tau, dt, beta);
    int anyb = 0;
    for (int l = 0; l < n->nl; l++) {
        const rc_nir_layer *D = &n->L[l];
        for (int c = 0; D->b && c < D->cout; c++) anyb |= D->b[c] != 0.0f;
        anyb |= D->kind == RC_NIR_FC && D->b != NULL && !m->has_bias;
    }
    if (m->has_bias && !m->bias && anyb)
        return rc_err_set(err, RC_ERR_DATA, "%s: metadata rcsim_bias = 0 but a layer has non-zero biases", pre);
    sn->vth = (float)vth;
    sn->tau = (float)beta;
    sn->reset = m->has_reset && m->reset_sub ? RC_RESET_SUB : RC_RESET_MULT;
    sn->bias = m->has_bias ? m->bias : anyb;
    if (P) {
        rc_lif_layout(sn, 0);
        copy_params(n, sn, P);
    }
    return RC_OK;
}

rc_status rc_app_nir_check_keys(const rc_cfg *cfg, const char *cfg_path, rc_err *err)
{
    const char *type = rc_cfg_get_str(cfg, "model.type");
    if (!strcmp(type, "nir"))
        return rc_err_set(err, RC_ERR_CONFIG, "%s: model.type = nir: load a NIR file with model.type = snn and model.nir = "
                          "FILE (the file holds a spiking LIF network, which rcsim runs as an snn)", cfg_path);
    if (!strcmp(rc_cfg_get_str(cfg, "model.nir"), "none")) return RC_OK;
    if (strcmp(type, "snn"))
        return rc_err_set(err, RC_ERR_CONFIG, "%s: model.nir has no effect for model.type = %s; expected model.type = snn "
                          "(a NIR file holds a spiking network)", cfg_path, type);
    static const char *const from_file[] = { "model.layers", "model.v_th", "model.tau", "model.reset", "model.bias", NULL };
    for (int i = 0; from_file[i]; i++)
        if (rc_cfg_is_set(cfg, from_file[i]))
            return rc_err_set(err, RC_ERR_CONFIG, "%s: %s has no effect with model.nir (the NIR file gives the layers, "
                              "weights, V_th, tau, reset and biases); remove it", cfg_path, from_file[i]);
    return RC_OK;
}

rc_status rc_app_nir_load(const rc_cfg *cfg, const char *cfg_path, int cin, int h, int w, rc_lif_shape *sn, float *P,
                          rc_err *err)
{
    const char *path = rc_cfg_get_str(cfg, "model.nir");
    rc_nir_net n;
    rc_err e = { "" };
    rc_status st = rc_nir_read(path, &n, &e);
    if (st) return rc_err_set(err, st, "%s: model.nir: %s", cfg_path, e.msg);
    st = rc_nir_to_lif(&n, cfg_path, path, cin, h, w, sn, P, err);
    rc_nir_free(&n);
    return st;
}
