/* lif_shape.c — the static side of the LIF layers (see lif.h): the layer-list
 * parser, the parameter layout and its PyTorch-style initialisation, the
 * populations and their names, and the surrogate functions. The simulator
 * itself is lif_forward.c / lif_backward.c. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "models/lif_impl.h"
#include "base/rng.h"

/* Neurons per layer (and inputs of an fc layer) above this are refused, so
 * every size derived from them fits an int and every product a size_t. */
#define LIF_MAX_UNITS (1LL << 28)

static int parse_num(const char **p, int *v)
{
    if (!isdigit((unsigned char)**p)) return -1;
    long x = 0;
    while (isdigit((unsigned char)**p)) {
        x = x * 10 + (**p - '0');
        if (x > 1000000) return -1;
        (*p)++;
    }
    *v = (int)x;
    return 0;
}

int rc_lif_parse(rc_lif_shape *s, const char *layers, int cin, int h, int w, char *msg, size_t cap)
{
    s->nl = 0;
    int C = cin, Hh = h, Ww = w, flat = 0; /* flat: after an fc layer */
    const char *p = layers;
    for (;;) {
        while (*p == ' ' || *p == ',' || *p == '\t') p++;
        if (!*p) break;
        const char *tok = p;
        size_t tl = strcspn(p, " ,\t");
        if (s->nl == RC_LIF_MAX_LAYERS) {
            snprintf(msg, cap, "more than %d layers", RC_LIF_MAX_LAYERS);
            return -1;
        }
        rc_lif_layer *L = &s->L[s->nl];
        memset(L, 0, sizeof *L);
        L->cin = C; L->hin = Hh; L->win = Ww;
        const char *q = p;
        int bad = 0;
        if (!strncmp(q, "conv", 4)) {
            q += 4;
            L->kind = RC_LIF_CONV;
            if (parse_num(&q, &L->cout) || *q++ != 'k' || parse_num(&q, &L->k)) bad = 1;
            if (!bad && *q == 'p') { q++; if (parse_num(&q, &L->pad)) bad = 1; }
            if (!bad && (flat || (Hh == 1 && Ww == 1))) {
                snprintf(msg, cap, "'%.*s': a conv layer needs an image-shaped input (task.name = tmnist), not after fc",
                         (int)tl, tok);
                return -1;
            }
            /* 64-bit: cout, k, pad go up to 10^6 each; a layer too big to hold
             * is a config error (bad = 3), never a wrapped int. */
            long long ho = (long long)Hh + 2LL * L->pad - L->k + 1, wo = (long long)Ww + 2LL * L->pad - L->k + 1;
            if (!bad && (L->cout < 1 || L->k < 1 || L->pad >= L->k || ho < 1 || wo < 1)) bad = 2;
            if (!bad && (ho > LIF_MAX_UNITS || wo > LIF_MAX_UNITS || ho * wo > LIF_MAX_UNITS / L->cout)) {
                snprintf(msg, cap, "'%.*s': %lld neurons (%dx%lldx%lld), more than the %lld a layer may have",
                         (int)tl, tok, (long long)L->cout * ho * wo, L->cout, ho, wo, LIF_MAX_UNITS);
                return -1;
            }
            L->hout = (int)ho;
            L->wout = (int)wo;
        } else if (!strncmp(q, "pool", 4)) {
            q += 4;
            L->kind = RC_LIF_POOL;
            int f = 0;
            if (parse_num(&q, &f) || f != 2) bad = 1;
            if (!bad && (s->nl == 0 || s->L[s->nl - 1].kind != RC_LIF_CONV)) {
                snprintf(msg, cap, "'%.*s': pool2 must follow a conv layer", (int)tl, tok);
                return -1;
            }
            L->cout = C; L->hout = Hh / 2; L->wout = Ww / 2;
            if (!bad && (L->hout < 1 || L->wout < 1)) bad = 2;
        } else if (!strncmp(q, "fc", 2) || !strncmp(q, "rfc", 3) || !strncmp(q, "li", 2)) {
            L->rec = *q == 'r';
            L->li = *q == 'l';
            q += L->rec ? 3 : 2;
            L->kind = RC_LIF_FC;
            if (parse_num(&q, &L->cout) || L->cout < 1) bad = 1;
            if (!bad && L->rec && *q == 'a') { q++; L->adapt = 1; }
            if (!bad && L->rec && L->cout > 46340) { /* R must fit: N² < 2³¹ */
                snprintf(msg, cap, "'%.*s': at most 46340 recurrent neurons (N x N weights)", (int)tl, tok);
                return -1;
            }
            L->cin = C * Hh * Ww; L->hin = L->win = 1;
            L->hout = L->wout = 1;
            flat = 1;
        } else
            bad = 1;
        if (!bad && q != p + tl) bad = 1;
        if (bad) {
            snprintf(msg, cap, bad == 2 ? "'%.*s': the layer does not fit its %dx%dx%d input"
                                        : "'%.*s': expected convCkK[pP], pool2, fcN, rfcN[a] or liN (e.g. conv32k3p1 pool2 fc128 fc10, rfc128a li11)",
                     (int)tl, tok, Hh, Ww, C);
            return -1;
        }
        L->nin = L->cin * L->hin * L->win;
        L->nout = L->cout * L->hout * L->wout;
        C = L->cout; Hh = L->hout; Ww = L->wout;
        s->nl++;
        p += tl;
    }
    if (s->nl == 0 || s->L[s->nl - 1].kind != RC_LIF_FC || s->L[s->nl - 1].rec) {
        snprintf(msg, cap, "the last layer must be fcN or liN, one output neuron per class");
        return -1;
    }
    for (int l = 0; l < s->nl - 1; l++)
        if (s->L[l].li) {
            snprintf(msg, cap, "li%d is layer %d of %d: a leaky-integrator readout must be the last layer",
                     s->L[l].cout, l + 1, s->nl);
            return -1;
        }
    return 0;
}

