/* test_faults.c — bad luck from outside, through the binary ($RCSIM):
 *   - kill -9 at random points of a run that checkpoints every batch: the
 *     checkpoint is always loadable or absent, and resuming from it gives
 *     the uninterrupted run's numbers; the next run in the folder removes the
 *     killed run's *.tmp files;
 *   - a full disk (a small tmpfs; skipped with a message where it cannot be
 *     mounted) when creating model.h5 and when closing traces.h5: one line,
 *     exit 1, no half-written file left, no crash at exit;
 *   - two runs on one folder: the second gets one line and exit 2 (the test
 *     holds the folder's lock); a new run into a folder with an earlier
 *     run's outputs is refused without --force, and with --force a failed
 *     run leaves none of the earlier run's files.
 * The kill points are drawn from the clock; the seed is printed. */
#include "tests/testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char g_dir[256];

static const char *CFG =
    "[task]\nname = spotting\n[model]\nhidden = 12\n"
    "[train]\nlr = 0.003\nbatch = 32\nexamples = 2560\nval_every = 10\nval_size = 64\n"
    "[test]\nsize = 200\nbatch = 50\n"
    "[output]\nprogress = off\ncheckpoint_every = 1\n"
    /* A fixed thread count: with 0, a busy machine at the start of one of
     * the two compared runs would change summary.json's "threads". */
    "[sim]\nthreads = 2\n";

static int exists(const char *dir, const char *name)
{
    char p[1400];
    struct stat sb;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &sb) == 0;
}

/* Files in dir whose name ends in ".tmp". */
static int count_tmp(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        n += l > 4 && !strcmp(e->d_name + l - 4, ".tmp");
    }
    closedir(d);
    return n;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Starts `rcsim run g_dir/f.cfg --out out` with stderr into out.err. */
