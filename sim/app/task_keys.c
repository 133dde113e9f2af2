/* task_keys.c — a key that has no effect for the chosen task is an error.
 *
 * The spec table holds the keys of every task, so a network config could set
 * train.lr, and a training config could hold a [population.E] section, and
 * neither would do anything. Both are refused here, once the file and the
 * command line are applied, with the key, the task and what the task reads.
 * Keys read by only some training configurations are refused the same way
 * (rc_app_check_model_keys): model.* keys of another model.type, [task] and
 * [encoder] keys of another training task, and keys another key switches
 * off (encoder.zero with a rate code, trace keys without traces, ...). */
#include <string.h>
#include "sim/app/app.h"
#include "sim/app/spec.h"

/* The keys a network run reads outside its instance sections. */
static const char *const net_keys[] = {
    "task.name", "sim.seed", "sim.threads", "sim.placement", "sim.topology", "sim.dt_ms", "sim.time_ms",
    "output.dir", "output.progress", "output.traces", "output.log_every_s", NULL,
};

/* The keys only task.name = events reads. */
static const char *const events_keys[] = {
    "task.train_file", "task.test_file", "task.val_file", "task.channels", "task.shape", "encoder.merge", NULL,
};

/* The [task] and [encoder] keys task.name = events reads (the others belong
 * to other tasks). */
static const char *const events_reads[] = {
    "task.name", "task.train_file", "task.test_file", "task.val_file", "task.channels", "task.shape",
    "task.validation", "task.steps", "encoder.merge", NULL,
};

static int in_names(const char *const *list, const char *name)
{
    for (int i = 0; list[i]; i++)
        if (!strcmp(list[i], name)) return 1;
    return 0;
}

static int is_net_key(const char *name)
{
    for (int i = 0; net_keys[i]; i++)
        if (!strcmp(net_keys[i], name)) return 1;
    return 0;
}

/* Keys whose 0 means "none" (model.hidden = 0: no LSTM; model.delta_h = 0:
 * exact), so --set KEY=0 may clear them when a config is switched to another
 * model.type: set to 0, they are never refused below. */
static const char *const zero_off[] = { "model.hidden", "model.delta_x", "model.delta_h", "train.delta_l1", NULL };

/* Where a training key has no effect: the tasks and model types (space
 * separated, NULL = none) that do not read it, and who does read it. A task
 * or model type not listed (a new one) is never refused here. */
