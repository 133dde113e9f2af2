/* state.c — a run's training state and model.h5: which items a checkpoint
 * holds (parameters, Adam moments, the kept models, the feature
 * normalisation, the counters and the best validation metrics, the config and
 * the model shape), and the config fingerprint that decides whether a
 * checkpoint may be resumed or evaluated under a given config. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "io/checkpoint.h"
#include "sim/app/app.h"
#include "sim/app/spec.h"

/* The config as INI text without the keys that may change between a run and
 * its resume or eval (length of training, output, threads). Two configs with
 * equal fingerprints train the same model (a resume to another length is
 * checked separately: see rc_app_state_load). */
static char *config_fingerprint(const char *ini)
{
    static const char *skip[] = { "train.examples", "train.epochs", "output.", "test.", "sim.threads", "sim.placement",
                                  "sim.topology", "sim.dt_ms", "task.cache_dir", NULL };
    size_t n = strlen(ini);
    char *out = malloc(n + 1), sec[128] = "";
    if (!out) return NULL;
    size_t o = 0;
    const char *p = ini;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char line[1024];
        snprintf(line, sizeof line, "%.*s", (int)(len < 1023 ? len : 1023), p);
        int keep = 1;
        if (line[0] == '[') {
            snprintf(sec, sizeof sec, "%.*s", (int)strcspn(line + 1, "]"), line + 1);
        } else if (line[0] && line[0] != '#') {
            char full[300];
            snprintf(full, sizeof full, "%s.%.*s", sec, (int)strcspn(line, " ="), line);
            for (int i = 0; skip[i]; i++)
                if (!strncmp(full, skip[i], strlen(skip[i]))) keep = 0;
        }
        if (keep) {
            memcpy(out + o, p, len);
            o += len;
            out[o++] = '\n';
        }
        p += len + (e ? 1 : 0);
    }
    out[o] = 0;
    return out;
}

#define CK_REALS(X)                                                                  \
    X(tacc_sum_tsp, st->tacc_sum_tsp) X(tacc_sum_loss, st->tacc_sum_loss)            \
    X(best_score, st->best_score) X(train_time, st->train_time)                      \
    X(bv_accuracy, st->best_val.accuracy) X(bv_mean_spike_step, st->best_val.mean_spike_step) \
    X(bv_mean_spike_fraction, st->best_val.mean_spike_fraction)                      \
    X(bv_no_spike_fraction, st->best_val.no_spike_fraction)                          \
    X(bv_accuracy_at_end, st->best_val.accuracy_at_end)                              \
    X(bv_p10, st->best_val.tsp_p10) X(bv_p50, st->best_val.tsp_p50) X(bv_p90, st->best_val.tsp_p90) \
    X(bv_earliest, st->best_val.earliest_fraction)                                   \
    X(bv_early_fp, st->best_val.early_false_positive_fraction) X(bv_loss, st->best_val.mean_loss)

/* The item lists of a checkpoint, over the buffers they are saved from or
 * loaded into. */
typedef struct {
    rc_ckpt_tensor tens[6];
    rc_ckpt_int ci[16];
    rc_ckpt_real cr[32];
    rc_ckpt_str cs[2];
    char *strs[2];            /* config INI, model shape                     */
    rc_ckpt ck;
} ckpt_items;

/* Fills it over S's buffers, best, kept and st's fields; it->strs is the
 * caller's. */
