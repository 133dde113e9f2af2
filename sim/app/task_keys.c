/* task_keys.c — a key that has no effect for the chosen task is an error.
 *
 * The spec table holds the keys of every task, so a network config could set
 * train.lr, and a training config could hold a [population.E] section, and
 * neither would do anything. Both are refused here, once the file and the
 * command line are applied, with the key, the task and what the task reads.
 * Keys read by only some training configurations (model.* of another model
 * type, ...) are checked where the network is built. */
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

static int in_list(const char *const *list, const char *name)
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
        if (strcmp(task, "events") && in_list(events_keys, name))
            return rc_err_set(err, RC_ERR_CONFIG, "%s: %s has no effect for task.name = %s; expected it only "
                              "with task.name = events", path, name, task);
        if (!strcmp(task, "events") && (!strncmp(name, "task.", 5) || !strncmp(name, "encoder.", 8)) &&
            !in_list(events_reads, name))
            return rc_err_set(err, RC_ERR_CONFIG, "%s: %s has no effect for task.name = events; expected of [task] "
                              "and [encoder] only train_file, test_file, val_file, channels, shape, validation, "
                              "steps and encoder.merge", path, name);
        if (!net && !strcmp(name, "sim.time_ms"))
            return rc_err_set(err, RC_ERR_CONFIG,
                              "%s: sim.time_ms has no effect for task.name = %s; expected it only in a network "
                              "config (a training run's length is train.epochs or train.examples)", path, task);
    }
    return RC_OK;
}
