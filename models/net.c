/* net.c — parameter blocks, initialisation and the dense head (see net.h). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "models/dense.h"
#include "models/lstm.h"
#include "models/net.h"
#include "base/rng.h"
#include "base/status.h"

enum { T_WIH = 1, T_WHH, T_BIH, T_BHH, T_HEADW = 16, T_HEADB = 32, T_SNN = 64 };

static float unif(uint64_t seed, int tensor, size_t idx, double bound)
{
    return (float)((2.0 * rc_uniform(seed, RC_STREAM_INIT, (uint64_t)tensor, idx) - 1.0) * bound);
}

rc_net *rc_net_new(const rc_net_shape *s, uint64_t seed)
{
    RC_ASSERT(s->nin > 0 && s->H > 0 && s->K > 0 && s->nhead >= 0 && s->nhead <= RC_NET_MAX_HEAD);
    const int conv = s->core == RC_CORE_CONVLSTM;
    const int snn = s->core == RC_CORE_LIF;
    RC_ASSERT(!conv || (rc_convlstm_shape_ok(&s->conv) &&
                        s->H == s->conv.C * s->conv.Hh * s->conv.Ww &&
                        s->nin == s->conv.Cin * s->conv.Hh * s->conv.Ww));
    rc_net *net = calloc(1, sizeof *net);
    if (!net) return NULL;
    net->s = *s;
    const size_t H = (size_t)s->H, G4 = 4 * H;
    size_t off = 0;
    if (snn) {
        off = rc_lif_layout(&net->s.snn, off);
    } else if (conv) {
        net->w_ih = off; off += rc_convlstm_nwx(&s->conv);
        net->w_hh = off; off += rc_convlstm_nwh(&s->conv);
        net->b_ih = off; off += rc_convlstm_nb(&s->conv);
        net->b_hh = off; /* empty: one bias, as one Conv2d over [x, h] */
    } else {
        net->w_ih = off; off += (size_t)s->nin * G4;
        net->w_hh = off; off += G4 * H;
        net->b_ih = off; off += G4;
        net->b_hh = off; off += G4;
    }
    net->nlayers = snn ? 0 : s->nhead + 1;
    int in = s->H;
    for (int l = 0; l < net->nlayers; l++) {
        int out = l < s->nhead ? s->head[l] : s->K;
        net->hin[l] = in;
        net->hout[l] = out;
        net->hw[l] = off; off += (size_t)in * out;
        net->hb[l] = off; off += (size_t)out;
        in = out;
    }
    net->nparams = off;
    /* One block per category, 64-byte aligned for the BLAS. */
    size_t bytes = (off * sizeof(float) + 63) / 64 * 64;
    net->params = aligned_alloc(64, bytes);
    net->grads = aligned_alloc(64, bytes);
    net->m = aligned_alloc(64, bytes);
    net->v = aligned_alloc(64, bytes);
    if (!net->params || !net->grads || !net->m || !net->v) {
        rc_net_free(net);
        return NULL;
    }
    memset(net->grads, 0, bytes);
    memset(net->m, 0, bytes);
    memset(net->v, 0, bytes);

    float *p = net->params;
    const double kl = 1.0 / sqrt((double)H);
    if (snn) rc_lif_init(p, &net->s.snn, seed, T_SNN);
    if (conv) rc_convlstm_init(p + net->w_ih, p + net->w_hh, p + net->b_ih, &s->conv, seed, T_WIH);
    /* LSTM tensors: PyTorch's logical index is gate-major (gate·H + u). */
    for (int g = 0; g < 4 && !conv && !snn; g++)
        for (int u = 0; u < s->H; u++) {
            const size_t lr = (size_t)g * H + (size_t)u;   /* logical row */
            const size_t tr = (size_t)rc_lstm_row(s->H, g, u); /* tiled row */
            for (int i = 0; i < s->nin; i++)
                p[net->w_ih + (size_t)i * G4 + tr] = unif(seed, T_WIH, lr * (size_t)s->nin + (size_t)i, kl);
            for (size_t j = 0; j < H; j++)
                p[net->w_hh + tr * H + j] = unif(seed, T_WHH, lr * H + j, kl);
            p[net->b_ih + tr] = unif(seed, T_BIH, lr, kl);
            p[net->b_hh + tr] = unif(seed, T_BHH, lr, kl);
        }
    for (int l = 0; l < net->nlayers; l++) {
        const double kb = 1.0 / sqrt((double)net->hin[l]);
        const size_t nw = (size_t)net->hin[l] * (size_t)net->hout[l];
        for (size_t i = 0; i < nw; i++) p[net->hw[l] + i] = unif(seed, T_HEADW + l, i, kb);
        for (int o = 0; o < net->hout[l]; o++) p[net->hb[l] + (size_t)o] = unif(seed, T_HEADB + l, (size_t)o, kb);
    }
    return net;
}

