/* floors.c — every model type against its own floor, on temporal MNIST.
 *
 * For LSTM training and RC-inference, ConvLSTM training and inference and SNN
 * training (the shapes of configs/tmnist_lstm340.cfg, tmnist_convlstm20.cfg,
 * snn_tmnist_rc.cfg; untrained weights, so RC runs stop later than a trained
 * model would: the floor is per executed MAC, not per example of a trained run)
 * it prints:
 *  - ex/s measured here (a few seconds per row, after one warm-up batch);
 *  - product MACs per example, counted where they run: this program defines
 *    cblas_sgemm, adds M·N·K to a per-thread counter and calls OpenBLAS's
 *    (dlsym RTLD_NEXT), and counts rc_gemm's calls (the LSTM's recurrent
 *    products) through rc_gemm_hook;
 *  - scatter MACs per example (plain-C event work: an input event adds a
 *    weight row; LSTM/ConvLSTM from the engine's counter, forward, doubled for
 *    training, whose backward walks the same events; SNN: synaptic events
 *    delivered, res.synops, likewise doubled for training);
 *  - the floor they imply: each kernel's product MACs at its own rate
 *    measured in this run (sgemm and rc_gemm, 512³ products, one per
 *    thread, all threads at once) plus scatter MACs at
 *    the measured scatter rate (rows of 256 weights streamed from 64 MB and
 *    added into a cached row: memory bandwidth bound), and the fraction of
 *    that floor reached.
 * And which OpenBLAS kernel ran (openblas_get_corename/get_config; when
 * OPENBLAS_CORETYPE forces one, the autodetected kernel's sgemm rate too).
 *
 *   build/bench/floors [DATA_DIR] [threads] [seconds per row] [--tiny]
 *   defaults: ../shared/data/mnist 2 3; --tiny: small shapes, 0.2 s per row
 *   (checks that it runs; its numbers mean nothing). */
#include <cblas.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/clock.h"
#include "encoders/images.h"
#include "io/idx.h"
#include "models/gemm.h"
#include "models/lif.h"
#include "models/net.h"
#include "sim/engine.h"
#include "sim/pool.h"

void openblas_set_num_threads(int);
char *openblas_get_corename(void);
char *openblas_get_config(void);

/* ---- counted sgemm ------------------------------------------------------- */

enum { MAXTH = 256 };
static _Thread_local unsigned long long tl_macs[2]; /* [0] sgemm, [1] rc_gemm */
static _Thread_local int tl_reg;
static unsigned long long (*g_cnt[MAXTH])[2];
static atomic_int g_ncnt;
static pthread_mutex_t g_reg_lock = PTHREAD_MUTEX_INITIALIZER;

typedef void (*sgemm_fn)(const enum CBLAS_ORDER, const enum CBLAS_TRANSPOSE, const enum CBLAS_TRANSPOSE,
                         const blasint, const blasint, const blasint, const float, const float *, const blasint,
                         const float *, const blasint, const float, float *, const blasint);
static _Atomic(sgemm_fn) g_real;

/* Adds M·N·K to this thread's counter (cblas_sgemm below, and rc_gemm
 * through rc_gemm_hook: the LSTM's recurrent products, models/gemm.h). */
static void count_kind(int kind, int M, int N, int K)
{
    if (!tl_reg) {
        /* Once per address: a new thread (each row has its own pool, the
         * rate measurements their own threads) often gets the TLS block of
         * one that ended, and listing it twice counted its MACs twice. */
        tl_reg = 1;
        pthread_mutex_lock(&g_reg_lock);
        int seen = 0;
        const int n = atomic_load(&g_ncnt);
        for (int i = 0; i < n && i < MAXTH; i++) seen |= g_cnt[i] == &tl_macs;
        if (!seen && n < MAXTH) { g_cnt[n] = &tl_macs; atomic_store(&g_ncnt, n + 1); }
        pthread_mutex_unlock(&g_reg_lock);
    }
    tl_macs[kind] += (unsigned long long)M * (unsigned long long)N * (unsigned long long)K;
}

static void count_rcgemm(int M, int N, int K) { count_kind(1, M, N, K); }

