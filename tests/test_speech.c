/* test_speech.c — the speech task: WAV reader on good and broken files;
 * log-mel features of a sine and a chirp against a float64 reference (naive
 * DFT, its own mel filterbank); split lists and classes on a generated
 * Speech Commands folder; silence clips cut from _background_noise_ when
 * there is no _silence_ folder (counts, windows, seeds, cache key); the
 * feature cache (hit, stale, corrupt); normalisation; augmentation
 * reproducible per seed and thread; a tiny run and eval through the CLI.
 * Needs no shared data: every clip is generated. */
#include "tests/testutil.h"
#include <pthread.h>
#include <sys/stat.h>
#include <hdf5.h>
#include "encoders/speech.h"
#include "encoders/logmel.h"
#include "io/wav.h"
#include "base/rng.h"

static char g_dir[256];

static int setup(void **st)
{
    (void)st;
    return rc_test_mkdtemp(g_dir, sizeof g_dir, "/tmp/rcsim_speech_");
}

static int teardown(void **st)
{
    (void)st;
    if (getenv("KEEP")) return 0;
    return rc_test_rmtree(g_dir);
}

static void write_bytes(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); p[2] = (unsigned char)(v >> 16); p[3] = (unsigned char)(v >> 24);
}
static void put16(unsigned char *p, unsigned v) { p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); }

/* A WAV image: header fields as given, an optional odd-sized LIST chunk
 * before "data", and `n` samples 0, 1, -2, 3, ... Returns its length. */
static size_t wav_image(unsigned char *b, unsigned fmt, unsigned ch, unsigned rate, unsigned bits, int list,
                        int n, long data_size_override)
{
    size_t o = 0;
    memcpy(b, "RIFF", 4); o = 8; memcpy(b + o, "WAVE", 4); o += 4;
    memcpy(b + o, "fmt ", 4); put32(b + o + 4, 16); o += 8;
    put16(b + o, fmt); put16(b + o + 2, ch); put32(b + o + 4, rate); put32(b + o + 8, rate * ch * bits / 8);
    put16(b + o + 12, ch * bits / 8); put16(b + o + 14, bits); o += 16;
    if (list) { memcpy(b + o, "LIST", 4); put32(b + o + 4, 3); memcpy(b + o + 8, "abc\0", 4); o += 12; }
    memcpy(b + o, "data", 4);
    put32(b + o + 4, data_size_override >= 0 ? (uint32_t)data_size_override : (uint32_t)(2 * n));
    o += 8;
    for (int i = 0; i < n; i++) { put16(b + o, (unsigned)(uint16_t)(int16_t)(i % 2 ? i : -i)); o += 2; }
    put32(b + 4, (uint32_t)(o - 8));
    return o;
}

static void test_wav_good(void **st)
{
    (void)st;
    unsigned char b[4096];
    char path[512];
    snprintf(path, sizeof path, "%s/good.wav", g_dir);
    write_bytes(path, b, wav_image(b, 1, 1, 16000, 16, 1, 100, -1));
    rc_wav w;
    rc_err err;
    assert_int_equal(rc_wav_read(path, &w, &err), RC_OK);
    assert_int_equal(w.n, 100);
    for (int i = 0; i < 100; i++) assert_int_equal(w.samples[i], i % 2 ? i : -i);
    rc_wav_free(&w);
    /* The writer's output reads back. */
    int16_t s[5] = { 0, 32767, -32768, 5, -5 };
    assert_int_equal(rc_wav_write(path, s, 5, &err), RC_OK);
    assert_int_equal(rc_wav_read(path, &w, &err), RC_OK);
    assert_int_equal(w.n, 5);
    assert_memory_equal(w.samples, s, sizeof s);
    rc_wav_free(&w);
}

static void test_wav_broken(void **st)
{
    (void)st;
    struct { const char *name; unsigned fmt, ch, rate, bits; long data; size_t cut; const char *want; } c[] = {
        { "stereo", 1, 2, 16000, 16, -1, 0, "2 channels" },
        { "rate8k", 1, 1, 8000, 16, -1, 0, "sample rate 8000" },
        { "bits8", 1, 1, 16000, 8, -1, 0, "8 bits" },
        { "float", 3, 1, 16000, 32, -1, 0, "audio format 3" },
        { "datasize", 1, 1, 16000, 16, 100000, 0, "runs past the end" },
        { "odd", 1, 1, 16000, 16, 7, 0, "whole number" },
        { "truncated", 1, 1, 16000, 16, -1, 30, "runs past the end" },
        { "nodata", 1, 1, 16000, 16, -1, 1, "no 'data' chunk" },
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        unsigned char b[4096];
        char path[512];
        snprintf(path, sizeof path, "%s/%s.wav", g_dir, c[i].name);
        size_t n = wav_image(b, c[i].fmt, c[i].ch, c[i].rate, c[i].bits, 0, 50, c[i].data);
        if (c[i].cut == 1) n = 36;                 /* header and fmt only */
        else if (c[i].cut) n -= c[i].cut;          /* lose the tail of the samples */
        write_bytes(path, b, n);
        rc_wav w;
        rc_err err;
        assert_int_equal(rc_wav_read(path, &w, &err), RC_ERR_DATA);
        assert_contains(err.msg, path);
        assert_contains(err.msg, c[i].want);
        assert_null(w.samples);
    }
    char path[512];
    snprintf(path, sizeof path, "%s/text.wav", g_dir);
    write_bytes(path, "hello world, not audio", 22);
    rc_wav w;
    rc_err err;
    assert_int_equal(rc_wav_read(path, &w, &err), RC_ERR_DATA);
    assert_contains(err.msg, "not a RIFF/WAVE");
    snprintf(path, sizeof path, "%s/missing.wav", g_dir);
    assert_int_equal(rc_wav_read(path, &w, &err), RC_ERR_IO);
    assert_contains(err.msg, "missing.wav");
}

/* A chunk id of raw bytes (a newline, a NUL, an ESC) is echoed escaped: the
 * message stays one line and shows all four bytes. */
