/* test_pool.c — the worker pool: partitioning, dispatch, barrier, placement.
 *
 * Worker threads must not call cmocka asserts (they longjmp on the main
 * thread's stack), so thread functions record what they saw and the checks
 * run on the main thread afterwards. Data shared across the barrier is plain
 * (non-atomic) on purpose: under -fsanitize=thread a barrier without the
 * right ordering shows up as a data race, and without it as wrong sums. */
#include "tests/testutil.h"
#include <stdlib.h>

#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "sim/pool.h"

#define MAXT 8

static rc_pool *new_pool(int n, rc_placement place)
{
    rc_err err = { { 0 } };
    rc_pool *p = rc_pool_new(n, place, &err);
    if (!p)
        fail_msg("rc_pool_new(%d): %s", n, err.msg);
    return p;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* ---- rc_partition ------------------------------------------------------- */

static void check_partition(size_t n, int nth)
{
    size_t prev_hi = 0, minsz = (size_t)-1, maxsz = 0;
    for (int i = 0; i < nth; i++) {
        size_t lo = 12345, hi = 0;
        rc_partition(n, i, nth, &lo, &hi);
        assert_int_equal(lo, prev_hi); /* contiguous, starts at 0, no overlap */
        assert_true(hi >= lo);
        size_t sz = hi - lo;
        if (sz < minsz)
            minsz = sz;
        if (sz > maxsz)
            maxsz = sz;
        /* The bigger parts come first. */
        assert_int_equal(sz, n / (size_t)nth + ((size_t)i < n % (size_t)nth));
        prev_hi = hi;
    }
    assert_int_equal(prev_hi, n); /* covers everything */
    assert_true(maxsz - minsz <= 1);
}

static void test_partition(void **state)
{
    (void)state;
    for (size_t n = 0; n <= 300; n++)
        for (int nth = 1; nth <= 17; nth++)
            check_partition(n, nth);
    size_t big[] = { 1000003, (size_t)1 << 32, ((size_t)1 << 40) + 7 };
    for (size_t k = 0; k < sizeof big / sizeof big[0]; k++)
        for (int nth = 1; nth <= 64; nth++)
            check_partition(big[k], nth);

    size_t lo, hi;
    rc_partition(10, 0, 3, &lo, &hi);
    assert_int_equal(lo, 0);
    assert_int_equal(hi, 4);
    rc_partition(10, 2, 3, &lo, &hi);
    assert_int_equal(lo, 7);
    assert_int_equal(hi, 10);
    rc_partition(2, 3, 4, &lo, &hi); /* empty part */
    assert_int_equal(lo, 2);
    assert_int_equal(hi, 2);
}

/* ---- creation ------------------------------------------------------------- */

static void test_new_bad_args(void **state)
{
    (void)state;
    rc_err err = { { 0 } };
    assert_null(rc_pool_new(-1, RC_PLACE_SPREAD, &err));
    assert_non_null(strstr(err.msg, "-1"));
    memset(&err, 0, sizeof err);
    assert_null(rc_pool_new(2, (rc_placement)7, &err));
    assert_true(strlen(err.msg) > 0);
    rc_pool_free(NULL); /* no-op */
}

static void test_default_threads(void **state)
{
    (void)state;
    int nc = rc_hw_ncores();
    assert_true(nc >= 1);
    assert_int_equal(rc_hw_ncores(), nc); /* cached, stable */
    rc_pool *p = new_pool(0, RC_PLACE_SPREAD);
    assert_int_equal(rc_pool_nthreads(p), nc);
    rc_pool_free(p);
}

static void test_create_free_repeatedly(void **state)
{
    (void)state;
    for (int k = 0; k < 20; k++) {
        rc_pool *p = new_pool(1 + k % 4, k % 2 ? RC_PLACE_COMPACT : RC_PLACE_SPREAD);
        assert_int_equal(rc_pool_nthreads(p), 1 + k % 4);
        rc_pool_free(p); /* also right after creation: workers may still spin */
    }
}

/* ---- rc_pool_run ---------------------------------------------------------- */

typedef struct {
    int calls[MAXT];
    int seen_nth[MAXT];
    long value[MAXT];
    long mult;
} slots_arg;

static void slots_fn(void *arg, int ith, int nth)
{
    slots_arg *a = arg;
    a->calls[ith]++;
    a->seen_nth[ith] = nth;
    a->value[ith] = a->mult * (ith + 1) + ith;
}

static void check_slots(int n, rc_placement place)
{
    rc_pool *p = new_pool(n, place);
    assert_int_equal(rc_pool_nthreads(p), n);
    for (long round = 1; round <= 3; round++) {
        slots_arg a;
        memset(&a, 0, sizeof a);
        a.mult = 1000 * round;
        rc_pool_run(p, slots_fn, &a);
        for (int i = 0; i < MAXT; i++) {
            assert_int_equal(a.calls[i], i < n ? 1 : 0);
            if (i < n) {
                assert_int_equal(a.seen_nth[i], n);
                assert_int_equal(a.value[i], a.mult * (i + 1) + i);
            }
        }
    }
    rc_pool_free(p);
}

static void test_run_1(void **state) { (void)state; check_slots(1, RC_PLACE_SPREAD); }
static void test_run_2(void **state) { (void)state; check_slots(2, RC_PLACE_SPREAD); }
static void test_run_3(void **state) { (void)state; check_slots(3, RC_PLACE_COMPACT); }
static void test_run_4_oversubscribed(void **state) { (void)state; check_slots(4, RC_PLACE_SPREAD); }

typedef struct {
    long round;        /* set by the caller before each run */
    long count[MAXT];  /* runs seen per thread */
    long last[MAXT];   /* round seen last time */
    long bad[MAXT];    /* runs where the round was not last+1 */
} seq_arg;

static void seq_fn(void *arg, int ith, int nth)
{
    (void)nth;
    seq_arg *a = arg;
    if (a->round != a->last[ith] + 1)
        a->bad[ith]++;
    a->last[ith] = a->round;
    a->count[ith]++;
}

static void test_many_runs(void **state)
{
    (void)state;
    for (int n = 1; n <= 4; n++) {
        rc_pool *p = new_pool(n, RC_PLACE_SPREAD);
        seq_arg a;
        memset(&a, 0, sizeof a);
        for (long r = 1; r <= 1000; r++) {
            a.round = r;
            rc_pool_run(p, seq_fn, &a);
            /* After return every thread has finished this run. */
            for (int i = 0; i < n; i++)
                if (a.count[i] != r)
                    fail_msg("nth=%d run %ld: thread %d ran %ld times", n, r, i, a.count[i]);
        }
        for (int i = 0; i < MAXT; i++) {
            assert_int_equal(a.count[i], i < n ? 1000 : 0);
            assert_int_equal(a.bad[i], 0);
        }
        rc_pool_free(p);
    }
}

/* rc_pool_run must wait for a worker that is much slower than the caller. */
typedef struct {
    int done[MAXT];
} slow_arg;

static void slow_last_fn(void *arg, int ith, int nth)
{
    slow_arg *a = arg;
    if (ith == nth - 1)
        sleep_ms(30);
    a->done[ith] = 1;
}

static void test_run_waits_for_slow_worker(void **state)
{
    (void)state;
    for (int n = 2; n <= 3; n++) {
        rc_pool *p = new_pool(n, RC_PLACE_SPREAD);
        slow_arg a;
        memset(&a, 0, sizeof a);
        rc_pool_run(p, slow_last_fn, &a);
        for (int i = 0; i < n; i++)
            assert_int_equal(a.done[i], 1);
        rc_pool_free(p);
    }
}

/* Workers that went to sleep between runs must be woken by the next run. */
static void test_wake_after_idle(void **state)
{
    (void)state;
    rc_pool *p = new_pool(3, RC_PLACE_SPREAD);
    seq_arg a;
    memset(&a, 0, sizeof a);
    for (long r = 1; r <= 15; r++) {
        a.round = r;
        rc_pool_run(p, seq_fn, &a);
        sleep_ms(10); /* far longer than the idle spin */
    }
    for (int i = 0; i < 3; i++) {
        assert_int_equal(a.count[i], 15);
        assert_int_equal(a.bad[i], 0);
    }
    rc_pool_free(p);
}

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void noop_fn(void *arg, int ith, int nth)
{
    (void)arg;
    (void)ith;
    (void)nth;
}

/* Idle workers must sleep, not spin: 300 ms of idling with one worker that
 * spun would cost ~300 ms of CPU. */
static void test_idle_workers_sleep(void **state)
{
    (void)state;
    rc_pool *p = new_pool(2, RC_PLACE_SPREAD);
    rc_pool_run(p, noop_fn, NULL);
    sleep_ms(20); /* let the worker get past its spin phase */
    double t0 = cpu_seconds();
    sleep_ms(300);
    double used = cpu_seconds() - t0;
    rc_pool_free(p);
    if (used > 0.1)
        fail_msg("idle pool used %.3f s of CPU in 0.3 s", used);
}

/* ---- rc_pool_barrier ------------------------------------------------------ */

typedef struct {
    rc_pool *pool;
    int rounds;
    long slot[MAXT];
    long errors[MAXT];
    long first_bad_round[MAXT];
} bar_arg;

static void barrier_fn(void *arg, int ith, int nth)
{
    bar_arg *a = arg;
    long base = (long)nth * (nth - 1) / 2; /* sum of ith */
    long tri = (long)nth * (nth + 1) / 2;  /* sum of ith + 1 */
    for (int r = 0; r < a->rounds; r++) {
        a->slot[ith] = (long)r * (ith + 1) + ith;
        /* All slots of round r are written before anyone reads them. */
        rc_pool_barrier(a->pool);
        long sum = 0;
        for (int j = 0; j < nth; j++)
            sum += a->slot[j];
        if (sum != (long)r * tri + base) {
            if (a->errors[ith]++ == 0)
                a->first_bad_round[ith] = r;
        }
        /* Nobody overwrites a slot for round r+1 while others still read r. */
        rc_pool_barrier(a->pool);
    }
}

static void check_barrier(int n, int rounds)
{
    bar_arg a;
    memset(&a, 0, sizeof a);
    a.pool = new_pool(n, RC_PLACE_SPREAD);
    a.rounds = rounds;
    rc_pool_run(a.pool, barrier_fn, &a);
    /* Once more in the same pool: barrier state must carry over cleanly. */
    rc_pool_run(a.pool, barrier_fn, &a);
    for (int i = 0; i < n; i++)
        if (a.errors[i])
            fail_msg("nth=%d: thread %d saw %ld wrong sums, first in round %ld", n, i, a.errors[i],
                     a.first_bad_round[i]);
    /* The last round's values are what the final round wrote. */
    for (int i = 0; i < n; i++)
        assert_int_equal(a.slot[i], (long)(rounds - 1) * (i + 1) + i);
    rc_pool_free(a.pool);
}

static void test_barrier_1(void **state) { (void)state; check_barrier(1, 10000); }
static void test_barrier_2(void **state) { (void)state; check_barrier(2, 10000); }
/* Fewer rounds when threads may outnumber cores: each barrier then costs
 * context switches, and on a loaded machine scheduler time slices. */
static void test_barrier_3(void **state) { (void)state; check_barrier(3, 2000); }
static void test_barrier_4_oversubscribed(void **state) { (void)state; check_barrier(4, 2000); }

/* ---- stress: more threads than cores, sleeping waiters ------------------ */

/* Every round each thread adds 1 to a shared counter, meets the others, and
 * checks the counter is exactly nth·(r+1); some rounds one thread naps 1 ms
 * (everyone else then goes to sleep on the futex) or spins a while, so waits
 * alternate between short and long and the adaptive spin budget moves. A
 * lost wake-up leaves a thread asleep for good: the child process then hangs
 * and the watchdog (alarm) kills it. Shown to fail with a broken barrier that
 * skips the futex wake (pool.c, rc_pool_wake_word returning at once): the
 * child hangs in the first rounds and is killed by the alarm. */
typedef struct {
    rc_pool *pool;
    int rounds;
    long base; /* counter before this run, set by the caller */
    atomic_long counter;
    atomic_long errors;
} stress_arg;

static void stress_fn(void *arg, int ith, int nth)
{
    stress_arg *a = arg;
    const long base = a->base;
    for (int r = 0; r < a->rounds; r++) {
        if (r % 53 == 7 && r / 53 % nth == ith)
            sleep_ms(1);
        else if (r % 11 == ith % 11)
            for (volatile int k = 0; k < 20000; k++) {
            }
        atomic_fetch_add(&a->counter, 1);
        /* Every thread's increment of round r is done before anyone checks. */
        rc_pool_barrier(a->pool);
        if (atomic_load(&a->counter) != base + (long)nth * (r + 1))
            atomic_fetch_add(&a->errors, 1);
        /* Everyone has checked before anyone increments for round r+1. */
        rc_pool_barrier(a->pool);
    }
}

static void count_fn(void *arg, int ith, int nth)
{
    (void)nth;
    if (ith == 1) atomic_fetch_add((atomic_long *)arg, 1);
}

/* Child: 0 if every check passed. */
static int stress_child(int n, int rounds, int runs)
{
    rc_err err = { { 0 } };
    stress_arg a = { .rounds = rounds };
    atomic_init(&a.counter, 0);
    atomic_init(&a.errors, 0);
    if (!(a.pool = rc_pool_new(n, RC_PLACE_SPREAD, &err))) return 3;
    atomic_long done;
    atomic_init(&done, 0);
    for (int k = 0; k < runs; k++) {
        a.base = atomic_load(&a.counter);
        rc_pool_run(a.pool, stress_fn, &a);
        /* Short runs in between: the caller's completion wait sleeps too. */
        for (int j = 0; j < 50; j++) rc_pool_run(a.pool, count_fn, &done);
    }
    const long want = (long)n * rounds * runs;
    fprintf(stderr, "stress: %d threads, %d runs of %d rounds: counter %ld (want %ld), %ld wrong checks, %ld short runs\n",
            n, runs, rounds, atomic_load(&a.counter), want, atomic_load(&a.errors), atomic_load(&done));
    rc_pool_free(a.pool);
    return atomic_load(&a.errors) == 0 && atomic_load(&a.counter) == want && atomic_load(&done) == 50L * runs ? 0 : 1;
}

static void test_barrier_stress_oversubscribed(void **state)
{
    (void)state;
    int n = 2 * rc_hw_ncores();
    if (n < 8) n = 8;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(120); /* a lost wake-up hangs: SIGALRM ends the child */
        _exit(stress_child(n, 1500, 4));
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (WIFSIGNALED(st))
        fail_msg("stress child killed by signal %d (%s): a thread slept through its wake-up", WTERMSIG(st),
                 WTERMSIG(st) == SIGALRM ? "hung 120 s" : "crashed");
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* ---- load warning ------------------------------------------------------------ */

static int load_warns(rc_pool *p, double load, char *buf, size_t cap)
{
    char path[] = "/tmp/rcsim_loadavg_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "%.2f 0.50 0.40 3/200 4242\n", load);
    fclose(f);
    buf[0] = '\0';
    int w = rc_pool_load_warning(p, path, buf, cap);
    remove(path);
    return w;
}

/* Warns when load > cores − threads + 0.5, not below, not for a pool that
 * oversubscribes on purpose, not when the file is missing. */
static void test_load_warning(void **state)
{
    (void)state;
    const int nc = rc_hw_ncores();
    char buf[400];
    rc_pool *p = new_pool(1, RC_PLACE_SPREAD);
    assert_int_equal(load_warns(p, nc - 1 + 0.4, buf, sizeof buf), 0);
    assert_int_equal(load_warns(p, nc - 1 + 0.6, buf, sizeof buf), 1);
    assert_non_null(strstr(buf, "load average"));
    assert_null(strchr(buf, '\n')); /* one line; the caller adds the newline */
    assert_int_equal(rc_pool_load_warning(p, "/nonexistent/loadavg", buf, sizeof buf), 0);
    rc_pool_free(p);
    p = new_pool(nc + 1, RC_PLACE_SPREAD);
    assert_int_equal(load_warns(p, 100.0, buf, sizeof buf), 0);
    rc_pool_free(p);
}

/* ---- placement ------------------------------------------------------------ */

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void check_placement(int n, rc_placement place)
{
    rc_pool *p = new_pool(n, place);
    char buf[4096];
    memset(buf, 'x', sizeof buf);
    rc_pool_placement(p, buf, sizeof buf);
    assert_int_equal(count_lines(buf), n);
    const char *line = buf;
    int oversub = n > rc_hw_ncores();
    for (int i = 0; i < n; i++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "thread %d -> ", i);
        assert_memory_equal(line, prefix, strlen(prefix));
        const char *rest = line + strlen(prefix);
        int bound = strncmp(rest, "core ", 5) == 0;
        int unbound = strncmp(rest, "unbound (", 9) == 0;
        assert_true(bound || unbound);
        const char *eol = strchr(line, '\n');
        assert_non_null(eol);
        if (bound) {
            int core = -1, pu = -1;
            assert_int_equal(sscanf(rest, "core %d (PU %d, NUMA", &core, &pu), 2);
            assert_true(core >= 0 && core < rc_hw_ncores());
            assert_true(pu >= 0);
            /* Oversubscription is reported on the lines that share a core. */
            int says = memmem(line, (size_t)(eol - line), "oversubscribed", 14) != NULL;
            assert_int_equal(says, oversub);
        }
        line = eol + 1;
    }
    rc_pool_free(p);
}

static void test_placement(void **state)
{
    (void)state;
    for (int n = 1; n <= 4; n++) {
        check_placement(n, RC_PLACE_SPREAD);
        check_placement(n, RC_PLACE_COMPACT);
    }
    /* Distinct cores while there are enough of them. */
    int nc = rc_hw_ncores();
    if (nc >= 2) {
        rc_pool *p = new_pool(2, RC_PLACE_COMPACT);
        char buf[1024];
        rc_pool_placement(p, buf, sizeof buf);
        int c0 = -1, c1 = -1;
        if (sscanf(buf, "thread 0 -> core %d", &c0) == 1 &&
            sscanf(strchr(buf, '\n') + 1, "thread 1 -> core %d", &c1) == 1) {
            assert_int_equal(c0, 0); /* compact = logical order */
            assert_int_equal(c1, 1);
        }
        rc_pool_free(p);
    }
}

static void test_placement_truncates(void **state)
{
    (void)state;
    rc_pool *p = new_pool(3, RC_PLACE_SPREAD);
    char full[4096];
    rc_pool_placement(p, full, sizeof full);
    char small[12];
    memset(small, 'x', sizeof small);
    rc_pool_placement(p, small, sizeof small);
    assert_int_equal(strlen(small), sizeof small - 1); /* terminated, full */
    assert_memory_equal(small, full, sizeof small - 1);
    char one = 'x';
    rc_pool_placement(p, &one, 1);
    assert_int_equal(one, '\0');
    rc_pool_placement(p, NULL, 0); /* nothing to write, no crash */
    rc_pool_free(p);
}

int main(void)
{
    /* These tests check the pool, not the idle-core probe (test_cpu_busy_from_stat does): on a busy
     * machine the probe would change sim.threads = 0. */
    setenv("RCSIM_IDLE_PROBE", "0", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partition),
        cmocka_unit_test(test_new_bad_args),
        cmocka_unit_test(test_default_threads),
        cmocka_unit_test(test_create_free_repeatedly),
        cmocka_unit_test(test_run_1),
        cmocka_unit_test(test_run_2),
        cmocka_unit_test(test_run_3),
        cmocka_unit_test(test_run_4_oversubscribed),
        cmocka_unit_test(test_many_runs),
        cmocka_unit_test(test_run_waits_for_slow_worker),
        cmocka_unit_test(test_wake_after_idle),
        cmocka_unit_test(test_idle_workers_sleep),
        cmocka_unit_test(test_barrier_1),
        cmocka_unit_test(test_barrier_2),
        cmocka_unit_test(test_barrier_3),
        cmocka_unit_test(test_barrier_4_oversubscribed),
        cmocka_unit_test(test_barrier_stress_oversubscribed),
        cmocka_unit_test(test_load_warning),
        cmocka_unit_test(test_placement),
        cmocka_unit_test(test_placement_truncates),
    };
    /* TEST_FILTER=pattern runs only the matching tests (cmocka glob). */
    if (getenv("TEST_FILTER")) cmocka_set_test_filter(getenv("TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
