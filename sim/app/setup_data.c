/* setup_data.c — from a config to its data set (rc_app_data_new): the
 * task's constructor with the keys it reads, and the data-folder messages
 * (where a relative path was resolved). Split out of setup.c. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "encoders/events.h"
#include "encoders/images.h"
#include "encoders/speech.h"
#include "encoders/spotting.h"
#include "encoders/twoseq.h"
#include "io/fsutil.h"
#include "io/idx.h"
#include "sim/app/app.h"
#include "sim/app/spec.h"

/* ---- data sets ---------------------------------------------------------- */

/* For a data folder's error: where a relative path was looked for. */
static void relative_note(const char *dir, char *buf, size_t cap)
{
    char cwd[4096];
    buf[0] = 0;
    if (dir[0] != '/' && getcwd(cwd, sizeof cwd))
        snprintf(buf, cap, " (a relative path, resolved against the current directory %s)", cwd);
}

/* MNIST-format images (task.data_dir) as latency- or rate-coded events. */
static rc_status images_new(const rc_cfg *cfg, const char *cfg_path, uint64_t seed, rc_dataset **out, rc_err *err)
{
    rc_idx tri = { 0 }, trl = { 0 }, tei = { 0 }, tel = { 0 };
    const char *dir = rc_cfg_get_str(cfg, "task.data_dir");
    rc_status st;
    if ((st = rc_idx_read_set(dir, "train", 10, &tri, &trl, err)) ||
        (st = rc_idx_read_set(dir, "t10k", 10, &tei, &tel, err))) {
        rc_idx_free(&tri); rc_idx_free(&trl); rc_idx_free(&tei); rc_idx_free(&tel);
        char m[sizeof err->msg], rel[4200];
        snprintf(m, sizeof m, "%s", err->msg);
        relative_note(dir, rel, sizeof rel);
        return rc_err_set(err, st, "%s; task.data_dir = %s%s%s", m, dir, rel,
                          strcasestr(dir, "fashion") ? "; Fashion-MNIST: run `make data` (installs the Debian package "
                                                       "dataset-fashion-mnist into /usr/share/datasets/fashion-mnist)" : "");
    }
    const int64_t nval = rc_cfg_get_int(cfg, "task.validation");
    if (nval >= (int64_t)tri.count || tri.rows != tei.rows || tri.cols != tei.cols) {
        st = rc_err_set(err, RC_ERR_CONFIG, "%s: task.validation = %lld must be smaller than the %u training images in %s (and train/test image sizes must agree)",
                        cfg_path, (long long)nval, tri.count, dir);
        rc_idx_free(&tri); rc_idx_free(&trl); rc_idx_free(&tei); rc_idx_free(&tel);
        return st;
    }
    rc_dataset *ds;
    if (!strcmp(rc_cfg_get_str(cfg, "encoder.type"), "rate"))
        ds = rc_rate_new(seed, (int)rc_cfg_get_int(cfg, "encoder.steps"), (int)(tri.rows * tri.cols), 10,
                         tri.data, trl.data, tri.count, nval, tei.data, tel.data, tei.count);
    else
        ds = rc_latency_new(seed, (int)rc_cfg_get_int(cfg, "encoder.steps"),
                            !strcmp(rc_cfg_get_str(cfg, "encoder.zero"), "last"),
                            (int)(tri.rows * tri.cols), 10, tri.data, trl.data, tri.count, nval,
                            tei.data, tel.data, tei.count);
    if (ds) {
        ds->rows = (int)tri.rows;
        ds->cols = (int)tri.cols;
        const int shift = (int)rc_cfg_get_int(cfg, "encoder.shift");
        const double drop = rc_cfg_get_float(cfg, "encoder.drop");
        if ((shift || drop > 0) && (st = rc_images_set_aug(ds, ds->rows, ds->cols, shift, drop, err))) {
            rc_dataset_free(ds);
            char m[sizeof err->msg];
            snprintf(m, sizeof m, "%s", err->msg);
            return rc_err_set(err, RC_ERR_CONFIG, "%s: encoder.shift = %d / encoder.drop = %g: %s", cfg_path, shift,
                              drop, m);
        }
    }
    *out = ds;
    return RC_OK;
}