static void test_wav_chunk_id_escaped(void **st)
{
    (void)st;
    unsigned char b[64] = { 0 };
    memcpy(b, "RIFF", 4);
    put32(b + 4, 28);
    memcpy(b + 8, "WAVE", 4);
    memcpy(b + 12, "a\n\0\x1b", 4); /* id: 'a' LF NUL ESC */
    put32(b + 16, 1000);          /* runs past the end */
    char path[512];
    snprintf(path, sizeof path, "%s/ctl.wav", g_dir);
    write_bytes(path, b, 24);
    rc_wav w;
    rc_err err;
    assert_int_equal(rc_wav_read(path, &w, &err), RC_ERR_DATA);
    assert_null(strchr(err.msg, '\n'));
    assert_null(strchr(err.msg, '\x1b'));
    assert_contains(err.msg, "chunk 'a\\n\\x00\\x1b' of 1000 bytes");
    assert_contains(err.msg, "truncated?");
}

/* ---- features against a float64 reference ------------------------------ */

static double ref_mel(double f) { return 2595.0 * log10(1.0 + f / 700.0); }

/* Reference: HTK triangles from their three corner frequencies. */
static void ref_filterbank(int bands, double fmin, double fmax, double *fb /* (bands, 257) */)
{
    double edge[130];
    const double m0 = ref_mel(fmin), m1 = ref_mel(fmax);
    for (int j = 0; j < bands + 2; j++) edge[j] = 700.0 * (pow(10.0, (m0 + (m1 - m0) * j / (bands + 1)) / 2595.0) - 1.0);
    for (int b = 0; b < bands; b++)
        for (int k = 0; k < 257; k++) {
            const double f = k * 16000.0 / 512.0;
            double w = 0;
            if (f > edge[b] && f <= edge[b + 1]) w = (f - edge[b]) / (edge[b + 1] - edge[b]);
            else if (f > edge[b + 1] && f < edge[b + 2]) w = (edge[b + 2] - f) / (edge[b + 2] - edge[b + 1]);
            fb[b * 257 + k] = w;
        }
}

/* Reference log-mel: centred 400-sample periodic Hamming frames every 160
 * samples, zero outside the clip, naive DFT of 512 points, in double. */
static void ref_logmel(const double *x, int bands, const double *fb, double *out /* (101, bands) */)
{
    static double cs[257][400], sn[257][400];
    for (int k = 0; k < 257; k++)
        for (int n = 0; n < 400; n++) {
            cs[k][n] = cos(2.0 * M_PI * (double)k * n / 512.0);
            sn[k][n] = sin(2.0 * M_PI * (double)k * n / 512.0);
        }
    for (int i = 0; i < 101; i++) {
        double fr[400], pw[257];
        for (int n = 0; n < 400; n++) {
            const int s = i * 160 - 200 + n;
            fr[n] = (s >= 0 && s < 16000 ? x[s] : 0.0) * (0.54 - 0.46 * cos(2.0 * M_PI * n / 400.0));
        }
        for (int k = 0; k < 257; k++) {
            double re = 0, im = 0;
            for (int n = 0; n < 400; n++) { re += fr[n] * cs[k][n]; im -= fr[n] * sn[k][n]; }
            pw[k] = re * re + im * im;
        }
        for (int b = 0; b < bands; b++) {
            double e = 0;
            for (int k = 0; k < 257; k++) e += fb[b * 257 + k] * pw[k];
            out[i * bands + b] = log(e + 1e-6);
        }
    }
}

static void check_signal(const rc_logmel *lm, const float *xf, int bands, const double *fb)
{
    double *x = malloc(16000 * sizeof *x), *ref = malloc(101 * (size_t)bands * sizeof *ref);
    float *got = malloc(101 * (size_t)bands * sizeof *got);
    assert_non_null(x); assert_non_null(ref); assert_non_null(got);
    for (int i = 0; i < 16000; i++) x[i] = xf[i];
    ref_logmel(x, bands, fb, ref);
    rc_logmel_compute(lm, xf, 16000, got);
    double worst = 0;
    for (int i = 0; i < 101 * bands; i++) {
        const double r = fabs(got[i] - ref[i]) / fmax(fabs(ref[i]), 1.0);
        if (r > worst) worst = r;
    }
    if (worst > 1e-4) print_error("log-mel: worst relative error %g\n", worst);
    assert_true(worst <= 1e-4);
    free(x); free(ref); free(got);
}

static void test_features_reference(void **st)
{
    (void)st;
    const int bands = 20;
    rc_logmel_params p = rc_logmel_default(bands, 20, 8000);
    rc_logmel *lm = rc_logmel_new(&p);
    assert_non_null(lm);
    assert_int_equal(rc_logmel_frames(lm), 101);
    double fb[20 * 257];
    ref_filterbank(bands, 20, 8000, fb);
    const double *mine = rc_logmel_filterbank(lm);
    for (int i = 0; i < bands * 257; i++) {
        if (fabs(mine[i] - fb[i]) > 1e-4 * fmax(fabs(fb[i]), 1e-3)) print_error("filter %d bin %d: %g vs %g\n", i / 257, i % 257, mine[i], fb[i]);
        assert_true(fabs(mine[i] - fb[i]) <= 1e-4 * fmax(fabs(fb[i]), 1e-3));
    }
    /* Every filter has weight somewhere (no empty band at 20 bands). */
    for (int b = 0; b < bands; b++) {
        double s = 0;
        for (int k = 0; k < 257; k++) s += mine[b * 257 + k];
        assert_true(s > 0.5);
    }
    float *x = malloc(16000 * sizeof *x);
    assert_non_null(x);
    for (int i = 0; i < 16000; i++) x[i] = (float)(0.5 * sin(2.0 * M_PI * 1000.0 * i / 16000.0));
    check_signal(lm, x, bands, fb);
    /* Linear chirp 100 Hz -> 7000 Hz over the second. */
    for (int i = 0; i < 16000; i++) {
        const double t = i / 16000.0;
        x[i] = (float)(0.3 * sin(2.0 * M_PI * (100.0 * t + 0.5 * 6900.0 * t * t)));
    }
    check_signal(lm, x, bands, fb);
    /* A short clip is padded with zeros: same features as the padded clip. */
    float a[101 * 20], b[101 * 20];
    for (int i = 8000; i < 16000; i++) x[i] = 0;
    rc_logmel_compute(lm, x, 8000, a);
    rc_logmel_compute(lm, x, 16000, b);
    assert_memory_equal(a, b, sizeof a);
    free(x);
    rc_logmel_free(lm);
    /* Invalid parameters are refused. */
    p.fmax = 9000;
    assert_null(rc_logmel_new(&p));
}