size_t rc_lif_layout(rc_lif_shape *s, size_t off)
{
    for (int l = 0; l < s->nl; l++) {
        rc_lif_layer *L = &s->L[l];
        if (L->kind == RC_LIF_POOL) continue;
        L->nw = L->kind == RC_LIF_CONV ? (size_t)L->cin * L->k * L->k * L->cout : (size_t)L->nin * L->cout;
        L->w = off; off += L->nw;
        L->b = off; off += (size_t)L->cout; /* kept (zero) without model.bias: one layout */
        if (L->rec) { L->r = off; off += (size_t)L->cout * L->cout; }
        if (L->rec && s->learn_tau) { L->kt = off; off += (size_t)L->cout; }
    }
    return off;
}

void rc_lif_init(float *P, const rc_lif_shape *s, uint64_t seed, int tensor0)
{
    for (int l = 0; l < s->nl; l++) {
        const rc_lif_layer *L = &s->L[l];
        if (L->kind == RC_LIF_POOL) continue;
        const int tw = tensor0 + 2 * l, tb = tw + 1;
        if (L->kind == RC_LIF_CONV) {
            const double bound = 1.0 / sqrt((double)L->cin * L->k * L->k);
            for (int co = 0; co < L->cout; co++)
                for (int ci = 0; ci < L->cin; ci++)
                    for (int dy = 0; dy < L->k; dy++)
                        for (int dx = 0; dx < L->k; dx++) {
                            size_t logical = (((size_t)co * L->cin + ci) * L->k + dy) * L->k + dx;
                            size_t at = (((size_t)ci * L->k + dy) * L->k + dx) * L->cout + co;
                            P[L->w + at] = (float)((2.0 * rc_uniform(seed, RC_STREAM_INIT, (uint64_t)tw, logical) - 1.0) * bound);
                        }
            for (int co = 0; co < L->cout; co++)
                P[L->b + co] = s->bias ? (float)((2.0 * rc_uniform(seed, RC_STREAM_INIT, (uint64_t)tb, (uint64_t)co) - 1.0) * bound) : 0.0f;
        } else {
            const double bound = 1.0 / sqrt((double)L->nin);
            for (int o = 0; o < L->cout; o++)
                for (int i = 0; i < L->nin; i++)
                    P[L->w + (size_t)i * L->cout + o] =
                        (float)((2.0 * rc_uniform(seed, RC_STREAM_INIT, (uint64_t)tw, (uint64_t)o * L->nin + i) - 1.0) * bound);
            for (int o = 0; o < L->cout; o++)
                P[L->b + o] = s->bias ? (float)((2.0 * rc_uniform(seed, RC_STREAM_INIT, (uint64_t)tb, (uint64_t)o) - 1.0) * bound) : 0.0f;
            if (L->rec) rc_lif_rec_init(P, s, L, seed, tensor0 + 2 * RC_LIF_MAX_LAYERS + l);
        }
    }
}

