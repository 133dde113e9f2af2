/* cfg_value.c — one config value: parsing and range checks, the normalised
 * text to_ini writes back, and the located error messages (see cfg_impl.h).
 * The same code parses spec defaults, file values and --set values, so all
 * three accept exactly the same text. */
#include "io/cfg_impl.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- small string helpers ------------------------------------------------ */

static int is_ws(char c) { return isspace((unsigned char)c); }

char *cfg_trim(char *s)
{
    while (is_ws(*s)) s++;
    size_t n = strlen(s);
    while (n > 0 && is_ws(s[n - 1])) s[--n] = '\0';
    return s;
}

/* A comment starts at '#' or ';' at the start of the text or after
 * whitespace, so values such as "a#b" or "x;y" survive intact. */
char *cfg_find_comment(char *s)
{
    for (size_t i = 0; s[i]; i++)
        if ((s[i] == '#' || s[i] == ';') && (i == 0 || is_ws(s[i - 1]))) return s + i;
    return NULL;
}

int cfg_clip_len(const char *s)
{
    size_t n = strlen(s);
    if (n <= CLIP_MAX) return (int)n;
    n = CLIP_MAX;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--; /* keep UTF-8 whole */
    return (int)n;
}
const char *cfg_clip_more(const char *s) { return strlen(s) > CLIP_MAX ? "..." : ""; }

/* Shortest "%.*g" that reads back as the same double, so to_ini round-trips
 * exactly while "0.95" still prints as 0.95, not 0.94999999999999996. Then
 * made friendlier: 10 and 1500000 without an exponent, "1e-08" as "1e-8".
 * Every form is valid both as a strtod input and as a JSON number. */
void cfg_fmt_double(double x, char buf[32])
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

/* ---- messages ------------------------------------------------------------ */

rc_status cfg_err(rc_err *err, rc_status st, const cfg_loc *L, const char *fmt, ...)
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

void cfg_value_free(cfg_value *v)
{
    free(v->text);
    free(v->ints);
    free(v->floats);
    memset(v, 0, sizeof *v);
}

rc_status cfg_nomem(rc_err *err, const cfg_loc *L)
{
    return cfg_err(err, RC_ERR_NOMEM, L, "out of memory");
}

