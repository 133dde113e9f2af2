/* net_views.c — the parameters by name, shape and layout (see net.h,
 * "named, shaped views"): each model part describes its own tensors here,
 * and rc_net_view_gather turns the flat vector's order into PyTorch's. */
#include <stdio.h>
#include <string.h>
#include "models/lstm.h"
#include "models/net.h"
#include "base/status.h"

enum { V_PLAIN = 0, V_LSTM_IH, V_LSTM_HH, V_LSTM_B, V_LIF_CONV, V_LIF_FC };

typedef struct {
    rc_net_view *v;
    int n, cap;
} views;

static rc_net_view *add(views *w, const char *name, int kind, int layer, size_t offset, int ndim,
                        int d0, int d1, int d2, int d3)
{
    RC_ASSERT(w->n < w->cap);
    rc_net_view *v = &w->v[w->n++];
    memset(v, 0, sizeof *v);
    snprintf(v->name, sizeof v->name, "%s", name);
    const int d[4] = { d0, d1, d2, d3 };
    v->ndim = ndim;
    v->n = ndim ? 1 : 0;
    for (int i = 0; i < ndim; i++) {
        v->shape[i] = d[i];
        v->n *= (size_t)d[i];
    }
    v->offset = offset;
    v->kind = kind;
    v->layer = layer;
    return v;
}

static void attr_s(rc_net_view *v, const char *key, const char *s)
{
    RC_ASSERT(v->nattrs < RC_NET_VIEW_MAX_ATTRS);
    v->attrs[v->nattrs++] = (rc_net_view_attr){ key, s, 0, 0 };
}

static void attr_d(rc_net_view *v, const char *key, double d)
{
    RC_ASSERT(v->nattrs < RC_NET_VIEW_MAX_ATTRS);
    v->attrs[v->nattrs++] = (rc_net_view_attr){ key, NULL, d, 0 };
}

static void attr_i(rc_net_view *v, const char *key, int i)
{
    RC_ASSERT(v->nattrs < RC_NET_VIEW_MAX_ATTRS);
    v->attrs[v->nattrs++] = (rc_net_view_attr){ key, NULL, i, 1 };
}

static void lstm_views(const rc_net *net, views *w)
{
    const int H = net->s.H, I = net->s.nin;
    rc_net_view *v = add(w, "lstm/w_ih", V_LSTM_IH, 0, net->w_ih, 2, 4 * H, I, 0, 0);
    v->layout = "[4H, I]: row gate*H + u (gate order i,f,g,o), column = input channel (PyTorch weight_ih_l0)";
    v->stored = "(I, 4H), the 4H rows in tiles of 16 units, gate by gate within a tile (models/lstm.h)";
    v = add(w, "lstm/w_hh", V_LSTM_HH, 0, net->w_hh, 2, 4 * H, H, 0, 0);
    v->layout = "[4H, H]: row gate*H + u (gate order i,f,g,o), column = h unit (PyTorch weight_hh_l0)";
    v->stored = "(4H, H), rows in tiles of 16 units, gate by gate within a tile (models/lstm.h)";
    v = add(w, "lstm/b_ih", V_LSTM_B, 0, net->b_ih, 1, 4 * H, 0, 0, 0);
    v->layout = "[4H]: gate*H + u (gate order i,f,g,o) (PyTorch bias_ih_l0)";
    v->stored = "(4H), tiled as w_hh's rows";
    v = add(w, "lstm/b_hh", V_LSTM_B, 0, net->b_hh, 1, 4 * H, 0, 0, 0);
    v->layout = "[4H]: gate*H + u (gate order i,f,g,o) (PyTorch bias_hh_l0); the cell adds b_ih + b_hh";
    v->stored = "(4H), tiled as w_hh's rows";
    for (int i = w->n - 4; i < w->n; i++) attr_s(&w->v[i], "gate_order", "i,f,g,o");
}