static void items_fill(ckpt_items *it, rc_app_setup *S, rc_app_state *st, float *best, float *kept)
{
    rc_net *net = S->net;
    rc_ckpt_tensor *tens = it->tens;
    tens[0] = (rc_ckpt_tensor){ "params", net->params, net->nparams };
    tens[1] = (rc_ckpt_tensor){ "adam_m", net->m, net->nparams };
    tens[2] = (rc_ckpt_tensor){ "adam_v", net->v, net->nparams };
    tens[3] = (rc_ckpt_tensor){ "best_params", best, net->nparams };
    tens[4] = (rc_ckpt_tensor){ "kept_params", kept, net->nparams };
    /* Tasks that normalise their inputs (speech) keep the statistics with the
     * model: eval and resume feed it exactly as in training. */
    const size_t ntens = S->ds->nnorm ? 6 : 5;
    if (S->ds->nnorm) tens[5] = (rc_ckpt_tensor){ "feature_norm", S->ds->norm, S->ds->nnorm };
    int64_t *iv[] = { &st->batch, &st->trained, &st->train_rows, &st->best_batch, &st->tacc_n,
                      &st->tacc_correct, &st->best_val.n, &st->bv_has_end, &st->bv_has_earliest, NULL };
    static const char *in[] = { "batch", "trained", "train_rows", "best_batch", "tacc_n", "tacc_correct",
                                "best_val_n", "best_val_has_end", "best_val_has_earliest" };
    size_t ni = 0;
    for (; iv[ni]; ni++) it->ci[ni] = (rc_ckpt_int){ in[ni], iv[ni] };
    size_t nr = 0;
#define X(name, field) it->cr[nr++] = (rc_ckpt_real){ #name, &(field) };
    CK_REALS(X)
#undef X
    it->cs[0] = (rc_ckpt_str){ "config", &it->strs[0] };
    it->cs[1] = (rc_ckpt_str){ "model_shape", &it->strs[1] };
    it->ck = (rc_ckpt){ tens, ntens, it->ci, ni, it->cr, nr, it->cs, 2 };
}

/* Saves ck with /params: every tensor of the kept model by name and shape
 * (models/net_views.c), each with its layout and its place in kept_params. */
static rc_status save_with_views(const char *path, const rc_ckpt *ck, const rc_net *net, const float *kept,
                                 rc_err *err)
{
    rc_net_view nv[RC_NET_MAX_VIEWS];
    const int n = rc_net_param_views(net, nv, RC_NET_MAX_VIEWS);
    rc_ckpt_view cv[RC_NET_MAX_VIEWS + 1];
    rc_ckpt_attr at[RC_NET_MAX_VIEWS + 1][RC_NET_VIEW_MAX_ATTRS + 4];
    float *buf = malloc((net->nparams ? net->nparams : 1) * sizeof *buf);
    if (!buf) return rc_err_set(err, RC_ERR_NOMEM, "out of memory");
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        const rc_net_view *v = &nv[i];
        size_t na = 0;
        for (int k = 0; k < v->nattrs; k++) at[i][na++] = (rc_ckpt_attr){ v->attrs[k].key, v->attrs[k].s, v->attrs[k].d, v->attrs[k].integer };
        if (v->ndim) {
            at[i][na++] = (rc_ckpt_attr){ "layout", v->layout, 0, 0 };
            at[i][na++] = (rc_ckpt_attr){ "flat_tensor", "kept_params", 0, 0 };
            at[i][na++] = (rc_ckpt_attr){ "flat_offset", NULL, (double)v->offset, 1 };
            at[i][na++] = (rc_ckpt_attr){ "flat_layout", v->stored, 0, 0 };
            rc_net_view_gather(net, v, kept, buf + off);
        }
        cv[i] = (rc_ckpt_view){ v->name, v->ndim, { 0 }, buf + off, at[i], na };
        for (int d = 0; d < v->ndim; d++) cv[i].shape[d] = (uint64_t)v->shape[d];
        off += v->n;
    }
    static const rc_ckpt_attr root[] = {
        { "source", "kept_params: the model the run tested (rcsim eval loads the same)", 0, 0 },
        { "layouts", "PyTorch's: nn.LSTM, nn.Conv2d, nn.Linear; see each dataset's layout attribute and README", 0, 0 },
    };
    cv[n] = (rc_ckpt_view){ "", 0, { 0 }, NULL, root, 2 };
    RC_ASSERT(off <= net->nparams);
    rc_status s = rc_ckpt_save_views(path, ck, cv, (size_t)n + 1, err);
    free(buf);
    return s;
}

rc_status rc_app_state_save(rc_app_setup *S, rc_app_state *st, float *best, float *kept, const char *dir,
                            rc_err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/model.h5", dir);
    ckpt_items it;
    it.strs[0] = rc_cfg_to_ini(S->cfg);
    it.strs[1] = S->shape;
    if (!it.strs[0]) return rc_err_set(err, RC_ERR_NOMEM, "out of memory");
    st->bv_has_end = st->best_val.has_end;
    st->bv_has_earliest = st->best_val.has_earliest;
    items_fill(&it, S, st, best, kept);
    rc_status s = save_with_views(path, &it.ck, S->net, kept, err);
    free(it.strs[0]);
    return s;
}