static rc_status parse_list(const rc_cfg_spec *s, const char *sec, const char *raw, char *t, cfg_value *out,
                            const cfg_loc *L, rc_err *err)
{
    const int inty = s->type == RC_CFG_INT_LIST;
    char exp[512];
    if (!*t) { /* empty value = empty list */
        out->text = strdup("");
        return out->text ? RC_OK : cfg_nomem(err, L);
    }
    size_t cap = 1;
    for (const char *p = t; *p; p++) cap += *p == ',';
    if (inty) out->ints = malloc(cap * sizeof *out->ints);
    else out->floats = malloc(cap * sizeof *out->floats);
    if (inty ? !out->ints : !out->floats) return cfg_nomem(err, L);

    rc_strbuf norm = { 0 };
    rc_status st = RC_OK;
    char *item = t;
    for (size_t idx = 1;; idx++) {
        char *comma = strchr(item, ',');
        if (comma) *comma = '\0';
        char *it = cfg_trim(item);
        num_result r;
        char num[32];
        if (!*it) {
            st = cfg_err(err, RC_ERR_CONFIG, L,
                         "%s.%s = '" CLIP_FMT "': item %zu is empty, expected a comma-separated list of %s",
                         sec, s->key, CLIP(raw), idx, inty ? "integers" : "numbers");
            break;
        }
        if (inty) {
            r = num_int(s, it, &out->ints[out->n]);
            if (r == NUM_OK) snprintf(num, sizeof num, "%lld", out->ints[out->n]);
        } else {
            r = num_float(s, it, &out->floats[out->n]);
            if (r == NUM_OK) cfg_fmt_double(out->floats[out->n], num);
        }
        if (r == NUM_SYNTAX || r == NUM_NONFINITE) {
            st = cfg_err(err, RC_ERR_CONFIG, L, "%s.%s = '" CLIP_FMT "': item %zu '" CLIP_FMT "' is not %s",
                         sec, s->key, CLIP(raw), idx, CLIP(it),
                         inty ? "an integer" : r == NUM_SYNTAX ? "a number" : "a finite number");
            break;
        }
        if (r == NUM_RANGE) {
            st = cfg_err(err, RC_ERR_CONFIG, L,
                         "%s.%s = '" CLIP_FMT "': item %zu = " CLIP_FMT " is out of range, expected %s",
                         sec, s->key, CLIP(raw), idx, CLIP(it), cfg_expected(s, exp, sizeof exp));
            break;
        }
        if (out->n++) rc_sb_puts(&norm, ", ");
        rc_sb_puts(&norm, num);
        if (!comma) break;
        item = comma + 1;
    }
    if (st == RC_OK) {
        out->text = rc_sb_take(&norm);
        if (!out->text) st = cfg_nomem(err, L);
    } else {
        rc_sb_free(&norm);
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
rc_status cfg_parse_value(const rc_cfg_spec *s, const char *sec, const char *raw, cfg_value *out,
                             const cfg_loc *L, rc_err *err)
{
    memset(out, 0, sizeof *out);
    char *copy = strdup(raw);
    if (!copy) return cfg_nomem(err, L);
    char *t = cfg_trim(copy);
    char exp[512];
    rc_status st = RC_OK;

    if (!*t && s->type != RC_CFG_INT_LIST && s->type != RC_CFG_FLOAT_LIST) {
        st = cfg_err(err, RC_ERR_CONFIG, L, "%s.%s has no value, expected %s", sec, s->key,
                     cfg_expected(s, exp, sizeof exp));
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
            cfg_fmt_double(out->f, num);
        }
        if (r == NUM_SYNTAX || r == NUM_NONFINITE)
            st = cfg_err(err, RC_ERR_CONFIG, L, "%s.%s = '" CLIP_FMT "' is not %s", sec, s->key,
                         CLIP(t),
                         s->type == RC_CFG_INT ? "an integer"
                         : r == NUM_SYNTAX     ? "a number"
                                               : "a finite number");
        else if (r == NUM_RANGE)
            st = cfg_err(err, RC_ERR_CONFIG, L, "%s.%s = " CLIP_FMT " is out of range, expected %s",
                         sec, s->key, CLIP(t), cfg_expected(s, exp, sizeof exp));
        else if (!(out->text = strdup(num)))
            st = cfg_nomem(err, L);
        break;
    }
    case RC_CFG_BOOL: {
        size_t k, nw = sizeof bool_words / sizeof bool_words[0];
        for (k = 0; k < nw; k++)
            if (!strcasecmp(t, bool_words[k].word)) break;
        if (k == nw) {
            st = cfg_err(err, RC_ERR_CONFIG, L, "%s.%s = '" CLIP_FMT "' is not a boolean, expected %s",
                         sec, s->key, CLIP(t), cfg_expected(s, exp, sizeof exp));
            break;
        }
        out->i = bool_words[k].value;
        if (!(out->text = strdup(out->i ? "true" : "false"))) st = cfg_nomem(err, L);
        break;
    }
    case RC_CFG_STRING:
        if (!(out->text = strdup(t))) st = cfg_nomem(err, L);
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
            if (cfg_better_match(t, word, &best)) near = c;
            c += n + (c[n] == '|');
        }
        if (hit) {
            if (!(out->text = strndup(hit, tl))) st = cfg_nomem(err, L);
            break;
        }
        rc_strbuf ch = { 0 };
        cfg_choices(&ch, s->choices);
        if (near)
            st = cfg_err(err, RC_ERR_CONFIG, L, "%s.%s = '" CLIP_FMT "' is not one of %s (did you mean '%.*s'?)",
                         sec, s->key, CLIP(t), ch.s ? ch.s : s->choices,
                         (int)strcspn(near, "|"), near);
        else
            st = cfg_err(err, RC_ERR_CONFIG, L, "%s.%s = '" CLIP_FMT "' is not one of %s", sec,
                         s->key, CLIP(t), ch.s ? ch.s : s->choices);
        rc_sb_free(&ch);
        break;
    }
    case RC_CFG_INT_LIST:
    case RC_CFG_FLOAT_LIST: st = parse_list(s, sec, raw, t, out, L, err); break;
    }
done:
    free(copy);
    if (st != RC_OK) cfg_value_free(out);
    return st;
}

/* Values that to_ini could not write back faithfully. NULL if fine, else why. */
const char *cfg_unrepresentable(const char *value)
{
    if (strchr(value, '\n')) return "contains a newline, which a config file cannot hold";
    char *copy = strdup(value);
    if (!copy) return NULL; /* the parse that follows reports the lack of memory */
    const char *why = cfg_find_comment(cfg_trim(copy))
        ? "contains '#' or ';' at its start or after a blank, which a config file reads as a comment"
        : NULL;
    free(copy);
    return why;
}
