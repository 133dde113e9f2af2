/* fuzz_cfg.c — the config parser with rcsim's own schema (sim/app/spec.c)
 * and --set. Input: config text, optionally followed by a line "--set" and
 * one assignment per line. Oracles besides the sanitizers: every error
 * message is one line; a config that loads writes INI that loads again to
 * the same INI (checkpoints depend on that round trip). */
#include <string.h>
#include "io/cfg.h"
#include "sim/app/spec.h"
#include "tests/fuzz/fuzz_util.h"

static void one_line(const rc_err *e)
{
    if (strchr(e->msg, '\n') || strchr(e->msg, '\r') || strchr(e->msg, '\033')) {
        fprintf(stderr, "message is not one line: %s\n", e->msg);
        abort();
    }
}

static void roundtrip(const rc_cfg *cfg)
{
    char *ini = rc_cfg_to_ini(cfg), *json = rc_cfg_to_json(cfg, 2);
    rc_cfg *again = rc_cfg_new(rc_spec, rc_nspec);
    if (ini && again) {
        rc_err e2 = { "" };
        if (rc_cfg_load_string(again, "roundtrip", ini, &e2)) {
            fprintf(stderr, "to_ini output does not load: %s\n", e2.msg);
            abort();
        }
        char *ini2 = rc_cfg_to_ini(again);
        if (ini2 && strcmp(ini, ini2)) {
            fprintf(stderr, "to_ini round trip differs\n");
            abort();
        }
        free(ini2);
    }
    rc_cfg_free(again);
    free(ini);
    free(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char marker[] = "\n--set\n";
    const size_t ml = sizeof marker - 1;
    size_t text = size, sets = size;
    for (size_t i = 0; i + ml <= size; i++)
        if (!memcmp(data + i, marker, ml)) {
            text = i;
            sets = i + ml;
            break;
        }
    rc_cfg *cfg = rc_cfg_new(rc_spec, rc_nspec);
    if (!cfg) return 0;
    rc_err e = { "" };
    rc_status st = rc_cfg_load_file(cfg, fuzz_file(data, text, ".cfg"), &e);
    for (size_t p = sets; !st && p < size;) { /* one --set per line; a NUL ends the argument, as in argv */
        size_t n = 0;
        while (p + n < size && data[p + n] != '\n') n++;
        char *arg = malloc(n + 1);
        if (!arg) break;
        memcpy(arg, data + p, n);
        arg[n] = 0;
        rc_status s2 = rc_cfg_set(cfg, arg, &e);
        if (s2) one_line(&e); /* a failed --set changes nothing: go on */
        free(arg);
        p += n + 1;
    }
    if (st) one_line(&e);
    if (!st && !(st = rc_cfg_check_required(cfg, &e))) roundtrip(cfg);
    else one_line(&e);
    rc_cfg_free(cfg);
    return 0;
}
