/* cfg.c — INI configuration checked against an rc_cfg_spec table (see cfg.h).
 *
 * Why a schema: every key is declared once, so parsing, range checks, --help
 * and the config echoed into results (to_ini / to_json) cannot drift apart.
 * Each key keeps its value as normalised text (what to_ini writes back) plus
 * the parsed numbers, so getters never reparse, and where it was set (file and
 * line) so a key given twice in one file can point at its first occurrence.
 *
 * rc_cfg_to_ini must round-trip (configs are stored in checkpoints), so values
 * a config file cannot hold are refused where they could enter: a newline, or
 * a '#' / ';' that would start a comment. Spec mistakes (bad defaults, bad
 * ranges) are caught by RC_ASSERT in rc_cfg_new, before any user input.
 * A failed --set changes nothing; a file that fails part-way keeps the values
 * of the lines before the bad one (callers give up on the config anyway). */
#include "io/cfg.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* ---- small string helpers ------------------------------------------------ */

static int is_ws(char c) { return isspace((unsigned char)c); }

static char *trim(char *s)
{
    while (is_ws(*s)) s++;
    size_t n = strlen(s);
    while (n > 0 && is_ws(s[n - 1])) s[--n] = '\0';
    return s;
}

/* A comment starts at '#' or ';' at the start of the text or after
 * whitespace, so values such as "a#b" or "x;y" survive intact. */
static char *find_comment(char *s)
{
    for (size_t i = 0; s[i]; i++)
        if ((s[i] == '#' || s[i] == ';') && (i == 0 || is_ws(s[i - 1]))) return s + i;
    return NULL;
}

/* User text echoed in messages is clipped so one huge value cannot push the
 * useful part of the message out of the fixed rc_err buffer. */
enum { CLIP_MAX = 120 };
static int clip_len(const char *s)
{
    size_t n = strlen(s);
    if (n <= CLIP_MAX) return (int)n;
    n = CLIP_MAX;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--; /* keep UTF-8 whole */
    return (int)n;
}
static const char *clip_more(const char *s) { return strlen(s) > CLIP_MAX ? "..." : ""; }
#define CLIP_FMT "%.*s%s"
#define CLIP(s) clip_len(s), (s), clip_more(s)

/* Growable string; an allocation failure is sticky and reported at the end,
 * which keeps the builders free of per-call error checks. */