/* ---- a generated Speech Commands folder --------------------------------- */

static void clip(const char *dir, const char *word, const char *name, double freq, int n, double amp)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, word);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/%s/%s", dir, word, name);
    int16_t *s = calloc((size_t)n, sizeof *s);
    assert_non_null(s);
    /* A tone between 0.2 s and 0.6 s, with a little deterministic hiss. */
    for (int i = 0; i < n; i++) {
        double v = (i > 3200 && i < 9600) ? amp * sin(2.0 * M_PI * freq * i / 16000.0) : 0;
        v += 0.002 * (double)((i * 7919 + (int)freq) % 101 - 50) / 50.0;
        s[i] = (int16_t)lrint(v * 32767.0);
    }
    rc_err err;
    assert_int_equal(rc_wav_write(path, s, n, &err), RC_OK);
    free(s);
}

/* Words yes (500 Hz), no (1500 Hz), cat and dog (unknown), 6 speakers each;
 * speaker s5 is validation, s4 test. */
static void make_words(const char *dir)
{
    mkdir(dir, 0777);
    const char *words[] = { "yes", "no", "cat", "dog" };
    const double fr[] = { 500, 1500, 3000, 4500 };
    for (int w = 0; w < 4; w++)
        for (int s = 0; s < 6; s++) {
            char name[64];
            snprintf(name, sizeof name, "s%d_nohash_0.wav", s);
            clip(dir, words[w], name, fr[w] * (1.0 + 0.02 * s), s == 2 ? 12000 : 16000, 0.3);
        }
    char path[1024];
    snprintf(path, sizeof path, "%s/validation_list.txt", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "yes/s5_nohash_0.wav\nno/s5_nohash_0.wav\ncat/s5_nohash_0.wav\ndog/s5_nohash_0.wav\nyes/missing_nohash_0.wav\n");
    fclose(f);
    snprintf(path, sizeof path, "%s/testing_list.txt", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "yes/s4_nohash_0.wav\r\nno/s4_nohash_0.wav\r\ncat/s4_nohash_0.wav\r\ndog/s4_nohash_0.wav\r\n");
    fclose(f);
}

/* The words, _silence_ (5 clips) and _background_noise_ (one 2 s clip). */
static void make_folder(const char *dir)
{
    make_words(dir);
    for (int i = 0; i < 5; i++) {
        char name[64];
        snprintf(name, sizeof name, "%d.wav", 1000 + i);
        clip(dir, "_silence_", name, 60, 16000, 0.0);
    }
    clip(dir, "_background_noise_", "pink.wav", 2500, 32000, 0.5);
}

static rc_speech_opts opts(const char *dir, const char *cache)
{
    static char noise[1024];
    snprintf(noise, sizeof noise, "%s/_background_noise_", dir);
    return (rc_speech_opts){ .data_dir = dir, .keywords = "yes,no", .silence = 0, .cache_dir = cache,
                             .noise_dir = NULL, .time_shift_ms = 0, .noise_prob = 0, .noise_volume = 0,
                             .bands = 20, .context = 10, .fmin = 20, .fmax = 8000, .quiet = 1 };
}

static void test_splits(void **st)
{
    (void)st;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/sc_split", g_dir);
    make_folder(dir);
    rc_speech_opts o = opts(dir, NULL);
    rc_dataset *ds = NULL;
    rc_err err;
    assert_int_equal(rc_speech_new(&o, 1, &ds, &err), RC_OK);
    assert_int_equal(ds->T, 81);
    assert_int_equal(ds->nin, 420);
    assert_int_equal(ds->nclass, 3);
    assert_string_equal(ds->class_names[0], "yes");
    assert_string_equal(ds->class_names[2], "_unknown_");
    assert_int_equal(ds->size[RC_SPLIT_TRAIN], 16);
    assert_int_equal(ds->size[RC_SPLIT_VAL], 4);
    assert_int_equal(ds->size[RC_SPLIT_TEST], 4);
    for (int64_t i = 0; i < 4; i++) {
        assert_contains(rc_speech_file(ds, RC_SPLIT_VAL, i), "s5_nohash");
        assert_contains(rc_speech_file(ds, RC_SPLIT_TEST, i), "s4_nohash");
    }
    for (int64_t i = 0; i < 16; i++) {
        const char *f = rc_speech_file(ds, RC_SPLIT_TRAIN, i);
        assert_null(strstr(f, "s5_"));
        assert_null(strstr(f, "s4_"));
        assert_null(strstr(f, "_silence_"));
    }
    /* Labels: yes 0, no 1, cat/dog unknown 2. */
    rc_events ev = { 0 };
    rc_example_info info;
    for (int64_t i = 0; i < 4; i++) {
        assert_int_equal(ds->get(ds, RC_SPLIT_VAL, i, &ev, &info), RC_OK);
        const char *f = rc_speech_file(ds, RC_SPLIT_VAL, i);
        const int want = !strncmp(f, "yes/", 4) ? 0 : !strncmp(f, "no/", 3) ? 1 : 2;
        assert_int_equal(info.label, want);
        assert_int_equal(ev.nev, 81 * 420);
        assert_int_equal(ev.off[80], 80 * 420);
    }
    rc_events_free(&ev);
    rc_dataset_free(ds);
    /* With silence: a fourth class; its unlisted clips are split by name hash. */
    o.silence = 1;
    assert_int_equal(rc_speech_new(&o, 1, &ds, &err), RC_OK);
    assert_int_equal(ds->nclass, 4);
    assert_string_equal(ds->class_names[3], "_silence_");
    assert_int_equal(ds->size[0] + ds->size[1] + ds->size[2], 29);
    rc_dataset_free(ds);
    /* Missing split list: one error naming the file. */
    char path[1024];
    snprintf(path, sizeof path, "%s/testing_list.txt", dir);
    char moved[1100];
    snprintf(moved, sizeof moved, "%s.away", path);
    assert_int_equal(rename(path, moved), 0);
    assert_int_equal(rc_speech_new(&o, 1, &ds, &err), RC_ERR_IO);
    assert_contains(err.msg, "testing_list.txt");
    assert_null(ds);
    assert_int_equal(rename(moved, path), 0);
}

