/* cfg_emit.c — the config as text: rc_cfg_to_ini (loads back: checkpoints
 * store it), rc_cfg_to_json (summary.json's "config"), the --help key table,
 * and the type / range phrases shared with the parser's messages. */
#include "io/cfg_impl.h"

#include <float.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cfg_is_numeric(rc_cfg_type t)
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

static void sb_range(rc_strbuf *b, const rc_cfg_spec *s)
{
    if (has_lo(s) && has_hi(s)) rc_sb_printf(b, " in [%g, %g]", s->min, s->max);
    else if (has_lo(s)) rc_sb_printf(b, " >= %g", s->min);
    else if (has_hi(s)) rc_sb_printf(b, " <= %g", s->max);
}

/* "rc|eos" -> "rc, eos" */
void cfg_choices(rc_strbuf *b, const char *choices)
{
    for (const char *c = choices; *c; c++) {
        if (*c == '|') rc_sb_puts(b, ", ");
        else rc_sb_putn(b, c, 1);
    }
}

/* What a value of this key should look like, for "expected ..." messages. */
static void sb_expected(rc_strbuf *b, const rc_cfg_spec *s)
{
    switch (s->type) {
    case RC_CFG_INT:
    case RC_CFG_INT_LIST:
        rc_sb_puts(b, has_lo(s) || has_hi(s) ? "an integer" : "a 64-bit integer");
        sb_range(b, s);
        break;
    case RC_CFG_FLOAT:
    case RC_CFG_FLOAT_LIST:
        rc_sb_puts(b, has_lo(s) || has_hi(s) ? "a number" : "a finite number");
        sb_range(b, s);
        break;
    case RC_CFG_BOOL: rc_sb_puts(b, "true/false, yes/no, on/off or 1/0"); break;
    case RC_CFG_STRING: rc_sb_puts(b, "a non-empty string"); break;
    case RC_CFG_ENUM:
        rc_sb_puts(b, "one of ");
        cfg_choices(b, s->choices);
        break;
    }
}

/* The type column of --help: "int in [1, 4096]", "bool", "rc|eos", ... */
static void sb_type(rc_strbuf *b, const rc_cfg_spec *s)
{
    switch (s->type) {
    case RC_CFG_INT: rc_sb_puts(b, "int"); break;
    case RC_CFG_FLOAT: rc_sb_puts(b, "float"); break;
    case RC_CFG_BOOL: rc_sb_puts(b, "bool"); break;
    case RC_CFG_STRING: rc_sb_puts(b, "string"); break;
    case RC_CFG_ENUM: rc_sb_puts(b, s->choices); break;
    case RC_CFG_INT_LIST: rc_sb_puts(b, "int list"); break;
    case RC_CFG_FLOAT_LIST: rc_sb_puts(b, "float list"); break;
    }
    if (cfg_is_numeric(s->type)) sb_range(b, s);
}

