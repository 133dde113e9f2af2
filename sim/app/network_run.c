/* network_run.c — `rcsim run` for task.name = network: config → spec →
 * network on a pinned pool → simulate with a progress line → traces.h5
 * (SONATA spikes and membrane reports) and summary.json.
 *
 * Why it is separate from train.c: the network task shares only the config,
 * the pool and the output folder with the training tasks; rc_run calls
 * rc_netrun first and carries on only when the config is not a network. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/strbuf.h"
#include "io/fsutil.h"
#include "io/report.h"
#include "io/traces.h"
#include "sim/app/app.h"
#include "sim/app/network_cfg.h"
#include "sim/app/spec.h"
#include "sim/comm.h"

#include <mpi.h>

/* ---- progress ------------------------------------------------------------ */

typedef struct {
    int mode;          /* 0 off, 1 updating line, 2 log lines */
    double every, t0, dt_ms;
    int drawn;
} netprog;

static void netprog_fn(void *user, int64_t done, int64_t total, uint64_t spikes)
{
    netprog *p = user;
    const double now = rc_now_s(), wall = now - p->t0, sim_s = (double)done * p->dt_ms * 1e-3;
    static double last;
    if (p->mode == 2 && now - last < p->every) return;
    last = now;
    char line[200];
    snprintf(line, sizeof line, "network %.1f/%.1f ms simulated  real-time factor %.2f  %.3g spikes/s",
             (double)done * p->dt_ms, (double)total * p->dt_ms, sim_s > 0 ? wall / sim_s : 0,
             wall > 0 ? (double)spikes / wall : 0);
    if (p->mode == 1) fprintf(stderr, "\r%-100s", line), p->drawn = 1;
    else fprintf(stderr, "[%7.1fs] %s\n", wall, line);
    fflush(stderr);
}

/* ---- config ------------------------------------------------------------- */

/* ---- outputs ------------------------------------------------------------ */

/* /presentations/<source> of every images source: window starts, labels
 * and example indices of the windows begun in the steps run. */
static rc_status write_presentations(const rc_network *net, const rc_net_spec *s, const rc_netcfg_files *files,
                                     rc_traces *tr, rc_err *err)
{
    rc_status st = RC_OK;
    for (int k = 0; k < s->nsrc && !st; k++) {
        const rc_net_source *S = &s->src[k];
        if (S->kind != RC_SRC_IMAGES) continue;
        const int64_t nw = (rc_network_steps_done(net) + S->window - 1) / S->window;
        const int64_t size = S->images->size[S->split];
        double *t0 = malloc((size_t)(nw + 1) * sizeof *t0);
        int32_t *lab = malloc((size_t)(nw + 1) * sizeof *lab);
        uint64_t *ex = malloc((size_t)(nw + 1) * sizeof *ex);
        if (!t0 || !lab || !ex) st = rc_err_set(err, RC_ERR_NOMEM, "out of memory");
        for (int64_t w = 0; !st && w < nw; w++) {
            t0[w] = (double)(w * S->window) * s->dt_ms;
            ex[w] = (uint64_t)((S->example0 + w) % size);
            lab[w] = files->labels[k][ex[w]];
        }
        if (!st) st = rc_report_presentations(tr, S->name, t0, lab, ex, (size_t)nw, err);
        free(t0);
        free(lab);
        free(ex);
    }
    return st;
}

/* traces.h5, written by rank 0 alone: one writer keeps the write-to-temp,
 * CRC trailer and atomic rename of io/traces.c and needs no parallel HDF5;
 * the spikes are gathered to it one population at a time (4-8 bytes a
 * spike), the membrane columns were gathered at the end of the run. */