static const struct {
    const char *key, *no_task, *no_model, *read_by;
} g_effect[] = {
    { "task.data_dir", "spotting twoseq", NULL, "task.name = tmnist or speech (the data folder)" },
    { "task.keywords", "spotting twoseq tmnist", NULL, "task.name = speech" },
    { "task.silence", "spotting twoseq tmnist", NULL, "task.name = speech" },
    { "task.silence_clips", "spotting twoseq tmnist", NULL, "task.name = speech" },
    { "task.cache_dir", "spotting twoseq tmnist", NULL, "task.name = speech (the feature cache)" },
    { "task.noise_dir", "spotting twoseq tmnist", NULL, "task.name = speech" },
    { "task.noise_prob", "spotting twoseq tmnist", NULL, "task.name = speech" },
    { "task.noise_volume", "spotting twoseq tmnist", NULL, "task.name = speech" },
    { "task.time_shift_ms", "spotting twoseq tmnist", NULL, "task.name = speech" },
    { "task.validation", "spotting twoseq speech", NULL,
      "task.name = tmnist (speech splits by validation_list.txt, the generators make a fresh set)" },
    { "task.steps", "tmnist speech", NULL,
      "task.name = spotting or twoseq (tmnist: encoder.steps; speech: encoder.context)" },
    { "task.run_length", "twoseq tmnist speech", NULL, "task.name = spotting" },
    { "task.mean", "spotting tmnist speech", NULL, "task.name = twoseq" },
    { "task.sigma_min", "spotting tmnist speech", NULL, "task.name = twoseq" },
    { "task.sigma_max", "spotting tmnist speech", NULL, "task.name = twoseq" },
    { "encoder.steps", "spotting twoseq speech", NULL, "task.name = tmnist (the image code)" },
    { "encoder.zero", "spotting twoseq speech", NULL, "task.name = tmnist (the latency code)" },
    { "encoder.type", "spotting twoseq speech", NULL, "task.name = tmnist (the image code)" },
    { "encoder.shift", "spotting twoseq speech", NULL, "task.name = tmnist (training augmentation)" },
    { "encoder.drop", "spotting twoseq speech", NULL, "task.name = tmnist (training augmentation)" },
    { "encoder.mel_bands", "spotting twoseq tmnist", NULL, "task.name = speech (the features)" },
    { "encoder.context", "spotting twoseq tmnist", NULL, "task.name = speech (the features)" },
    { "encoder.fmin_hz", "spotting twoseq tmnist", NULL, "task.name = speech (the features)" },
    { "encoder.fmax_hz", "spotting twoseq tmnist", NULL, "task.name = speech (the features)" },
    { "model.hidden", NULL, "convlstm snn", "model.type = lstm (convlstm: model.channels; snn: model.layers)" },
    { "model.delta_x", NULL, "snn nir", "model.type = lstm or convlstm (delta events of the input channels)" },
    { "model.delta_h", NULL, "snn nir", "model.type = lstm or convlstm (delta events of the hidden units)" },
    { "train.delta_l1", NULL, "convlstm snn nir", "model.type = lstm (the L1 penalty on the hidden units' change)" },
    { "model.channels", NULL, "lstm snn", "model.type = convlstm" },
    { "model.kernel", NULL, "lstm snn", "model.type = convlstm (snn: the kK of a conv layer in model.layers)" },
    { "model.layers", NULL, "lstm convlstm", "model.type = snn" },
    { "model.v_th", NULL, "lstm convlstm", "model.type = snn" },
    { "model.tau", NULL, "lstm convlstm", "model.type = snn" },
    { "model.lens", NULL, "lstm convlstm", "model.type = snn" },
    { "model.surrogate", NULL, "lstm convlstm", "model.type = snn" },
    { "model.reset", NULL, "lstm convlstm", "model.type = snn" },
    { "model.bias", NULL, "lstm convlstm", "model.type = snn" },
    { "model.head", NULL, "snn", "model.type = lstm or convlstm (an SNN's layers are all in model.layers)" },
    { "train.threshold", NULL, "snn", "model.type = lstm or convlstm (an SNN answers at its first output spike, "
                                      "at model.v_th)" },
};

/* Is word a space-separated item of list (NULL: none)? */
static int in_list(const char *list, const char *word)
{
    const size_t n = strlen(word);
    for (const char *p = list; p && *p; p += strcspn(p, " "), p += *p == ' ')
        if (strcspn(p, " ") == n && !strncmp(p, word, n)) return 1;
    return 0;
}

/* Is numeric key (int or float, by its spec row) 0? */
static int is_zero(const rc_cfg *cfg, const char *key)
{
    for (size_t i = 0; i < rc_nspec; i++) {
        const size_t sl = strlen(rc_spec[i].section);
        if (strncmp(key, rc_spec[i].section, sl) || key[sl] != '.' || strcmp(key + sl + 1, rc_spec[i].key)) continue;
        return rc_spec[i].type == RC_CFG_INT ? rc_cfg_get_int(cfg, key) == 0 : rc_cfg_get_float(cfg, key) == 0;
    }
    return 0;
}