static pid_t start_run(const char *out)
{
    char cfg[600], ep[600];
    snprintf(cfg, sizeof cfg, "%s/f.cfg", g_dir);
    snprintf(ep, sizeof ep, "%s.err", out);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(ep, O_WRONLY | O_CREAT | O_TRUNC, 0666);
        dup2(fd, 2);
        execl(rc_test_bin(), rc_test_bin(), "run", cfg, "--out", out, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static void test_kill9(void **st)
{
    (void)st;
    char ref[600], out[600];
    snprintf(ref, sizeof ref, "%s/straight", g_dir);
    double t0 = now_s();
    int status;
    waitpid(start_run(ref), &status, 0);
    const double dur = now_s() - t0;
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char *want = rc_test_summary_numbers(ref, NULL);
    assert_non_null(want);
    unsigned seed = (unsigned)time(NULL);
    printf("test_kill9: seed %u, uninterrupted run %.2f s\n", seed, dur);
    srand(seed);
    int resumed = 0;
    for (int k = 0; k < 4; k++) {
        snprintf(out, sizeof out, "%s/killed%d", g_dir, k);
        /* Spread over setup and training: 0.1 .. 0.7 of the run, in four
         * bands. (Later, past the final checkpoint, a resume has nothing to
         * train: issue 18 finding 7, tested with that fix.) */
        const double at = dur * (0.1 + 0.6 * (k + (double)rand() / RAND_MAX) / 4);
        pid_t pid = start_run(out);
        struct timespec ts = { (time_t)at, (long)((at - (double)(time_t)at) * 1e9) };
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        if (!WIFSIGNALED(status)) {
            printf("test_kill9: the run ended before the kill at %.2f s\n", at);
            continue;
        }
        if (!exists(out, "model.h5")) {
            printf("test_kill9: killed at %.2f s: no checkpoint yet\n", at);
            continue;
        }
        /* Loadable: the resume must load it; and its numbers must be the
         * uninterrupted run's. (A kill after the end leaves a finished run:
         * its resume has nothing to train and reports the same numbers.) */
        int rc = rc_test_sh("%s run %s/f.cfg --resume %s 2>%s.err2", rc_test_bin(), g_dir, out, out);
        if (rc != 0) {
            char ep[700];
            snprintf(ep, sizeof ep, "%s.err2", out);
            char *m = rc_test_slurp(ep, NULL);
            print_error("resume after kill at %.2f s failed (%d): %s\n", at, rc, m ? m : "");
            free(m);
        }
        assert_int_equal(rc, 0);
        assert_int_equal(count_tmp(out), 0); /* the killed run's temporaries are gone */
        char *got = rc_test_summary_numbers(out, NULL);
        assert_non_null(got);
        assert_string_equal(got, want);
        free(got);
        printf("test_kill9: killed at %.2f s, resumed: same numbers\n", at);
        resumed++;
    }
    free(want);
    assert_true(resumed >= 2);
}

/* rcsim run into a tmpfs of `kb` KiB (filled up if fill): one line, exit 1,
 * no traces.h5 and no *.tmp left. 0, or -1 if no tmpfs can be mounted. */
static int disk_full_case(int kb, int fill, const char *expect)
{
    char mnt[600], out[700], opt[64], ep[700];
    snprintf(mnt, sizeof mnt, "%s/tmpfs", g_dir);
    mkdir(mnt, 0777);
    snprintf(opt, sizeof opt, "size=%dk", kb);
    if (mount("tmpfs", mnt, "tmpfs", 0, opt) != 0) return -1;
    snprintf(out, sizeof out, "%s/run", mnt);
    if (fill) rc_test_sh("mkdir -p %s && dd if=/dev/zero of=%s/fill bs=4k 2>/dev/null", out, mnt);
    snprintf(ep, sizeof ep, "%s/disk_full.err", g_dir);
    /* HDF5 1.10 leaks a few hundred bytes in its own failed H5Fcreate; under
     * ASan (make test-asan) that is not rcsim's leak: not counted here. */
    int rc = rc_test_sh("ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0\" %s run %s/f.cfg --out %s "
                "--set output.checkpoint_every=0 --set test.size=500 --set model.hidden=64 2>%s",
                rc_test_bin(), g_dir, out, ep);
    char *m = rc_test_slurp(ep, NULL);
    assert_non_null(m);
    printf("test_disk_full: %d KiB%s: exit %d: %s", kb, fill ? " (full)" : "", rc, m);
    const int traces = exists(out, "traces.h5"), ntmp = count_tmp(out);
    umount(mnt);
    assert_int_equal(rc, 1);
    assert_contains(m, "No space left on device");
    assert_contains(m, expect);
    char *nl = strchr(m, '\n');
    assert_true(nl && nl[1] == 0); /* exactly one line */
    assert_false(traces);
    assert_int_equal(ntmp, 0);
    free(m);
    return 0;
}

static void test_disk_full(void **st)
{
    (void)st;
    /* model.h5 fits, traces.h5 does not: it fails in H5Fclose (or earlier;
     * HDF5 1.10 then crashed at exit). */
    if (disk_full_case(420, 0, "traces.h5.tmp") != 0) {
        printf("test_disk_full: skipped: cannot mount a tmpfs here (needs root): %s\n", strerror(errno));
        skip();
    }
    /* Full before model.h5.tmp is created: no empty model.h5.tmp left. */
    disk_full_case(1000, 1, "model.h5.tmp: cannot create");
}

static void test_one_writer(void **st)
{
    (void)st;
    char dir[600], lock[700], ep[700];
    snprintf(dir, sizeof dir, "%s/locked", g_dir);
    snprintf(lock, sizeof lock, "%s/.rcsim.lock", dir);
    snprintf(ep, sizeof ep, "%s/locked.err", g_dir);
    mkdir(dir, 0777);
    int fd = open(lock, O_RDWR | O_CREAT, 0666);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0); /* as a running rcsim holds it */
    assert_int_equal(rc_test_sh("%s run %s/f.cfg --out %s 2>%s", rc_test_bin(), g_dir, dir, ep), 2);
    char *m = rc_test_slurp(ep, NULL);
    assert_contains(m, "another rcsim process is writing to this folder");
    assert_contains(m, dir);
    assert_true(strchr(m, '\n') == m + strlen(m) - 1);
    free(m);
    assert_false(exists(dir, "metrics.csv")); /* nothing of the second run */
    close(fd);
    /* Released: the run goes ahead; eval into a locked folder is refused too. */
    assert_int_equal(rc_test_sh("%s run %s/f.cfg --out %s --set train.examples=320 2>/dev/null", rc_test_bin(), g_dir, dir), 0);
    fd = open(lock, O_RDWR);
    assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
    assert_int_equal(rc_test_sh("%s eval %s/f.cfg --set train.examples=320 --model %s/model.h5 --out %s 2>%s", rc_test_bin(),
                        g_dir, dir, dir, ep), 2); /* --out: eval's default is DIR/eval */
    m = rc_test_slurp(ep, NULL);
    assert_contains(m, "another rcsim process");
    free(m);
    close(fd);
}

static void test_stale_outputs(void **st)
{
    (void)st;
    char dir[600], ep[700], p[700];
    snprintf(dir, sizeof dir, "%s/reused", g_dir);
    snprintf(ep, sizeof ep, "%s/reused.err", g_dir);
    /* What a killed run leaves: its temporaries go, a user's file stays. */
    assert_int_equal(rc_test_sh("mkdir -p %s && echo junk > %s/model.h5.tmp && echo junk > %s/summary.json.tmp && "
                        "echo mine > %s/notes.tmp", dir, dir, dir, dir), 0);
    assert_int_equal(rc_test_sh("%s run %s/f.cfg --out %s --set train.examples=320 2>/dev/null", rc_test_bin(), g_dir, dir), 0);
    assert_false(exists(dir, "model.h5.tmp"));
    assert_false(exists(dir, "summary.json.tmp"));
    assert_true(exists(dir, "notes.tmp"));
    assert_true(exists(dir, "summary.json") && exists(dir, "traces.h5"));
    /* A new run into it: refused, one line naming the folder and --force. */
    assert_int_equal(rc_test_sh("%s run %s/f.cfg --out %s --set train.examples=640 2>%s", rc_test_bin(), g_dir, dir, ep), 2);
    char *m = rc_test_slurp(ep, NULL);
    assert_contains(m, dir);
    assert_contains(m, "--force");
    assert_contains(m, "summary.json");
    assert_true(strchr(m, '\n') == m + strlen(m) - 1);
    free(m);
    /* --force, and the run fails late (traces.h5 cannot be created): none of
     * the earlier run's summary.json or traces.h5 is left beside its files. */
    snprintf(p, sizeof p, "%s/traces.h5.tmp", dir);
    assert_int_equal(mkdir(p, 0777), 0);
    assert_int_equal(rc_test_sh("%s run %s/f.cfg --out %s --force --set train.examples=640 2>/dev/null", rc_test_bin(),
                        g_dir, dir), 1);
    assert_true(exists(dir, "model.h5") && exists(dir, "metrics.csv"));
    assert_false(exists(dir, "summary.json"));
    assert_false(exists(dir, "traces.h5"));
    rmdir(p);
    /* --resume of the folder is its own run: allowed. */
    assert_int_equal(rc_test_sh("%s run %s/f.cfg --resume %s --set train.examples=640 2>/dev/null", rc_test_bin(), g_dir, dir), 0);
    assert_true(exists(dir, "summary.json"));
}

static int setup(void **st)
{
    (void)st;
    if (rc_test_mkdtemp(g_dir, sizeof g_dir, "/tmp/rcsim_faults_") != 0) return -1;
    char p[600];
    snprintf(p, sizeof p, "%s/f.cfg", g_dir);
    FILE *f = fopen(p, "w");
    if (!f) return -1;
    fputs(CFG, f);
    fclose(f);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    char mnt[600];
    snprintf(mnt, sizeof mnt, "%s/tmpfs", g_dir);
    umount(mnt); /* if a failed assertion left it mounted */
    return rc_test_rmtree(g_dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill9),
        cmocka_unit_test(test_disk_full),
        cmocka_unit_test(test_one_writer),
        cmocka_unit_test(test_stale_outputs),
    };
    return cmocka_run_group_tests_name("faults", tests, setup, teardown);
}