static rc_status write_traces(const rc_network *net, const rc_net_spec *s, const rc_netcfg_files *files,
                              rc_cfg *cfg, const char *dir, rc_err *err)
{
    const int root = rc_comm_rank() == 0;
    rc_traces *tr = NULL;
    rc_status st = RC_OK;
    if (root) {
        char path[4200];
        snprintf(path, sizeof path, "%s/traces.h5", dir);
        char *ini = rc_cfg_to_ini(cfg);
        const rc_traces_meta meta = { RC_VERSION, RC_GIT_REV, ini ? ini : "", s->seed, NAN, NAN, "network",
                                      (int)rc_network_steps_done(net) + 1, s->dt_ms, 1, 0, 0 };
        tr = rc_traces_open(path, &meta, err);
        free(ini);
        if (!tr) st = RC_ERR_IO;
    }
    /* rc_network_spikes is collective: every rank makes every call, whatever
     * happened to rank 0's file (the first error is kept) */
    for (int r = 0; r < s->nspk; r++) {
        int32_t *steps;
        uint64_t *ids;
        size_t n;
        rc_err e2 = { "" };
        const rc_status g = rc_network_spikes(net, s->spk[r].pop, &steps, &ids, &n, st ? &e2 : err);
        if (!st) st = g;
        for (size_t i = 0; i < n; i++) steps[i] += 1; /* stamped at the end of the step: (s+1)·dt */
        if (!st && root) st = rc_traces_add_spikes(tr, s->pop[s->spk[r].pop].name, 0, steps, ids, n, err);
        const rc_traces_pop_shape shape = { 1, { s->pop[s->spk[r].pop].n }, "neuron" };
        if (!st && root) st = rc_traces_describe(tr, s->pop[s->spk[r].pop].name, &shape, err);
        free(steps);
        free(ids);
    }
    if (!root) return st;
    for (int r = 0; r < s->nvm && !st; r++) {
        uint64_t ids[RC_NET_MAXVM];
        for (int c = 0; c < s->vm[r].nnodes; c++) ids[c] = (uint64_t)s->vm[r].nodes[c];
        int64_t rows;
        const float *v = rc_network_vm(net, r, &rows);
        const double every = s->vm[r].every * s->dt_ms;
        st = rc_report_write(tr, s->pop[s->vm[r].pop].name, ids, (size_t)s->vm[r].nnodes, v, (size_t)rows, every,
                             every, "mV", err);
    }
    if (!st) st = write_presentations(net, s, files, tr, err);
    if (st) {
        if (tr) rc_traces_abort(tr);
        return st;
    }
    return rc_traces_close(tr, err);
}

static void summary_json(rc_strbuf *b, const rc_network *net, const rc_net_spec *s, rc_cfg *cfg, int nth,
                         double sim_s, double wall_s)
{
    rc_net_info in;
    rc_network_info(net, &in);
    char ranks[48] = ""; /* threads per rank; only under mpirun */
    if (rc_comm_active()) snprintf(ranks, sizeof ranks, ", \"ranks\": %d", rc_comm_size());
    const double simulated = (double)rc_network_steps_done(net) * s->dt_ms * 1e-3;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    rc_sb_printf(b, "{\n  \"task\": \"network\",\n  \"version\": \"%s\",\n  \"git_revision\": \"%s\",\n", RC_VERSION,
                 RC_GIT_REV);
    rc_sb_printf(b, "  \"populations\": {");
    for (int p = 0; p < s->npop; p++) {
        rc_net_popstat ps;
        rc_network_popstat(net, p, &ps);
        rc_sb_printf(b, "%s\n    ", p ? "," : "");
        rc_sb_json_str(b, s->pop[p].name);
        rc_sb_printf(b, ": {\"size\": %d, \"model\": \"%s\", \"spikes\": %llu, \"rate_hz\": ", s->pop[p].n,
                     rc_nrn_model_name(s->pop[p].p.model), (unsigned long long)ps.spikes);
        rc_sb_json_num(b, ps.rate_hz);
        rc_sb_printf(b, ", \"cv_isi\": ");
        rc_sb_json_num(b, ps.cv_isi);
        rc_sb_printf(b, "}");
    }
    rc_sb_printf(b, "\n  },\n  \"network\": {\"neurons\": %zu, \"synapses\": %llu, \"bytes_per_synapse\": ",
                 rc_network_nneurons(net), (unsigned long long)in.synapses);
    rc_sb_json_num(b, in.synapses ? (double)in.syn_bytes / (double)in.synapses : 0);
    rc_sb_printf(b, ", \"synapse_bytes\": %llu, \"state_bytes\": %llu, \"dmin_steps\": %d, \"dmax_steps\": %d, "
                    "\"threads\": %d%s},\n",
                 (unsigned long long)in.syn_bytes, (unsigned long long)in.state_bytes, rc_network_dmin(net),
                 rc_network_dmax(net), nth, ranks);
    rc_sb_printf(b, "  \"timing\": {\"build_s\": ");
    rc_sb_json_num(b, in.build_s);
    rc_sb_printf(b, ", \"sim_s\": ");
    rc_sb_json_num(b, sim_s);
    rc_sb_printf(b, ", \"wall_s\": ");
    rc_sb_json_num(b, wall_s);
    rc_sb_printf(b, ", \"simulated_s\": ");
    rc_sb_json_num(b, simulated);
    rc_sb_printf(b, ", \"real_time_factor\": ");
    rc_sb_json_num(b, simulated > 0 ? sim_s / simulated : NAN);
    rc_sb_printf(b, ", \"syn_events\": %llu, \"syn_events_per_s\": ", (unsigned long long)in.syn_events);
    rc_sb_json_num(b, sim_s > 0 ? (double)in.syn_events / sim_s : NAN);
    rc_sb_printf(b, ", \"spikes\": %llu, \"peak_rss_mb\": ", (unsigned long long)in.spikes);
    rc_sb_json_num(b, (double)ru.ru_maxrss / 1024.0);
    rc_sb_printf(b, "},\n  \"config\": ");
    char *cj = rc_cfg_to_json(cfg, 2);
    rc_sb_printf(b, "%s\n}\n", cj ? cj : "null");
    free(cj);
}