void cblas_sgemm(const enum CBLAS_ORDER o, const enum CBLAS_TRANSPOSE ta, const enum CBLAS_TRANSPOSE tb,
                 const blasint M, const blasint N, const blasint K, const float alpha, const float *A,
                 const blasint lda, const float *B, const blasint ldb, const float beta, float *C,
                 const blasint ldc)
{
    sgemm_fn f = atomic_load_explicit(&g_real, memory_order_acquire);
    if (!f) {
        if (!(f = (sgemm_fn)dlsym(RTLD_NEXT, "cblas_sgemm"))) abort();
        atomic_store_explicit(&g_real, f, memory_order_release);
    }
    count_kind(0, M, N, K);
    f(o, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* Read between pool runs (rc_pool_run's return synchronises with the workers). */
static double macs_total(int kind)
{
    double s = 0;
    const int n = atomic_load(&g_ncnt);
    for (int i = 0; i < n && i < MAXTH; i++) s += (double)(*g_cnt[i])[kind];
    return s;
}

/* ---- machine rates --------------------------------------------------------- */

enum { SZ = 512, REPS = 12, SCAT_FLOATS = 16 << 20, SCAT_W = 256, SCAT_PASSES = 8 };

typedef struct {
    int nth;
    pthread_barrier_t *go; /* all threads start timing together, after their setup */
    double secs;           /* this thread's timed part */
} worker_arg;

static void *gemm_worker(void *arg)
{
    worker_arg *w = arg;
    float *a = calloc(SZ * SZ, 4), *b = calloc(SZ * SZ, 4), *c = calloc(SZ * SZ, 4);
    for (int i = 0; i < SZ * SZ; i++) { a[i] = 1e-3f * (float)(i % 97); b[i] = 1e-3f * (float)(i % 89); }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, SZ, SZ, SZ, 1, a, SZ, b, SZ, 0, c, SZ); /* warm-up */
    pthread_barrier_wait(w->go);
    const double t0 = rc_now_s();
    for (int r = 0; r < REPS; r++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, SZ, SZ, SZ, 1, a, SZ, b, SZ, 0, c, SZ);
    w->secs = rc_now_s() - t0;
    free(a); free(b); free(c);
    return NULL;
}

/* The same 512³ product through rc_gemm (no packing; the LSTM's products). */
static void *rcgemm_worker(void *arg)
{
    worker_arg *w = arg;
    float *a = calloc(SZ * SZ, 4), *b = calloc(SZ * SZ, 4), *c = calloc(SZ * SZ, 4);
    for (int i = 0; i < SZ * SZ; i++) { a[i] = 1e-3f * (float)(i % 97); b[i] = 1e-3f * (float)(i % 89); }
    rc_gemm(SZ, SZ, SZ, a, SZ, 1, b, SZ, c, SZ, 0); /* warm-up */
    pthread_barrier_wait(w->go);
    const double t0 = rc_now_s();
    for (int r = 0; r < REPS; r++) rc_gemm(SZ, SZ, SZ, a, SZ, 1, b, SZ, c, SZ, 0);
    w->secs = rc_now_s() - t0;
    free(a); free(b); free(c);
    return NULL;
}

static void *scatter_worker(void *arg)
{
    worker_arg *wa = arg;
    const size_t n = SCAT_FLOATS / (size_t)wa->nth, rows = n / SCAT_W;
    float *w = malloc(n * sizeof *w), y[SCAT_W] = { 0 };
    for (size_t i = 0; i < n; i++) w[i] = 1e-3f * (float)(i % 101);
    uint64_t s = 88172645463325252ull;
    pthread_barrier_wait(wa->go);
    const double t0 = rc_now_s();
    for (int pass = 0; pass < SCAT_PASSES; pass++)
        for (size_t e = 0; e < rows; e++) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17; /* random row: no prefetch-friendly stream */
            const float v = 1e-3f * (float)(s & 7), *wr = w + (s % rows) * SCAT_W;
            for (int j = 0; j < SCAT_W; j++) y[j] += v * wr[j];
        }
    wa->secs = rc_now_s() - t0;
    volatile float sink = y[0];
    (void)sink;
    free(w);
    return NULL;
}

/* MAC/s of nt threads running fn at once, each doing `per` MACs in its timed
 * part: the sum of the threads' rates. */
static double rate(void *(*fn)(void *), int nt, double per)
{
    pthread_t th[64];
    worker_arg wa[64];
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, (unsigned)nt);
    for (int i = 0; i < nt; i++) {
        wa[i] = (worker_arg){ nt, &go, 0 };
        pthread_create(&th[i], NULL, fn, &wa[i]);
    }
    double r = 0;
    for (int i = 0; i < nt; i++) {
        pthread_join(th[i], NULL);
        r += per / wa[i].secs;
    }
    pthread_barrier_destroy(&go);
    return r;
}

