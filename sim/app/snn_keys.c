/* snn_keys.c — the [model] keys of the recurrent, adaptive and readout LIF
 * layers (rfcN, rfcNa, liN; models/lif.h) and the rule that a LIF key with
 * no layer to read it is an error (model.tau in a network of rfc/li layers
 * only, model.alif_rho without an rfcNa layer, ...). Called by snn_shape
 * (setup.c) once the layers are known. */
#include <string.h>
#include "sim/app/app.h"

rc_status rc_app_snn_keys(const rc_cfg *cfg, const char *cfg_path, rc_lif_shape *sn, rc_err *err)
{
    sn->tau_rec = (float)rc_cfg_get_float(cfg, "model.tau_rec");
    sn->alif_rho = (float)rc_cfg_get_float(cfg, "model.alif_rho");
    sn->alif_beta = (float)rc_cfg_get_float(cfg, "model.alif_beta");
    sn->tau_out = (float)rc_cfg_get_float(cfg, "model.tau_out");
    sn->vout = (float)rc_cfg_get_float(cfg, "model.v_out");
    sn->learn_tau = rc_cfg_get_bool(cfg, "model.learn_tau");
    int nrec = 0, nada = 0, nff = 0, nspk = 0; /* rfc, rfcNa, conv/fc, spiking layers */
    for (int l = 0; l < sn->nl; l++) {
        const rc_lif_layer *L = &sn->L[l];
        nrec += L->rec; nada += L->adapt;
        nff += L->kind != RC_LIF_POOL && !L->rec && !L->li;
        nspk += L->kind != RC_LIF_POOL && !L->li;
    }
    const struct { const char *key; int used; const char *needs; } only[] = {
        { "model.tau", nff, "a convCkK or fcN layer" }, { "model.v_th", nspk, "a spiking layer" },
        { "model.reset", nspk, "a spiking layer" }, { "model.lens", nspk, "a spiking layer" },
        { "model.surrogate", nspk, "a spiking layer" },
        { "model.tau_rec", nrec, "an rfcN or rfcNa layer" }, { "model.learn_tau", nrec, "an rfcN or rfcNa layer" }, { "model.alif_rho", nada, "an rfcNa layer" },
        { "model.alif_beta", nada, "an rfcNa layer" }, { "model.tau_out", sn->L[sn->nl - 1].li, "an liN readout" },
        { "model.v_out", sn->L[sn->nl - 1].li, "an liN readout" },
    };
    for (size_t q = 0; q < sizeof only / sizeof only[0]; q++)
        if (!only[q].used && rc_cfg_is_set(cfg, only[q].key))
            return rc_err_set(err, RC_ERR_CONFIG, "%s: %s has no effect in model.layers = %s (it needs %s; remove it)",
                              cfg_path, only[q].key, rc_cfg_get_str(cfg, "model.layers"), only[q].needs);
    return RC_OK;
}