/* Per-channel mean 0 and standard deviation 1 over the training examples. */
static void test_normalisation(void **st)
{
    (void)st;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/sc_split", g_dir);
    rc_speech_opts o = opts(dir, NULL);
    rc_dataset *ds = NULL;
    rc_err err;
    assert_int_equal(rc_speech_new(&o, 1, &ds, &err), RC_OK);
    double s[420] = { 0 }, q[420] = { 0 };
    rc_events ev = { 0 };
    rc_example_info info;
    const int64_t n = ds->size[RC_SPLIT_TRAIN];
    for (int64_t i = 0; i < n; i++) {
        assert_int_equal(ds->get(ds, RC_SPLIT_TRAIN, i, &ev, &info), RC_OK);
        for (int e = 0; e < ev.nev; e++) {
            s[ev.ch[e]] += ev.val[e];
            q[ev.ch[e]] += (double)ev.val[e] * ev.val[e];
        }
    }
    const double cnt = (double)n * 81;
    for (int c = 0; c < 420; c++) {
        assert_true(fabs(s[c] / cnt) < 1e-4);
        assert_true(fabs(q[c] / cnt - 1.0) < 1e-3);
    }
    /* Channel k*20 + b of step t is band b of frame t + k: step 1, offset 0
     * equals step 0, offset 1, before normalisation. */
    const float *m = ds->norm, *inv = ds->norm + 420;
    assert_int_equal(ds->get(ds, RC_SPLIT_TEST, 0, &ev, &info), RC_OK);
    for (int b = 0; b < 20; b++) {
        const double x1 = ev.val[420 + b] / inv[b] + m[b];
        const double x0 = ev.val[20 + b] / inv[20 + b] + m[20 + b];
        assert_true(fabs(x1 - x0) < 1e-4 * fmax(1.0, fabs(x0)));
    }
    rc_events_free(&ev);
    rc_dataset_free(ds);
}