/* ---- one row of the table ---------------------------------------------------- */

typedef struct {
    const char *name;
    rc_net_shape s;
    int B, train;
} row_spec;

static void run_row(const row_spec *r, rc_dataset *ds, int nth, double secs, double gemm, double rcg, double scat)
{
    rc_err err;
    rc_net *net = rc_net_new(&r->s, 1);
    rc_pool *pool = rc_pool_new(nth, RC_PLACE_SPREAD, &err);
    rc_engine *e = net && pool ? rc_engine_new(net, ds, pool, r->B, &err) : NULL;
    if (!e) { printf("| %s | setup failed: %s |\n", r->name, err.msg); exit(1); }
    int64_t *idx = malloc((size_t)r->B * sizeof *idx);
    rc_example_result *res = malloc((size_t)r->B * sizeof *res);
    const int lif = r->s.core == RC_CORE_LIF;
    rc_batch_opts o = { .train = r->train, .stop_at_spike = 1, .loss_at_end = 0, .lstm.threshold = 0.95,
                        .lif.vth_scale = 1 };
    double t0 = 0, g0 = 0, q0 = 0, scatter = 0;
    long nex = 0;
    for (int b = 0;; b++) {
        if (b == 1) { t0 = rc_now_s(); g0 = macs_total(0); q0 = macs_total(1); } /* batch 0: warm-up */
        for (int i = 0; i < r->B; i++) idx[i] = ((int64_t)b * r->B + i) % 50000;
        if (r->train) rc_net_zero_grad(net);
        int64_t rows = 0;
        if (rc_engine_batch(e, RC_SPLIT_TRAIN, idx, r->B, &o, res, &rows, &err)) { printf("%s\n", err.msg); exit(1); }
        if (r->train) rc_engine_adam(e, 1e-4, 0.9, 0.999, 1e-8, 0, b + 1);
        if (b == 0) continue;
        nex += r->B;
        /* Plain-C event work of the batch (forward): LSTM/ConvLSTM, the
         * engine's count less its sgemm part (step_macs with no events, h ≠ 0
         * is recurrent + head; the head is plain C too); SNN, synaptic events. */
        for (int i = 0; i < r->B; i++) {
            if (lif) scatter += (double)res[i].synops;
            else scatter += (double)res[i].events * (rc_net_step_macs(net, 1, 1) - rc_net_step_macs(net, 0, 1));
        }
        if (!lif) scatter += (double)rows * rc_net_step_macs(net, 0, 1); /* head */
        if (rc_now_s() - t0 > secs && b >= 2) break;
    }
    const double dt = rc_now_s() - t0, eps = nex / dt;
    const double gm = (macs_total(0) - g0) / nex, qm = (macs_total(1) - q0) / nex;
    const double sm = scatter / nex * (r->train ? 2 : 1);
    /* Two floors: the products alone, each kernel's MACs at its own 512³
     * rate (what they cost if the event work were free), and with the event
     * work at the random-row DRAM rate (a pessimistic bound where the weights
     * it reads stay in cache, as the LSTM's input weights do: then > 100 %). */
    const double tp = gm / gemm + qm / rcg;
    const double floor_g = 1.0 / tp, floor_eps = 1.0 / (tp + sm / scat);
    printf("| %s | %.0f | %.3g | %.3g | %.3g | %.0f | %.0f%% | %.0f | %.0f%% |\n", r->name, eps, gm, qm, sm,
           floor_g, 100.0 * eps / floor_g, floor_eps, 100.0 * eps / floor_eps);
    fflush(stdout);
    free(idx); free(res);
    rc_engine_free(e); rc_pool_free(pool); rc_net_free(net);
}