/* ---- the run ------------------------------------------------------------ */

/* With several ranks: any rank's failure, on every rank (collective), so a
 * failure of one rank alone (rank 0's output folder, a thread pool) stops
 * all of them before the next collective instead of leaving them waiting. */
static rc_status agree(rc_status st, rc_err *err)
{
    if (!rc_comm_active() || rc_comm_size() < 2) return st;
    int v = (int)st, any = RC_ERR_IO;
    if (MPI_Allreduce(&v, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD) != MPI_SUCCESS) any = RC_ERR_IO;
    if (any && !st) return rc_err_set(err, (rc_status)any, "another rank failed before the simulation (it says why)");
    return st;
}

/* Progress lines, summary.json and traces.h5 come from rank 0 only; the other
 * ranks take part in the collectives and write nothing. */
static rc_status simulate(rc_cfg *cfg, const rc_run_args *a, const rc_net_spec *s, const rc_netcfg_files *files,
                          rc_err *err)
{
    const double t_start = rc_now_s();
    const int root = rc_comm_rank() == 0;
    rc_pool *pool = rc_pool_new((int)rc_cfg_get_int(cfg, "sim.threads"), rc_app_placement(cfg), err);
    const char *dir = rc_cfg_get_str(cfg, "output.dir");
    rc_status st = agree(!pool ? RC_ERR_NOMEM : root ? rc_mkdir_p(dir, err) : RC_OK, err);
    if (!pool) return st;
    rc_app_load_warning(pool);
    rc_network *net = NULL;
    rc_strbuf sb = { 0 };
    if (!st) st = rc_network_new(&net, s, pool, err);
    netprog pr = { 0, rc_cfg_get_float(cfg, "output.log_every_s"), 0, s->dt_ms, 0 };
    const char *how = rc_cfg_get_str(cfg, "output.progress");
    pr.mode = !strcmp(how, "off") || a->quiet || !root ? 0 : !strcmp(how, "line") ? 1 : !strcmp(how, "log") ? 2 : isatty(2) ? 1 : 2;
    double sim_s = 0;
    int ran = 0; /* the run succeeded (on every rank: its errors are agreed) */
    if (!st) {
        pr.t0 = rc_now_s();
        st = rc_network_run(net, llround(rc_cfg_get_float(cfg, "sim.time_ms") / s->dt_ms), pr.mode ? netprog_fn : NULL,
                            &pr, err);
        sim_s = rc_now_s() - pr.t0;
        ran = !st;
        if (pr.drawn) fprintf(stderr, "\n");
    }
    if (!st && rc_cfg_get_bool(cfg, "output.traces")) st = write_traces(net, s, files, cfg, dir, err);
    if (ran) { /* the summary's counts are collective: all ranks, even if rank 0's traces failed */
        summary_json(&sb, net, s, cfg, rc_pool_nthreads(pool), sim_s, rc_now_s() - t_start);
        char path[4200];
        snprintf(path, sizeof path, "%s/summary.json", dir);
        if (root && !st)
            st = sb.oom ? rc_err_set(err, RC_ERR_NOMEM, "summary.json: out of memory")
                        : rc_write_atomic(path, sb.s, sb.len, err);
        if (root && !st && !a->quiet) fprintf(stdout, "%s", sb.s);
    }
    rc_sb_free(&sb);
    rc_network_free(net);
    rc_pool_free(pool);
    return st;
}

rc_status rc_netrun(const rc_run_args *a, int *handled, rc_err *err)
{
    *handled = 0;
    rc_cfg *cfg = rc_cfg_new(rc_spec, rc_nspec);
    if (!cfg) return rc_err_set(err, RC_ERR_NOMEM, "out of memory");
    rc_status st = rc_app_apply_args(cfg, a, err);
    if (st || strcmp(rc_cfg_get_str(cfg, "task.name"), "network")) {
        rc_cfg_free(cfg);
        return st; /* a config error is the same whoever reports it */
    }
    *handled = 1;
    rc_net_spec *s = malloc(sizeof *s);
    rc_netcfg_files files;
    memset(&files, 0, sizeof files);
    if (!s) st = rc_err_set(err, RC_ERR_NOMEM, "out of memory");
    if (!st) st = rc_netcfg_spec(cfg, a->cfg_path, s, &files, err);
    for (int r = 0; !st && r < s->nvm; r++)
        for (int q = 0; q < r; q++)
            if (s->vm[q].pop == s->vm[r].pop)
                st = rc_err_set(err, RC_ERR_CONFIG, "%s: two V_m recorders of population %s (list the neurons in one)",
                                a->cfg_path, s->pop[s->vm[r].pop].name);
    if (!st) st = simulate(cfg, a, s, &files, err);
    rc_netcfg_files_free(&files);
    free(s);
    rc_cfg_free(cfg);
    return st;
}
