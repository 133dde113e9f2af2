/* test_cfg.c — io/cfg: INI files checked against a schema, --set overrides,
 * required keys, INI/JSON output and the --help table.
 *
 * Error messages are part of the contract (users fix their configs from them),
 * so the error tests assert on the file name, the line number and the value
 * shown, not only on the status. Files go to a mkdtemp folder that the group
 * teardown removes. */
#include "tests/testutil.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/cfg.h"

/* Covers every type; task.note sits apart from the rest of [task] so that
 * grouping by section in the output is exercised. */
static const rc_cfg_spec SPEC[] = {
    { "task", "name", RC_CFG_STRING, "spotting", 0, 0, NULL, "task to run" },
    { "task", "seed", RC_CFG_INT, "42", 0, 1e9, NULL, "random seed" },
    { "model", "hidden", RC_CFG_INT, NULL, 1, 4096, NULL, "LSTM hidden units" },
    { "model", "layers", RC_CFG_INT_LIST, "64, 32", 1, 4096, NULL, "dense layer widths" },
    { "train", "batch", RC_CFG_INT, "32", 1, 4096, NULL, "minibatch size" },
    { "train", "epochs", RC_CFG_INT, "10", 1, 1000, NULL, "passes over the data" },
    { "train", "threshold", RC_CFG_FLOAT, "0.95", 0.5, 1, NULL, "spike threshold θ" },
    { "train", "mode", RC_CFG_ENUM, "rc", 0, 0, "rc|eos", "training mode" },
    { "train", "shuffle", RC_CFG_BOOL, "yes", 0, 0, NULL, "reshuffle every epoch" },
    { "train", "lr", RC_CFG_FLOAT_LIST, "", 0, 10, NULL, "learning-rate schedule" },
    { "task", "note", RC_CFG_STRING, "none", 0, 0, NULL, "free text" },
};
#define NSPEC (sizeof SPEC / sizeof SPEC[0])

/* Small enough to spell out its JSON and INI in full. */
static const rc_cfg_spec SMALL[] = {
    { "a", "n", RC_CFG_INT, "3", 0, 10, NULL, "an int" },
    { "a", "x", RC_CFG_FLOAT, "0.25", 0, 1, NULL, "a float" },
    { "b", "on", RC_CFG_BOOL, "no", 0, 0, NULL, "a bool" },
    { "b", "s", RC_CFG_STRING, "hi", 0, 0, NULL, "a string" },
    { "a", "m", RC_CFG_ENUM, "p", 0, 0, "p|q", "an enum" },
    { "b", "il", RC_CFG_INT_LIST, "1, 2", 0, 10, NULL, "ints" },
    { "b", "fl", RC_CFG_FLOAT_LIST, "", 0, 10, NULL, "floats" },
    { "c", "req", RC_CFG_INT, NULL, 0, 10, NULL, "required" },
};
#define NSMALL (sizeof SMALL / sizeof SMALL[0])

/* Instance sections: [population.NAME], [projection.NAME], [recorder.NAME]
 * (the last never used, which is fine). */
static const rc_cfg_spec NET[] = {
    { "sim", "dt", RC_CFG_FLOAT, "0.1", 0.001, 10, NULL, "time step (ms)" },
    { "population.*", "size", RC_CFG_INT, NULL, 1, 100000, NULL, "neurons" },
    { "population.*", "model", RC_CFG_ENUM, "iaf_psc_delta", 0, 0, "iaf_psc_delta|iaf_psc_exp", "neuron model" },
    { "projection.*", "source", RC_CFG_STRING, NULL, 0, 0, NULL, "source population" },
    { "projection.*", "delays", RC_CFG_FLOAT_LIST, "1.5", 0.1, 100, NULL, "delays (ms)" },
    { "recorder.*", "every", RC_CFG_INT, "1", 1, 1000, NULL, "record every k steps" },
    { "population.*", "v_th", RC_CFG_FLOAT, "20", -100, 100, NULL, "threshold (mV)" },
};
#define NNET (sizeof NET / sizeof NET[0])

static const char NET_TEXT[] = "[sim]\ndt = 0.05\n"
                               "[population.E]\nsize = 800\n"
                               "[projection.EI]\nsource = E\n"
                               "[population.I]\nsize = 200\nmodel = iaf_psc_exp\nv_th = 15\n";

/* ---- helpers ------------------------------------------------------------- */


#define assert_starts_with(s, prefix)                                              \
    do {                                                                           \
        const char *s_ = (s), *p_ = (prefix);                                     \
        if (strncmp(s_, p_, strlen(p_))) {                                         \
            print_error("expected \"%s\"\n to start \"%s\"\n", s_, p_);           \
            fail();                                                                \
        }                                                                          \
    } while (0)

/* Values must come back bit-exact, not merely close. */
#define assert_dbl(a, b)                                                           \
    do {                                                                           \
        double a_ = (a), b_ = (b);                                                 \
        if (a_ != b_) {                                                            \
            print_error("%.17g != %.17g\n", a_, b_);                               \
            fail();                                                                \
        }                                                                          \
    } while (0)

static rc_cfg *new_cfg(void)
{
    rc_cfg *cfg = rc_cfg_new(SPEC, NSPEC);
    assert_non_null(cfg);
    return cfg;
}