static void test_cache(void **st)
{
    (void)st;
    char dir[512], cache[600];
    snprintf(dir, sizeof dir, "%s/sc_split", g_dir);
    snprintf(cache, sizeof cache, "%s/cache", g_dir);
    rc_speech_opts o = opts(dir, cache);
    rc_dataset *a = NULL, *b = NULL;
    rc_err err;
    assert_int_equal(rc_speech_new(&o, 1, &a, &err), RC_OK);
    assert_int_equal(rc_speech_cache_state(a), 2);     /* no cache yet: computed */
    assert_int_equal(rc_speech_new(&o, 1, &b, &err), RC_OK);
    assert_int_equal(rc_speech_cache_state(b), 1);     /* loaded */
    rc_events e1 = { 0 }, e2 = { 0 };
    rc_example_info info;
    for (int64_t i = 0; i < 4; i++) {
        assert_int_equal(a->get(a, RC_SPLIT_TEST, i, &e1, &info), RC_OK);
        assert_int_equal(b->get(b, RC_SPLIT_TEST, i, &e2, &info), RC_OK);
        assert_memory_equal(e1.val, e2.val, (size_t)e1.nev * sizeof *e1.val);
    }
    rc_dataset_free(b);
    /* Corrupt the cache file: detected, rebuilt, same features. */
    char path[1200];
    snprintf(path, sizeof path, "ls %s/speech-*.h5 > %s/list.txt", cache, g_dir);
    assert_int_equal(system(path), 0);
    snprintf(path, sizeof path, "%s/list.txt", g_dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char h5[1024];
    assert_non_null(fgets(h5, sizeof h5, f));
    fclose(f);
    h5[strcspn(h5, "\n")] = 0;
    f = fopen(h5, "r+b");
    assert_non_null(f);
    fseek(f, -4000, SEEK_END);   /* inside the feature data */
    unsigned char junk[64];
    memset(junk, 0x5a, sizeof junk);
    fwrite(junk, 1, sizeof junk, f);
    fclose(f);
    assert_int_equal(rc_speech_new(&o, 1, &b, &err), RC_OK);
    assert_int_equal(rc_speech_cache_state(b), 3);
    assert_int_equal(b->get(b, RC_SPLIT_TEST, 3, &e2, &info), RC_OK);
    assert_int_equal(a->get(a, RC_SPLIT_TEST, 3, &e1, &info), RC_OK);
    assert_memory_equal(e1.val, e2.val, (size_t)e1.nev * sizeof *e1.val);
    rc_dataset_free(b);
    assert_int_equal(rc_speech_new(&o, 1, &b, &err), RC_OK);
    assert_int_equal(rc_speech_cache_state(b), 1);     /* the rebuilt cache is good */
    rc_dataset_free(b);
    /* Another feature parameter: another key, computed. */
    o.fmax = 7000;
    assert_int_equal(rc_speech_new(&o, 1, &b, &err), RC_OK);
    assert_int_equal(rc_speech_cache_state(b), 2);
    rc_dataset_free(b);
    rc_events_free(&e1);
    rc_events_free(&e2);
    rc_dataset_free(a);
}

/* ---- silence cut from background noise ---------------------------------- */

/* The words and _background_noise_/ with two long files and no _silence_/
 * (the full v0.02 download's layout): a.wav 8 s of seeded uniform noise,
 * b.wav 6.5 s of a 440 Hz tone with a little noise. */
static void make_noise_folder(const char *dir)
{
    make_words(dir);
    char path[1024];
    snprintf(path, sizeof path, "%s/_background_noise_", dir);
    mkdir(path, 0777);
    const int len[2] = { 128000, 104000 };
    for (int k = 0; k < 2; k++) {
        int16_t *x = malloc((size_t)len[k] * sizeof *x);
        assert_non_null(x);
        for (int i = 0; i < len[k]; i++) {
            const double u = rc_uniform(42, 99, (uint64_t)k, (uint64_t)i) - 0.5;
            const double v = k ? 0.4 * sin(2.0 * M_PI * 440.0 * i / 16000.0) + 0.05 * u : 0.9 * u;
            x[i] = (int16_t)lrint(v * 32767.0);
        }
        snprintf(path, sizeof path, "%s/_background_noise_/%c.wav", dir, 'a' + k);
        rc_err err;
        assert_int_equal(rc_wav_write(path, x, len[k], &err), RC_OK);
        free(x);
    }
}

/* Every example of ds: class _silence_ (3) exactly when it is a synthesised
 * clip; a clip's window starts in its split's stretch of the noise file
 * (word clips: 16 training, 4 validation, 4 test of 24) and its features
 * are those of volume × the WAV's samples there, computed here directly.
 * Counts the silence examples of each split into nsil. */
static void check_silence(const rc_dataset *ds, int64_t nsil[3])
{
    rc_logmel_params lp = rc_logmel_default(20, 20, 8000);
    rc_logmel *lm = rc_logmel_new(&lp);
    assert_non_null(lm);
    float *x = malloc(16000 * sizeof *x), *feat = malloc(101 * 20 * sizeof *feat);
    assert_non_null(x);
    assert_non_null(feat);
    rc_events ev = { 0 };
    rc_example_info info;
    const int64_t cum[4] = { 0, 16, 20, 24 };
    const float *mean = ds->norm, *inv = ds->norm + 420;
    for (int s = 0; s < 3; s++) {
        nsil[s] = 0;
        for (int64_t i = 0; i < ds->size[s]; i++) {
            const char *noise = NULL;
            int64_t off = -1;
            float vol = -1;
            const int syn = rc_speech_synth_clip(ds, (rc_split)s, i, &noise, &off, &vol);
            assert_int_equal(ds->get(ds, (rc_split)s, i, &ev, &info), RC_OK);
            assert_int_equal(info.label == 3, syn);
            if (!syn) continue;
            nsil[s]++;
            assert_int_equal(strncmp(rc_speech_file(ds, (rc_split)s, i), "_silence_/", 10), 0);
            assert_true(vol >= 0.0f && vol <= 1.0f);
            rc_wav w;
            rc_err err;
            assert_int_equal(rc_wav_read(noise, &w, &err), RC_OK);
            const int64_t a = w.n * cum[s] / 24, b = w.n * cum[s + 1] / 24;
            assert_true(off >= a);
            assert_true(off <= (b - 16000 > a ? b - 16000 : a));
            for (int j = 0; j < 16000; j++) x[j] = off + j < w.n ? vol * ((float)w.samples[off + j] / 32768.0f) : 0.0f;
            rc_wav_free(&w);
            rc_logmel_compute(lm, x, 16000, feat);
            assert_int_equal(ev.nev, 81 * 420);
            for (int t = 0; t < 81; t++)
                for (int c = 0; c < 420; c++) {
                    const float want = (feat[t * 20 + c] - mean[c]) * inv[c], got = ev.val[t * 420 + c];
                    if (fabsf(got - want) > 1e-5f * fmaxf(1.0f, fabsf(want)))
                        print_error("split %d example %lld step %d input %d: %g, expected %g\n", s, (long long)i, t, c, got, want);
                    assert_true(fabsf(got - want) <= 1e-5f * fmaxf(1.0f, fabsf(want)));
                }
        }
    }
    rc_events_free(&ev);
    free(x);
    free(feat);
    rc_logmel_free(lm);
}

/* The synthesised clips' (file, offset, volume), in training, validation,
 * test order; returns how many. */
static int synth_list(const rc_dataset *ds, char names[][600], int64_t *off, float *vol, int cap)
{
    int n = 0;
    for (int s = 0; s < 3; s++)
        for (int64_t i = 0; i < ds->size[s]; i++) {
            const char *nm;
            int64_t o;
            float v;
            if (!rc_speech_synth_clip(ds, (rc_split)s, i, &nm, &o, &v)) continue;
            assert_true(n < cap);
            snprintf(names[n], 600, "%s", nm);
            off[n] = o;
            vol[n] = v;
            n++;
        }
    return n;
}

static void test_silence_from_noise(void **st)
{
    (void)st;
    char dir[512], noise[600], cache[600];
    snprintf(dir, sizeof dir, "%s/sc_noise", g_dir);
    snprintf(noise, sizeof noise, "%s/_background_noise_", dir);
    snprintf(cache, sizeof cache, "%s/noisecache", g_dir);
    make_noise_folder(dir);
    rc_speech_opts o = opts(dir, NULL);
    o.silence = 1;
    o.noise_dir = noise;
    rc_dataset *a = NULL, *b = NULL;
    rc_err err;
    int64_t nsil[3];
    /* Default count: the mean keyword class (yes, no: 6 clips each) = 6,
     * split as the 24 word clips (16/4/4): 4 training, 1 validation, 1 test. */
    assert_int_equal(rc_speech_new(&o, 5, &a, &err), RC_OK);
    assert_int_equal(a->nclass, 4);
    assert_string_equal(a->class_names[3], "_silence_");
    assert_int_equal(a->size[RC_SPLIT_TRAIN], 16 + 4);
    assert_int_equal(a->size[RC_SPLIT_VAL], 4 + 1);
    assert_int_equal(a->size[RC_SPLIT_TEST], 4 + 1);
    check_silence(a, nsil);
    assert_int_equal(nsil[0], 4);
    assert_int_equal(nsil[1], 1);
    assert_int_equal(nsil[2], 1);
    rc_dataset_free(a);
    /* 30 clips: 20 / 5 / 5, every window right. */
    o.silence_clips = 30;
    assert_int_equal(rc_speech_new(&o, 5, &a, &err), RC_OK);
    assert_int_equal(a->size[RC_SPLIT_TRAIN], 16 + 20);
    assert_int_equal(a->size[RC_SPLIT_VAL], 4 + 5);
    assert_int_equal(a->size[RC_SPLIT_TEST], 4 + 5);
    check_silence(a, nsil);
    assert_int_equal(nsil[0], 20);
    assert_int_equal(nsil[1], 5);
    assert_int_equal(nsil[2], 5);
    static char n1[30][600], n2[30][600];
    int64_t o1[30], o2[30];
    float v1[30], v2[30];
    assert_int_equal(synth_list(a, n1, o1, v1, 30), 30);
    /* Both noise files are used, and the volumes spread over [0, 1]. */
    int from_a = 0;
    float vmin = 1, vmax = 0;
    for (int j = 0; j < 30; j++) {
        from_a += strstr(n1[j], "/a.wav") != NULL;
        vmin = fminf(vmin, v1[j]);
        vmax = fmaxf(vmax, v1[j]);
    }
    assert_true(from_a > 0 && from_a < 30);
    assert_true(vmin < 0.25f && vmax > 0.75f);
    /* The same seed: the same clips and examples; another seed: others. */
    assert_int_equal(rc_speech_new(&o, 5, &b, &err), RC_OK);
    assert_int_equal(synth_list(b, n2, o2, v2, 30), 30);
    for (int j = 0; j < 30; j++) {
        assert_string_equal(n1[j], n2[j]);
        assert_int_equal(o1[j], o2[j]);
        assert_true(v1[j] == v2[j]);
    }
    rc_events e1 = { 0 }, e2 = { 0 };
    rc_example_info info;
    for (int s = 0; s < 3; s++)
        for (int64_t i = 0; i < a->size[s]; i++) {
            assert_int_equal(a->get(a, (rc_split)s, i, &e1, &info), RC_OK);
            assert_int_equal(b->get(b, (rc_split)s, i, &e2, &info), RC_OK);
            assert_memory_equal(e1.val, e2.val, (size_t)e1.nev * sizeof *e1.val);
        }
    rc_dataset_free(b);
    assert_int_equal(rc_speech_new(&o, 6, &b, &err), RC_OK);
    assert_int_equal(synth_list(b, n2, o2, v2, 30), 30);
    int differ = 0;
    for (int j = 0; j < 30; j++) differ += strcmp(n1[j], n2[j]) || o1[j] != o2[j] || v1[j] != v2[j];
    assert_true(differ >= 28);
    rc_dataset_free(b);
    /* Augmented training silence (shift and noise) is reproducible too. */
    o.time_shift_ms = 100;
    o.noise_prob = 1;
    o.noise_volume = 0.5;
    assert_int_equal(rc_speech_new(&o, 5, &b, &err), RC_OK);
    for (int64_t i = 0; i < b->size[RC_SPLIT_TRAIN]; i++) {
        const char *nm;
        int64_t of;
        float v;
        if (!rc_speech_synth_clip(b, RC_SPLIT_TRAIN, i, &nm, &of, &v)) continue;
        assert_int_equal(b->get(b, RC_SPLIT_TRAIN, i, &e1, &info), RC_OK);
        assert_int_equal(b->get(b, RC_SPLIT_TRAIN, i, &e2, &info), RC_OK);
        assert_int_equal(info.label, 3);
        assert_memory_equal(e1.val, e2.val, (size_t)e1.nev * sizeof *e1.val);
        assert_int_equal(a->get(a, RC_SPLIT_TRAIN, i, &e2, &info), RC_OK);
        assert_true(memcmp(e1.val, e2.val, (size_t)e1.nev * sizeof *e1.val) != 0);
    }
    rc_dataset_free(b);
    o.time_shift_ms = 0;
    o.noise_prob = 0;
    o.noise_volume = 0;
    /* The cache: hit with the same clips; another count or seed is another
     * key (computed); the hit gives the computed features. */
    o.cache_dir = cache;
    assert_int_equal(rc_speech_new(&o, 5, &b, &err), RC_OK);
    assert_int_equal(rc_speech_cache_state(b), 2);
    rc_dataset_free(b);
    assert_int_equal(rc_speech_new(&o, 5, &b, &err), RC_OK);
    assert_int_equal(rc_speech_cache_state(b), 1);
    for (int64_t i = 0; i < b->size[RC_SPLIT_TEST]; i++) {
        assert_int_equal(a->get(a, RC_SPLIT_TEST, i, &e1, &info), RC_OK);
        assert_int_equal(b->get(b, RC_SPLIT_TEST, i, &e2, &info), RC_OK);
        assert_memory_equal(e1.val, e2.val, (size_t)e1.nev * sizeof *e1.val);
    }
    rc_dataset_free(b);
    o.silence_clips = 31;
    assert_int_equal(rc_speech_new(&o, 5, &b, &err), RC_OK);
    assert_int_equal(rc_speech_cache_state(b), 2);
    rc_dataset_free(b);
    assert_int_equal(rc_speech_new(&o, 6, &b, &err), RC_OK);
    assert_int_equal(rc_speech_cache_state(b), 2);
    rc_dataset_free(b);
    assert_int_equal(rc_speech_new(&o, 6, &b, &err), RC_OK);
    assert_int_equal(rc_speech_cache_state(b), 1);
    rc_dataset_free(b);
    o.cache_dir = NULL;
    rc_events_free(&e1);
    rc_events_free(&e2);
    rc_dataset_free(a);
    /* Neither _silence_/ nor a noise folder: one error naming both. */
    o.noise_dir = NULL;
    assert_int_equal(rc_speech_new(&o, 5, &a, &err), RC_ERR_IO);
    assert_null(a);
    assert_contains(err.msg, "sc_noise/_silence_: no such folder");
    assert_contains(err.msg, "task.noise_dir");
    assert_null(strchr(err.msg, '\n'));
    /* A noise folder without WAVs: the error names it. */
    char empty[700];
    snprintf(empty, sizeof empty, "%s/empty_noise", g_dir);
    mkdir(empty, 0777);
    o.noise_dir = empty;
    assert_int_equal(rc_speech_new(&o, 5, &a, &err), RC_ERR_DATA);
    assert_contains(err.msg, "empty_noise: no .wav noise files");
    /* A folder with _silence_/ uses its clips, noise folder or not. */
    snprintf(dir, sizeof dir, "%s/sc_split", g_dir);
    snprintf(noise, sizeof noise, "%s/_background_noise_", dir);
    o = opts(dir, NULL);
    o.silence = 1;
    o.noise_dir = noise;
    o.silence_clips = 30;
    assert_int_equal(rc_speech_new(&o, 5, &a, &err), RC_OK);
    assert_int_equal(a->size[0] + a->size[1] + a->size[2], 29);
    for (int s = 0; s < 3; s++)
        for (int64_t i = 0; i < a->size[s]; i++) {
            const char *nm;
            int64_t of;
            float v;
            assert_int_equal(rc_speech_synth_clip(a, (rc_split)s, i, &nm, &of, &v), 0);
        }
    rc_dataset_free(a);
}

/* ---- augmentation ------------------------------------------------------- */

typedef struct { const rc_dataset *ds; int64_t from, step, n; float *out; } job;

static void *load_job(void *arg)
{
    job *j = arg;
    rc_events ev = { 0 };
    rc_example_info info;
    for (int64_t i = j->from; i < j->n; i += j->step) {
        if (j->ds->get(j->ds, RC_SPLIT_TRAIN, i, &ev, &info) != RC_OK) abort();
        memcpy(j->out + (size_t)i * 81 * 420, ev.val, 81 * 420 * sizeof(float));
    }
    rc_events_free(&ev);
    return NULL;
}

static float *load_all(const rc_dataset *ds, int64_t n, int threads)
{
    float *out = malloc((size_t)n * 81 * 420 * sizeof *out);
    assert_non_null(out);
    pthread_t th[4];
    job j[4];
    for (int t = 0; t < threads; t++) {
        j[t] = (job){ ds, t, threads, n, out };
        assert_int_equal(pthread_create(&th[t], NULL, load_job, &j[t]), 0);
    }
    for (int t = 0; t < threads; t++) pthread_join(th[t], NULL);
    return out;
}

static void test_augmentation(void **st)
{
    (void)st;
    char dir[512], noise[600];
    snprintf(dir, sizeof dir, "%s/sc_split", g_dir);
    snprintf(noise, sizeof noise, "%s/_background_noise_", dir);
    rc_speech_opts o = opts(dir, NULL);
    o.time_shift_ms = 100;
    o.noise_dir = noise;
    o.noise_prob = 0.8;
    o.noise_volume = 0.1;
    rc_dataset *a = NULL, *b = NULL, *plain = NULL;
    rc_err err;
    assert_int_equal(rc_speech_new(&o, 7, &a, &err), RC_OK);
    assert_int_equal(rc_speech_new(&o, 8, &b, &err), RC_OK);
    rc_speech_opts o2 = opts(dir, NULL);
    assert_int_equal(rc_speech_new(&o2, 7, &plain, &err), RC_OK);
    assert_int_equal(a->train_pass_index, 1);
    const int64_t ntr = a->size[RC_SPLIT_TRAIN], n = 2 * ntr; /* two passes */
    const size_t ex = 81 * 420;
    float *s1 = load_all(a, n, 1), *s2 = load_all(a, n, 3), *o8 = load_all(b, n, 1), *p0 = load_all(plain, n, 1);
    /* Same seed: the same examples whatever the thread count. */
    assert_memory_equal(s1, s2, (size_t)n * ex * sizeof *s1);
    int diff_seed = 0, diff_pass = 0, diff_plain = 0, plain_pass_same = 1;
    for (int64_t i = 0; i < ntr; i++) {
        diff_seed += memcmp(s1 + i * ex, o8 + i * ex, ex * sizeof *s1) != 0;
        diff_pass += memcmp(s1 + i * ex, s1 + (i + ntr) * ex, ex * sizeof *s1) != 0;
        diff_plain += memcmp(s1 + i * ex, p0 + i * ex, ex * sizeof *s1) != 0;
        plain_pass_same &= memcmp(p0 + i * ex, p0 + (i + ntr) * ex, ex * sizeof *s1) == 0;
    }
    /* Another seed or another pass draws other shifts and noise (almost all). */
    assert_true(diff_seed >= ntr - 1);
    assert_true(diff_pass >= ntr - 1);
    assert_true(diff_plain >= ntr - 1);
    assert_true(plain_pass_same);      /* without augmentation, passes repeat */
    /* Validation and test examples are never augmented. */
    rc_events e1 = { 0 }, e2 = { 0 };
    rc_example_info info;
    assert_int_equal(a->get(a, RC_SPLIT_VAL, 1, &e1, &info), RC_OK);
    assert_int_equal(plain->get(plain, RC_SPLIT_VAL, 1, &e2, &info), RC_OK);
    assert_memory_equal(e1.val, e2.val, ex * sizeof(float));
    rc_events_free(&e1);
    rc_events_free(&e2);
    free(s1); free(s2); free(o8); free(p0);
    rc_dataset_free(a);
    rc_dataset_free(b);
    rc_dataset_free(plain);
}

/* ---- through the CLI ---------------------------------------------------- */

/* The "test" object of a summary, up to per_class (timings excluded). */
static void test_numbers(const char *summary, char *out, size_t cap)
{
    const char *a = strstr(summary, "\"test\": {"), *b = a ? strstr(a, "\"steps_computed_fraction\"") : NULL;
    assert_non_null(a);
    assert_non_null(b);
    snprintf(out, cap, "%.*s", (int)(b - a), a);
    const char *p = strstr(summary, "\"per_class\""), *q = p ? strstr(p, "\"confusion\"") : NULL;
    assert_non_null(q);
    const char *r = strstr(q, "]\n      ]");
    assert_non_null(r);
    size_t len = strlen(out);
    snprintf(out + len, cap - len, "%.*s", (int)(r - p), p);
}

static void test_cli_run(void **st)
{
    (void)st;
    char dir[512], cfg[600], cmd[4096];
    snprintf(dir, sizeof dir, "%s/sc_split", g_dir);
    snprintf(cfg, sizeof cfg, "%s/speech.cfg", g_dir);
    FILE *f = fopen(cfg, "w");
    assert_non_null(f);
    fprintf(f, "[task]\nname = speech\ndata_dir = %s\ncache_dir = %s/clicache\nkeywords = yes,no\nsilence = true\n"
               "[model]\nhidden = 8\nhead = 4\n[train]\nlr = 0.01\nclip = 0.25\nbatch = 8\nexamples = 48\nval_every = 3\n"
               "stop_below_majority = true\n[test]\nbatch = 4\n[sim]\ndt_ms = 10\n[output]\nprogress = off\n",
            dir, g_dir);
    fclose(f);
    char out1[700], out2[700];
    snprintf(out1, sizeof out1, "%s/run1", g_dir);
    snprintf(out2, sizeof out2, "%s/run2", g_dir);
    snprintf(cmd, sizeof cmd, "%s run %s --out %s --threads 1 2>/dev/null", rc_test_bin(), cfg, out1);
    assert_int_equal(rc_test_sh("%s", cmd), 0);
    snprintf(cmd, sizeof cmd, "%s run %s --out %s --threads 2 2>/dev/null", rc_test_bin(), cfg, out2);
    assert_int_equal(rc_test_sh("%s", cmd), 0);
    char p1[800], p2[800];
    snprintf(p1, sizeof p1, "%s/summary.json", out1);
    snprintf(p2, sizeof p2, "%s/summary.json", out2);
    char *s1 = rc_test_slurp(p1, NULL), *s2 = rc_test_slurp(p2, NULL);
    assert_non_null(s1);
    assert_non_null(s2);
    assert_contains(s1, "\"task\": \"speech\"");
    assert_contains(s1, "\"mean_spike_ms\"");
    assert_contains(s1, "\"majority_fraction\"");
    assert_contains(s1, "\"early_stopped\"");
    assert_contains(s1, "{ \"class\": \"_silence_\", \"examples\": ");
    assert_contains(s1, "\"classes\": [\"yes\", \"no\", \"_unknown_\", \"_silence_\"]");
    assert_contains(s1, "\"rows_true_columns_predicted\"");
    /* Threads do not change the numbers (augmentation included). */
    static char n1[16384], n2[16384];
    test_numbers(s1, n1, sizeof n1);
    test_numbers(s2, n2, sizeof n2);
    assert_string_equal(n1, n2);
    free(s1);
    free(s2);
    /* The normalisation is stored with the model. */
    snprintf(p1, sizeof p1, "%s/model.h5", out1);
    hid_t h = H5Fopen(p1, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(h >= 0);
    assert_true(H5Lexists(h, "/tensors/feature_norm", H5P_DEFAULT) > 0);
    hid_t d = H5Dopen2(h, "/tensors/feature_norm", H5P_DEFAULT);
    float stored[840];
    assert_true(d >= 0);
    assert_true(H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, stored) >= 0);
    H5Dclose(d);
    H5Fclose(h);
    rc_speech_opts o = opts(dir, NULL);
    o.silence = 1;
    rc_dataset *ds = NULL;
    rc_err err;
    assert_int_equal(rc_speech_new(&o, 1, &ds, &err), RC_OK);
    assert_memory_equal(stored, ds->norm, sizeof stored);
    rc_dataset_free(ds);
    /* eval: tradeoff.csv with spike times in ms. */
    snprintf(cmd, sizeof cmd, "%s eval %s --model %s/model.h5 --thresholds 0.6,0.95 2>/dev/null", rc_test_bin(), cfg, out1);
    assert_int_equal(rc_test_sh("%s", cmd), 0);
    snprintf(p1, sizeof p1, "%s/eval/tradeoff.csv", out1); /* eval's default folder: DIR/eval */
    char *t = rc_test_slurp(p1, NULL);
    assert_non_null(t);
    assert_contains(t, "examples_per_s,mean_spike_ms,events_per_example,macs_per_example,delta_x,delta_h,"
                       "hidden_events_per_example,hidden_events_per_unit_step,macs_dense_recurrent_per_example\n0.6,");
    free(t);
    /* A config naming the _silence_ class's folder as noise is refused. */
    snprintf(cmd, sizeof cmd, "%s run %s --out %s/run3 --set task.noise_dir=_silence_ 2>%s/err.txt", rc_test_bin(), cfg, g_dir, g_dir);
    assert_int_equal(rc_test_sh("%s", cmd), 2);
    snprintf(p1, sizeof p1, "%s/err.txt", g_dir);
    t = rc_test_slurp(p1, NULL);
    assert_non_null(t);
    assert_contains(t, "task.noise_dir = _silence_");
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wav_good),
        cmocka_unit_test(test_wav_broken),
        cmocka_unit_test(test_wav_chunk_id_escaped),
        cmocka_unit_test(test_features_reference),
        cmocka_unit_test(test_splits),
        cmocka_unit_test(test_normalisation),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_silence_from_noise),
        cmocka_unit_test(test_augmentation),
        cmocka_unit_test(test_cli_run),
    };
    return cmocka_run_group_tests_name("speech", tests, setup, teardown);
}