int64_t rc_app_train_total(const rc_cfg *cfg, int64_t ntrain)
{
    const double epochs = rc_cfg_get_float(cfg, "train.epochs");
    return ntrain > 0 && epochs > 0 ? (int64_t)(epochs * (double)ntrain + 0.5) : rc_cfg_get_int(cfg, "train.examples");
}

/* The config stored in checkpoint path, read through today's schema so keys
 * added since it was written take their defaults on both sides instead of
 * differing; *then is the parsed config, *ini its INI text. */
static rc_status stored_config(const char *path, rc_cfg **then, char **ini, rc_err *err)
{
    char *text = NULL;
    rc_status s = rc_ckpt_read_string(path, "config", &text, err);
    if (s) return s;
    *then = rc_cfg_new(rc_spec, rc_nspec);
    rc_err e2;
    if (!*then || rc_cfg_load_string(*then, path, text, &e2)) {
        s = *then ? rc_err_set(err, RC_ERR_DATA, "%s: its stored config does not parse: %s", path, e2.msg)
                  : rc_err_set(err, RC_ERR_NOMEM, "out of memory");
    } else if (!(*ini = rc_cfg_to_ini(*then))) {
        s = rc_err_set(err, RC_ERR_NOMEM, "out of memory");
    }
    free(text);
    return s;
}

/* RC_OK if the configs stored (then_ini) and given (S->cfg) train the same
 * model; else RC_ERR_DATA naming the first differing line. */
static rc_status same_config(const rc_app_setup *S, const char *path, const char *then_ini, rc_err *err)
{
    char *mine = rc_cfg_to_ini(S->cfg);
    char *fa = config_fingerprint(then_ini), *fb = config_fingerprint(mine ? mine : "");
    rc_status s = RC_OK;
    if (!fa || !fb) {
        s = rc_err_set(err, RC_ERR_NOMEM, "out of memory");
    } else if (strcmp(fa, fb)) {
        /* Name the first differing line. */
        const char *p = fa, *q = fb;
        while (*p && *p == *q) { p++; q++; }
        while (p > fa && p[-1] != '\n') { p--; q--; }
        s = rc_err_set(err, RC_ERR_DATA, "%s: checkpoint was trained with another config: it has '%.*s', this config has '%.*s'",
                       path, (int)strcspn(p, "\n"), p, (int)strcspn(q, "\n"), q);
    }
    free(mine);
    free(fa);
    free(fb);
    return s;
}

/* A learning-rate decay point or a selection start given as a fraction of
 * the run moves when the run's length does, so the part already trained
 * would not be the start of the longer (or shorter) run. */
static rc_status same_schedule(const rc_app_setup *S, const rc_cfg *then, const char *path, rc_err *err)
{
    const int64_t ntrain = S->ds->size[RC_SPLIT_TRAIN];
    const long long was = (long long)rc_app_train_total(then, ntrain), now = (long long)rc_app_train_total(S->cfg, ntrain);
    const double decay_at = rc_cfg_get_float(S->cfg, "train.lr_decay_at");
    const double sel_after = rc_cfg_get_float(S->cfg, "train.select_after");
    if (was != now && (decay_at < 1 || sel_after > 0))
        return rc_err_set(err, RC_ERR_DATA,
                          "%s: checkpoint is of a run of %lld training examples, this config asks for %lld; with "
                          "train.lr_decay_at = %g and train.select_after = %g the schedule depends on the run's "
                          "length, so it can only be resumed to the same train.epochs/train.examples",
                          path, was, now, decay_at, sel_after);
    return RC_OK;
}

/* A checkpoint whose tensors hold NaN or Inf is refused: it can only come
 * from a diverged run or a damaged file, and must never be evaluated or
 * resumed as if it were a model. */
