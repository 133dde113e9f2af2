/* nir_cmd.c — `rcsim export-nir CFG --model DIR/model.h5 --out net.nir`:
 * builds what `rcsim eval` builds from CFG, loads the checkpoint's kept model
 * (the one the run tested) and writes it as a NIR graph (nir_convert.c,
 * io/nir.c) atomically: an earlier net.nir survives any failure. */
#include <stdlib.h>
#include <string.h>
#include "sim/app/app.h"
#include "sim/app/nir_app.h"

rc_status rc_export_nir(const rc_run_args *a, const char *out, rc_err *err)
{
    rc_app_setup S;
    rc_app_state ts = { 0 };
    float *kept = NULL;
    rc_nir_net n = { 0 };
    rc_status st = rc_app_setup_build(&S, a, err);
    if (!st && S.net->s.core != RC_CORE_LIF)
        st = rc_err_set(err, RC_ERR_CONFIG, "%s: model.type = %s: NIR export is for spiking networks; expected model.type = snn",
                        a->cfg_path, rc_cfg_get_str(S.cfg, "model.type"));
    if (!st && !(kept = malloc(S.net->nparams * sizeof *kept))) st = rc_err_set(err, RC_ERR_NOMEM, "out of memory");
    if (!st) st = rc_app_state_load(&S, &ts, kept, a->model, 0, err);
    if (!st) st = rc_nir_from_lif(&S.net->s.snn, kept, rc_cfg_get_float(S.cfg, "sim.dt_ms"), &n, err);
    if (!st) st = rc_nir_write(out, &n, err);
    if (!st && !a->quiet) {
        char d[256];
        rc_lif_describe(&S.net->s.snn, d, sizeof d);
        fprintf(stderr, "rcsim export-nir: wrote %s (%s, beta %g -> tau %g s at dt %g s)\n", out, d,
                (double)S.net->s.snn.tau, RC_NIR_DT / (1.0 - S.net->s.snn.tau), RC_NIR_DT);
    }
    rc_nir_free(&n);
    free(kept);
    rc_app_setup_free(&S);
    return st;
}

static void usage(FILE *f)
{
    fprintf(f,
        "usage: rcsim export-nir CFG --model DIR/model.h5 --out net.nir [--set section.key=value]...\n\n"
        "Writes the kept model of a checkpoint of a model.type = snn run as a NIR graph\n"
        "(Neuromorphic Intermediate Representation, HDF5; snnTorch, Norse, Lava, Sinabs,\n"
        "Rockpool read it): Input, Conv2d, LIF, AvgPool2d, Flatten, Affine/Linear, Output.\n"
        "LIF: tau = dt/(1 - beta), r = tau/dt, v_leak = 0, v_reset = 0 with dt = 1e-4 s;\n"
        "/node/metadata holds dt, rcsim's sim.dt_ms, beta, model.bias and the reset mode.\n"
        "A run loads such a file with model.type = snn and model.nir = FILE.\n");
}

int rc_export_nir_main(int argc, char **argv)
{
    rc_run_args a = { 0 };
    const char *out = NULL;
    const char **sets = calloc((size_t)argc + 1, sizeof *sets);
    if (!sets) return 1;
    a.sets = sets;
    int rc = 2;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        const int has = i + 1 < argc;
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) { usage(stdout); rc = 0; goto done; }
        else if ((!strcmp(s, "--set") || !strcmp(s, "--model") || !strcmp(s, "--out")) && !has) {
            fprintf(stderr, "rcsim export-nir: %s needs a value; see rcsim export-nir --help\n", s);
            goto done;
        } else if (!strcmp(s, "--set")) sets[a.nset++] = argv[++i];
        else if (!strcmp(s, "--model")) a.model = argv[++i];
        else if (!strcmp(s, "--out")) out = argv[++i];
        else if (s[0] == '-' || a.cfg_path) {
            fprintf(stderr, "rcsim export-nir: unexpected argument '%.200s'; see rcsim export-nir --help\n", s);
            goto done;
        } else a.cfg_path = s;
    }
    if (!a.cfg_path || !a.model || !out) {
        fprintf(stderr, "rcsim export-nir: missing %s; usage: rcsim export-nir CFG --model DIR/model.h5 --out net.nir\n",
                !a.cfg_path ? "config file (CFG)" : !a.model ? "--model DIR/model.h5" : "--out FILE");
        goto done;
    }
    rc_err err = { "" };
    rc_status st = rc_export_nir(&a, out, &err);
    if (st) fprintf(stderr, "rcsim: %s\n", err.msg[0] ? err.msg : rc_status_str(st));
    rc = st == RC_OK ? 0 : st == RC_ERR_CONFIG || st == RC_ERR_USAGE ? 2 : 1;
done:
    free(sets);
    return rc;
}