/* Formats sb_expected into a caller buffer for use inside one message. */
const char *cfg_expected(const rc_cfg_spec *s, char *buf, size_t size)
{
    rc_strbuf b = { 0 };
    sb_expected(&b, s);
    snprintf(buf, size, "%s", b.oom || !b.s ? "a valid value" : b.s);
    rc_sb_free(&b);
    return buf;
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
        if (!cfg_first_of_section(cfg->spec, i)) continue;
        if (!cfg_is_template(sec)) {
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
    rc_strbuf b = { 0 };
    size_t nsec;
    out_section *o = out_sections(cfg, &nsec);
    if (!o) return NULL;
    for (size_t j = 0; j < nsec; j++) {
        const char *sec = cfg->spec[o[j].first].section;
        rc_sb_printf(&b, "%s[%s]\n", b.len ? "\n" : "", o[j].name);
        for (size_t k = o[j].first; k < cfg->nspec; k++) {
            const rc_cfg_spec *s = &cfg->spec[k];
            const char *t = o[j].slots[k].v.text;
            if (strcmp(s->section, sec)) continue;
            if (!t) rc_sb_printf(&b, "# %s = (required, not set)\n", s->key);
            else if (!*t) rc_sb_printf(&b, "%s =\n", s->key); /* empty list, no trailing blank */
            else rc_sb_printf(&b, "%s = %s\n", s->key, t);
        }
    }
    free(o);
    return rc_sb_take(&b);
}

static void json_newline(rc_strbuf *b, int indent, int level)
{
    if (!indent) return;
    rc_sb_putn(b, "\n", 1);
    for (int k = 0; k < indent * level; k++) rc_sb_putn(b, " ", 1);
}

static void json_value(rc_strbuf *b, const rc_cfg_spec *s, const cfg_value *v, int indent)
{
    char num[32];
    if (!v->text) {
        rc_sb_puts(b, "null"); /* required and not set */
        return;
    }
    switch (s->type) {
    case RC_CFG_INT:
    case RC_CFG_FLOAT: /* normalised text is already a JSON number: no nan/inf */
    case RC_CFG_BOOL: rc_sb_puts(b, v->text); break;
    case RC_CFG_STRING:
    case RC_CFG_ENUM: rc_sb_json_str(b, v->text); break;
    case RC_CFG_INT_LIST:
    case RC_CFG_FLOAT_LIST:
        rc_sb_putn(b, "[", 1);
        for (size_t k = 0; k < v->n; k++) {
            if (k) rc_sb_puts(b, indent ? ", " : ",");
            if (s->type == RC_CFG_INT_LIST) snprintf(num, sizeof num, "%lld", v->ints[k]);
            else cfg_fmt_double(v->floats[k], num);
            rc_sb_puts(b, num);
        }
        rc_sb_putn(b, "]", 1);
        break;
    }
}

char *rc_cfg_to_json(const rc_cfg *cfg, int indent)
{
    RC_ASSERT(cfg && indent >= 0);
    const char *colon = indent ? ": " : ":";
    rc_strbuf b = { 0 };
    size_t nsec;
    out_section *o = out_sections(cfg, &nsec);
    if (!o) return NULL;
    rc_sb_putn(&b, "{", 1);
    for (size_t j = 0; j < nsec; j++) {
        const char *sec = cfg->spec[o[j].first].section;
        if (j) rc_sb_putn(&b, ",", 1);
        json_newline(&b, indent, 1);
        rc_sb_json_str(&b, o[j].name);
        rc_sb_puts(&b, colon);
        rc_sb_putn(&b, "{", 1);
        int nkey = 0;
        for (size_t k = o[j].first; k < cfg->nspec; k++) {
            const rc_cfg_spec *s = &cfg->spec[k];
            if (strcmp(s->section, sec)) continue;
            if (nkey++) rc_sb_putn(&b, ",", 1);
            json_newline(&b, indent, 2);
            rc_sb_json_str(&b, s->key);
            rc_sb_puts(&b, colon);
            json_value(&b, s, &o[j].slots[k].v, indent);
        }
        json_newline(&b, indent, 1);
        rc_sb_putn(&b, "}", 1);
    }
    if (nsec) json_newline(&b, indent, 0);
    rc_sb_putn(&b, "}", 1);
    free(o);
    return rc_sb_take(&b);
}

/* The three left columns of one --help line. */
static void help_cols(const rc_cfg_spec *s, rc_strbuf *name, rc_strbuf *type, rc_strbuf *def)
{
    name->len = type->len = def->len = 0;
    if (cfg_is_template(s->section)) /* "population.*" rows document "population.<name>.key" */
        rc_sb_printf(name, "%.*s.<name>.%s", (int)(strlen(s->section) - 2), s->section, s->key);
    else
        rc_sb_printf(name, "%s.%s", s->section, s->key);
    sb_type(type, s);
    if (!s->def) {
        rc_sb_puts(def, "(required)");
    } else {
        char *d = strdup(s->def);
        if (!d) def->oom = 1;
        else {
            const char *t = cfg_trim(d);
            rc_sb_printf(def, "default %s", *t ? t : "(empty)");
            free(d);
        }
    }
}

void rc_cfg_print_help(const rc_cfg_spec *spec, size_t nspec, FILE *f)
{
    RC_ASSERT((spec || nspec == 0) && f);
    rc_strbuf name = { 0 }, type = { 0 }, def = { 0 };
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
        fprintf(f, "  %-*s   %-*s   %-*s   %s\n", (int)wn, name.s, (int)wt, type.s, (int)wd, def.s, spec[i].help);
    }
    rc_sb_free(&name);
    rc_sb_free(&type);
    rc_sb_free(&def);
}

