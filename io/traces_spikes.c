/* traces_spikes.c — the SONATA spike populations of a trace file (see
 * traces.h for the layout, traces.c for the file): /spikes/<population> with
 * its timestamps, node_ids and example_ids columns and the `sorting`
 * attribute, filled in time order; event populations also carry a values
 * column (a delta LSTM's hidden events: which unit sent how much when). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "io/h5util.h"
#include "io/traces_impl.h"

/* ---- attributes --------------------------------------------------------- */

/* SONATA's `sorting` attribute: enum over uint8 {none, by_id, by_time}. */
static herr_t rc_tr_attr_sorting(hid_t grp)
{
    static const char *names[] = { "none", "by_id", "by_time" };
    hid_t e = H5Tenum_create(H5T_NATIVE_UINT8);
    if (e < 0) return -1;
    herr_t rc = 0;
    for (uint8_t v = 0; v < 3 && rc >= 0; v++) rc = H5Tenum_insert(e, names[v], &v);
    uint8_t by_time = 2;
    if (rc >= 0) rc = rc_h5_attr_num(grp, "sorting", e, e, &by_time);
    if (rc < 0) rc_h5err_note();
    H5Tclose(e);
    return rc;
}

/* ---- populations ----------------------------------------------------------- */

rc_tr_pop *rc_tr_pop_get(rc_traces *tr, const char *name, rc_err *err, rc_status *st)
{
    for (size_t i = 0; i < tr->npops; i++)
        if (!strcmp(tr->pops[i]->name, name)) return tr->pops[i];
    *st = RC_OK;
    if (!rc_h5_name_ok(name)) {
        *st = rc_err_set(err, RC_ERR_DATA, "%s: invalid population name '%s' (empty or contains '/')",
                         tr->tmp, name ? name : "(null)");
        return NULL;
    }
    rc_tr_pop **np = realloc(tr->pops, (tr->npops + 1) * sizeof *np);
    rc_tr_pop *p = calloc(1, sizeof *p);
    if (np) tr->pops = np;
    if (!np || !p || !(p->name = rc_tr_strdup(name))) {
        free(p);
        tr->failed = 1;
        *st = rc_err_set(err, RC_ERR_NOMEM, "%s: out of memory", tr->tmp);
        return NULL;
    }
    rc_tr_col_init(&p->ts);
    rc_tr_col_init(&p->nodes);
    rc_tr_col_init(&p->ex);
    rc_tr_col_init(&p->vals);
    tr->pops[tr->npops++] = p; /* owned by tr from here: release frees it */

    char *gpath = rc_tr_join("/spikes/", name, "");
    if (!gpath) {
        tr->failed = 1;
        *st = rc_err_set(err, RC_ERR_NOMEM, "%s: out of memory", tr->tmp);
        return NULL;
    }
    hid_t g = H5Gcreate2(tr->spikes, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) {
        *st = rc_tr_fail(tr, err, "create", gpath);
        free(gpath);
        return NULL;
    }
    if (rc_tr_attr_sorting(g) < 0)
        *st = rc_tr_fail(tr, err, "write attribute 'sorting' of", gpath);
    if (*st == RC_OK)
        *st = rc_tr_col_create(tr, &p->ts, g, gpath, "timestamps", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                               sizeof(double), RC_TR_CHUNK, err);
    if (*st == RC_OK && rc_tr_attr_vstr(p->ts.dset, "units", "ms") < 0)
        *st = rc_tr_fail(tr, err, "write attribute 'units' of", p->ts.where);
    if (*st == RC_OK)
        *st = rc_tr_col_create(tr, &p->nodes, g, gpath, "node_ids", H5T_STD_U64LE, H5T_NATIVE_UINT64,
                               sizeof(uint64_t), RC_TR_CHUNK, err);
    if (*st == RC_OK)
        *st = rc_tr_col_create(tr, &p->ex, g, gpath, "example_ids", H5T_STD_U64LE, H5T_NATIVE_UINT64,
                               sizeof(uint64_t), RC_TR_CHUNK, err);
    H5Gclose(g);
    free(gpath);
    return *st == RC_OK ? p : NULL;
}

