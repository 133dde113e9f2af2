/* cfg_impl.h — internals shared by the io/cfg*.c files; not for other code.
 *
 * The config keeps, per spec row, a slot with the parsed value and where it
 * came from; instance sections ([population.E] of template "population.*")
 * have their own slot arrays. The files:
 *   cfg.c        life cycle, loading files and --set, required keys, getters
 *   cfg_value.c  one value: parsing, normalised text, located messages
 *   cfg_names.c  finding sections, keys and instances; did-you-mean messages
 *   cfg_emit.c   INI / JSON / --help output and the "expected ..." phrases */
#ifndef RC_CFG_IMPL_H
#define RC_CFG_IMPL_H

#include <stdint.h>
#include "base/strbuf.h"
#include "io/cfg.h"

#define NONE SIZE_MAX

/* One parsed value. */
typedef struct {
    char *text;      /* normalised text; NULL = required key not given yet */
    long long i;     /* RC_CFG_INT, RC_CFG_BOOL (0/1) */
    double f;        /* RC_CFG_FLOAT */
    long long *ints; /* RC_CFG_INT_LIST */
    double *floats;  /* RC_CFG_FLOAT_LIST */
    size_t n;        /* list length */
} cfg_value;

typedef struct {
    cfg_value v;
    const char *origin; /* interned file name, "--set", or NULL = default */
    int line;           /* line in origin; 0 for --set and defaults */
    unsigned gen;       /* load that set it, to spot a key given twice in one file */
} cfg_slot;

/* One instance section, e.g. [population.E] of the template "population.*". */
typedef struct {
    char *name;       /* full section name "population.E", owned */
    const char *tmpl; /* the spec's spelling of its template, "population.*" */
    cfg_slot *slots;  /* nspec entries; only the template's rows are used */
} cfg_inst;

struct rc_cfg {
    const rc_cfg_spec *spec;
    size_t nspec;
    cfg_slot *slots;    /* one per spec entry; template rows hold parsed defaults, unread */
    cfg_inst *insts;    /* instance sections, in the order first seen */
    size_t ninsts, capinsts;
    char **names;       /* file names loaded, owned; slots point into them */
    size_t nnames, capnames;
    const char *last;   /* name of the file loaded last (check_required) */
    unsigned gen;       /* number of loads so far */
};

/* Where a value came from, for the message prefix. */
typedef struct {
    const char *file;    /* file name (or "spec default") */
    int line;            /* > 0: "FILE:LINE: ", else "FILE: " */
    const char *set_arg; /* non-NULL: "--set ARG: " */
} cfg_loc;

/* User text echoed in messages is clipped so one huge value cannot push the
 * useful part of the message out of the fixed rc_err buffer. */
enum { CLIP_MAX = 120 };
int cfg_clip_len(const char *s);        /* bytes to show, UTF-8 kept whole */
const char *cfg_clip_more(const char *s); /* "..." when clipped, else "" */
#define CLIP_FMT "%.*s%s"
#define CLIP(s) cfg_clip_len(s), (s), cfg_clip_more(s)

/* Lists in messages stop at about this length: the rc_err buffer is finite. */
enum { LIST_MAX = 600 };

/* ---- cfg_value.c ---- */
char *cfg_trim(char *s);          /* in place; returns the first non-blank */
char *cfg_find_comment(char *s);  /* '#' or ';' at the start or after a blank; NULL if none */
/* Shortest text that reads back as x, valid for strtod and JSON. */
void cfg_fmt_double(double x, char buf[32]);
/* rc_err_set with the prefix "FILE:LINE: ", "FILE: " or "--set ARG: " of L. */
rc_status cfg_err(rc_err *err, rc_status st, const cfg_loc *L, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
rc_status cfg_nomem(rc_err *err, const cfg_loc *L);
/* Parses `raw` as a value of row s, shown as sec.key in messages, into *out. */
rc_status cfg_parse_value(const rc_cfg_spec *s, const char *sec, const char *raw, cfg_value *out,
                          const cfg_loc *L, rc_err *err);
void cfg_value_free(cfg_value *v); /* leaves *v zeroed */
/* Why to_ini could not write `value` back, or NULL if it can. */
const char *cfg_unrepresentable(const char *value);

/* ---- cfg_names.c ---- */
int cfg_is_template(const char *section); /* "NAME.*" */
/* Is `cand` a plausible typo of `found`, closer than *best (then updated)? */
int cfg_better_match(const char *found, const char *cand, size_t *best);
size_t cfg_find_key(const rc_cfg *cfg, const char *section, const char *key); /* NONE if absent */
const char *cfg_find_section(const rc_cfg *cfg, const char *section); /* spec spelling or NULL */
const char *cfg_find_template(const rc_cfg *cfg, const char *name, size_t len);
cfg_inst *cfg_find_inst(const rc_cfg *cfg, const char *name, size_t len);
size_t cfg_find_slot(const rc_cfg *cfg, const char *name, cfg_inst **inst);
cfg_slot *cfg_slots_of(const rc_cfg *cfg, const cfg_inst *inst); /* inst NULL: the plain slots */
int cfg_valid_inst_name(const char *s);
int cfg_first_of_section(const rc_cfg_spec *spec, size_t i);
rc_status cfg_unknown_section(const rc_cfg *cfg, const cfg_loc *L, const char *name, rc_err *err);
rc_status cfg_unknown_key(const rc_cfg *cfg, const cfg_loc *L, const char *section, const char *shown,
                          const char *key, rc_err *err);
rc_status cfg_unknown_name(const rc_cfg *cfg, const cfg_loc *L, const char *name, rc_err *err);

/* ---- cfg_emit.c ---- */
int cfg_is_numeric(rc_cfg_type t); /* ints, floats and their lists: ranges apply */
void cfg_choices(rc_strbuf *b, const char *choices); /* "rc|eos" -> "rc, eos" */
/* "an integer in [1, 4096]", ... for row s, in buf; returns buf. */
const char *cfg_expected(const rc_cfg_spec *s, char *buf, size_t size);

#endif