/* Writes `len` bytes to DIR/name; returns the path (caller unlinks, frees). */
static char *write_tmp(void **state, const char *name, const char *data, size_t len)
{
    const char *dir = *state;
    assert_non_null(dir);
    char *path = malloc(strlen(dir) + strlen(name) + 2);
    assert_non_null(path);
    sprintf(path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

static void drop_tmp(char *path)
{
    assert_int_equal(unlink(path), 0);
    free(path);
}

/* Loads `text` as "net.cfg" into a fresh config of `spec` and expects a config
 * error whose message starts with `prefix` and contains `also` (if non-NULL). */
static void expect_spec_load_error(const rc_cfg_spec *spec, size_t nspec, const char *text, const char *prefix,
                                   const char *also)
{
    rc_cfg *cfg = rc_cfg_new(spec, nspec);
    assert_non_null(cfg);
    rc_err err = { "" };
    rc_status st = rc_cfg_load_string(cfg, "net.cfg", text, &err);
    if (st != RC_ERR_CONFIG) print_error("text: \"%s\" -> %s \"%s\"\n", text, rc_status_str(st), err.msg);
    assert_int_equal(st, RC_ERR_CONFIG);
    assert_starts_with(err.msg, prefix);
    if (also) assert_contains(err.msg, also);
    rc_cfg_free(cfg);
}

/* The same with SPEC. */
static void expect_load_error(const char *text, const char *prefix, const char *also)
{
    expect_spec_load_error(SPEC, NSPEC, text, prefix, also);
}

static void expect_set_error(rc_cfg *cfg, const char *assignment, const char *prefix, const char *also)
{
    rc_err err = { "" };
    rc_status st = rc_cfg_set(cfg, assignment, &err);
    if (st != RC_ERR_CONFIG) print_error("--set \"%s\" -> %s \"%s\"\n", assignment, rc_status_str(st), err.msg);
    assert_int_equal(st, RC_ERR_CONFIG);
    assert_starts_with(err.msg, prefix);
    if (also) assert_contains(err.msg, also);
}

static void set_ok(rc_cfg *cfg, const char *assignment)
{
    rc_err err = { "" };
    rc_status st = rc_cfg_set(cfg, assignment, &err);
    if (st != RC_OK) print_error("--set \"%s\": %s\n", assignment, err.msg);
    assert_int_equal(st, RC_OK);
}

static void load_ok(rc_cfg *cfg, const char *name, const char *text)
{
    rc_err err = { "" };
    rc_status st = rc_cfg_load_string(cfg, name, text, &err);
    if (st != RC_OK) print_error("%s\n", err.msg);
    assert_int_equal(st, RC_OK);
}

/* ---- parsing good input -------------------------------------------------- */

static void test_defaults(void **state)
{
    (void)state;
    rc_cfg *cfg = new_cfg();
    assert_string_equal(rc_cfg_get_str(cfg, "task.name"), "spotting");
    assert_int_equal(rc_cfg_get_int(cfg, "task.seed"), 42);
    assert_int_equal(rc_cfg_get_int(cfg, "train.batch"), 32);
    assert_int_equal(rc_cfg_get_int(cfg, "train.epochs"), 10);
    assert_dbl(rc_cfg_get_float(cfg, "train.threshold"), 0.95);
    assert_string_equal(rc_cfg_get_str(cfg, "train.mode"), "rc");
    assert_int_equal(rc_cfg_get_bool(cfg, "train.shuffle"), 1);
    assert_string_equal(rc_cfg_get_str(cfg, "task.note"), "none");
    long long l[4] = { -1, -1, -1, -1 };
    assert_int_equal(rc_cfg_get_int_list(cfg, "model.layers", l, 4), 2);
    assert_int_equal(l[0], 64);
    assert_int_equal(l[1], 32);
    assert_int_equal(l[2], -1);
    assert_int_equal(rc_cfg_get_float_list(cfg, "train.lr", NULL, 0), 0);
    for (size_t i = 0; i < NSPEC; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s.%s", SPEC[i].section, SPEC[i].key);
        assert_false(rc_cfg_is_set(cfg, name));
    }
    rc_cfg_free(cfg);
    rc_cfg_free(NULL); /* documented no-op */
}

static void test_good_file(void **state)
{
    static const char text[] =
        "\xEF\xBB\xBF# written by an editor that adds a BOM\r\n"
        "; another comment style\n"
        "\n"
        "[task]\n"
        "  name =  two words   # inline comment\n"
        "seed=+7\r\n"
        "   [ model ]   ; header with a comment\n"
        "hidden = 128\n"
        "layers = 1,2 , 3\n"
        "[train]\n"
        "batch = 4096\n"
        "threshold = 5e-1\n"
        "mode = EOS\n"
        "shuffle = Off\n"
        "lr = 0.1, 1e-3,2\n"
        "[task]\n"
        "note = a#b;c\t\n";
    char *path = write_tmp(state, "good.cfg", text, sizeof text - 1);
    rc_cfg *cfg = new_cfg();
    rc_err err = { "" };
    assert_int_equal(rc_cfg_load_file(cfg, path, &err), RC_OK);
    assert_int_equal(rc_cfg_check_required(cfg, &err), RC_OK);

    assert_string_equal(rc_cfg_get_str(cfg, "task.name"), "two words");
    assert_int_equal(rc_cfg_get_int(cfg, "task.seed"), 7);
    assert_int_equal(rc_cfg_get_int(cfg, "model.hidden"), 128);
    long long l[2] = { 0, 0 };
    assert_int_equal(rc_cfg_get_int_list(cfg, "model.layers", l, 2), 3); /* count, not cap */
    assert_int_equal(l[0], 1);
    assert_int_equal(l[1], 2);
    long long l3[3];
    assert_int_equal(rc_cfg_get_int_list(cfg, "model.layers", l3, 3), 3);
    assert_int_equal(l3[2], 3);
    assert_int_equal(rc_cfg_get_int(cfg, "train.batch"), 4096); /* max is inclusive */
    assert_dbl(rc_cfg_get_float(cfg, "train.threshold"), 0.5);  /* min is inclusive */
    assert_string_equal(rc_cfg_get_str(cfg, "train.mode"), "eos"); /* spec spelling */
    assert_int_equal(rc_cfg_get_bool(cfg, "train.shuffle"), 0);
    double lr[3];
    assert_int_equal(rc_cfg_get_float_list(cfg, "train.lr", lr, 3), 3);
    assert_dbl(lr[0], 0.1);
    assert_dbl(lr[1], 1e-3);
    assert_dbl(lr[2], 2.0);
    assert_string_equal(rc_cfg_get_str(cfg, "task.note"), "a#b;c");

    assert_true(rc_cfg_is_set(cfg, "task.name"));
    assert_true(rc_cfg_is_set(cfg, "train.lr"));
    assert_false(rc_cfg_is_set(cfg, "train.epochs"));
    assert_int_equal(rc_cfg_get_int(cfg, "train.epochs"), 10);
    rc_cfg_free(cfg);
    drop_tmp(path);
}

static void test_inline_comments(void **state)
{
    (void)state;
    rc_cfg *cfg = new_cfg();
    load_ok(cfg, "c.cfg", "[task]\nname = a #b\nnote = x;y ; z\n[train]\nlr=#nothing\n[model]\nlayers = 7\t# tab\n");
    assert_string_equal(rc_cfg_get_str(cfg, "task.name"), "a");
    assert_string_equal(rc_cfg_get_str(cfg, "task.note"), "x;y");
    assert_int_equal(rc_cfg_get_float_list(cfg, "train.lr", NULL, 0), 0);
    long long l[2];
    assert_int_equal(rc_cfg_get_int_list(cfg, "model.layers", l, 2), 1);
    assert_int_equal(l[0], 7);
    rc_cfg_free(cfg);
    /* A value that is all comment is an empty value, not "#x". */
    expect_load_error("[task]\nname=#x\n", "net.cfg:2: task.name has no value, expected a non-empty string", NULL);
}

static void test_value_forms(void **state)
{
    (void)state;
    static const struct {
        const char *word;
        int value;
    } bools[] = { { "TRUE", 1 }, { "Yes", 1 }, { "on", 1 },  { "1", 1 },
                  { "false", 0 }, { "NO", 0 }, { "oFF", 0 }, { "0", 0 } };
    rc_cfg *cfg = new_cfg();
    char buf[64];
    for (size_t i = 0; i < sizeof bools / sizeof bools[0]; i++) {
        snprintf(buf, sizeof buf, "train.shuffle=%s", bools[i].word);
        set_ok(cfg, buf);
        assert_int_equal(rc_cfg_get_bool(cfg, "train.shuffle"), bools[i].value);
    }
    set_ok(cfg, "task.seed=-0");
    assert_int_equal(rc_cfg_get_int(cfg, "task.seed"), 0);
    set_ok(cfg, "task.seed=1000000000");
    assert_int_equal(rc_cfg_get_int(cfg, "task.seed"), 1000000000);
    set_ok(cfg, "train.threshold=1");
    assert_dbl(rc_cfg_get_float(cfg, "train.threshold"), 1.0);
    set_ok(cfg, "train.threshold=0x1.8p-1"); /* strtod syntax, hex included */
    assert_dbl(rc_cfg_get_float(cfg, "train.threshold"), 0.75);
    set_ok(cfg, "train.mode=Rc");
    assert_string_equal(rc_cfg_get_str(cfg, "train.mode"), "rc");
    set_ok(cfg, "train.lr=0.5");
    double lr[1];
    assert_int_equal(rc_cfg_get_float_list(cfg, "train.lr", lr, 1), 1);
    assert_dbl(lr[0], 0.5);
    set_ok(cfg, "model.layers=");
    assert_int_equal(rc_cfg_get_int_list(cfg, "model.layers", NULL, 0), 0);
    set_ok(cfg, "task.name=a=b"); /* only the first '=' separates */
    assert_string_equal(rc_cfg_get_str(cfg, "task.name"), "a=b");
    set_ok(cfg, "  train.batch = 7  ");
    assert_int_equal(rc_cfg_get_int(cfg, "train.batch"), 7);
    rc_cfg_free(cfg);
}

/* Loading more files: later ones override, a key may appear once per file. */
static void test_several_files(void **state)
{
    (void)state;
    rc_cfg *cfg = new_cfg();
    load_ok(cfg, "base.cfg", "[train]\nbatch = 1\n");
    load_ok(cfg, "run.cfg", "[train]\nbatch = 2\n");
    load_ok(cfg, "run.cfg", "[train]\nbatch = 3\n"); /* the same name again is a new load */
    assert_int_equal(rc_cfg_get_int(cfg, "train.batch"), 3);
    rc_err err = { "" };
    assert_int_equal(rc_cfg_check_required(cfg, &err), RC_ERR_CONFIG);
    assert_string_equal(err.msg, "run.cfg: missing required key model.hidden (LSTM hidden units)");
    rc_cfg_free(cfg);
}

/* No fixed line limit: a 200 000-character value survives whole. */
static void test_long_line(void **state)
{
    const size_t n = 200000;
    char *text = malloc(n + 5000 + 64);
    assert_non_null(text);
    int h = sprintf(text, "[task]\nname = ");
    memset(text + h, 'v', n);
    strcpy(text + h + n, "\n[train]\nbatch = ");
    size_t len = strlen(text);
    memset(text + len, '9', 5000); /* and a long bad value gets a clipped message */
    strcpy(text + len + 5000, "x\n");
    char *path = write_tmp(state, "long.cfg", text, strlen(text));
    rc_cfg *cfg = new_cfg();
    rc_err err = { "" };
    assert_int_equal(rc_cfg_load_file(cfg, path, &err), RC_ERR_CONFIG);
    assert_int_equal(strlen(rc_cfg_get_str(cfg, "task.name")), n);
    char want[4096];
    snprintf(want, sizeof want, "%s:4: train.batch = '999", path);
    assert_starts_with(err.msg, want);
    assert_contains(err.msg, "...' is not an integer");
    rc_cfg_free(cfg);
    drop_tmp(path);
    free(text);
}

/* ---- errors -------------------------------------------------------------- */

static void test_error_unknown_names(void **state)
{
    (void)state;
    expect_load_error("[train]\nbatch = 3\n\nbatchsize = 4\n",
                      "net.cfg:4: unknown key 'batchsize' in [train] (did you mean 'batch'?); "
                      "known keys: batch, epochs, threshold, mode, shuffle, lr",
                      NULL);
    expect_load_error("[train]\nzzzzzz = 1\n",
                      "net.cfg:2: unknown key 'zzzzzz' in [train]; known keys: batch, epochs", NULL);
    expect_load_error("[train]\nhidden = 3\n", "net.cfg:2: unknown key 'hidden' in [train]",
                      "(did you mean 'hidden' in [model]?)");
    expect_load_error("# c\n\n[trian]\nbatch = 3\n",
                      "net.cfg:3: unknown section [trian]; expected one of [task], [model], [train]",
                      "(did you mean [train]?)");
    expect_load_error("[]\n", "net.cfg:1: unknown section []; expected one of [task]", NULL);
}

static void test_error_syntax(void **state)
{
    (void)state;
    expect_load_error("[train]\nfoo bar\n",
                      "net.cfg:2: expected 'key = value', '[section]' or a comment, found 'foo bar'", NULL);
    expect_load_error("[train\n", "net.cfg:1: expected 'key = value', '[section]' or a comment, found '[train'",
                      NULL);
    expect_load_error("[train]\n= 3\n", "net.cfg:2: expected 'key = value'", "found '= 3'");
    expect_load_error("# top\nbatch = 3\n", "net.cfg:2: key outside any section", "'batch'");
    expect_load_error("[train]\nbatch = 1\nepochs = 2\n[model]\n[train]\nbatch = 3\n",
                      "net.cfg:6: train.batch given twice (first at line 2)", NULL);
    /* CRLF: the line number is right and the '\r' is not part of the value. */
    expect_load_error("[train]\r\nbatch = x\r\n", "net.cfg:2: train.batch = 'x' is not an integer", NULL);
}

static void test_error_numbers(void **state)
{
    (void)state;
    expect_load_error("[train]\n\n\nbatch = 12x\n", "net.cfg:4: train.batch = '12x' is not an integer", NULL);
    expect_load_error("[train]\nbatch = 1e3\n", "net.cfg:2: train.batch = '1e3' is not an integer", NULL);
    expect_load_error("[train]\nbatch = 0\n",
                      "net.cfg:2: train.batch = 0 is out of range, expected an integer in [1, 4096]", NULL);
    expect_load_error("[train]\nbatch = 4097\n", "net.cfg:2: train.batch = 4097 is out of range", NULL);
    expect_load_error("[train]\nbatch = 99999999999999999999\n",
                      "net.cfg:2: train.batch = 99999999999999999999 is out of range, "
                      "expected an integer in [1, 4096]",
                      NULL);
    expect_load_error("[train]\nbatch =\n",
                      "net.cfg:2: train.batch has no value, expected an integer in [1, 4096]", NULL);
    expect_load_error("[train]\nthreshold = 1.5 # too high\n",
                      "net.cfg:2: train.threshold = 1.5 is out of range, expected a number in [0.5, 1]", NULL);
    expect_load_error("[train]\nthreshold = 0.9x\n", "net.cfg:2: train.threshold = '0.9x' is not a number", NULL);
    expect_load_error("[train]\nthreshold = nan\n", "net.cfg:2: train.threshold = 'nan' is not a finite number",
                      NULL);
    expect_load_error("[train]\nthreshold = -INF\n",
                      "net.cfg:2: train.threshold = '-INF' is not a finite number", NULL);
    expect_load_error("[train]\nthreshold = 1e999\n", "net.cfg:2: train.threshold = 1e999 is out of range", NULL);
}

static void test_error_other_types(void **state)
{
    (void)state;
    expect_load_error("[train]\nmode = rcx\n", "net.cfg:2: train.mode = 'rcx' is not one of rc, eos",
                      "(did you mean 'rc'?)");
    expect_load_error("[train]\nshuffle = maybe\n", "net.cfg:2: train.shuffle = 'maybe' is not a boolean",
                      "true/false, yes/no, on/off or 1/0");
    expect_load_error("[task]\nname =   \n", "net.cfg:2: task.name has no value, expected a non-empty string",
                      NULL);
    expect_load_error("[model]\nlayers = 1, x, 3\n",
                      "net.cfg:2: model.layers = '1, x, 3': item 2 'x' is not an integer", NULL);
    expect_load_error("[model]\nlayers = 1,,2\n", "net.cfg:2: model.layers = '1,,2': item 2 is empty", NULL);
    expect_load_error("[model]\nlayers = 1,\n", "net.cfg:2: model.layers = '1,': item 2 is empty", NULL);
    expect_load_error("[model]\nlayers = 1, 5000\n",
                      "net.cfg:2: model.layers = '1, 5000': item 2 = 5000 is out of range, "
                      "expected an integer in [1, 4096]",
                      NULL);
    expect_load_error("[train]\nlr = 0.1, nan\n",
                      "net.cfg:2: train.lr = '0.1, nan': item 2 'nan' is not a finite number", NULL);
}

static void test_error_files(void **state)
{
    /* Cannot open: RC_ERR_IO naming the path and the reason. */
    rc_cfg *cfg = new_cfg();
    rc_err err = { "" };
    char want[4096];
    snprintf(want, sizeof want, "%s/missing.cfg", (const char *)*state);
    assert_int_equal(rc_cfg_load_file(cfg, want, &err), RC_ERR_IO);
    char full[4200];
    snprintf(full, sizeof full, "%s: cannot open: %s", want, strerror(ENOENT));
    assert_string_equal(err.msg, full);

    /* A directory opens but cannot be read. */
    assert_int_equal(rc_cfg_load_file(cfg, (const char *)*state, &err), RC_ERR_IO);
    assert_contains(err.msg, "cannot read");

    /* A parse error in a real file names that file. */
    static const char bad[] = "[train]\nbatch = 2\nthreshold = 2\n";
    char *path = write_tmp(state, "bad.cfg", bad, sizeof bad - 1);
    assert_int_equal(rc_cfg_load_file(cfg, path, &err), RC_ERR_CONFIG);
    snprintf(full, sizeof full, "%s:3: train.threshold = 2 is out of range, expected a number in [0.5, 1]", path);
    assert_string_equal(err.msg, full);
    drop_tmp(path);

    /* A NUL byte is reported, not silently cut off. */
    static const char nul[] = "[train]\nbatch = 1\0 2\n";
    path = write_tmp(state, "nul.cfg", nul, sizeof nul - 1);
    assert_int_equal(rc_cfg_load_file(cfg, path, &err), RC_ERR_CONFIG);
    snprintf(full, sizeof full, "%s:2: contains a NUL byte", path);
    assert_starts_with(err.msg, full);
    drop_tmp(path);
    rc_cfg_free(cfg);
}

/* Hostile input (issue 18): a config of unbounded size, CR-only line endings
 * and control characters in values are each one clear line. */
static void test_hostile_input(void **state)
{
    rc_cfg *cfg = new_cfg();
    rc_err err = { "" };
    /* Over 1 MiB of valid comment lines: refused by size, not parsed. */
    size_t n = (2u << 20) + 10;
    char *big = malloc(n);
    assert_non_null(big);
    for (size_t i = 0; i < n; i++) big[i] = i % 64 == 63 ? '\n' : '#';
    char *path = write_tmp(state, "big.cfg", big, n);
    free(big);
    assert_int_equal(rc_cfg_load_file(cfg, path, &err), RC_ERR_CONFIG);
    assert_contains(err.msg, "larger than 1048576 bytes");
    drop_tmp(path);
    /* /dev/zero: no newline ever; bounded, one line, not out of memory. */
    assert_int_equal(rc_cfg_load_file(cfg, "/dev/zero", &err), RC_ERR_CONFIG);
    assert_string_equal(err.msg, "/dev/zero: larger than 1048576 bytes; expected a config text file");

    /* CR-only line endings name the line endings, not a missing key. */
    static const char cr[] = "[task]\rname = x\r[model]\rhidden = 3\r";
    path = write_tmp(state, "cr.cfg", cr, sizeof cr - 1);
    assert_int_equal(rc_cfg_load_file(cfg, path, &err), RC_ERR_CONFIG);
    assert_contains(err.msg, ":1: carriage return (CR) inside the line: CR-only");
    drop_tmp(path);
    /* CRLF still loads. */
    static const char crlf[] = "[task]\r\nname = x\r\n[model]\r\nhidden = 3\r\n";
    path = write_tmp(state, "crlf.cfg", crlf, sizeof crlf - 1);
    assert_int_equal(rc_cfg_load_file(cfg, path, &err), RC_OK);
    assert_int_equal(rc_cfg_get_int(cfg, "model.hidden"), 3);
    drop_tmp(path);

    /* Control characters from a file or --set are echoed escaped: one line. */
    expect_load_error("[train]\nbatch = 1\x1b[2J\x07\n", "net.cfg:2: train.batch = '1\\x1b[2J\\x07' is not an integer",
                      NULL);
    expect_set_error(cfg, "train.batch=7\x1b]0;pwned\x07", "--set train.batch=7\\x1b]0;pwned\\x07: ",
                     "is not an integer");
    expect_set_error(cfg, "train.nosuch\x1b=1", "--set train.nosuch\\x1b=1: ", NULL);
    assert_null(strchr(err.msg, '\x1b'));
    rc_cfg_free(cfg);
}

/* ---- --set and required keys ---------------------------------------------- */

static void test_set(void **state)
{
    (void)state;
    rc_cfg *cfg = new_cfg();
    load_ok(cfg, "net.cfg", "[train]\nbatch = 8\n");
    set_ok(cfg, "train.batch=16");
    assert_int_equal(rc_cfg_get_int(cfg, "train.batch"), 16);
    assert_true(rc_cfg_is_set(cfg, "train.batch"));
    set_ok(cfg, "train.epochs=5");
    assert_true(rc_cfg_is_set(cfg, "train.epochs"));

    expect_set_error(cfg, "train.batch=abc", "--set train.batch=abc: train.batch = 'abc' is not an integer", NULL);
    assert_int_equal(rc_cfg_get_int(cfg, "train.batch"), 16); /* a failed --set changes nothing */
    expect_set_error(cfg, "foo", "--set foo: expected section.key=value", NULL);
    expect_set_error(cfg, "train=3", "--set train=3: expected section.key=value", NULL);
    expect_set_error(cfg, ".batch=3", "--set .batch=3: expected section.key=value", NULL);
    expect_set_error(cfg, "train.batchsize=3", "--set train.batchsize=3: unknown key 'train.batchsize'",
                     "(did you mean 'train.batch'?)");
    expect_set_error(cfg, "nosuch.thing=1", "--set nosuch.thing=1: unknown key 'nosuch.thing'", NULL);
    expect_set_error(cfg, "train.threshold=2",
                     "--set train.threshold=2: train.threshold = 2 is out of range, expected a number in [0.5, 1]",
                     NULL);
    expect_set_error(cfg, "train.mode=xyz", "--set train.mode=xyz: train.mode = 'xyz' is not one of rc, eos", NULL);
    /* Values a config file could not hold would break rc_cfg_to_ini. */
    expect_set_error(cfg, "task.name=a #b", "--set task.name=a #b: task.name = 'a #b' contains '#' or ';'", NULL);
    expect_set_error(cfg, "task.name=;b", "--set task.name=;b: task.name = ';b' contains", NULL);
    /* the newline itself is echoed escaped (issue 18: one-line messages) */
    expect_set_error(cfg, "task.name=a\nb", "--set task.name=a\\nb: task.name = 'a\\nb' contains a newline", NULL);
    assert_string_equal(rc_cfg_get_str(cfg, "task.name"), "spotting");
    set_ok(cfg, "task.name=a#b");
    assert_string_equal(rc_cfg_get_str(cfg, "task.name"), "a#b");
    rc_cfg_free(cfg);
}

static void test_required(void **state)
{
    (void)state;
    rc_cfg *cfg = new_cfg();
    rc_err err = { "" };
    assert_int_equal(rc_cfg_check_required(cfg, &err), RC_ERR_CONFIG);
    assert_string_equal(err.msg, "config: missing required key model.hidden (LSTM hidden units)");
    load_ok(cfg, "net.cfg", "[train]\nbatch = 3\n");
    assert_int_equal(rc_cfg_check_required(cfg, &err), RC_ERR_CONFIG);
    assert_string_equal(err.msg, "net.cfg: missing required key model.hidden (LSTM hidden units)");
    set_ok(cfg, "model.hidden=5");
    assert_int_equal(rc_cfg_check_required(cfg, &err), RC_OK);
    assert_int_equal(rc_cfg_get_int(cfg, "model.hidden"), 5);
    rc_cfg_free(cfg);

    /* Given in a file counts too. */
    cfg = new_cfg();
    load_ok(cfg, "net.cfg", "[model]\nhidden = 64\n");
    assert_int_equal(rc_cfg_check_required(cfg, &err), RC_OK);
    rc_cfg_free(cfg);

    /* Several missing: the first with its help, then the others. */
    static const rc_cfg_spec two[] = {
        { "a", "x", RC_CFG_INT, NULL, 0, 9, NULL, "the x" },
        { "a", "y", RC_CFG_INT, "1", 0, 9, NULL, "the y" },
        { "b", "z", RC_CFG_STRING, NULL, 0, 0, NULL, "the z" },
    };
    cfg = rc_cfg_new(two, 3);
    assert_non_null(cfg);
    assert_int_equal(rc_cfg_check_required(cfg, &err), RC_ERR_CONFIG);
    assert_string_equal(err.msg, "config: missing required key a.x (the x); also missing: b.z");
    rc_cfg_free(cfg);
}

/* ---- output -------------------------------------------------------------- */

static void test_to_json_exact(void **state)
{
    (void)state;
    rc_cfg *cfg = rc_cfg_new(SMALL, NSMALL);
    assert_non_null(cfg);
    char *j = rc_cfg_to_json(cfg, 0);
    assert_non_null(j);
    assert_string_equal(j, "{\"a\":{\"n\":3,\"x\":0.25,\"m\":\"p\"},"
                           "\"b\":{\"on\":false,\"s\":\"hi\",\"il\":[1,2],\"fl\":[]},"
                           "\"c\":{\"req\":null}}");
    free(j);
    set_ok(cfg, "c.req=7");
    set_ok(cfg, "b.fl=0.1, 2.5e-3,10,1e-08");
    set_ok(cfg, "b.on=yes");
    set_ok(cfg, "a.x=1e-300");
    j = rc_cfg_to_json(cfg, 2);
    assert_non_null(j);
    assert_string_equal(j, "{\n"
                           "  \"a\": {\n"
                           "    \"n\": 3,\n"
                           "    \"x\": 1e-300,\n"
                           "    \"m\": \"p\"\n"
                           "  },\n"
                           "  \"b\": {\n"
                           "    \"on\": true,\n"
                           "    \"s\": \"hi\",\n"
                           "    \"il\": [1, 2],\n"
                           "    \"fl\": [0.1, 0.0025, 10, 1e-8]\n"
                           "  },\n"
                           "  \"c\": {\n"
                           "    \"req\": 7\n"
                           "  }\n"
                           "}");
    free(j);
    rc_cfg_free(cfg);

    cfg = rc_cfg_new(NULL, 0);
    assert_non_null(cfg);
    j = rc_cfg_to_json(cfg, 4);
    assert_string_equal(j, "{}");
    free(j);
    rc_cfg_free(cfg);
}

static void test_json_escaping(void **state)
{
    (void)state;
    rc_cfg *cfg = rc_cfg_new(SMALL, NSMALL);
    assert_non_null(cfg);
    load_ok(cfg, "s.cfg", "[b]\ns = say \"hi\" C:\\dir\tx\x01y\x1f θ/\r\n");
    assert_string_equal(rc_cfg_get_str(cfg, "b.s"), "say \"hi\" C:\\dir\tx\x01y\x1f θ/");
    char *j = rc_cfg_to_json(cfg, 0);
    assert_non_null(j);
    assert_contains(j, "\"s\":\"say \\\"hi\\\" C:\\\\dir\\tx\\u0001y\\u001f θ/\"");
    free(j);
    set_ok(cfg, "b.s=cr\rbs\\\b ff\f.\f"); /* the trailing \f is blank and trimmed */
    j = rc_cfg_to_json(cfg, 0);
    assert_contains(j, "\"s\":\"cr\\rbs\\\\\\b ff\\f.\"");
    free(j);
    rc_cfg_free(cfg);
}

static void test_to_ini_exact(void **state)
{
    (void)state;
    rc_cfg *cfg = rc_cfg_new(SMALL, NSMALL);
    assert_non_null(cfg);
    char *ini = rc_cfg_to_ini(cfg);
    assert_non_null(ini);
    assert_string_equal(ini, "[a]\nn = 3\nx = 0.25\nm = p\n\n"
                             "[b]\non = false\ns = hi\nil = 1, 2\nfl =\n\n"
                             "[c]\n# req = (required, not set)\n");
    free(ini);
    rc_cfg_free(cfg);
}

static void test_to_ini_roundtrip(void **state)
{
    (void)state;
    rc_cfg *a = new_cfg();
    load_ok(a, "net.cfg", "[task]\nname = say \"hi\"\tC:\\x a#b\nseed = 123456789\n[model]\nhidden = 77\nlayers =\n");
    set_ok(a, "train.threshold=0.6666666666666666");
    set_ok(a, "train.lr=0.1, 0.30000000000000004, 1e-7, 4.9e-324, 10");
    set_ok(a, "train.mode=eos");
    set_ok(a, "train.shuffle=off");
    set_ok(a, "task.note=x;y");
    char *ini = rc_cfg_to_ini(a);
    assert_non_null(ini);

    rc_cfg *b = new_cfg();
    load_ok(b, "saved.cfg", ini);
    rc_err err = { "" };
    assert_int_equal(rc_cfg_check_required(b, &err), RC_OK);
    assert_string_equal(rc_cfg_get_str(b, "task.name"), "say \"hi\"\tC:\\x a#b");
    assert_string_equal(rc_cfg_get_str(b, "task.note"), "x;y");
    assert_int_equal(rc_cfg_get_int(b, "task.seed"), 123456789);
    assert_int_equal(rc_cfg_get_int(b, "model.hidden"), 77);
    assert_int_equal(rc_cfg_get_int_list(b, "model.layers", NULL, 0), 0);
    assert_int_equal(rc_cfg_get_int(b, "train.batch"), 32);
    assert_dbl(rc_cfg_get_float(b, "train.threshold"), rc_cfg_get_float(a, "train.threshold"));
    assert_string_equal(rc_cfg_get_str(b, "train.mode"), "eos");
    assert_int_equal(rc_cfg_get_bool(b, "train.shuffle"), 0);
    double la[8], lb[8];
    assert_int_equal(rc_cfg_get_float_list(a, "train.lr", la, 8), 5);
    assert_int_equal(rc_cfg_get_float_list(b, "train.lr", lb, 8), 5);
    for (int k = 0; k < 5; k++) assert_dbl(lb[k], la[k]);
    assert_dbl(lb[1], 0.30000000000000004);
    assert_true(lb[3] > 0); /* the denormal survived */
    for (size_t i = 0; i < NSPEC; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s.%s", SPEC[i].section, SPEC[i].key);
        assert_true(rc_cfg_is_set(b, name)); /* to_ini writes every key */
    }

    /* Same values, same text: both outputs agree. */
    char *ini2 = rc_cfg_to_ini(b);
    assert_string_equal(ini2, ini);
    char *ja = rc_cfg_to_json(a, 1), *jb = rc_cfg_to_json(b, 1);
    assert_string_equal(ja, jb);
    assert_contains(ini, "[task]\nname = say \"hi\"\tC:\\x a#b\nseed = 123456789\nnote = x;y\n\n[model]\n");
    free(ja);
    free(jb);
    free(ini2);
    free(ini);
    rc_cfg_free(a);
    rc_cfg_free(b);
}

static void test_print_help(void **state)
{
    (void)state;
    static const rc_cfg_spec help[] = {
        { "train", "threshold", RC_CFG_FLOAT, "0.95", 0.5, 1, NULL, "spike threshold θ" },
        { "model", "hidden", RC_CFG_INT, NULL, 1, 4096, NULL, "LSTM hidden units" },
        { "train", "mode", RC_CFG_ENUM, "rc", 0, 0, "rc|eos", "training mode" },
        { "sim", "seed", RC_CFG_INT, "1", 0, INFINITY, NULL, "seed" },
    };
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    rc_cfg_print_help(help, 4, f);
    assert_int_equal(fclose(f), 0);
    assert_string_equal(buf, "  train.threshold   float in [0.5, 1]   default 0.95   spike threshold θ\n"
                             "  model.hidden      int in [1, 4096]    (required)     LSTM hidden units\n"
                             "  train.mode        rc|eos              default rc     training mode\n"
                             "  sim.seed          int >= 0            default 1      seed\n");
    free(buf);

    /* The open upper bound reads the same way in errors. */
    rc_cfg *cfg = rc_cfg_new(help, 4);
    assert_non_null(cfg);
    expect_set_error(cfg, "sim.seed=-1", "--set sim.seed=-1: sim.seed = -1 is out of range, expected an integer >= 0",
                     NULL);
    set_ok(cfg, "sim.seed=9223372036854775807");
    assert_int_equal(rc_cfg_get_int(cfg, "sim.seed"), 9223372036854775807LL);
    rc_cfg_free(cfg);

    /* The full table: every line has its help text in the same column. */
    f = open_memstream(&buf, &len);
    assert_non_null(f);
    rc_cfg_print_help(SPEC, NSPEC, f);
    assert_int_equal(fclose(f), 0);
    const char *line = buf;
    long col = -1;
    for (size_t i = 0; i < NSPEC; i++) {
        const char *nl = strchr(line, '\n');
        assert_non_null(nl);
        const char *h = strstr(line, SPEC[i].help);
        assert_true(h && h < nl);
        if (col < 0) col = h - line;
        assert_int_equal(h - line, col);
        line = nl + 1;
    }
    assert_string_equal(line, "");
    assert_contains(buf, "  model.layers      int list in [1, 4096]   default 64, 32");
    assert_contains(buf, "default (empty)");
    free(buf);
}

/* ---- programming errors abort (RC_ASSERT) -------------------------------- */


static void get_ok(void)
{
    rc_cfg *cfg = rc_cfg_new(SPEC, NSPEC);
    (void)rc_cfg_get_int(cfg, "train.batch");
    rc_cfg_free(cfg);
}
static void get_unknown(void) { (void)rc_cfg_get_int(rc_cfg_new(SPEC, NSPEC), "train.nosuch"); }
static void get_wrong_type(void) { (void)rc_cfg_get_int(rc_cfg_new(SPEC, NSPEC), "train.threshold"); }
static void get_str_of_int(void) { (void)rc_cfg_get_str(rc_cfg_new(SPEC, NSPEC), "train.batch"); }
static void get_unset_required(void) { (void)rc_cfg_get_int(rc_cfg_new(SPEC, NSPEC), "model.hidden"); }
static void is_set_unknown(void) { (void)rc_cfg_is_set(rc_cfg_new(SPEC, NSPEC), "nope.nope"); }
static void bad_default(void)
{
    static const rc_cfg_spec s[] = { { "a", "b", RC_CFG_INT, "5", 0, 0, NULL, "range excludes default" } };
    (void)rc_cfg_new(s, 1);
}
static void bad_enum_default(void)
{
    static const rc_cfg_spec s[] = { { "a", "b", RC_CFG_ENUM, "z", 0, 0, "x|y", "z is not a choice" } };
    (void)rc_cfg_new(s, 1);
}
static void duplicate_key(void)
{
    static const rc_cfg_spec s[] = { { "a", "b", RC_CFG_BOOL, "1", 0, 0, NULL, "one" },
                                     { "a", "b", RC_CFG_BOOL, "0", 0, 0, NULL, "two" } };
    (void)rc_cfg_new(s, 2);
}

static void test_asserts(void **state)
{
    (void)state;
    assert_false(aborts(get_ok)); /* the harness can tell the difference */
    assert_true(aborts(get_unknown));
    assert_true(aborts(get_wrong_type));
    assert_true(aborts(get_str_of_int));
    assert_true(aborts(get_unset_required));
    assert_true(aborts(is_set_unknown));
    assert_true(aborts(bad_default));
    assert_true(aborts(bad_enum_default));
    assert_true(aborts(duplicate_key));
}

/* ---- instance sections --------------------------------------------------- */

static rc_cfg *net_cfg(void)
{
    rc_cfg *cfg = rc_cfg_new(NET, NNET);
    assert_non_null(cfg);
    load_ok(cfg, "net.cfg", NET_TEXT);
    return cfg;
}

static void test_instances_parse(void **state)
{
    (void)state;
    rc_cfg *cfg = net_cfg();
    const char *names[4] = { NULL };
    assert_int_equal(rc_cfg_instances(cfg, "population", names, 4), 2); /* in file order */
    assert_string_equal(names[0], "population.E");
    assert_string_equal(names[1], "population.I");
    assert_int_equal(rc_cfg_instances(cfg, "population.*", names, 1), 2); /* writes at most cap */
    assert_int_equal(rc_cfg_instances(cfg, "projection", names, 4), 1);
    assert_string_equal(names[0], "projection.EI");
    assert_int_equal(rc_cfg_instances(cfg, "recorder", NULL, 0), 0); /* no instance is fine */

    /* Defaults apply per instance; values given in one do not leak into another. */
    assert_int_equal(rc_cfg_get_int(cfg, "population.E.size"), 800);
    assert_string_equal(rc_cfg_get_str(cfg, "population.E.model"), "iaf_psc_delta");
    assert_dbl(rc_cfg_get_float(cfg, "population.E.v_th"), 20);
    assert_false(rc_cfg_is_set(cfg, "population.E.model"));
    assert_int_equal(rc_cfg_get_int(cfg, "population.I.size"), 200);
    assert_string_equal(rc_cfg_get_str(cfg, "population.I.model"), "iaf_psc_exp");
    assert_dbl(rc_cfg_get_float(cfg, "population.I.v_th"), 15);
    assert_true(rc_cfg_is_set(cfg, "population.I.model"));
    assert_string_equal(rc_cfg_get_str(cfg, "projection.EI.source"), "E");
    double d[2];
    assert_int_equal(rc_cfg_get_float_list(cfg, "projection.EI.delays", d, 2), 1);
    assert_dbl(d[0], 1.5);
    assert_dbl(rc_cfg_get_float(cfg, "sim.dt"), 0.05);
    rc_err err = { "" };
    assert_int_equal(rc_cfg_check_required(cfg, &err), RC_OK);

    /* A header seen again, in this file or a later one, reopens the instance. */
    load_ok(cfg, "more.cfg", "[population.E]\nv_th = 18\n[population.E2]\nsize = 5\n[population.E]\nmodel = iaf_psc_exp\n");
    assert_int_equal(rc_cfg_instances(cfg, "population", names, 4), 3);
    assert_string_equal(names[2], "population.E2");
    assert_int_equal(rc_cfg_get_int(cfg, "population.E.size"), 800);
    assert_dbl(rc_cfg_get_float(cfg, "population.E.v_th"), 18);
    assert_string_equal(rc_cfg_get_str(cfg, "population.E.model"), "iaf_psc_exp");
    rc_cfg_free(cfg);
}

static void expect_net_error(const char *text, const char *prefix, const char *also)
{
    expect_spec_load_error(NET, NNET, text, prefix, also);
}

static void test_instance_errors(void **state)
{
    (void)state;
    expect_net_error("[population.E]\nsise = 3\n",
                     "net.cfg:2: unknown key 'sise' in [population.E] (did you mean 'size'?); known keys: size, model, v_th",
                     NULL);
    expect_net_error("[population.E]\nsource = X\n", "net.cfg:2: unknown key 'source' in [population.E]",
                     "(did you mean 'source' in [projection.<name>]?)");
    expect_net_error("[population.E]\nsize = 0\n",
                     "net.cfg:2: population.E.size = 0 is out of range, expected an integer in [1, 100000]", NULL);
    expect_net_error("[population.I]\nmodel = iaf_psc_exq\n",
                     "net.cfg:2: population.I.model = 'iaf_psc_exq' is not one of iaf_psc_delta, iaf_psc_exp "
                     "(did you mean 'iaf_psc_exp'?)",
                     NULL);
    expect_net_error("[projection.x]\ndelays = 1, 0\n",
                     "net.cfg:2: projection.x.delays = '1, 0': item 2 = 0 is out of range", NULL);
    expect_net_error("[population.E]\nsize = 3\n[sim]\n[population.E]\nsize = 4\n",
                     "net.cfg:5: population.E.size given twice (first at line 2)", NULL);
    expect_net_error("[population]\n", "net.cfg:1: section [population] needs an instance name: [population.<name>]",
                     NULL);
    expect_net_error("\n[population.E-1]\n",
                     "net.cfg:2: section [population.E-1]: instance name 'E-1' may hold only letters, digits and '_'",
                     NULL);
    expect_net_error("[population.]\n", "net.cfg:1: section [population.]: instance name ''", NULL);
    expect_net_error("[popultion.E]\n",
                     "net.cfg:1: unknown section [popultion.E]; expected one of [sim], [population.<name>], "
                     "[projection.<name>], [recorder.<name>] (did you mean [population.E]?)",
                     NULL);

    /* Required keys are required in every instance, named by the instance. */
    rc_cfg *cfg = rc_cfg_new(NET, NNET);
    assert_non_null(cfg);
    load_ok(cfg, "net.cfg", "[population.E]\nsize = 3\n[population.I]\n[projection.EI]\n");
    rc_err err = { "" };
    assert_int_equal(rc_cfg_check_required(cfg, &err), RC_ERR_CONFIG);
    assert_string_equal(err.msg, "net.cfg: missing required key population.I.size (neurons); "
                                 "also missing: projection.EI.source");
    rc_cfg_free(cfg);
}

static void test_instance_set(void **state)
{
    (void)state;
    rc_cfg *cfg = net_cfg();
    set_ok(cfg, "population.E.size=100");
    assert_int_equal(rc_cfg_get_int(cfg, "population.E.size"), 100);
    assert_int_equal(rc_cfg_get_int(cfg, "population.I.size"), 200);
    set_ok(cfg, "population.E.model = iaf_psc_exp");
    assert_true(rc_cfg_is_set(cfg, "population.E.model"));
    expect_set_error(cfg, "population.E.size=0",
                     "--set population.E.size=0: population.E.size = 0 is out of range, expected an integer in [1, 100000]",
                     NULL);
    assert_int_equal(rc_cfg_get_int(cfg, "population.E.size"), 100);
    /* --set does not create instances. */
    expect_set_error(cfg, "population.X.size=1",
                     "--set population.X.size=1: no section [population.X] in the config",
                     "instances of [population.<name>]: [population.E], [population.I]");
    expect_set_error(cfg, "recorder.r.every=1", "--set recorder.r.every=1: no section [recorder.r]",
                     "instances of [recorder.<name>]: none");
    expect_set_error(cfg, "population.E.sise=1", "--set population.E.sise=1: unknown key 'population.E.sise'",
                     "(did you mean 'population.E.size'?)");
    expect_set_error(cfg, "populaton.I.size=1", "--set populaton.I.size=1: unknown key 'populaton.I.size'",
                     "(did you mean 'population.I.size'?)");
    assert_int_equal(rc_cfg_instances(cfg, "population", NULL, 0), 2);
    rc_cfg_free(cfg);
}

static void test_instance_output(void **state)
{
    (void)state;
    rc_cfg *cfg = net_cfg();
    char *j = rc_cfg_to_json(cfg, 0);
    assert_non_null(j);
    assert_string_equal(j, "{\"sim\":{\"dt\":0.05},"
                           "\"population.E\":{\"size\":800,\"model\":\"iaf_psc_delta\",\"v_th\":20},"
                           "\"population.I\":{\"size\":200,\"model\":\"iaf_psc_exp\",\"v_th\":15},"
                           "\"projection.EI\":{\"source\":\"E\",\"delays\":[1.5]}}");
    free(j);

    /* The INI text loads back into the same config (checkpoints rely on it). */
    char *ini = rc_cfg_to_ini(cfg);
    assert_non_null(ini);
    assert_string_equal(ini, "[sim]\ndt = 0.05\n\n"
                             "[population.E]\nsize = 800\nmodel = iaf_psc_delta\nv_th = 20\n\n"
                             "[population.I]\nsize = 200\nmodel = iaf_psc_exp\nv_th = 15\n\n"
                             "[projection.EI]\nsource = E\ndelays = 1.5\n");
    rc_cfg *back = rc_cfg_new(NET, NNET);
    assert_non_null(back);
    load_ok(back, "ckpt", ini);
    char *j1 = rc_cfg_to_json(cfg, 2), *j2 = rc_cfg_to_json(back, 2);
    assert_non_null(j1);
    assert_non_null(j2);
    assert_string_equal(j1, j2);
    free(j1);
    free(j2);
    free(ini);
    rc_cfg_free(back);
    rc_cfg_free(cfg);

    /* --help documents the template once, as population.<name>.key. */
    char buf[4096] = "";
    FILE *f = fmemopen(buf, sizeof buf - 1, "w");
    assert_non_null(f);
    rc_cfg_print_help(NET, NNET, f);
    fclose(f);
    assert_contains(buf, "  population.<name>.size     int in [1, 100000]          (required)              neurons\n");
    assert_contains(buf, "projection.<name>.delays");
    assert_contains(buf, "recorder.<name>.every");
}

/* ---- fixtures ------------------------------------------------------------ */

static char g_dir[256];

static int group_setup(void **state)
{
    if (rc_test_mkdtemp(g_dir, sizeof g_dir, "/tmp/rc_test_cfg.") != 0) return -1;
    *state = g_dir;
    return 0;
}

/* Removes whatever a failed test left behind, then the folder. */
static int group_teardown(void **state)
{
    return rc_test_rmtree(*state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_good_file),
        cmocka_unit_test(test_inline_comments),
        cmocka_unit_test(test_value_forms),
        cmocka_unit_test(test_several_files),
        cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_error_unknown_names),
        cmocka_unit_test(test_error_syntax),
        cmocka_unit_test(test_error_numbers),
        cmocka_unit_test(test_error_other_types),
        cmocka_unit_test(test_error_files),
        cmocka_unit_test(test_hostile_input),
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_required),
        cmocka_unit_test(test_to_json_exact),
        cmocka_unit_test(test_json_escaping),
        cmocka_unit_test(test_to_ini_exact),
        cmocka_unit_test(test_to_ini_roundtrip),
        cmocka_unit_test(test_print_help),
        cmocka_unit_test(test_asserts),
        cmocka_unit_test(test_instances_parse),
        cmocka_unit_test(test_instance_errors),
        cmocka_unit_test(test_instance_set),
        cmocka_unit_test(test_instance_output),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