void rc_net_tensor_at(const rc_net *net, size_t index, char *buf, size_t cap, size_t *local)
{
    *local = 0;
    snprintf(buf, cap, "?");
    if (index >= net->nparams) return;
    if (net->s.core == RC_CORE_LIF) {
        const rc_lif_shape *sn = &net->s.snn;
        char pop[32];
        for (int l = 0, q = 0; l < sn->nl; l++) {
            const rc_lif_layer *L = &sn->L[l];
            if (L->kind == RC_LIF_POOL) continue;
            rc_lif_pop_name(sn, q++, pop, sizeof pop);
            if (index >= L->w && index < L->w + L->nw) { snprintf(buf, cap, "%s.w", pop); *local = index - L->w; return; }
            if (index >= L->b && index < L->b + (size_t)L->cout) { snprintf(buf, cap, "%s.b", pop); *local = index - L->b; return; }
            if (L->rec && index >= L->r && index < L->r + (size_t)L->cout * L->cout) { snprintf(buf, cap, "%s.r", pop); *local = index - L->r; return; }
            if (L->rec && sn->learn_tau && index >= L->kt && index < L->kt + (size_t)L->cout) { snprintf(buf, cap, "%s.tau_logit", pop); *local = index - L->kt; return; }
        }
        return;
    }
    for (int l = net->nlayers - 1; l >= 0; l--) {
        const int last = l == net->nlayers - 1;
        if (index >= net->hb[l]) {
            if (last) snprintf(buf, cap, "output.b"); else snprintf(buf, cap, "head%d.b", l + 1);
            *local = index - net->hb[l];
            return;
        }
        if (index >= net->hw[l]) {
            if (last) snprintf(buf, cap, "output.W"); else snprintf(buf, cap, "head%d.W", l + 1);
            *local = index - net->hw[l];
            return;
        }
    }
    const size_t off[4] = { net->w_ih, net->w_hh, net->b_ih, net->b_hh };
    static const char *const names[4] = { "w_ih", "w_hh", "b_ih", "b_hh" };
    for (int k = 3; k >= 0; k--)
        if (index >= off[k] && (k < 3 || net->s.core != RC_CORE_CONVLSTM)) {
            snprintf(buf, cap, "%s", names[k]);
            *local = index - off[k];
            return;
        }
}

size_t rc_net_first_nonfinite(const float *data, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(data[i])) return i;
    return SIZE_MAX;
}

void rc_net_free(rc_net *net)
{
    if (!net) return;
    free(net->params);
    free(net->grads);
    free(net->m);
    free(net->v);
    free(net);
}

void rc_net_zero_grad(rc_net *net)
{
    memset(net->grads, 0, net->nparams * sizeof(float));
}

static double head_macs(const rc_net *net)
{
    double m = 0;
    for (int l = 0; l < net->nlayers; l++) m += (double)net->hin[l] * net->hout[l];
    return m;
}

double rc_net_step_macs(const rc_net *net, int64_t events, int h_zero)
{
    const rc_net_shape *s = &net->s;
    if (s->core == RC_CORE_CONVLSTM) {
        const rc_convlstm_shape *c = &s->conv;
        const double P = (double)c->Hh * c->Ww, KK = (double)c->k * c->k;
        return (h_zero ? 0.0 : 4.0 * c->C * c->C * KK * P) + (double)events * 4.0 * c->C * KK +
               head_macs(net);
    }
    return (h_zero ? 0.0 : 4.0 * s->H * s->H) + (double)events * 4.0 * s->H + head_macs(net);
}

