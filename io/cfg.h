/* cfg.h — INI configuration files checked against a schema.
 *
 * Format: `[section]` headers, `key = value` lines, `#` or `;` comments (whole
 * line, or after a value when preceded by whitespace), blank lines. Keys are
 * addressed as "section.key". Every key a program accepts is declared once in
 * an rc_cfg_spec table with its type, default, range and help text; the table
 * is the single source for parsing, validation, `--help` and the README.
 *
 * Errors are user errors (RC_ERR_CONFIG) with messages of the form
 *   FILE:LINE: message naming what was found and what was expected
 * e.g.  "net.cfg:7: unknown key 'batchsize' in [train] (did you mean 'batch'?)"
 *       "net.cfg:9: train.threshold = 1.5 is out of range, expected a number in [0.5, 1]"
 *       "net.cfg: missing required key model.hidden (LSTM hidden units)"
 * and `--set` overrides report "--set train.batch=abc: ..." instead of FILE:LINE.
 *
 * Instance sections: a spec row whose section is "NAME.*" (e.g. "population.*")
 * belongs to a template. A file then holds any number of instances of it,
 * [population.E], [population.I], ..., each with the template's keys, checked
 * like any section (types, ranges, defaults, unknown keys, required keys) and
 * named in messages by the instance: "net.cfg:4: population.E.size = -1 is out
 * of range, ...". Instance names are [A-Za-z0-9_]+. An instance exists once its
 * header appears in a loaded file (all its keys at their defaults until set);
 * a template with no instance is fine. Its keys are addressed as
 * "population.E.size" by the getters and by --set. --set never creates an
 * instance: "--set population.X.size=1" where no file declared [population.X]
 * is an error that lists the instances there are (a typo must not silently
 * add a population). The spec may not declare both [NAME] and [NAME.*]. */
#ifndef RC_CFG_H
#define RC_CFG_H

#include <stddef.h>
#include "base/status.h"

typedef enum {
    RC_CFG_INT,        /* decimal integer (int64), range [min, max]            */
    RC_CFG_FLOAT,      /* real number (strtod; no nan/inf), range [min, max]    */
    RC_CFG_BOOL,       /* true/false, yes/no, on/off, 1/0                       */
    RC_CFG_STRING,     /* any non-empty text (trimmed)                          */
    RC_CFG_ENUM,       /* one of `choices`, a '|'-separated list, e.g. "rc|eos" */
    RC_CFG_INT_LIST,   /* comma-separated ints, each in [min, max]; may be empty */
    RC_CFG_FLOAT_LIST, /* comma-separated reals, each in [min, max]; may be empty */
} rc_cfg_type;

typedef struct {
    const char *section;  /* "train"                                  */
    const char *key;      /* "threshold"                              */
    rc_cfg_type type;
    const char *def;      /* default as text; NULL = required key     */
    double min, max;      /* inclusive range for numbers / list items */
    const char *choices;  /* RC_CFG_ENUM only                         */
    const char *help;     /* one line for --help and the README       */
} rc_cfg_spec;

typedef struct rc_cfg rc_cfg;

/* A config bound to a spec table (which must outlive it); all keys hold their
 * defaults until a file or --set changes them. NULL on allocation failure. */
rc_cfg *rc_cfg_new(const rc_cfg_spec *spec, size_t nspec);
void rc_cfg_free(rc_cfg *cfg); /* NULL is a no-op */

/* Config files larger than this are refused (a config is small text; this
 * keeps `rcsim run /dev/zero` from growing memory without bound). */
#define RC_CFG_MAX_BYTES (1 << 20)

/* Parses the file at `path` over the current values. Rejects: unknown sections,
 * unknown keys, a key given twice in the file, lines that are neither header,
 * key = value, comment nor blank, values that do not parse as their type or
 * are out of range. Stops at the first error. */
rc_status rc_cfg_load_file(rc_cfg *cfg, const char *path, rc_err *err);

/* Same, from a string (for tests and for config text stored in checkpoints);
 * `name` is used in place of the file name in messages. */
rc_status rc_cfg_load_string(rc_cfg *cfg, const char *name, const char *text, rc_err *err);

/* Applies one "section.key=value" override (from --set). */
rc_status rc_cfg_set(rc_cfg *cfg, const char *assignment, rc_err *err);

/* After all files and overrides: every required key (def == NULL) must be set.
 * The message names the file loaded last (or "config" if none). */
rc_status rc_cfg_check_required(const rc_cfg *cfg, rc_err *err);

/* Typed getters by "section.key", or "tmpl.NAME.key" for an instance. Asking for a key not in the spec, or with the
 * wrong type, is a programming error (RC_ASSERT). */
long long   rc_cfg_get_int(const rc_cfg *cfg, const char *name);
double      rc_cfg_get_float(const rc_cfg *cfg, const char *name);
int         rc_cfg_get_bool(const rc_cfg *cfg, const char *name);
const char *rc_cfg_get_str(const rc_cfg *cfg, const char *name);   /* STRING or ENUM */
/* Lists: returns the number of items, writes at most `cap` of them. */
size_t rc_cfg_get_int_list(const rc_cfg *cfg, const char *name, long long *out, size_t cap);
size_t rc_cfg_get_float_list(const rc_cfg *cfg, const char *name, double *out, size_t cap);
/* Marks every key whose value equals its spec default as not given (for a
 * config read back from the full text rcsim stored: there every key is
 * written, but only the ones that differ from the defaults were chosen).
 * Instance sections are left as they are. NOMEM if the defaults cannot be
 * built. */
rc_status rc_cfg_forget_defaults(rc_cfg *cfg, rc_err *err);

/* Was the key given explicitly (file or --set) rather than defaulted? */
int rc_cfg_is_set(const rc_cfg *cfg, const char *name);

/* The instances of template `tmpl` ("population" or "population.*", which the
 * spec must declare; else RC_ASSERT), in the order their headers first
 * appeared. Returns their number and writes at most `cap` full section names
 * ("population.E": prefix them to ".key" for the getters; the instance name
 * is what follows the first '.'). The names belong to cfg and live until
 * rc_cfg_free. */
size_t rc_cfg_instances(const rc_cfg *cfg, const char *tmpl, const char **names, size_t cap);

/* The effective config (every key, defaults included, in spec order; a
 * template is replaced by its instances in order, each as its own section
 * [population.E] / "population.E": {...}) as
 *   INI text: "[section]\nkey = value\n..."                 (caller frees)
 *   a JSON object: {"section": {"key": value, ...}, ...}   (caller frees)
 * JSON values are typed: numbers unquoted, bools true/false, lists as arrays,
 * strings quoted and escaped. */
char *rc_cfg_to_ini(const rc_cfg *cfg);
char *rc_cfg_to_json(const rc_cfg *cfg, int indent);

/* Writes the "--help" key table (section.key, type/range, default, help) to f;
 * template rows appear as "population.<name>.key". */
void rc_cfg_print_help(const rc_cfg_spec *spec, size_t nspec, FILE *f);

#endif