static void convlstm_views(const rc_net *net, views *w)
{
    const rc_convlstm_shape *c = &net->s.conv;
    rc_net_view *v = add(w, "convlstm/w_x", V_PLAIN, 0, net->w_ih, 4, 4 * c->C, c->Cin, c->k, c->k);
    v->layout = "[4C, Cin, k, k]: output row gate*C + ch (gate order i,f,g,o); stride 1, padding k/2";
    v = add(w, "convlstm/w_h", V_PLAIN, 0, net->w_hh, 4, 4 * c->C, c->C, c->k, c->k);
    v->layout = "[4C, C, k, k]: output row gate*C + ch (gate order i,f,g,o); stride 1, padding k/2";
    v = add(w, "convlstm/b", V_PLAIN, 0, net->b_ih, 1, 4 * c->C, 0, 0, 0);
    v->layout = "[4C]: gate*C + ch (gate order i,f,g,o)";
    for (int i = w->n - 3; i < w->n; i++) {
        w->v[i].stored = "the same layout";
        attr_s(&w->v[i], "gate_order", "i,f,g,o");
        attr_i(&w->v[i], "padding", c->k / 2);
    }
}

static void head_views(const rc_net *net, views *w)
{
    for (int l = 0; l < net->nlayers; l++) {
        char base[24], name[48];
        if (l == net->nlayers - 1) snprintf(base, sizeof base, "output");
        else snprintf(base, sizeof base, "head%d", l + 1);
        snprintf(name, sizeof name, "%s/weight", base);
        rc_net_view *v = add(w, name, V_PLAIN, l, net->hw[l], 2, net->hout[l], net->hin[l], 0, 0);
        v->layout = "[out, in] (PyTorch nn.Linear weight); z = W x + b";
        v->stored = "the same layout";
        attr_s(v, "activation", l == net->nlayers - 1 ? (net->s.K == 1 ? "sigmoid" : "softmax") : "relu");
        snprintf(name, sizeof name, "%s/bias", base);
        v = add(w, name, V_PLAIN, l, net->hb[l], 1, net->hout[l], 0, 0, 0);
        v->layout = "[out]";
        v->stored = "the same layout";
    }
}