/* The speech data set from the [task] and [encoder] keys. */
static rc_status speech_new(const rc_cfg *cfg, const char *cfg_path, uint64_t seed, rc_dataset **out, rc_err *err)
{
    const char *dir = rc_cfg_get_str(cfg, "task.data_dir");
    const char *nd = rc_cfg_get_str(cfg, "task.noise_dir");
    const char *cd = rc_cfg_get_str(cfg, "task.cache_dir");
    const int silence = rc_cfg_get_bool(cfg, "task.silence");
    char noise[4200] = "", rel[4200], lst[4200];
    relative_note(dir, rel, sizeof rel);
    if (!rc_fs_is_dir(dir))
        return rc_err_set(err, RC_ERR_CONFIG, "%s: task.data_dir = %s is not a folder%s, expected a Speech Commands folder "
                                              "(<word>/*.wav, validation_list.txt, testing_list.txt)", cfg_path, dir, rel);
    /* The data folder's own layout first: an empty folder is about the data, not the noise. */
    for (int i = 0; i < 2; i++) {
        snprintf(lst, sizeof lst, "%s/%s", dir, i ? "testing_list.txt" : "validation_list.txt");
        if (access(lst, R_OK) != 0)
            return rc_err_set(err, RC_ERR_CONFIG, "%s: task.data_dir = %s%s has no readable %s, expected a Speech Commands "
                              "folder (<word>/*.wav, validation_list.txt, testing_list.txt)", cfg_path, dir, rel,
                              i ? "testing_list.txt" : "validation_list.txt");
    }
    if (!strcmp(nd, "auto")) {
        snprintf(noise, sizeof noise, "%s/_background_noise_", dir);
        if (!rc_fs_is_dir(noise)) noise[0] = 0;
    } else if (strcmp(nd, "none")) {
        if (nd[0] == '/') snprintf(noise, sizeof noise, "%s", nd);
        else snprintf(noise, sizeof noise, "%s/%s", dir, nd);
        if (!rc_fs_is_dir(noise))
            return rc_err_set(err, RC_ERR_CONFIG, "%s: task.noise_dir = %s: %s is not a folder, expected WAV noise clips (or auto, none)",
                              cfg_path, nd, noise);
        char *a1 = realpath(noise, NULL), *a2 = NULL;
        char sil[4200];
        snprintf(sil, sizeof sil, "%s/_silence_", dir);
        a2 = realpath(sil, NULL);
        const int same = a1 && a2 && !strcmp(a1, a2);
        free(a1);
        free(a2);
        if (silence && same)
            return rc_err_set(err, RC_ERR_CONFIG, "%s: task.noise_dir = %s is the _silence_ class's folder while task.silence = true; "
                                                  "expected another noise folder (or none)", cfg_path, nd);
    }
    if (rc_cfg_get_float(cfg, "encoder.fmin_hz") >= rc_cfg_get_float(cfg, "encoder.fmax_hz"))
        return rc_err_set(err, RC_ERR_CONFIG, "%s: encoder.fmin_hz = %g is not below encoder.fmax_hz = %g", cfg_path,
                          rc_cfg_get_float(cfg, "encoder.fmin_hz"), rc_cfg_get_float(cfg, "encoder.fmax_hz"));
    rc_speech_opts o = {
        .data_dir = dir, .keywords = rc_cfg_get_str(cfg, "task.keywords"), .silence = silence,
        .silence_clips = rc_cfg_get_int(cfg, "task.silence_clips"),
        .cache_dir = strcmp(cd, "none") ? cd : NULL, .noise_dir = noise[0] ? noise : NULL,
        .time_shift_ms = rc_cfg_get_float(cfg, "task.time_shift_ms"),
        .noise_prob = rc_cfg_get_float(cfg, "task.noise_prob"), .noise_volume = rc_cfg_get_float(cfg, "task.noise_volume"),
        .bands = (int)rc_cfg_get_int(cfg, "encoder.mel_bands"), .context = (int)rc_cfg_get_int(cfg, "encoder.context"),
        .fmin = rc_cfg_get_float(cfg, "encoder.fmin_hz"), .fmax = rc_cfg_get_float(cfg, "encoder.fmax_hz"),
        .quiet = !strcmp(rc_cfg_get_str(cfg, "output.progress"), "off"),
    };
    rc_status st = rc_speech_new(&o, seed, out, err);
    if (st == RC_ERR_CONFIG) {
        char m[sizeof err->msg];
        snprintf(m, sizeof m, "%s", err->msg);
        return rc_err_set(err, st, "%s: %s", cfg_path, m);
    }
    return st;
}