typedef struct {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_putn(sbuf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(sbuf *b, const char *s) { sb_putn(b, s, strlen(s)); }

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    char small[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = 1;
        return;
    }
    if ((size_t)n < sizeof small) {
        sb_putn(b, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->oom = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb_putn(b, big, (size_t)n);
    free(big);
}

/* The finished string (caller frees), or NULL if any allocation failed. */
static char *sb_finish(sbuf *b)
{
    if (!b->oom && !b->p) sb_putn(b, "", 0);
    if (b->oom) {
        free(b->p);
        return NULL;
    }
    return b->p;
}

/* Shortest "%.*g" that reads back as the same double, so to_ini round-trips
 * exactly while "0.95" still prints as 0.95, not 0.94999999999999996. Then
 * made friendlier: 10 and 1500000 without an exponent, "1e-08" as "1e-8".
 * Every form is valid both as a strtod input and as a JSON number. */
static void fmt_double(double x, char buf[32])
{
    int p = 1;
    for (; p <= 17; p++) {
        snprintf(buf, 32, "%.*g", p, x);
        if (strtod(buf, NULL) == x) break;
    }
    char *e = strchr(buf, 'e');
    if (!e) return;
    int ex = atoi(e + 1);
    if (ex >= 0 && ex < 16) { /* %g chose an exponent only because p digits were enough */
        char fixed[32];
        snprintf(fixed, sizeof fixed, "%.*f", p - 1 - ex > 0 ? p - 1 - ex : 0, x);
        if (strtod(fixed, NULL) == x) {
            memcpy(buf, fixed, strlen(fixed) + 1);
            return;
        }
    }
    char *d = e + 1, *s = e + 1; /* drop the exponent's '+' and leading zeros */
    if (*s == '-') *d++ = *s++;
    else if (*s == '+') s++;
    while (*s == '0' && s[1]) s++;
    memmove(d, s, strlen(s) + 1);
}

/* ---- "did you mean" --------------------------------------------------- */

/* Optimal-string-alignment distance (Levenshtein plus adjacent transposition,
 * the commonest typo: "trian"). SIZE_MAX when not worth computing. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 256 || lb > 256) return SIZE_MAX; /* nobody mistypes a 257-letter key */
    size_t w = lb + 1;
    size_t *d = malloc((la + 1) * w * sizeof *d);
    if (!d) return SIZE_MAX;
    for (size_t i = 0; i <= la; i++) d[i * w] = i;
    for (size_t j = 0; j <= lb; j++) d[j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t best = d[(i - 1) * w + j] + 1;
            if (d[i * w + j - 1] + 1 < best) best = d[i * w + j - 1] + 1;
            if (d[(i - 1) * w + j - 1] + cost < best) best = d[(i - 1) * w + j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[(i - 2) * w + j - 2] + 1 < best)
                best = d[(i - 2) * w + j - 2] + 1;
            d[i * w + j] = best;
        }
    size_t r = d[la * w + lb];
    free(d);
    return r;
}

/* Is `cand` a plausible typo of `found` and closer than *best? The bound is
 * loose enough for "batchsize" -> "batch" but never suggests a name that
 * shares nothing with what was typed. */
static int better_match(const char *found, const char *cand, size_t *best)
{
    size_t d = edit_distance(found, cand);
    size_t lf = strlen(found), lc = strlen(cand);
    size_t lim = lf / 2 > 2 ? lf / 2 : 2;
    if (d == SIZE_MAX || d > lim || d >= (lf > lc ? lf : lc) || d >= *best) return 0;
    *best = d;
    return 1;
}

/* ---- messages ------------------------------------------------------------ */

static rc_status loc_err(rc_err *err, rc_status st, const cfg_loc *L, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static rc_status loc_err(rc_err *err, rc_status st, const cfg_loc *L, const char *fmt, ...)
{
    char msg[sizeof ((rc_err *)0)->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (L->set_arg) return rc_err_set(err, st, "--set " CLIP_FMT ": %s", CLIP(L->set_arg), msg);
    if (L->line > 0) return rc_err_set(err, st, "%s:%d: %s", L->file, L->line, msg);
    return rc_err_set(err, st, "%s: %s", L->file, msg);
}

static int is_numeric(rc_cfg_type t)
{
    return t == RC_CFG_INT || t == RC_CFG_FLOAT || t == RC_CFG_INT_LIST || t == RC_CFG_FLOAT_LIST;
}
static int is_inty(rc_cfg_type t) { return t == RC_CFG_INT || t == RC_CFG_INT_LIST; }

/* A bound at or beyond what the type can hold means "no bound", so specs can
 * say -INFINITY / DBL_MAX / (double)LLONG_MAX and help stays readable. */
static int has_lo(const rc_cfg_spec *s)
{
    return is_inty(s->type) ? s->min > (double)LLONG_MIN : s->min > -DBL_MAX;
}
static int has_hi(const rc_cfg_spec *s)
{
    return is_inty(s->type) ? s->max < (double)LLONG_MAX : s->max < DBL_MAX;
}

static void sb_range(sbuf *b, const rc_cfg_spec *s)
{
    if (has_lo(s) && has_hi(s)) sb_printf(b, " in [%g, %g]", s->min, s->max);
    else if (has_lo(s)) sb_printf(b, " >= %g", s->min);
    else if (has_hi(s)) sb_printf(b, " <= %g", s->max);
}

/* "rc|eos" -> "rc, eos" */
static void sb_choices(sbuf *b, const char *choices)
{
    for (const char *c = choices; *c; c++) {
        if (*c == '|') sb_puts(b, ", ");
        else sb_putn(b, c, 1);
    }
}

/* What a value of this key should look like, for "expected ..." messages. */
static void sb_expected(sbuf *b, const rc_cfg_spec *s)
{
    switch (s->type) {
    case RC_CFG_INT:
    case RC_CFG_INT_LIST:
        sb_puts(b, has_lo(s) || has_hi(s) ? "an integer" : "a 64-bit integer");
        sb_range(b, s);
        break;
    case RC_CFG_FLOAT:
    case RC_CFG_FLOAT_LIST:
        sb_puts(b, has_lo(s) || has_hi(s) ? "a number" : "a finite number");
        sb_range(b, s);
        break;
    case RC_CFG_BOOL: sb_puts(b, "true/false, yes/no, on/off or 1/0"); break;
    case RC_CFG_STRING: sb_puts(b, "a non-empty string"); break;
    case RC_CFG_ENUM:
        sb_puts(b, "one of ");
        sb_choices(b, s->choices);
        break;
    }
}

/* The type column of --help: "int in [1, 4096]", "bool", "rc|eos", ... */
static void sb_type(sbuf *b, const rc_cfg_spec *s)
{
    switch (s->type) {
    case RC_CFG_INT: sb_puts(b, "int"); break;
    case RC_CFG_FLOAT: sb_puts(b, "float"); break;
    case RC_CFG_BOOL: sb_puts(b, "bool"); break;
    case RC_CFG_STRING: sb_puts(b, "string"); break;
    case RC_CFG_ENUM: sb_puts(b, s->choices); break;
    case RC_CFG_INT_LIST: sb_puts(b, "int list"); break;
    case RC_CFG_FLOAT_LIST: sb_puts(b, "float list"); break;
    }
    if (is_numeric(s->type)) sb_range(b, s);
}

/* Formats sb_expected into a caller buffer for use inside one message. */
static const char *expected_str(const rc_cfg_spec *s, char *buf, size_t size)
{
    sbuf b = { 0 };
    sb_expected(&b, s);
    snprintf(buf, size, "%s", b.oom || !b.p ? "a valid value" : b.p);
    free(b.p);
    return buf;
}

/* ---- value parsing ------------------------------------------------------- */

typedef enum { NUM_OK, NUM_SYNTAX, NUM_NONFINITE, NUM_RANGE } num_result;

static num_result num_int(const rc_cfg_spec *s, const char *t, long long *out)
{
    if (!*t || is_ws(*t)) return NUM_SYNTAX; /* strtoll would skip the blanks */
    char *end;
    errno = 0;
    long long v = strtoll(t, &end, 10);
    if (end == t || *end) return NUM_SYNTAX;
    if (errno == ERANGE || (double)v < s->min || (double)v > s->max) return NUM_RANGE;
    *out = v;
    return NUM_OK;
}

static num_result num_float(const rc_cfg_spec *s, const char *t, double *out)
{
    if (!*t || is_ws(*t)) return NUM_SYNTAX;
    char *end;
    errno = 0;
    double v = strtod(t, &end);
    if (end == t || *end) return NUM_SYNTAX;
    if (isnan(v)) return NUM_NONFINITE;
    if (isinf(v)) return errno == ERANGE ? NUM_RANGE : NUM_NONFINITE; /* 1e999 vs "inf" */
    if (v < s->min || v > s->max) return NUM_RANGE;
    *out = v; /* underflow to a denormal or 0 is fine: it is the nearest value */
    return NUM_OK;
}

static void value_free(cfg_value *v)
{
    free(v->text);
    free(v->ints);
    free(v->floats);
    memset(v, 0, sizeof *v);
}

static rc_status nomem(rc_err *err, const cfg_loc *L)
{
    return loc_err(err, RC_ERR_NOMEM, L, "out of memory");
}

static rc_status parse_list(const rc_cfg_spec *s, const char *sec, const char *raw, char *t, cfg_value *out,
                            const cfg_loc *L, rc_err *err)
{
    const int inty = s->type == RC_CFG_INT_LIST;
    char exp[512];
    if (!*t) { /* empty value = empty list */
        out->text = strdup("");
        return out->text ? RC_OK : nomem(err, L);
    }
    size_t cap = 1;
    for (const char *p = t; *p; p++) cap += *p == ',';
    if (inty) out->ints = malloc(cap * sizeof *out->ints);
    else out->floats = malloc(cap * sizeof *out->floats);
    if (inty ? !out->ints : !out->floats) return nomem(err, L);

    sbuf norm = { 0 };
    rc_status st = RC_OK;
    char *item = t;
    for (size_t idx = 1;; idx++) {
        char *comma = strchr(item, ',');
        if (comma) *comma = '\0';
        char *it = trim(item);
        num_result r;
        char num[32];
        if (!*it) {
            st = loc_err(err, RC_ERR_CONFIG, L,
                         "%s.%s = '" CLIP_FMT "': item %zu is empty, expected a comma-separated list of %s",
                         sec, s->key, CLIP(raw), idx, inty ? "integers" : "numbers");
            break;
        }
        if (inty) {
            r = num_int(s, it, &out->ints[out->n]);
            if (r == NUM_OK) snprintf(num, sizeof num, "%lld", out->ints[out->n]);
        } else {
            r = num_float(s, it, &out->floats[out->n]);
            if (r == NUM_OK) fmt_double(out->floats[out->n], num);
        }
        if (r == NUM_SYNTAX || r == NUM_NONFINITE) {
            st = loc_err(err, RC_ERR_CONFIG, L, "%s.%s = '" CLIP_FMT "': item %zu '" CLIP_FMT "' is not %s",
                         sec, s->key, CLIP(raw), idx, CLIP(it),
                         inty ? "an integer" : r == NUM_SYNTAX ? "a number" : "a finite number");
            break;
        }
        if (r == NUM_RANGE) {
            st = loc_err(err, RC_ERR_CONFIG, L,
                         "%s.%s = '" CLIP_FMT "': item %zu = " CLIP_FMT " is out of range, expected %s",
                         sec, s->key, CLIP(raw), idx, CLIP(it), expected_str(s, exp, sizeof exp));
            break;
        }
        if (out->n++) sb_puts(&norm, ", ");
        sb_puts(&norm, num);
        if (!comma) break;
        item = comma + 1;
    }
    if (st == RC_OK) {
        out->text = sb_finish(&norm);
        if (!out->text) st = nomem(err, L);
    } else {
        free(norm.p);
    }
    return st;
}

static const struct {
    const char *word;
    int value;
} bool_words[] = {
    { "true", 1 }, { "yes", 1 }, { "on", 1 },  { "1", 1 },
    { "false", 0 }, { "no", 0 }, { "off", 0 }, { "0", 0 },
};

/* Parses `raw` as a value of spec entry `s` (shown in messages as sec.key,
 * sec being the instance's name for a template row) into *out (zeroed first; freed
 * again on failure). The same code parses defaults, file values and --set. */
static rc_status parse_value(const rc_cfg_spec *s, const char *sec, const char *raw, cfg_value *out,
                             const cfg_loc *L, rc_err *err)
{
    memset(out, 0, sizeof *out);
    char *copy = strdup(raw);
    if (!copy) return nomem(err, L);
    char *t = trim(copy);
    char exp[512];
    rc_status st = RC_OK;

    if (!*t && s->type != RC_CFG_INT_LIST && s->type != RC_CFG_FLOAT_LIST) {
        st = loc_err(err, RC_ERR_CONFIG, L, "%s.%s has no value, expected %s", sec, s->key,
                     expected_str(s, exp, sizeof exp));
        goto done;
    }
    switch (s->type) {
    case RC_CFG_INT:
    case RC_CFG_FLOAT: {
        num_result r;
        char num[32];
        if (s->type == RC_CFG_INT) {
            r = num_int(s, t, &out->i);
            snprintf(num, sizeof num, "%lld", out->i);
        } else {
            r = num_float(s, t, &out->f);
            fmt_double(out->f, num);
        }
        if (r == NUM_SYNTAX || r == NUM_NONFINITE)
            st = loc_err(err, RC_ERR_CONFIG, L, "%s.%s = '" CLIP_FMT "' is not %s", sec, s->key,
                         CLIP(t),
                         s->type == RC_CFG_INT ? "an integer"
                         : r == NUM_SYNTAX     ? "a number"
                                               : "a finite number");
        else if (r == NUM_RANGE)
            st = loc_err(err, RC_ERR_CONFIG, L, "%s.%s = " CLIP_FMT " is out of range, expected %s",
                         sec, s->key, CLIP(t), expected_str(s, exp, sizeof exp));
        else if (!(out->text = strdup(num)))
            st = nomem(err, L);
        break;
    }
    case RC_CFG_BOOL: {
        size_t k, nw = sizeof bool_words / sizeof bool_words[0];
        for (k = 0; k < nw; k++)
            if (!strcasecmp(t, bool_words[k].word)) break;
        if (k == nw) {
            st = loc_err(err, RC_ERR_CONFIG, L, "%s.%s = '" CLIP_FMT "' is not a boolean, expected %s",
                         sec, s->key, CLIP(t), expected_str(s, exp, sizeof exp));
            break;
        }
        out->i = bool_words[k].value;
        if (!(out->text = strdup(out->i ? "true" : "false"))) st = nomem(err, L);
        break;
    }
    case RC_CFG_STRING:
        if (!(out->text = strdup(t))) st = nomem(err, L);
        break;
    case RC_CFG_ENUM: {
        /* Matched case-insensitively like the bools, stored in the spec's
         * spelling so callers can strcmp against it. */
        const char *c = s->choices, *hit = NULL, *near = NULL;
        size_t best = SIZE_MAX, tl = strlen(t);
        char word[256];
        while (*c) {
            size_t n = strcspn(c, "|");
            if (n == tl && !strncasecmp(c, t, n)) {
                hit = c;
                break;
            }
            snprintf(word, sizeof word, "%.*s", (int)n, c);
            if (better_match(t, word, &best)) near = c;
            c += n + (c[n] == '|');
        }
        if (hit) {
            if (!(out->text = strndup(hit, tl))) st = nomem(err, L);
            break;
        }
        sbuf ch = { 0 };
        sb_choices(&ch, s->choices);
        if (near)
            st = loc_err(err, RC_ERR_CONFIG, L, "%s.%s = '" CLIP_FMT "' is not one of %s (did you mean '%.*s'?)",
                         sec, s->key, CLIP(t), ch.p ? ch.p : s->choices,
                         (int)strcspn(near, "|"), near);
        else
            st = loc_err(err, RC_ERR_CONFIG, L, "%s.%s = '" CLIP_FMT "' is not one of %s", sec,
                         s->key, CLIP(t), ch.p ? ch.p : s->choices);
        free(ch.p);
        break;
    }
    case RC_CFG_INT_LIST:
    case RC_CFG_FLOAT_LIST: st = parse_list(s, sec, raw, t, out, L, err); break;
    }
done:
    free(copy);
    if (st != RC_OK) value_free(out);
    return st;
}

/* Values that to_ini could not write back faithfully. NULL if fine, else why. */
static const char *unrepresentable(const char *value)
{
    if (strchr(value, '\n')) return "contains a newline, which a config file cannot hold";
    char *copy = strdup(value);
    if (!copy) return NULL; /* the parse that follows reports the lack of memory */
    const char *why = find_comment(trim(copy))
        ? "contains '#' or ';' at its start or after a blank, which a config file reads as a comment"
        : NULL;
    free(copy);
    return why;
}

/* ---- lookup -------------------------------------------------------------- */

/* A template section "population.*" holds the rows of every [population.NAME]. */
static int is_template(const char *section)
{
    size_t n = strlen(section);
    return n > 2 && section[n - 2] == '.' && section[n - 1] == '*';
}

/* A section as users see it: "population.<name>" for a template. */
static const char *sec_display(const char *section, char *buf, size_t size)
{
    if (!is_template(section)) return section;
    snprintf(buf, size, "%.*s.<name>", (int)(strlen(section) - 2), section);
    return buf;
}

static size_t find_key(const rc_cfg *cfg, const char *section, const char *key)
{
    for (size_t i = 0; i < cfg->nspec; i++)
        if (!strcmp(cfg->spec[i].section, section) && !strcmp(cfg->spec[i].key, key)) return i;
    return NONE;
}

/* By "section.key", plain sections only. */
static size_t find_name(const rc_cfg_spec *spec, size_t nspec, const char *name)
{
    for (size_t i = 0; i < nspec; i++) {
        size_t ls = strlen(spec[i].section);
        if (is_template(spec[i].section)) continue;
        if (!strncmp(name, spec[i].section, ls) && name[ls] == '.' && !strcmp(name + ls + 1, spec[i].key))
            return i;
    }
    return NONE;
}

/* The spec's spelling of a section, or NULL if no key lives there. */
static const char *find_section(const rc_cfg *cfg, const char *section)
{
    for (size_t i = 0; i < cfg->nspec; i++)
        if (!strcmp(cfg->spec[i].section, section)) return cfg->spec[i].section;
    return NULL;
}

/* The spec's spelling of the template whose prefix is name[0, len), or NULL. */
static const char *find_template(const rc_cfg *cfg, const char *name, size_t len)
{
    for (size_t i = 0; i < cfg->nspec; i++) {
        const char *sec = cfg->spec[i].section;
        if (is_template(sec) && strlen(sec) == len + 2 && !strncmp(sec, name, len)) return sec;
    }
    return NULL;
}

/* The instance whose full name is name[0, len) ("population.E"), or NULL. */
static cfg_inst *find_inst(const rc_cfg *cfg, const char *name, size_t len)
{
    for (size_t k = 0; k < cfg->ninsts; k++)
        if (!strncmp(cfg->insts[k].name, name, len) && !cfg->insts[k].name[len]) return &cfg->insts[k];
    return NULL;
}

/* Where "section.key" or "tmpl.NAME.key" lives: returns the spec row (NONE if
 * nowhere) and sets *inst to the instance, or NULL for a plain section. */
static size_t find_slot(const rc_cfg *cfg, const char *name, cfg_inst **inst)
{
    *inst = NULL;
    size_t i = find_name(cfg->spec, cfg->nspec, name);
    if (i != NONE) return i;
    const char *d1 = strchr(name, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    cfg_inst *in = d2 ? find_inst(cfg, name, (size_t)(d2 - name)) : NULL;
    if (!in) return NONE;
    i = find_key(cfg, in->tmpl, d2 + 1);
    if (i != NONE) *inst = in;
    return i;
}

static cfg_slot *slots_of(const rc_cfg *cfg, const cfg_inst *inst)
{
    return inst ? inst->slots : cfg->slots;
}

/* Instance names: [A-Za-z0-9_]+, so "tmpl.NAME.key" splits unambiguously. */
static int valid_inst_name(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_') return 0;
    return 1;
}

/* Sections are listed in order of first appearance in the spec. */
static int first_of_section(const rc_cfg_spec *spec, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (!strcmp(spec[j].section, spec[i].section)) return 0;
    return 1;
}

/* Lists in messages stop at about this length: the rc_err buffer is finite. */
enum { LIST_MAX = 600 };

/* Suggests the nearest section; for a template, the typed text before the
 * first '.' is matched against the template's prefix ("popultion.E" ->
 * [population.E]). */
static rc_status unknown_section(const rc_cfg *cfg, const cfg_loc *L, const char *name, rc_err *err)
{
    sbuf list = { 0 };
    size_t best = SIZE_MAX;
    char near[600] = "", disp[300], typed[300];
    const char *dot = strchr(name, '.');
    snprintf(typed, sizeof typed, "%.*s", (int)(dot ? (size_t)(dot - name) : strlen(name)), name);
    int clipped = 0;
    for (size_t i = 0; i < cfg->nspec; i++) {
        if (!first_of_section(cfg->spec, i)) continue;
        const char *sec = cfg->spec[i].section;
        if (!is_template(sec)) {
            if (better_match(name, sec, &best)) snprintf(near, sizeof near, "%s", sec);
        } else {
            snprintf(disp, sizeof disp, "%.*s", (int)(strlen(sec) - 2), sec);
            if (better_match(typed, disp, &best))
                snprintf(near, sizeof near, "%s%.200s", disp, dot ? dot : ".<name>");
        }
        if (list.len <= LIST_MAX) sb_printf(&list, "%s[%s]", list.len ? ", " : "", sec_display(sec, disp, sizeof disp));
        else if (!clipped++) sb_puts(&list, ", ...");
    }
    const char *known = list.oom || !list.p ? "the sections listed by --help" : list.p;
    rc_status st;
    if (*near)
        st = loc_err(err, RC_ERR_CONFIG, L, "unknown section [" CLIP_FMT "]; expected one of %s (did you mean [" CLIP_FMT "]?)",
                     CLIP(name), known, CLIP(near));
    else
        st = loc_err(err, RC_ERR_CONFIG, L, "unknown section [" CLIP_FMT "]; expected one of %s", CLIP(name), known);
    free(list.p);
    return st;
}

/* `section` is the spec's spelling, `shown` the name in the file (they differ
 * for an instance: "population.*" and "population.E"). */
static rc_status unknown_key(const rc_cfg *cfg, const cfg_loc *L, const char *section, const char *shown,
                             const char *key, rc_err *err)
{
    sbuf list = { 0 };
    size_t best = SIZE_MAX;
    const char *near = NULL, *elsewhere = NULL;
    char disp[300];
    int clipped = 0;
    for (size_t i = 0; i < cfg->nspec; i++) {
        const rc_cfg_spec *s = &cfg->spec[i];
        if (strcmp(s->section, section)) {
            if (!elsewhere && !strcmp(s->key, key)) elsewhere = s->section;
            continue;
        }
        if (list.len <= LIST_MAX) sb_printf(&list, "%s%s", list.len ? ", " : "", s->key);
        else if (!clipped++) sb_puts(&list, ", ...");
        if (better_match(key, s->key, &best)) near = s->key;
    }
    const char *known = list.oom || !list.p ? "see --help" : list.p;
    rc_status st;
    if (elsewhere) /* the right key under the wrong header is the likelier slip */
        st = loc_err(err, RC_ERR_CONFIG, L, "unknown key '" CLIP_FMT "' in [%s] (did you mean '%s' in [%s]?); known keys: %s",
                     CLIP(key), shown, key, sec_display(elsewhere, disp, sizeof disp), known);
    else if (near)
        st = loc_err(err, RC_ERR_CONFIG, L, "unknown key '" CLIP_FMT "' in [%s] (did you mean '%s'?); known keys: %s",
                     CLIP(key), shown, near, known);
    else
        st = loc_err(err, RC_ERR_CONFIG, L, "unknown key '" CLIP_FMT "' in [%s]; known keys: %s", CLIP(key),
                     shown, known);
    free(list.p);
    return st;
}

/* --set on "tmpl.NAME.key" where [tmpl.NAME] was never given: --set does not
 * create instances (a typo would silently add a population), so list them. */
static rc_status missing_instance(const rc_cfg *cfg, const cfg_loc *L, const char *tmpl, const char *name,
                                  size_t len, rc_err *err)
{
    sbuf list = { 0 };
    for (size_t k = 0; k < cfg->ninsts && list.len <= LIST_MAX; k++)
        if (!strcmp(cfg->insts[k].tmpl, tmpl)) sb_printf(&list, "%s[%s]", list.len ? ", " : "", cfg->insts[k].name);
    char disp[300];
    rc_status st = loc_err(err, RC_ERR_CONFIG, L, "no section [%.*s] in the config (--set changes instances a file declares); "
                           "instances of [%s]: %s", (int)(len > CLIP_MAX ? CLIP_MAX : len), name,
                           sec_display(tmpl, disp, sizeof disp), list.p && !list.oom ? list.p : "none");
    free(list.p);
    return st;
}

/* --set names a key by "section.key" (or "tmpl.NAME.key"); suggest the
 * nearest full name, instances included. */
static rc_status unknown_name(const rc_cfg *cfg, const cfg_loc *L, const char *name, rc_err *err)
{
    const char *d1 = strchr(name, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    const char *tmpl = d1 ? find_template(cfg, name, (size_t)(d1 - name)) : NULL;
    if (tmpl && d2 && find_key(cfg, tmpl, d2 + 1) != NONE && !find_inst(cfg, name, (size_t)(d2 - name)))
        return missing_instance(cfg, L, tmpl, name, (size_t)(d2 - name), err);
    size_t best = SIZE_MAX;
    char full[600], near[600] = "";
    for (size_t i = 0; i < cfg->nspec; i++) {
        const rc_cfg_spec *s = &cfg->spec[i];
        for (size_t k = 0; k <= cfg->ninsts; k++) { /* k == 0: the plain section */
            const cfg_inst *in = k ? &cfg->insts[k - 1] : NULL;
            if (in ? strcmp(in->tmpl, s->section) : is_template(s->section)) continue;
            snprintf(full, sizeof full, "%s.%s", in ? in->name : s->section, s->key);
            if (better_match(name, full, &best)) memcpy(near, full, sizeof full);
            if (!is_template(s->section)) break;
        }
    }
    if (*near)
        return loc_err(err, RC_ERR_CONFIG, L, "unknown key '" CLIP_FMT "' (did you mean '" CLIP_FMT "'?)", CLIP(name),
                       CLIP(near));
    return loc_err(err, RC_ERR_CONFIG, L, "unknown key '" CLIP_FMT "'; expected section.key as listed by --help",
                   CLIP(name));
}

/* ---- life cycle ---------------------------------------------------------- */

/* A broken spec is a programming error: say which entry before aborting. */
static void check_spec(const rc_cfg_spec *spec, size_t i)
{
    const rc_cfg_spec *s = &spec[i];
    RC_ASSERT(s->section && *s->section && s->key && *s->key && s->help && *s->help);
    const char *dot = strchr(s->section, '.');
    const int tmpl = is_template(s->section); /* "name.*", with one '.' and a non-empty name */
    RC_ASSERT(!dot || (tmpl && dot > s->section && dot == s->section + strlen(s->section) - 2));
    RC_ASSERT(!strchr(s->section, ']') && !strchr(s->key, '='));
    RC_ASSERT(s->type >= RC_CFG_INT && s->type <= RC_CFG_FLOAT_LIST);
    if (is_numeric(s->type)) RC_ASSERT(!isnan(s->min) && !isnan(s->max) && s->min <= s->max);
    if (s->type == RC_CFG_ENUM) {
        RC_ASSERT(s->choices && *s->choices);
        RC_ASSERT(!strstr(s->choices, "||") && s->choices[0] != '|' &&
                  s->choices[strlen(s->choices) - 1] != '|');
    }
    for (size_t j = 0; j < i; j++) {
        int dup = !strcmp(spec[j].section, s->section) && !strcmp(spec[j].key, s->key);
        if (dup) fprintf(stderr, "rcsim: config spec declares %s.%s twice\n", s->section, s->key);
        RC_ASSERT(!dup);
        /* [population] and [population.*] together would make "population.x.y" ambiguous */
        const char *a = spec[j].section, *b = s->section;
        size_t la = strlen(a), lb = strlen(b);
        int clash = (is_template(a) && !tmpl && la == lb + 2 && !strncmp(a, b, lb)) ||
                    (tmpl && !is_template(a) && lb == la + 2 && !strncmp(a, b, la));
        RC_ASSERT(!clash);
    }
}

/* Parses the defaults of the rows of section `tmpl` (of every row when NULL)
 * into `slots`. Returns RC_OK or RC_ERR_NOMEM; a bad default aborts. */
static rc_status fill_defaults(const rc_cfg_spec *spec, size_t nspec, const char *tmpl, cfg_slot *slots)
{
    for (size_t i = 0; i < nspec; i++) {
        if (!spec[i].def || (tmpl && strcmp(spec[i].section, tmpl))) continue;
        rc_err e = { { 0 } };
        const cfg_loc L = { "config spec default", 0, NULL };
        const char *why = unrepresentable(spec[i].def);
        if (why) fprintf(stderr, "rcsim: default of %s.%s %s\n", spec[i].section, spec[i].key, why);
        RC_ASSERT(why == NULL);
        rc_status st = parse_value(&spec[i], spec[i].section, spec[i].def, &slots[i].v, &L, &e);
        if (st == RC_ERR_NOMEM) return st;
        if (st != RC_OK) fprintf(stderr, "rcsim: %s\n", e.msg);
        RC_ASSERT(st == RC_OK && "config spec defaults must be valid values");
    }
    return RC_OK;
}

rc_cfg *rc_cfg_new(const rc_cfg_spec *spec, size_t nspec)
{
    RC_ASSERT(spec || nspec == 0);
    rc_cfg *cfg = calloc(1, sizeof *cfg);
    if (!cfg) return NULL;
    cfg->spec = spec;
    cfg->nspec = nspec;
    cfg->slots = calloc(nspec ? nspec : 1, sizeof *cfg->slots);
    if (!cfg->slots) {
        free(cfg);
        return NULL;
    }
    for (size_t i = 0; i < nspec; i++) check_spec(spec, i);
    if (fill_defaults(spec, nspec, NULL, cfg->slots)) {
        rc_cfg_free(cfg);
        return NULL;
    }
    return cfg;
}

static void slots_free(cfg_slot *slots, size_t n)
{
    for (size_t i = 0; slots && i < n; i++) value_free(&slots[i].v);
    free(slots);
}

void rc_cfg_free(rc_cfg *cfg)
{
    if (!cfg) return;
    slots_free(cfg->slots, cfg->nspec);
    for (size_t k = 0; k < cfg->ninsts; k++) {
        slots_free(cfg->insts[k].slots, cfg->nspec);
        free(cfg->insts[k].name);
    }
    free(cfg->insts);
    for (size_t i = 0; i < cfg->nnames; i++) free(cfg->names[i]);
    free(cfg->names);
    free(cfg);
}

/* A new instance [name] of template `tmpl`, its keys at their defaults;
 * NULL when out of memory. Moves cfg->insts: hold indices, not pointers. */
static cfg_inst *inst_add(rc_cfg *cfg, const char *tmpl, const char *name)
{
    if (cfg->ninsts == cfg->capinsts) {
        size_t cap = cfg->capinsts ? 2 * cfg->capinsts : 4;
        cfg_inst *p = realloc(cfg->insts, cap * sizeof *p);
        if (!p) return NULL;
        cfg->insts = p;
        cfg->capinsts = cap;
    }
    cfg_inst in = { strdup(name), tmpl, calloc(cfg->nspec, sizeof(cfg_slot)) };
    if (!in.name || !in.slots || fill_defaults(cfg->spec, cfg->nspec, tmpl, in.slots)) {
        slots_free(in.slots, cfg->nspec);
        free(in.name);
        return NULL;
    }
    cfg->insts[cfg->ninsts] = in;
    return &cfg->insts[cfg->ninsts++];
}

/* Slots keep a pointer to the name of the file that set them; names are
 * interned so loading the same file again does not grow the table. */
static const char *intern(rc_cfg *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nnames; i++)
        if (!strcmp(cfg->names[i], name)) return cfg->names[i];
    if (cfg->nnames == cfg->capnames) {
        size_t cap = cfg->capnames ? 2 * cfg->capnames : 4;
        char **p = realloc(cfg->names, cap * sizeof *p);
        if (!p) return NULL;
        cfg->names = p;
        cfg->capnames = cap;
    }
    char *dup = strdup(name);
    if (!dup) return NULL;
    cfg->names[cfg->nnames++] = dup;
    return dup;
}

static void slot_assign(cfg_slot *sl, cfg_value *nv, const char *origin, int line, unsigned gen)
{
    value_free(&sl->v);
    sl->v = *nv;
    sl->origin = origin;
    sl->line = line;
    sl->gen = gen;
}

/* ---- loading ------------------------------------------------------------- */

typedef struct {
    rc_cfg *cfg;
    const char *file;    /* interned */
    int line;
    const char *section; /* spec's spelling of the current section; NULL before any header */
    size_t inst;         /* index of the current instance section, or NONE */
} load_state;

static rc_status begin_load(rc_cfg *cfg, const char *name, load_state *ld, rc_err *err)
{
    const char *file = intern(cfg, name);
    if (!file) return rc_err_set(err, RC_ERR_NOMEM, "%s: out of memory", name);
    cfg->gen++;
    cfg->last = file;
    ld->cfg = cfg;
    ld->file = file;
    ld->line = 0;
    ld->section = NULL;
    ld->inst = NONE;
    return RC_OK;
}

/* A "[name]" header: a plain section, or an instance of a template, created
 * (keys at their defaults) the first time it is seen. */
static rc_status open_section(load_state *ld, const char *name, const cfg_loc *L, rc_err *err)
{
    rc_cfg *cfg = ld->cfg;
    const char *sec = find_section(cfg, name);
    if (sec && !is_template(sec)) {
        ld->section = sec;
        ld->inst = NONE;
        return RC_OK;
    }
    const char *dot = strchr(name, '.');
    size_t plen = dot ? (size_t)(dot - name) : strlen(name);
    const char *tmpl = find_template(cfg, name, plen);
    if (!tmpl) return unknown_section(cfg, L, name, err);
    if (!dot)
        return loc_err(err, RC_ERR_CONFIG, L, "section [" CLIP_FMT "] needs an instance name: [%s.<name>], "
                       "<name> made of letters, digits and '_'", CLIP(name), name);
    if (!valid_inst_name(dot + 1))
        return loc_err(err, RC_ERR_CONFIG, L, "section [" CLIP_FMT "]: instance name '" CLIP_FMT "' may hold "
                       "only letters, digits and '_'", CLIP(name), CLIP(dot + 1));
    cfg_inst *in = find_inst(cfg, name, strlen(name));
    if (!in && !(in = inst_add(cfg, tmpl, name))) return nomem(err, L);
    ld->section = tmpl;
    ld->inst = (size_t)(in - cfg->insts);
    return RC_OK;
}

/* One line, '\n' already removed; `len` is its length as read, to catch NULs. */
static rc_status parse_line(load_state *ld, char *line, size_t len, rc_err *err)
{
    rc_cfg *cfg = ld->cfg;
    const cfg_loc L = { ld->file, ld->line, NULL };
    if (strlen(line) != len) return loc_err(err, RC_ERR_CONFIG, &L, "contains a NUL byte; expected a text file");
    if (ld->line == 1 && !strncmp(line, "\xEF\xBB\xBF", 3)) line += 3; /* editors' UTF-8 BOM */
    char *c = find_comment(line);
    if (c) *c = '\0';
    char *s = trim(line); /* also drops the '\r' of CRLF files */
    if (!*s) return RC_OK;

    size_t n = strlen(s);
    char *eq = strchr(s, '=');
    if ((*s == '[' && s[n - 1] != ']') || (*s != '[' && (!eq || eq == s)))
        return loc_err(err, RC_ERR_CONFIG, &L, "expected 'key = value', '[section]' or a comment, found '" CLIP_FMT "'",
                       CLIP(s));
    if (*s == '[') {
        s[n - 1] = '\0';
        return open_section(ld, trim(s + 1), &L, err);
    }
    *eq = '\0';
    char *key = trim(s), *val = trim(eq + 1);
    if ((c = find_comment(val))) *c = '\0'; /* "key=#x" reads like "key = #x": no value starts a comment */
    val = trim(val);
    if (!ld->section)
        return loc_err(err, RC_ERR_CONFIG, &L,
                       "key outside any section: '" CLIP_FMT "' (expected a [section] header first)", CLIP(key));
    const cfg_inst *in = ld->inst == NONE ? NULL : &cfg->insts[ld->inst];
    const char *shown = in ? in->name : ld->section;
    size_t i = find_key(cfg, ld->section, key);
    if (i == NONE) return unknown_key(cfg, &L, ld->section, shown, key, err);
    cfg_slot *sl = &slots_of(cfg, in)[i];
    if (sl->gen == cfg->gen && sl->origin == ld->file)
        return loc_err(err, RC_ERR_CONFIG, &L, "%s.%s given twice (first at line %d)", shown, cfg->spec[i].key,
                       sl->line);
    cfg_value nv;
    rc_status st = parse_value(&cfg->spec[i], shown, val, &nv, &L, err);
    if (st) return st;
    slot_assign(sl, &nv, ld->file, ld->line, cfg->gen);
    return RC_OK;
}

rc_status rc_cfg_load_file(rc_cfg *cfg, const char *path, rc_err *err)
{
    RC_ASSERT(cfg && path);
    FILE *f = fopen(path, "r");
    if (!f) return rc_err_set(err, RC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    load_state ld;
    rc_status st = begin_load(cfg, path, &ld, err);
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n = 0;
    /* getline: lines of any length, and embedded NULs are visible via n. */
    while (st == RC_OK && (errno = 0, n = getline(&buf, &cap, f)) != -1) {
        ld.line++;
        if (n > 0 && buf[n - 1] == '\n') buf[--n] = '\0';
        st = parse_line(&ld, buf, (size_t)n, err);
    }
    if (st == RC_OK && n == -1 && !feof(f)) { /* a read error, not EOF (e.g. a directory) */
        int e = errno;
        st = e == ENOMEM ? rc_err_set(err, RC_ERR_NOMEM, "%s: out of memory", path)
                         : rc_err_set(err, RC_ERR_IO, "%s: cannot read: %s", path, strerror(e ? e : EIO));
    }
    free(buf);
    fclose(f);
    return st;
}

rc_status rc_cfg_load_string(rc_cfg *cfg, const char *name, const char *text, rc_err *err)
{
    RC_ASSERT(cfg && name && text);
    load_state ld;
    rc_status st = begin_load(cfg, name, &ld, err);
    if (st) return st;
    char *copy = strdup(text);
    if (!copy) return rc_err_set(err, RC_ERR_NOMEM, "%s: out of memory", name);
    for (char *p = copy;;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = '\0';
        ld.line++;
        if ((st = parse_line(&ld, p, strlen(p), err)) || !nl) break;
        p = nl + 1;
    }
    free(copy);
    return st;
}

/* Works on a private copy of the assignment, which the caller frees. */
/* Works on a private copy of the assignment, which the caller frees. */
static rc_status set_from_copy(rc_cfg *cfg, const cfg_loc *L, char *copy, rc_err *err)
{
    char *eq = strchr(copy, '=');
    if (!eq) return loc_err(err, RC_ERR_CONFIG, L, "expected section.key=value");
    *eq = '\0';
    char *name = trim(copy), *val = trim(eq + 1);
    char *dot = strchr(name, '.');
    if (!dot || dot == name || !dot[1]) return loc_err(err, RC_ERR_CONFIG, L, "expected section.key=value");
    cfg_inst *in;
    size_t i = find_slot(cfg, name, &in);
    if (i == NONE) return unknown_name(cfg, L, name, err);
    const rc_cfg_spec *s = &cfg->spec[i];
    const char *shown = in ? in->name : s->section;
    const char *why = unrepresentable(val);
    if (why) return loc_err(err, RC_ERR_CONFIG, L, "%s.%s = '" CLIP_FMT "' %s", shown, s->key, CLIP(val), why);
    cfg_value nv;
    rc_status st = parse_value(s, shown, val, &nv, L, err);
    if (st == RC_OK) slot_assign(&slots_of(cfg, in)[i], &nv, "--set", 0, 0);
    return st;
}

rc_status rc_cfg_set(rc_cfg *cfg, const char *assignment, rc_err *err)
{
    RC_ASSERT(cfg && assignment);
    const cfg_loc L = { NULL, 0, assignment };
    char *copy = strdup(assignment);
    if (!copy) return nomem(err, &L);
    rc_status st = set_from_copy(cfg, &L, copy, err);
    free(copy);
    return st;
}

/* Plain sections first, then the instances in the order first seen. */
rc_status rc_cfg_check_required(const rc_cfg *cfg, rc_err *err)
{
    RC_ASSERT(cfg);
    const char *where = cfg->last ? cfg->last : "config";
    const rc_cfg_spec *first = NULL;
    const char *first_sec = NULL;
    sbuf more = { 0 };
    for (size_t k = 0; k <= cfg->ninsts; k++) { /* k == 0: the plain sections */
        const cfg_inst *in = k ? &cfg->insts[k - 1] : NULL;
        for (size_t i = 0; i < cfg->nspec; i++) {
            const char *sec = cfg->spec[i].section;
            if ((in ? strcmp(sec, in->tmpl) : is_template(sec)) || slots_of(cfg, in)[i].v.text) continue;
            const char *shown = in ? in->name : sec;
            if (!first) {
                first = &cfg->spec[i];
                first_sec = shown;
            } else if (more.len <= LIST_MAX) {
                sb_printf(&more, "%s%s.%s", more.len ? ", " : "", shown, cfg->spec[i].key);
            }
        }
    }
    rc_status st = RC_OK;
    if (first) {
        if (more.len && !more.oom)
            st = rc_err_set(err, RC_ERR_CONFIG, "%s: missing required key %s.%s (%s); also missing: %s", where,
                            first_sec, first->key, first->help, more.p);
        else
            st = rc_err_set(err, RC_ERR_CONFIG, "%s: missing required key %s.%s (%s)", where, first_sec,
                            first->key, first->help);
    }
    free(more.p);
    return st;
}

size_t rc_cfg_instances(const rc_cfg *cfg, const char *tmpl, const char **names, size_t cap)
{
    RC_ASSERT(cfg && tmpl && (names || cap == 0));
    size_t len = strlen(tmpl);
    if (is_template(tmpl)) len -= 2;
    const char *t = find_template(cfg, tmpl, len);
    if (!t) fprintf(stderr, "rcsim: config template '%s' is not in the spec\n", tmpl);
    RC_ASSERT(t != NULL);
    size_t n = 0;
    for (size_t k = 0; k < cfg->ninsts; k++) {
        if (strcmp(cfg->insts[k].tmpl, t)) continue;
        if (n < cap) names[n] = cfg->insts[k].name;
        n++;
    }
    return n;
}

/* ---- getters ------------------------------------------------------------- */

static const cfg_slot *get_slot(const rc_cfg *cfg, const char *name, rc_cfg_type t1, rc_cfg_type t2)
{
    RC_ASSERT(cfg && name);
    cfg_inst *in;
    size_t i = find_slot(cfg, name, &in);
    if (i == NONE) fprintf(stderr, "rcsim: config key '%s' is not in the spec\n", name);
    RC_ASSERT(i != NONE);
    const rc_cfg_type t = cfg->spec[i].type;
    if (t != t1 && t != t2) fprintf(stderr, "rcsim: config key '%s' read with a getter of the wrong type\n", name);
    RC_ASSERT(t == t1 || t == t2);
    const cfg_slot *sl = &slots_of(cfg, in)[i];
    if (!sl->v.text) fprintf(stderr, "rcsim: required config key '%s' read before it was set\n", name);
    RC_ASSERT(sl->v.text != NULL); /* rc_cfg_check_required first */
    return sl;
}


long long rc_cfg_get_int(const rc_cfg *cfg, const char *name)
{
    return get_slot(cfg, name, RC_CFG_INT, RC_CFG_INT)->v.i;
}

double rc_cfg_get_float(const rc_cfg *cfg, const char *name)
{
    return get_slot(cfg, name, RC_CFG_FLOAT, RC_CFG_FLOAT)->v.f;
}

int rc_cfg_get_bool(const rc_cfg *cfg, const char *name)
{
    return (int)get_slot(cfg, name, RC_CFG_BOOL, RC_CFG_BOOL)->v.i;
}

const char *rc_cfg_get_str(const rc_cfg *cfg, const char *name)
{
    return get_slot(cfg, name, RC_CFG_STRING, RC_CFG_ENUM)->v.text;
}

size_t rc_cfg_get_int_list(const rc_cfg *cfg, const char *name, long long *out, size_t cap)
{
    const cfg_slot *sl = get_slot(cfg, name, RC_CFG_INT_LIST, RC_CFG_INT_LIST);
    RC_ASSERT(out || cap == 0);
    for (size_t k = 0; k < sl->v.n && k < cap; k++) out[k] = sl->v.ints[k];
    return sl->v.n;
}

size_t rc_cfg_get_float_list(const rc_cfg *cfg, const char *name, double *out, size_t cap)
{
    const cfg_slot *sl = get_slot(cfg, name, RC_CFG_FLOAT_LIST, RC_CFG_FLOAT_LIST);
    RC_ASSERT(out || cap == 0);
    for (size_t k = 0; k < sl->v.n && k < cap; k++) out[k] = sl->v.floats[k];
    return sl->v.n;
}

int rc_cfg_is_set(const rc_cfg *cfg, const char *name)
{
    RC_ASSERT(cfg && name);
    cfg_inst *in;
    size_t i = find_slot(cfg, name, &in);
    if (i == NONE) fprintf(stderr, "rcsim: config key '%s' is not in the spec\n", name);
    RC_ASSERT(i != NONE);
    return slots_of(cfg, in)[i].origin != NULL;
}

/* ---- output -------------------------------------------------------------- */

/* One section of the output: spec rows from `first` on whose section is
 * spec[first].section, shown as [name], values in `slots`. */
typedef struct {
    size_t first;
    const char *name;
    const cfg_slot *slots;
} out_section;

/* The sections to write, in spec order, each template replaced by its
 * instances in the order first seen (none: the template is left out).
 * Sets *n; NULL when out of memory. Caller frees. */
static out_section *out_sections(const rc_cfg *cfg, size_t *n)
{
    out_section *o = malloc((cfg->nspec + cfg->ninsts + 1) * sizeof *o);
    *n = 0;
    if (!o) return NULL;
    for (size_t i = 0; i < cfg->nspec; i++) {
        const char *sec = cfg->spec[i].section;
        if (!first_of_section(cfg->spec, i)) continue;
        if (!is_template(sec)) {
            o[(*n)++] = (out_section){ i, sec, cfg->slots };
            continue;
        }
        for (size_t k = 0; k < cfg->ninsts; k++)
            if (!strcmp(cfg->insts[k].tmpl, sec)) o[(*n)++] = (out_section){ i, cfg->insts[k].name, cfg->insts[k].slots };
    }
    return o;
}

char *rc_cfg_to_ini(const rc_cfg *cfg)
{
    RC_ASSERT(cfg);
    sbuf b = { 0 };
    size_t nsec;
    out_section *o = out_sections(cfg, &nsec);
    if (!o) return NULL;
    for (size_t j = 0; j < nsec; j++) {
        const char *sec = cfg->spec[o[j].first].section;
        sb_printf(&b, "%s[%s]\n", b.len ? "\n" : "", o[j].name);
        for (size_t k = o[j].first; k < cfg->nspec; k++) {
            const rc_cfg_spec *s = &cfg->spec[k];
            const char *t = o[j].slots[k].v.text;
            if (strcmp(s->section, sec)) continue;
            if (!t) sb_printf(&b, "# %s = (required, not set)\n", s->key);
            else if (!*t) sb_printf(&b, "%s =\n", s->key); /* empty list, no trailing blank */
            else sb_printf(&b, "%s = %s\n", s->key, t);
        }
    }
    free(o);
    return sb_finish(&b);
}

static void json_str(sbuf *b, const char *s)
{
    sb_putn(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '"': sb_puts(b, "\\\""); break;
        case '\\': sb_puts(b, "\\\\"); break;
        case '\b': sb_puts(b, "\\b"); break;
        case '\f': sb_puts(b, "\\f"); break;
        case '\n': sb_puts(b, "\\n"); break;
        case '\r': sb_puts(b, "\\r"); break;
        case '\t': sb_puts(b, "\\t"); break;
        default:
            if (c < 0x20) sb_printf(b, "\\u%04x", c);
            else sb_putn(b, s, 1); /* UTF-8 passes through unchanged */
        }
    }
    sb_putn(b, "\"", 1);
}

static void json_newline(sbuf *b, int indent, int level)
{
    if (!indent) return;
    sb_putn(b, "\n", 1);
    for (int k = 0; k < indent * level; k++) sb_putn(b, " ", 1);
}

static void json_value(sbuf *b, const rc_cfg_spec *s, const cfg_value *v, int indent)
{
    char num[32];
    if (!v->text) {
        sb_puts(b, "null"); /* required and not set */
        return;
    }
    switch (s->type) {
    case RC_CFG_INT:
    case RC_CFG_FLOAT: /* normalised text is already a JSON number: no nan/inf */
    case RC_CFG_BOOL: sb_puts(b, v->text); break;
    case RC_CFG_STRING:
    case RC_CFG_ENUM: json_str(b, v->text); break;
    case RC_CFG_INT_LIST:
    case RC_CFG_FLOAT_LIST:
        sb_putn(b, "[", 1);
        for (size_t k = 0; k < v->n; k++) {
            if (k) sb_puts(b, indent ? ", " : ",");
            if (s->type == RC_CFG_INT_LIST) snprintf(num, sizeof num, "%lld", v->ints[k]);
            else fmt_double(v->floats[k], num);
            sb_puts(b, num);
        }
        sb_putn(b, "]", 1);
        break;
    }
}

char *rc_cfg_to_json(const rc_cfg *cfg, int indent)
{
    RC_ASSERT(cfg && indent >= 0);
    const char *colon = indent ? ": " : ":";
    sbuf b = { 0 };
    size_t nsec;
    out_section *o = out_sections(cfg, &nsec);
    if (!o) return NULL;
    sb_putn(&b, "{", 1);
    for (size_t j = 0; j < nsec; j++) {
        const char *sec = cfg->spec[o[j].first].section;
        if (j) sb_putn(&b, ",", 1);
        json_newline(&b, indent, 1);
        json_str(&b, o[j].name);
        sb_puts(&b, colon);
        sb_putn(&b, "{", 1);
        int nkey = 0;
        for (size_t k = o[j].first; k < cfg->nspec; k++) {
            const rc_cfg_spec *s = &cfg->spec[k];
            if (strcmp(s->section, sec)) continue;
            if (nkey++) sb_putn(&b, ",", 1);
            json_newline(&b, indent, 2);
            json_str(&b, s->key);
            sb_puts(&b, colon);
            json_value(&b, s, &o[j].slots[k].v, indent);
        }
        json_newline(&b, indent, 1);
        sb_putn(&b, "}", 1);
    }
    if (nsec) json_newline(&b, indent, 0);
    sb_putn(&b, "}", 1);
    free(o);
    return sb_finish(&b);
}

/* The three left columns of one --help line. */
static void help_cols(const rc_cfg_spec *s, sbuf *name, sbuf *type, sbuf *def)
{
    name->len = type->len = def->len = 0;
    if (is_template(s->section)) /* "population.*" rows document "population.<name>.key" */
        sb_printf(name, "%.*s.<name>.%s", (int)(strlen(s->section) - 2), s->section, s->key);
    else
        sb_printf(name, "%s.%s", s->section, s->key);
    sb_type(type, s);
    if (!s->def) {
        sb_puts(def, "(required)");
    } else {
        char *d = strdup(s->def);
        if (!d) def->oom = 1;
        else {
            const char *t = trim(d);
            sb_printf(def, "default %s", *t ? t : "(empty)");
            free(d);
        }
    }
}

void rc_cfg_print_help(const rc_cfg_spec *spec, size_t nspec, FILE *f)
{
    RC_ASSERT((spec || nspec == 0) && f);
    sbuf name = { 0 }, type = { 0 }, def = { 0 };
    size_t wn = 0, wt = 0, wd = 0;
    for (size_t i = 0; i < nspec; i++) {
        help_cols(&spec[i], &name, &type, &def);
        if (name.len > wn) wn = name.len;
        if (type.len > wt) wt = type.len;
        if (def.len > wd) wd = def.len;
    }
    for (size_t i = 0; i < nspec && !(name.oom || type.oom || def.oom); i++) {
        help_cols(&spec[i], &name, &type, &def);
        if (name.oom || type.oom || def.oom) break;
        fprintf(f, "  %-*s   %-*s   %-*s   %s\n", (int)wn, name.p, (int)wt, type.p, (int)wd, def.p, spec[i].help);
    }
    free(name.p);
    free(type.p);
    free(def.p);
}