rc_status rc_app_check_model_keys(const rc_cfg *cfg, const char *path, rc_err *err)
{
    const char *task = rc_cfg_get_str(cfg, "task.name"), *type = rc_cfg_get_str(cfg, "model.type");
    for (size_t i = 0; i < sizeof g_effect / sizeof *g_effect; i++) {
        if (!rc_cfg_is_set(cfg, g_effect[i].key)) continue;
        if (in_names(zero_off, g_effect[i].key) && is_zero(cfg, g_effect[i].key)) continue;
        const int bad_task = in_list(g_effect[i].no_task, task), bad_model = in_list(g_effect[i].no_model, type);
        if (bad_task || bad_model)
            return rc_err_set(err, RC_ERR_CONFIG, "%s: %s has no effect with %s = %s: only %s reads it; remove it",
                              path, g_effect[i].key, bad_task ? "task.name" : "model.type", bad_task ? task : type,
                              g_effect[i].read_by);
    }
    /* Keys that another key of the same config switches off. */
    static const struct { const char *key, *by, *off, *reader; } dep[] = {
        { "encoder.zero", "encoder.type", "rate", "the latency code" },
        { "task.silence_clips", "task.silence", "false", "task.silence = true" },
        { "task.noise_prob", "task.noise_dir", "none", "a noise folder" },
        { "task.noise_volume", "task.noise_dir", "none", "a noise folder" },
        { "output.trace_layers", "output.traces", "false", "traces.h5 (output.traces = true)" },
        { "output.trace_examples", "output.traces", "false", "traces.h5 (output.traces = true)" },
        { "output.trace_after_spike", "output.traces", "false", "traces.h5 (output.traces = true)" },
        { "output.log_every_s", "output.progress", "off", "the progress log (output.progress = auto or log)" },
        { "output.log_every_s", "output.progress", "line", "the progress log (output.progress = auto or log)" },
    };
    for (size_t i = 0; i < sizeof dep / sizeof *dep; i++) {
        if (!rc_cfg_is_set(cfg, dep[i].key)) continue;
        const char *v = !strcmp(dep[i].by, "task.silence") || !strcmp(dep[i].by, "output.traces")
                            ? (rc_cfg_get_bool(cfg, dep[i].by) ? "true" : "false")
                            : rc_cfg_get_str(cfg, dep[i].by);
        if (!strcmp(v, dep[i].off))
            return rc_err_set(err, RC_ERR_CONFIG, "%s: %s has no effect with %s = %s: only %s reads it; remove it",
                              path, dep[i].key, dep[i].by, dep[i].off, dep[i].reader);
    }
    return RC_OK;
}

rc_status rc_app_check_task_keys(const rc_cfg *cfg, const char *path, rc_err *err)
{
    const char *task = rc_cfg_get_str(cfg, "task.name");
    const int net = !strcmp(task, "network");
    for (size_t i = 0; i < rc_nspec; i++) {
        const rc_cfg_spec *s = &rc_spec[i];
        const size_t sl = strlen(s->section);
        if (sl > 2 && !strcmp(s->section + sl - 2, ".*")) {
            if (i > 0 && !strcmp(rc_spec[i - 1].section, s->section)) continue; /* one check per template */
            const char *inst[1];
            if (!net && rc_cfg_instances(cfg, s->section, inst, 1))
                return rc_err_set(err, RC_ERR_CONFIG,
                                  "%s: section [%s] has no effect for task.name = %s; expected it only in a "
                                  "network config (task.name = network)", path, inst[0], task);
            continue;
        }
        char name[128];
        snprintf(name, sizeof name, "%s.%s", s->section, s->key);
        if (!rc_cfg_is_set(cfg, name)) continue;
        if (net && !is_net_key(name))
            return rc_err_set(err, RC_ERR_CONFIG,
                              "%s: %s has no effect for task.name = network; expected only sim.*, "
                              "output.dir/progress/traces/log_every_s and the [population.*], [projection.*], "
                              "[source.*] and [record.*] sections", path, name);
        if (strcmp(task, "events") && in_names(events_keys, name))
            return rc_err_set(err, RC_ERR_CONFIG, "%s: %s has no effect for task.name = %s; expected it only "
                              "with task.name = events", path, name, task);
        if (!strcmp(task, "events") && (!strncmp(name, "task.", 5) || !strncmp(name, "encoder.", 8)) &&
            !in_names(events_reads, name))
            return rc_err_set(err, RC_ERR_CONFIG, "%s: %s has no effect for task.name = events; expected of [task] "
                              "and [encoder] only train_file, test_file, val_file, channels, shape, validation, "
                              "steps and encoder.merge", path, name);
        if (!net && !strcmp(name, "sim.time_ms"))
            return rc_err_set(err, RC_ERR_CONFIG,
                              "%s: sim.time_ms has no effect for task.name = %s; expected it only in a network "
                              "config (a training run's length is train.epochs or train.examples)", path, task);
    }
    return net ? RC_OK : rc_app_check_model_keys(cfg, path, err);
}