/* task.name = events: HDF5 event files binned at sim.dt_ms (encoders/events.h). */
static rc_status events_new(const rc_cfg *cfg, const char *cfg_path, uint64_t seed, rc_dataset **out, rc_err *err)
{
    const char *tr = rc_cfg_get_str(cfg, "task.train_file"), *te = rc_cfg_get_str(cfg, "task.test_file");
    const char *va = rc_cfg_get_str(cfg, "task.val_file");
    long long shape[3] = { 0, 0, 0 };
    const size_t ns = rc_cfg_get_int_list(cfg, "task.shape", shape, 3);
    if (!strcmp(tr, "none") || !strcmp(te, "none"))
        return rc_err_set(err, RC_ERR_CONFIG, "%s: task.name = events needs task.train_file and task.test_file "
                          "(HDF5 event files: SHD layout or flat layout, see README)", cfg_path);
    const char *const keys[3] = { "task.train_file", "task.test_file", "task.val_file" };
    for (int k = 0; k < 3; k++) {
        const char *f = rc_cfg_get_str(cfg, keys[k]);
        char cwd[4096] = "";
        if (k == 2 && !strcmp(f, "none")) continue;
        if (access(f, F_OK) == 0) continue;
        if (f[0] != '/' && !getcwd(cwd, sizeof cwd)) snprintf(cwd, sizeof cwd, "?");
        return rc_err_set(err, RC_ERR_CONFIG, "%s: %s = %s: no such file%s%s%s; expected an HDF5 event file (the SHD/SSC "
                          "files: see README, \"Event data sets\")", cfg_path, keys[k], f, cwd[0] ? " (relative to " : "",
                          cwd, cwd[0] ? ")" : "");
    }
    if (rc_cfg_get_int(cfg, "task.channels") < 1)
        return rc_err_set(err, RC_ERR_CONFIG, "%s: missing required key task.channels (input channels of the event "
                          "files, >= 1; 700 for SHD/SSC)", cfg_path);
    if (ns != 0 && ns != 2)
        return rc_err_set(err, RC_ERR_CONFIG, "%s: task.shape has %zu numbers, expected two: rows,cols", cfg_path, ns);
    if (ns && !strcmp(rc_cfg_get_str(cfg, "model.type"), "lstm"))
        return rc_err_set(err, RC_ERR_CONFIG, "%s: task.shape has no effect with model.type = lstm (its input is "
                          "the channels as a vector); expected it only for convlstm or snn conv layers", cfg_path);
    if (ns && !strcmp(rc_cfg_get_str(cfg, "model.type"), "snn") && !strstr(rc_cfg_get_str(cfg, "model.layers"), "conv"))
        return rc_err_set(err, RC_ERR_CONFIG, "%s: task.shape has no effect with model.layers = %s (no conv layer: "
                          "fc layers see the channels as a vector); expected it only with conv layers", cfg_path,
                          rc_cfg_get_str(cfg, "model.layers"));
    if (strcmp(va, "none") && rc_cfg_is_set(cfg, "task.validation"))
        return rc_err_set(err, RC_ERR_CONFIG, "%s: task.validation has no effect with task.val_file = %s (the "
                          "validation set is that file); expected one of them", cfg_path, va);
    const rc_evdata_opts o = {
        .train_file = tr, .test_file = te, .val_file = strcmp(va, "none") ? va : NULL,
        .channels = (int)rc_cfg_get_int(cfg, "task.channels"), .steps = (int)rc_cfg_get_int(cfg, "task.steps"),
        .dt_ms = rc_cfg_get_float(cfg, "sim.dt_ms"), .saturate = !strcmp(rc_cfg_get_str(cfg, "encoder.merge"), "saturate"),
        .nval = rc_cfg_is_set(cfg, "task.validation") ? rc_cfg_get_int(cfg, "task.validation") : -1,
        .rows = (int)shape[0], .cols = (int)shape[1],
    };
    int64_t dropped = 0;
    rc_status st = rc_evdata_new(&o, seed, out, &dropped, err);
    if (st == RC_ERR_CONFIG) {
        char m[sizeof err->msg];
        snprintf(m, sizeof m, "%s", err->msg);
        return rc_err_set(err, st, "%s: %s", cfg_path, m);
    }
    if (!st && dropped && strcmp(rc_cfg_get_str(cfg, "output.progress"), "off"))
        fprintf(stderr, "rcsim: note: %lld events at or after step task.steps = %d (%g ms) dropped\n",
                (long long)dropped, o.steps, o.steps * o.dt_ms);
    return st;
}

rc_status rc_app_data_new(const rc_cfg *cfg, const char *cfg_path, rc_dataset **out, rc_err *err)
{
    const uint64_t seed = (uint64_t)rc_cfg_get_int(cfg, "sim.seed");
    const char *task = rc_cfg_get_str(cfg, "task.name");
    const int T = (int)rc_cfg_get_int(cfg, "task.steps");
    rc_status st = RC_OK;
    *out = NULL;
    if (!strcmp(task, "tmnist")) st = images_new(cfg, cfg_path, seed, out, err);
    else if (!strcmp(task, "speech")) st = speech_new(cfg, cfg_path, seed, out, err);
    else if (!strcmp(task, "events")) st = events_new(cfg, cfg_path, seed, out, err);
    else if (!strcmp(task, "spotting")) *out = rc_spotting_new(seed, T ? T : 25, (int)rc_cfg_get_int(cfg, "task.run_length"));
    else
        *out = rc_twoseq_new(seed, T ? T : 40, rc_cfg_get_float(cfg, "task.mean"),
                             rc_cfg_get_float(cfg, "task.sigma_min"), rc_cfg_get_float(cfg, "task.sigma_max"));
    if (st) return st;
    if (!*out) return rc_err_set(err, RC_ERR_NOMEM, "out of memory creating the data set");
    return RC_OK;
}