int main(int argc, char **argv)
{
    int tiny = 0, na = 0;
    const char *pos[3] = { "../shared/data/mnist", "2", "3" };
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--tiny")) tiny = 1;
        else if (!strcmp(argv[i], "--gemm-only")) tiny = -1;
        else if (na < 3) pos[na++] = argv[i];
    }
    const int nth = atoi(pos[1]) > 0 && atoi(pos[1]) <= 64 ? atoi(pos[1]) : 2;
    const double secs = tiny > 0 ? 0.2 : atof(pos[2]);
    openblas_set_num_threads(1);
    rc_gemm_hook = count_rcgemm;
    const double gemm = rate(gemm_worker, nth, (double)REPS * SZ * SZ * SZ);
    printf("OpenBLAS %s, core %s%s: sgemm %.1f GMAC/s on %d threads\n", openblas_get_config(),
           openblas_get_corename(), getenv("OPENBLAS_CORETYPE") ? " (forced by OPENBLAS_CORETYPE)" : " (autodetected)",
           gemm / 1e9, nth);
    if (tiny < 0) return 0;
    const double rcg = rate(rcgemm_worker, nth, (double)REPS * SZ * SZ * SZ);
    printf("rc_gemm (%s): %.1f GMAC/s on %d threads\n", rc_gemm_isa(), rcg / 1e9, nth);
    if (getenv("OPENBLAS_CORETYPE")) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "env -u OPENBLAS_CORETYPE '%s' --gemm-only x %d", argv[0], nth);
        fflush(stdout);
        if (system(cmd) != 0) printf("(could not rerun with the autodetected kernel)\n");
    }
    const double scat = rate(scatter_worker, nth, (double)SCAT_PASSES * (SCAT_FLOATS / nth / SCAT_W) * SCAT_W);
    printf("scatter (rows of %d weights from %d MB, random order): %.2f GMAC/s on %d threads\n", SCAT_W,
           (int)(SCAT_FLOATS * sizeof(float) >> 20), scat / 1e9, nth);

    rc_idx tri = { 0 }, trl = { 0 }, tei = { 0 }, tel = { 0 };
    rc_err err;
    if (rc_idx_read_set(pos[0], "train", 10, &tri, &trl, &err) || rc_idx_read_set(pos[0], "t10k", 10, &tei, &tel, &err)) {
        printf("no MNIST (%s): the model rows are skipped\n", err.msg);
        return 0;
    }
    rc_dataset *ds = rc_latency_new(1, 10, 0, 784, 10, tri.data, trl.data, tri.count, 5000, tei.data, tel.data, tei.count);
    ds->rows = ds->cols = 28;
    const int H = tiny ? 24 : 340, C = tiny ? 2 : 20, k = tiny ? 3 : 5;
    row_spec rows[5] = {
        { "LSTM RC training", { .nin = 784, .H = H, .K = 10 }, tiny ? 16 : 128, 1 },
        { "LSTM RC-inference", { .nin = 784, .H = H, .K = 10 }, tiny ? 16 : 256, 0 },
        { "ConvLSTM RC training", { .core = RC_CORE_CONVLSTM, .nin = 784, .H = C * 784, .K = 10,
                                    .conv = { C, 1, 28, 28, k } }, tiny ? 4 : 64, 1 },
        { "ConvLSTM RC-inference", { .core = RC_CORE_CONVLSTM, .nin = 784, .H = C * 784, .K = 10,
                                     .conv = { C, 1, 28, 28, k } }, tiny ? 4 : 64, 0 },
        { "SNN RC training", { .core = RC_CORE_LIF, .nin = 784, .K = 10 }, tiny ? 16 : 400, 1 },
    };
    char msg[256];
    rc_net_shape *sn = &rows[4].s;
    if (rc_lif_parse(&sn->snn, tiny ? "conv4k3p1 pool2 fc16 fc10" : "conv32k3p1 pool2 conv32k3p1 pool2 fc128 fc10", 1, 28,
                     28, msg, sizeof msg)) {
        printf("%s\n", msg);
        return 1;
    }
    sn->snn.vth = 0.5f; sn->snn.tau = 0.2f; sn->snn.lens = 0.5f; sn->snn.bias = 1;
    sn->H = rc_lif_neurons(&sn->snn, sn->snn.nl - 2);
    printf("\n%d threads, temporal MNIST T = 10, untrained weights, θ = 0.95, ~%.1f s per row%s\n\n", nth, secs,
           tiny ? " (--tiny: small shapes, numbers mean nothing)" : "");
    printf("| model | ex/s | sgemm MACs/ex | rc_gemm MACs/ex | scatter MACs/ex | floor, products only | of it | floor, + DRAM scatter | of it |\n"
           "|---|---|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < 5; i++) run_row(&rows[i], ds, nth, secs, gemm, rcg, scat);
    rc_dataset_free(ds);
    return 0;
}
