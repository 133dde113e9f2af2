/* test_rcsim_io.c — model.h5's named tensors (/params) and tools/rcsim_io.py.
 *
 *  - rc_ckpt_save_views writes shaped views with their attributes next to
 *    the flat tensors; rc_ckpt_load still reads the flat tensors of such a
 *    file; a bad view path is refused before PATH.tmp exists; h5py (when
 *    installed) reads the shapes and attributes back.
 *  - tests/py/test_rcsim_io.py (python3-h5py and python3-numpy; skipped with
 *    a message without them): trains a tiny LSTM, ConvLSTM and two SNNs,
 *    and checks that a numpy forward pass from the named tensors gives
 *    rcsim's first-spike class and step on 100 test examples, and that a
 *    mis-described tensor is caught.
 * Runs the binary named by $RCSIM (default ./rcsim), from the repository
 * root. */
#include "tests/testutil.h"
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "io/checkpoint.h"

static char g_dir[256];

static int setup(void **st)
{
    (void)st;
    return rc_test_mkdtemp(g_dir, sizeof g_dir, "/tmp/rcsim_rcio_");
}

static int teardown(void **st)
{
    (void)st;
    return rc_test_rmtree(g_dir);
}

static int have_h5py(void)
{
    return rc_test_sh("/usr/bin/python3 -c 'import h5py, numpy' >/dev/null 2>&1") == 0;
}

static void test_ckpt_views(void **st)
{
    (void)st;
    float flat[6] = { 1, 2, 3, 4, 5, 6 }, back[6] = { 0 };
    const float w[6] = { 1, 4, 2, 5, 3, 6 }; /* flat (3, 2) seen as [2, 3] */
    rc_ckpt_tensor t = { "params", flat, 6 };
    rc_ckpt ck = { &t, 1, NULL, 0, NULL, 0, NULL, 0 };
    const rc_ckpt_attr a[] = { { "layout", "[out, in]", 0, 0 }, { "flat_offset", NULL, 3, 1 } };
    const rc_ckpt_attr g[] = { { "v_th", NULL, 0.5, 0 }, { "reset", "mult", 0, 0 } };
    const rc_ckpt_view v[] = {
        { "lstm/w_ih", 2, { 2, 3 }, w, a, 2 },
        { "snn/fc1/bias", 1, { 2 }, flat, NULL, 0 },
        { "snn", 0, { 0 }, NULL, g, 2 },
        { "", 0, { 0 }, NULL, a, 1 },
    };
    char path[400], cmd[2000];
    snprintf(path, sizeof path, "%s/v.h5", g_dir);
    rc_err err;
    assert_int_equal(rc_ckpt_save_views(path, &ck, v, 4, &err), RC_OK);
    t.data = back;
    assert_int_equal(rc_ckpt_load(path, &ck, &err), RC_OK);
    assert_memory_equal(back, flat, sizeof flat);
    /* An empty path component: refused, nothing written. */
    char bad[400];
    snprintf(bad, sizeof bad, "%s/bad.h5", g_dir);
    const rc_ckpt_view vb = { "snn//w", 1, { 2 }, flat, NULL, 0 };
    t.data = flat;
    assert_int_equal(rc_ckpt_save_views(bad, &ck, &vb, 1, &err), RC_ERR_DATA);
    assert_non_null(strstr(err.msg, "snn//w"));
    struct stat sb;
    assert_int_not_equal(stat(bad, &sb), 0);
    strcat(bad, ".tmp");
    assert_int_not_equal(stat(bad, &sb), 0);
    if (!have_h5py()) {
        print_message("python3-h5py/numpy not installed: skipped the h5py read-back of /params\n");
        return;
    }
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import h5py, numpy as np\n"
             "f = h5py.File('%s', 'r')\n"
             "d = f['params/lstm/w_ih']\n"
             "assert d.shape == (2, 3) and d.dtype == np.float32, d\n"
             "assert (d[()] == np.array([[1, 4, 2], [5, 3, 6]], np.float32)).all()\n"
             "assert d.attrs['layout'] in (b'[out, in]', '[out, in]') and d.attrs['flat_offset'] == 3\n"
             "assert d.attrs['flat_offset'].dtype == np.int64\n"
             "assert f['params/snn/fc1/bias'].shape == (2,)\n"
             "assert f['params/snn'].attrs['v_th'] == 0.5\n"
             "assert f['params'].attrs['layout'] in (b'[out, in]', '[out, in]')\n"
             "assert f['tensors/params'].shape == (6,)\n\"",
             path);
    assert_int_equal(rc_test_sh("%s", cmd), 0);
}

static void test_numpy_forward(void **st)
{
    (void)st;
    if (!have_h5py()) {
        print_message("python3-h5py/numpy not installed (make plot-deps): skipped tests/py/test_rcsim_io.py\n");
        skip();
    }
    int rc = rc_test_sh("/usr/bin/python3 tests/py/test_rcsim_io.py '%s' '%s/py'", rc_test_bin(), g_dir);
    assert_int_equal(rc, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ckpt_views),
        cmocka_unit_test(test_numpy_forward),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