int rc_lif_last(const rc_lif_shape *s) { return s->nl - 1; }

int rc_lif_neurons(const rc_lif_shape *s, int l)
{
    return s->L[l].kind == RC_LIF_POOL ? 0 : s->L[l].nout;
}

void rc_lif_describe(const rc_lif_shape *s, char *buf, size_t cap)
{
    size_t o = 0;
    buf[0] = 0;
    for (int l = 0; l < s->nl && o < cap; l++) {
        const rc_lif_layer *L = &s->L[l];
        int n;
        if (L->kind == RC_LIF_CONV) n = snprintf(buf + o, cap - o, "%sconv%dk%dp%d", l ? " " : "", L->cout, L->k, L->pad);
        else if (L->kind == RC_LIF_POOL) n = snprintf(buf + o, cap - o, "%spool2", l ? " " : "");
        else n = snprintf(buf + o, cap - o, "%s%s%d%s", l ? " " : "", L->rec ? "rfc" : L->li ? "li" : "fc", L->cout,
                          L->adapt ? "a" : "");
        if (n < 0) break;
        o += (size_t)n;
    }
}

int rc_lif_npops(const rc_lif_shape *s)
{
    int n = 0;
    for (int l = 0; l < s->nl; l++) n += s->L[l].kind != RC_LIF_POOL;
    return n;
}

void rc_lif_pop_name(const rc_lif_shape *s, int p, char *buf, size_t cap)
{
    int nc = 0, nf = 0, nr = 0, q = 0;
    for (int l = 0; l < s->nl; l++) {
        const rc_lif_layer *L = &s->L[l];
        if (L->kind == RC_LIF_POOL) continue;
        if (L->kind == RC_LIF_CONV) nc++; else if (L->rec) nr++; else nf++;
        if (q++ != p) continue;
        if (l == s->nl - 1) snprintf(buf, cap, "output");
        else snprintf(buf, cap, "%s%d", L->kind == RC_LIF_CONV ? "conv" : L->rec ? "rfc" : "fc",
                      L->kind == RC_LIF_CONV ? nc : L->rec ? nr : nf);
        return;
    }
    snprintf(buf, cap, "?");
}

/* ---- surrogates ----------------------------------------------------------- */

float rc_lif_surr_grad(const rc_lif_shape *s, float x) { return rc_lif_sgrad(s, x); }

double rc_lif_surr_int(const rc_lif_shape *s, double x)
{
    const double a = s->lens;
    switch (s->surr) {
    case RC_LIF_SURR_FASTSIG: return a + x / (1.0 + fabs(x) / a);
    case RC_LIF_SURR_ATAN: return a + (2.0 * a / M_PI) * atan(M_PI / 2 * x / a);
    default: return x <= -a ? 0.0 : x >= a ? 2.0 * a : x + a;
    }
}

size_t rc_lif_torch_index(const rc_lif_shape *s, int l, size_t k)
{
    const rc_lif_layer *L = &s->L[l];
    const size_t co = (size_t)L->cout, o = k % co, rest = k / co;
    if (L->kind == RC_LIF_CONV) {
        const size_t kk = (size_t)L->k * (size_t)L->k;
        return (o * (size_t)L->cin + rest / kk) * kk + rest % kk;
    }
    /* fc: the input map is the previous layer's (1×1 after an fc layer or
     * for plain input, where the order is the same). */
    size_t C = (size_t)L->nin, H = 1, W = 1;
    if (l > 0 && s->L[l - 1].kind != RC_LIF_FC) {
        C = (size_t)s->L[l - 1].cout; H = (size_t)s->L[l - 1].hout; W = (size_t)s->L[l - 1].wout;
    }
    const size_t c = rest % C, pos = rest / C, y = pos / W, x = pos % W;
    return o * (size_t)L->nin + (c * H + y) * W + x;
}
