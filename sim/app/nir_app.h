/* nir_app.h — NIR export and import of rcsim's spiking networks (model.type
 * = snn), between rc_lif_shape + the parameter block and io/nir's chain.
 *
 *   nir_convert.c  rcsim LIF layers <-> NIR nodes (layouts, the τ/β convention)
 *   nir_cmd.c      `rcsim export-nir CFG --model model.h5 --out net.nir`
 *
 * The convention (README, "NIR export and import"): NIR's LIF is the ODE
 * τ·dv/dt = (v_leak − v) + r·I with a spike when v > v_threshold and v ←
 * v_reset after it. With forward Euler over a step dt, τ = dt/(1 − β),
 * r = τ/dt and v_leak = 0 it is v_t = β·v_{t−1} + I_t, rcsim's update; dt =
 * 1e-4 s as snnTorch and Norse export. /node/metadata carries dt, rcsim's
 * sim.dt_ms, β itself, model.bias and the reset mode (zero = rcsim's mult,
 * or subtract, which NIR's LIF cannot express). */
#ifndef RC_NIR_APP_H
#define RC_NIR_APP_H

#include "base/status.h"
#include "io/cfg.h"
#include "io/nir.h"
#include "models/lif.h"
#include "sim/app/run.h"

#define RC_NIR_DT 1e-4 /* s: the dt of the τ = dt/(1 − β) convention */

/* The NIR chain of shape sn with parameters P (rc_lif_layout's offsets);
 * dt_ms: sim.dt_ms, for the metadata. Arrays malloc'd into n (rc_nir_free). */
rc_status rc_nir_from_lif(const rc_lif_shape *sn, const float *P, double dt_ms, rc_nir_net *n, rc_err *err);

/* The LIF network a NIR chain describes, for an input of cin×h×w (an image)
 * or of cin values (h = w = 1): sn gets its layers, V_th, τ (= β), reset and
 * bias; P (optional, rc_lif_layout(sn)'s size) its weights. Errors name the
 * config, the file and the node: RC_ERR_CONFIG where the chain does not fit
 * the task's data, RC_ERR_DATA where it has parameters rcsim's LIF cannot
 * take (τ or V_th differing between neurons, v_leak or v_reset ≠ 0,
 * r ≠ τ/dt, τ < dt). */
rc_status rc_nir_to_lif(const rc_nir_net *n, const char *cfg_path, const char *nir_path, int cin, int h, int w,
                        rc_lif_shape *sn, float *P, rc_err *err);

/* Reads the file of model.nir and rc_nir_to_lif's it (errors name cfg_path
 * and the file). */
rc_status rc_app_nir_load(const rc_cfg *cfg, const char *cfg_path, int cin, int h, int w, rc_lif_shape *sn, float *P,
                          rc_err *err);

/* Config checks: model.type = nir is refused (use snn + model.nir), and
 * model.nir with another model type or with keys the file replaces. */
rc_status rc_app_nir_check_keys(const rc_cfg *cfg, const char *cfg_path, rc_err *err);

/* `rcsim export-nir`: a->cfg_path, a->sets, a->model; out: the NIR path. */
rc_status rc_export_nir(const rc_run_args *a, const char *out, rc_err *err);

/* The command line of `rcsim export-nir` (argv after the command): its exit
 * status (0, 1 runtime, 2 config or usage). */
int rc_export_nir_main(int argc, char **argv);

#endif
