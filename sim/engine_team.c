/* engine_team.c — whole batches per thread (engine_team.h). */
#include <stdatomic.h>
#include <stdlib.h>
#include "sim/engine_team.h"

typedef struct {
    rc_pool *pool;          /* serial: the team thread that drives the engine */
    rc_engine *eng;
    int64_t *idx;           /* (batch) the examples of its current batch       */
    /* Its share of the current run. */
    int64_t rows;
    rc_status st;
    int64_t bad;            /* the batch that failed (st != RC_OK)             */
    rc_err err;
} team_member;

struct rc_engine_team {
    rc_pool *pool;          /* the threads                                     */
    int nth, batch;
    team_member *m;         /* (nth)                                           */
};

void rc_engine_team_free(rc_engine_team *t)
{
    if (!t) return;
    for (int i = 0; t->m && i < t->nth; i++) {
        rc_engine_free(t->m[i].eng);
        rc_pool_free(t->m[i].pool);
        free(t->m[i].idx);
    }
    free(t->m);
    free(t);
}

rc_engine_team *rc_engine_team_new(rc_net *net, const rc_dataset *ds, rc_pool *pool, int batch, rc_err *err)
{
    RC_ASSERT(batch > 0);
    rc_engine_team *t = calloc(1, sizeof *t);
    if (!t) goto nomem;
    t->pool = pool;
    t->nth = rc_pool_nthreads(pool);
    t->batch = batch;
    if (!(t->m = calloc((size_t)t->nth, sizeof *t->m))) goto nomem;
    for (int i = 0; i < t->nth; i++) {
        team_member *m = &t->m[i];
        if (!(m->pool = rc_pool_new_serial(err))) goto fail;
        if (!(m->eng = rc_engine_new(net, ds, m->pool, batch, err))) goto fail;
        if (!(m->idx = malloc((size_t)batch * sizeof *m->idx))) goto nomem;
    }
    return t;
nomem:
    rc_err_set(err, RC_ERR_NOMEM, "engine team: out of memory for %d engines of batch %d",
               t ? t->nth : 0, batch);
fail:
    rc_engine_team_free(t);
    return NULL;
}

int rc_engine_team_size(const rc_engine_team *t)
{
    return t->nth;
}

typedef struct {
    rc_engine_team *t;
    rc_split split;
    int64_t first, count;
    const rc_batch_opts *o;
    rc_example_result *res;
    _Atomic int64_t next;   /* the next batch not yet taken                    */
    atomic_int failed;      /* set by the first thread whose batch failed      */
} team_run;

static void team_fn(void *arg, int ith, int nth)
{
    (void)nth;
    team_run *r = arg;
    const rc_engine_team *t = r->t;
    team_member *m = &t->m[ith];
    m->rows = 0;
    m->st = RC_OK;
    m->bad = -1;
    /* relaxed: the batches are independent; rc_pool_run's return orders
     * everything written here before the caller reads it. */
    while (!atomic_load_explicit(&r->failed, memory_order_relaxed)) {
        const int64_t b = atomic_fetch_add_explicit(&r->next, 1, memory_order_relaxed);
        const int64_t i = b * t->batch;
        if (i >= r->count) break;
        const int n = (int)(r->count - i < t->batch ? r->count - i : t->batch);
        for (int j = 0; j < n; j++) m->idx[j] = r->first + i + j;
        int64_t rows = 0;
        rc_status st = rc_engine_batch(m->eng, r->split, m->idx, n, r->o, r->res + i, &rows, &m->err);
        if (st) {
            m->st = st;
            m->bad = b;
            atomic_store_explicit(&r->failed, 1, memory_order_relaxed);
            break;
        }
        m->rows += rows;
    }
}

rc_status rc_engine_team_run(rc_engine_team *t, rc_split split, int64_t first, int64_t count,
                             const rc_batch_opts *o, rc_example_result *res, int64_t *rows_computed,
                             rc_err *err)
{
    RC_ASSERT(!o->train && count >= 0);
    team_run r = { .t = t, .split = split, .first = first, .count = count, .o = o, .res = res };
    atomic_init(&r.next, 0);
    atomic_init(&r.failed, 0);
    rc_pool_run(t->pool, team_fn, &r);
    int64_t rows = 0;
    const team_member *bad = NULL;
    for (int i = 0; i < t->nth; i++) {
        const team_member *m = &t->m[i];
        rows += m->rows;
        if (m->st && (!bad || m->bad < bad->bad)) bad = m;
    }
    if (rows_computed) *rows_computed = rows;
    if (bad) {
        *err = bad->err;
        return bad->st;
    }
    return RC_OK;
}