static rc_status tensors_finite(const rc_app_setup *S, const ckpt_items *it, const char *path, rc_err *err)
{
    for (size_t k = 0; k < it->ck.ntensors; k++) {
        const rc_ckpt_tensor *t = &it->ck.tensors[k];
        const size_t i = rc_net_first_nonfinite(t->data, t->n);
        if (i == SIZE_MAX) continue;
        char name[48] = "";
        size_t local = i;
        if (t->n == S->net->nparams) rc_net_tensor_at(S->net, i, name, sizeof name, &local);
        return rc_err_set(err, RC_ERR_DATA, "%s: tensor %s holds a non-finite value (%g) at index %zu%s%s "
                          "[%zu]; expected finite numbers (a diverged run or a damaged file)", path, t->name,
                          (double)t->data[i], i, name[0] ? ", in " : "", name, local);
    }
    return RC_OK;
}

rc_status rc_app_state_load(rc_app_setup *S, rc_app_state *st, float *kept, const char *path, int resume,
                            rc_err *err)
{
    char *shape = NULL, *then_ini = NULL;
    rc_cfg *then = NULL;
    /* Shape and config first, so a mismatched checkpoint is refused before any
     * buffer is touched. */
    rc_status s = rc_ckpt_read_string(path, "model_shape", &shape, err);
    if (!s && strcmp(shape, S->shape))
        s = rc_err_set(err, RC_ERR_DATA, "%s: checkpoint is of another model (%s), the config describes %s",
                       path, shape, S->shape);
    if (!s) s = stored_config(path, &then, &then_ini, err);
    if (!s) s = same_config(S, path, then_ini, err);
    /* sim.dt_ms only labels time for the other tasks; for events it is the
     * bin width, so the input itself. */
    if (!s && !strcmp(S->task, "events") && rc_cfg_get_float(then, "sim.dt_ms") != rc_cfg_get_float(S->cfg, "sim.dt_ms"))
        s = rc_err_set(err, RC_ERR_DATA, "%s: checkpoint was trained with another config: it has sim.dt_ms = %g (the "
                       "events' bin width), this config has %g", path, rc_cfg_get_float(then, "sim.dt_ms"),
                       rc_cfg_get_float(S->cfg, "sim.dt_ms"));
    if (!s && resume) s = same_schedule(S, then, path, err);
    if (!s) {
        ckpt_items it;
        it.strs[0] = it.strs[1] = NULL;
        items_fill(&it, S, st, S->best, kept);
        s = rc_ckpt_load(path, &it.ck, err);
        if (!s) s = tensors_finite(S, &it, path, err);
        st->best_val.has_end = (int)st->bv_has_end;
        st->best_val.has_earliest = (int)st->bv_has_earliest;
        free(it.strs[0]);
        free(it.strs[1]);
    }
    rc_cfg_free(then);
    free(shape);
    free(then_ini);
    return s;
}

rc_status rc_app_check_step(rc_app_setup *S, int64_t batch, rc_err *err)
{
    size_t i = 0;
    const int f = rc_engine_adam_fault(S->eng, &i);
    if (!f) return RC_OK;
    char name[48];
    size_t local;
    rc_net_tensor_at(S->net, i, name, sizeof name, &local);
    const float v = f == 1 ? S->net->grads[i] : S->net->params[i];
    return rc_err_set(err, RC_ERR_NUMERIC, "training diverged at batch %lld: %s %g in tensor %s at index %zu "
                      "(parameter %zu)%s", (long long)batch, f == 1 ? "non-finite gradient" : "parameter became",
                      (double)v, name, local, i,
                      f == 1 ? "; the update was not made. Lower train.lr or set train.clip"
                             : "; check train.adam_eps (> 0) and lower train.lr");
}

rc_status rc_app_val_majority(const rc_app_setup *S, int64_t n, double *out, rc_err *err)
{
    *out = 0;
    if (n <= 0) return RC_OK;
    int64_t cnt[RC_METRICS_MAX_CLASS] = { 0 }, most = 0;
    rc_events ev = { 0 };
    rc_status st = RC_OK;
    for (int64_t i = 0; i < n && !st; i++) {
        rc_example_info info = { 0, -1 };
        st = S->ds->get(S->ds, RC_SPLIT_VAL, i, &ev, &info);
        if (!st && info.label >= 0 && info.label < RC_METRICS_MAX_CLASS && ++cnt[info.label] > most)
            most = cnt[info.label];
    }
    rc_events_free(&ev);
    if (st) return rc_err_set(err, st, "reading the validation labels: %s", rc_status_str(st));
    *out = (double)most / (double)n;
    return RC_OK;
}
