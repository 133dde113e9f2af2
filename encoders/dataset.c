/* dataset.c — dataset lifetime helpers. */
#include <stdlib.h>
#include "encoders/dataset.h"

void rc_dataset_free(rc_dataset *ds)
{
    if (!ds) return;
    if (ds->free) ds->free(ds);
    free(ds->priv);
    free(ds);
}

rc_dataset *rc_dataset_new(const char *name, int T, int nin, int nclass, uint64_t seed,
                           rc_status (*get)(const rc_dataset *, rc_split, int64_t, rc_events *, rc_example_info *),
                           void (*fr)(rc_dataset *), void *priv)
{
    rc_dataset *ds = priv ? calloc(1, sizeof *ds) : NULL;
    if (!ds) {
        free(priv);
        return NULL;
    }
    *ds = (rc_dataset){ .name = name, .T = T, .nin = nin, .nclass = nclass, .size = { -1, -1, -1 },
                        .seed = seed, .get = get, .free = fr, .priv = priv };
    return ds;
}
