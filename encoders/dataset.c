/* dataset.c — dataset lifetime helpers. */
#include <stdlib.h>
#include "encoders/dataset.h"

void rc_dataset_free(rc_dataset *ds)
{
    if (!ds) return;
    if (ds->free) ds->free(ds);
    free(ds);
}
