/* h5err.c — HDF5 error-stack text for rcsim's messages (see h5err.h).
 * One copy of what checkpoint.c and traces.c both need: the API-level
 * failure plus its innermost cause, carried from the failing call to the
 * message that reports it. */
#include <stdio.h>
#include <string.h>

#include <hdf5.h>

#include "io/h5err.h"

typedef struct { char outer[200], inner[200]; unsigned n; } rc_h5err_text;

static herr_t rc_h5err_walk(unsigned n, const H5E_error2_t *e, void *p)
{
    rc_h5err_text *s = p;
    const char *d = e->desc && *e->desc ? e->desc : e->func_name;
    if (n == 0) snprintf(s->outer, sizeof s->outer, "%s", d ? d : "?");
    snprintf(s->inner, sizeof s->inner, "%s", d ? d : "?");
    s->n = n + 1;
    return 0;
}

/* HDF5 clears its error stack on entry to every API call, the H5?close calls
 * of our cleanup included, so the reason is copied out where a call fails
 * (rc_h5err_note) and put into the message later (rc_h5err_msg). One line:
 * the API-level failure plus the innermost cause, e.g. "unable to open file
 * (truncated file: eof = ...)" or "unable to create file (Permission
 * denied)". Serial HDF5 is single-threaded anyway. */
static char rc_h5err_why[440];

void rc_h5err_note(void)
{
    if (H5Eget_num(H5E_DEFAULT) <= 0) return; /* keep the earlier note */
    rc_h5err_text s = { "", "", 0 };
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, rc_h5err_walk, &s);
    H5Eclear2(H5E_DEFAULT);
    if (s.n == 1 || !strcmp(s.outer, s.inner)) snprintf(rc_h5err_why, sizeof rc_h5err_why, "%s", s.outer);
    else snprintf(rc_h5err_why, sizeof rc_h5err_why, "%s (%s)", s.outer, s.inner);
}

const char *rc_h5err_msg(char *buf, size_t cap)
{
    rc_h5err_note();
    snprintf(buf, cap, "%s", *rc_h5err_why ? rc_h5err_why : "HDF5 call failed");
    rc_h5err_why[0] = 0;
    return buf;
}

/* Entry of every public function: no stale reason from an earlier call. */
void rc_h5err_reset(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* we report errors ourselves */
    H5Eclear2(H5E_DEFAULT);
    rc_h5err_why[0] = 0;
}
