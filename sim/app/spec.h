/* spec.h — every configuration key rcsim accepts (the single source for
 * parsing, --help and the README's key table). */
#ifndef RC_SPEC_H
#define RC_SPEC_H
#include <stddef.h>
#include "io/cfg.h"

extern const rc_cfg_spec rc_spec[];
extern const size_t rc_nspec;

#endif