double rc_net_dense_step_macs(const rc_net *net)
{
    const rc_net_shape *s = &net->s;
    if (s->core == RC_CORE_CONVLSTM) {
        const rc_convlstm_shape *c = &s->conv;
        const double P = (double)c->Hh * c->Ww, KK = (double)c->k * c->k;
        return 4.0 * c->C * (c->C + c->Cin) * KK * P + head_macs(net);
    }
    return 4.0 * s->H * (s->H + s->nin) + head_macs(net);
}

int rc_net_head_width(const rc_net *net)
{
    int w = net->s.H;
    for (int l = 0; l < net->nlayers; l++) w = net->hout[l] > w ? net->hout[l] : w;
    return w;
}

void rc_net_head_forward(const rc_net *net, const float *h, float *z, float *acts)
{
    const float *in = h;
    float tmp[2][256];
    float *a = acts;
    for (int l = 0; l < net->nlayers; l++) {
        const int last = l == net->nlayers - 1;
        float *out = last ? z : (a ? a : tmp[l & 1]);
        RC_ASSERT(last || a || net->hout[l] <= 256);
        rc_dense_forward(out, in, net->params + net->hw[l], net->params + net->hb[l],
                         net->hin[l], net->hout[l]);
        if (!last) {
            rc_relu_forward(out, net->hout[l]);
            if (a) a += net->hout[l];
        }
        in = out;
    }
}

size_t rc_net_head_t_floats(const rc_net *net)
{
    size_t n = 0;
    for (int l = 0; l < net->nlayers; l++) n += (size_t)net->hin[l] * (size_t)rc_dense_pad(net->hout[l]);
    return n;
}

void rc_net_head_transpose(const rc_net *net, float *ht)
{
    for (int l = 0; l < net->nlayers; l++) {
        rc_dense_transpose(ht, net->params + net->hw[l], net->hin[l], net->hout[l]);
        ht += (size_t)net->hin[l] * (size_t)rc_dense_pad(net->hout[l]);
    }
}

void rc_net_head_forward_rows(const rc_net *net, const float *ht, const float *h, size_t hstride, int nrows,
                              float *z, float *acts, size_t astride)
{
    RC_ASSERT(acts || net->nlayers == 1);
    enum { CHUNK = 64 };
    const float *in[CHUNK];
    float *out[CHUNK];
    for (int c0 = 0; c0 < nrows; c0 += CHUNK) {
        const int nc = nrows - c0 < CHUNK ? nrows - c0 : CHUNK;
        for (int r = 0; r < nc; r++) in[r] = h + (size_t)(c0 + r) * hstride;
        const float *wt = ht;
        size_t aoff = 0;
        for (int l = 0; l < net->nlayers; l++) {
            const int last = l == net->nlayers - 1;
            for (int r = 0; r < nc; r++)
                out[r] = last ? z + (size_t)(c0 + r) * (size_t)net->s.K : acts + (size_t)(c0 + r) * astride + aoff;
            rc_dense_forward_rows(out, in, nc, wt, net->params + net->hb[l], net->hin[l], net->hout[l]);
            if (!last) {
                for (int r = 0; r < nc; r++) {
                    rc_relu_forward(out[r], net->hout[l]);
                    in[r] = out[r];
                }
                aoff += (size_t)net->hout[l];
            }
            wt += (size_t)net->hin[l] * (size_t)rc_dense_pad(net->hout[l]);
        }
    }
}

void rc_net_head_backward(rc_net *net, const float *h, const float *acts,
                          const float *dz, float *dh, float *scratch)
{
    const int W = rc_net_head_width(net);
    float *dcur = scratch, *dnext = scratch + W;
    memcpy(dcur, dz, (size_t)net->s.K * sizeof *dz);
    /* Offsets of each hidden layer's activations inside acts. */
    size_t aoff[RC_NET_MAX_HEAD + 1];
    size_t o = 0;
    for (int l = 0; l < net->s.nhead; l++) { aoff[l] = o; o += (size_t)net->hout[l]; }
    for (int l = net->nlayers - 1; l >= 0; l--) {
        const float *in = l == 0 ? h : acts + aoff[l - 1];
        float *din = l == 0 ? dh : dnext;
        rc_dense_backward(din, net->grads + net->hw[l], net->grads + net->hb[l], dcur, in,
                          net->params + net->hw[l], net->hin[l], net->hout[l]);
        if (l > 0) {
            rc_relu_backward(dnext, in, net->hin[l]);
            float *t = dcur; dcur = dnext; dnext = t;
        }
    }
}