static void lif_views(const rc_net *net, views *w)
{
    const rc_lif_shape *s = &net->s.snn;
    for (int l = 0, q = 0; l < s->nl; l++) {
        const rc_lif_layer *L = &s->L[l];
        if (L->kind == RC_LIF_POOL) continue;
        char pop[32], name[72];
        rc_lif_pop_name(s, q++, pop, sizeof pop);
        snprintf(name, sizeof name, "snn/%s/weight", pop);
        rc_net_view *v;
        if (L->kind == RC_LIF_CONV) {
            v = add(w, name, V_LIF_CONV, l, L->w, 4, L->cout, L->cin, L->k, L->k);
            v->layout = "[Cout, Cin, k, k] (PyTorch nn.Conv2d weight); stride 1, zero padding = attribute padding";
            v->stored = "(Cin, k, k, Cout)";
            attr_i(v, "padding", L->pad);
            attr_i(v, "stride", 1);
        } else {
            v = add(w, name, V_LIF_FC, l, L->w, 2, L->cout, L->nin, 0, 0);
            v->layout = l > 0 && s->L[l - 1].kind != RC_LIF_FC
                            ? "[out, in] (PyTorch nn.Linear weight); in = the map flattened as PyTorch does: c*H*W + y*W + x"
                            : "[out, in] (PyTorch nn.Linear weight)";
            v->stored = "(in, out), in = (y*W + x)*C + c (channels last)";
        }
        attr_s(v, "neuron", L->li ? "LI" : L->adapt ? "ALIF" : "LIF");
        snprintf(name, sizeof name, "snn/%s/bias", pop);
        v = add(w, name, V_PLAIN, l, L->b, 1, L->cout, 0, 0, 0);
        v->layout = s->bias ? "[Cout] or [out], added every step" : "[Cout] or [out], all zero (model.bias = false)";
        v->stored = "the same layout";
        if (L->rec) {
            snprintf(name, sizeof name, "snn/%s/recurrent_weight", pop);
            v = add(w, name, V_PLAIN, l, L->r, 2, L->cout, L->cout, 0, 0);
            v->layout = "[from, to]: u_to(t) += R[from, to]*o_from(t-1)";
            v->stored = "the same layout";
            attr_i(v, "adaptive", L->adapt);
            if (s->learn_tau) {
                snprintf(name, sizeof name, "snn/%s/tau_logit", pop);
                v = add(w, name, V_PLAIN, l, L->kt, 1, L->cout, 0, 0, 0);
                v->layout = "[out]: learned decay tau_j = 1/(1 + exp(-tau_logit_j)) (model.learn_tau)";
                v->stored = "the same layout";
            }
        }
    }
    /* The neurons' constants, on /params/snn. */
    rc_net_view *v = add(w, "snn", V_PLAIN, -1, 0, 0, 0, 0, 0, 0);
    attr_d(v, "v_th", s->vth);
    attr_d(v, "tau", s->tau);
    attr_s(v, "reset", s->reset == RC_RESET_MULT ? "mult" : "subtract");
    attr_i(v, "bias", s->bias);
    int rec = 0, ada = 0; /* the rfc / li constants, where such a layer exists */
    for (int l = 0; l < s->nl; l++) { rec |= s->L[l].rec; ada |= s->L[l].adapt; }
    if (rec) { attr_d(v, "tau_rec", s->tau_rec); attr_i(v, "learn_tau", s->learn_tau); }
    if (ada) { attr_d(v, "alif_rho", s->alif_rho); attr_d(v, "alif_beta", s->alif_beta); }
    if (s->L[s->nl - 1].li) { attr_d(v, "tau_out", s->tau_out); attr_d(v, "v_out", s->vout); }
    if (rec || s->L[s->nl - 1].li)
        attr_s(v, "rule_rfc_li", "rfc: u_t = tau_rec*r_{t-1} + W x_t + R^T o_{t-1} (+ b), o_t = [u_t > theta_t], reset as "
                                 "rule with theta_t; rfcNa: theta_t = v_th + alif_beta*a_t, a_t = alif_rho*a_{t-1} + "
                                 "o_{t-1}, else theta_t = v_th; li: u_t = tau_out*u_{t-1} + W x_t (+ b), never reset");
    attr_s(v, "rule", "u_t = tau*r_{t-1} + W x_t (+ b); o_t = [u_t > v_th]; r_t = u_t*(1 - o_t) (mult) or u_t - v_th*o_t (subtract)");
    attr_s(v, "pool", "pool2 = 2x2 average pooling, stride 2 (an odd last row/column dropped)");
}

int rc_net_param_views(const rc_net *net, rc_net_view *v, int cap)
{
    views w = { v, 0, cap };
    if (net->s.core == RC_CORE_LIF) lif_views(net, &w);
    else if (net->s.core == RC_CORE_CONVLSTM) convlstm_views(net, &w);
    else lstm_views(net, &w);
    head_views(net, &w);
    return w.n;
}

void rc_net_view_gather(const rc_net *net, const rc_net_view *v, const float *flat, float *out)
{
    const float *p = flat + v->offset;
    const int H = net->s.H, I = net->s.nin;
    switch (v->kind) {
    case V_LSTM_IH:
        for (int g = 0; g < 4; g++)
            for (int u = 0; u < H; u++)
                for (int i = 0; i < I; i++)
                    out[((size_t)g * H + u) * I + i] = p[(size_t)i * 4 * H + rc_lstm_row(H, g, u)];
        return;
    case V_LSTM_HH:
        for (int g = 0; g < 4; g++)
            for (int u = 0; u < H; u++)
                memcpy(out + ((size_t)g * H + u) * H, p + (size_t)rc_lstm_row(H, g, u) * H, (size_t)H * sizeof *out);
        return;
    case V_LSTM_B:
        for (int g = 0; g < 4; g++)
            for (int u = 0; u < H; u++) out[(size_t)g * H + u] = p[rc_lstm_row(H, g, u)];
        return;
    case V_LIF_CONV:
    case V_LIF_FC: {
        const rc_lif_layer *L = &net->s.snn.L[v->layer];
        for (size_t k = 0; k < L->nw; k++) out[rc_lif_torch_index(&net->s.snn, v->layer, k)] = p[k];
        return;
    }
    default:
        if (v->n) memcpy(out, p, v->n * sizeof *out);
    }
}