/* "node_id = (y*28 + x)*32 + channel" for dims y,x,channel of shape
 * [., 28, 32] into buf; -1 when the dims do not name rank axes. */
static int mapping_text(const rc_traces_pop_shape *sh, char *buf, size_t cap)
{
    char ax[4][64];
    const char *d = sh->dims;
    for (int i = 0; i < sh->rank; i++) {
        size_t n = strcspn(d, ",");
        if (n == 0 || n >= sizeof ax[i]) return -1;
        memcpy(ax[i], d, n);
        ax[i][n] = 0;
        d += n;
        if (i < sh->rank - 1 && *d++ != ',') return -1;
    }
    if (*d) return -1;
    char cur[512];
    snprintf(cur, sizeof cur, "%s", ax[0]);
    for (int i = 1; i < sh->rank; i++) {
        char nx[512];
        snprintf(nx, sizeof nx, i > 1 ? "(%s)*%lld + %s" : "%s*%lld + %s", cur, (long long)sh->shape[i], ax[i]);
        memcpy(cur, nx, sizeof cur);
    }
    snprintf(buf, cap, "node_id = %s", cur);
    return 0;
}

rc_status rc_traces_describe(rc_traces *tr, const char *population, const rc_traces_pop_shape *sh, rc_err *err)
{
    RC_ASSERT(tr && sh && sh->dims && sh->rank >= 1 && sh->rank <= 4);
    if (tr->failed) return rc_tr_refuse(tr, err);
    rc_status st;
    rc_tr_pop *p = rc_tr_pop_get(tr, population, err, &st);
    if (!p) return st;
    uint64_t size = 1;
    for (int i = 0; i < sh->rank; i++) {
        RC_ASSERT(sh->shape[i] >= 1);
        size *= (uint64_t)sh->shape[i];
    }
    char map[600], where[300];
    const int named = mapping_text(sh, map, sizeof map) == 0;
    RC_ASSERT(named); /* the caller names rank axes */
    snprintf(where, sizeof where, "/spikes/%s", population);
    const hsize_t dim = (hsize_t)sh->rank;
    hid_t g = H5Gopen2(tr->spikes, population, H5P_DEFAULT), sp = H5I_INVALID_HID, a = H5I_INVALID_HID;
    if (g >= 0 && H5Aexists(g, "size") > 0) { /* described already (a second record of it) */
        H5Gclose(g);
        return RC_OK;
    }
    int bad = g < 0 || rc_h5_attr_num(g, "size", H5T_STD_U64LE, H5T_NATIVE_UINT64, &size) < 0 ||
              (sp = H5Screate_simple(1, &dim, NULL)) < 0 ||
              (a = H5Acreate2(g, "shape", H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
              H5Awrite(a, H5T_NATIVE_INT64, sh->shape) < 0 || rc_tr_attr_vstr(g, "dims", sh->dims) < 0 ||
              rc_tr_attr_vstr(g, "node_id_mapping", map) < 0;
    if (bad) rc_h5err_note();
    if (a >= 0) H5Aclose(a);
    if (sp >= 0) H5Sclose(sp);
    if (g >= 0) H5Gclose(g);
    return bad ? rc_tr_fail(tr, err, "write the shape attributes of", where) : RC_OK;
}

/* Spikes handed over grouped by neuron are put in time order here (stable:
 * same-step spikes keep their order), since the file promises by_time. */
typedef struct { int step; size_t i; } rc_tr_order;
static int rc_tr_cmp_order(const void *a, const void *b)
{
    const rc_tr_order *x = a, *y = b;
    if (x->step != y->step) return x->step < y->step ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Spikes (values NULL) or events of one example into population p, in time
 * order (see rc_traces_add_spikes). */
static rc_status add_points(rc_traces *tr, rc_tr_pop *p, uint64_t example_id, const int *steps,
                            const uint64_t *node_ids, const float *values, size_t n, rc_err *err)
{
    int sorted = 1, lo = steps[0];
    for (size_t i = 0; i < n; i++) {
        RC_ASSERT(steps[i] >= 0 && steps[i] < tr->T); /* the engine's steps */
        if (i && steps[i] < steps[i - 1]) sorted = 0;
        if (steps[i] < lo) lo = steps[i];
    }
    /* Spikes must come in time order across calls too: later examples, or
     * later steps of the same example (see traces.h). */
    RC_ASSERT(!p->any || example_id > p->last_ex || (example_id == p->last_ex && lo >= p->last_step));

    rc_tr_order *ord = NULL;
    if (!sorted) {
        if (!(ord = malloc(n * sizeof *ord))) {
            tr->failed = 1;
            return rc_err_set(err, RC_ERR_NOMEM, "%s: out of memory sorting %zu spikes", tr->tmp, n);
        }
        for (size_t i = 0; i < n; i++) ord[i] = (rc_tr_order){ steps[i], i };
        qsort(ord, n, sizeof *ord, rc_tr_cmp_order);
    }
    /* Integer step count first, then one multiply: the timestamp is exact
     * for integral dt and bit-identical to (i*T + s)*dt computed elsewhere. */
    uint64_t base = example_id * (uint64_t)tr->T;
    rc_status st = RC_OK;
    for (size_t k = 0; k < n && st == RC_OK; k++) {
        size_t i = ord ? ord[k].i : k;
        double ts = (double)(base + (uint64_t)steps[i]) * tr->dt_ms;
        if ((st = rc_tr_col_put(tr, &p->ts, &ts, err)) == RC_OK &&
            (st = rc_tr_col_put(tr, &p->nodes, &node_ids[i], err)) == RC_OK &&
            (st = rc_tr_col_put(tr, &p->ex, &example_id, err)) == RC_OK && values)
            st = rc_tr_col_put(tr, &p->vals, &values[i], err);
    }
    p->any = 1;
    p->last_ex = example_id;
    p->last_step = ord ? ord[n - 1].step : steps[n - 1];
    free(ord);
    return st;
}

rc_status rc_traces_add_spikes(rc_traces *tr, const char *population, uint64_t example_id,
                               const int *steps, const uint64_t *node_ids, size_t n, rc_err *err)
{
    RC_ASSERT(tr && (n == 0 || (steps && node_ids)));
    if (tr->failed) return rc_tr_refuse(tr, err);
    rc_status st;
    rc_tr_pop *p = rc_tr_pop_get(tr, population, err, &st);
    if (!p) return st;
    if (n == 0) return RC_OK;
    RC_ASSERT(p->vals.dset < 0); /* an event population: every entry has a value */
    return add_points(tr, p, example_id, steps, node_ids, NULL, n, err);
}

rc_status rc_traces_add_events(rc_traces *tr, const char *population, uint64_t example_id,
                               const int *steps, const uint64_t *node_ids, const float *values,
                               size_t n, rc_err *err)
{
    RC_ASSERT(tr && (n == 0 || (steps && node_ids && values)));
    if (tr->failed) return rc_tr_refuse(tr, err);
    rc_status st;
    rc_tr_pop *p = rc_tr_pop_get(tr, population, err, &st);
    if (!p) return st;
    if (p->vals.dset < 0) {
        RC_ASSERT(!p->any); /* its spikes so far have no values */
        char *gpath = rc_tr_join("/spikes/", population, "");
        hid_t g = gpath ? H5Gopen2(tr->spikes, population, H5P_DEFAULT) : H5I_INVALID_HID;
        if (!gpath) {
            tr->failed = 1;
            st = rc_err_set(err, RC_ERR_NOMEM, "%s: out of memory", tr->tmp);
        } else if (g < 0) {
            rc_h5err_note();
            st = rc_tr_fail(tr, err, "open", gpath);
        } else {
            st = rc_tr_col_create(tr, &p->vals, g, gpath, "values", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
                                  sizeof(float), RC_TR_CHUNK, err);
        }
        if (g >= 0) H5Gclose(g);
        free(gpath);
        if (st) return st;
    }
    return n ? add_points(tr, p, example_id, steps, node_ids, values, n, err) : RC_OK;
}
