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
 * of the lines before the bad one (callers give up on the config anyway).
 *
 * Instance sections ([population.E] of a "population.*" template) get their
 * own slot array when their header is first read, filled with the template's
 * defaults, so every check below applies to them unchanged.
 *
 * This file: life cycle, loading, --set, required keys, instances, getters.
 * Values, names and output live in cfg_value.c, cfg_names.c and cfg_emit.c
 * (see cfg_impl.h). */
#include "io/cfg_impl.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- life cycle ---------------------------------------------------------- */

/* A broken spec is a programming error: say which entry before aborting. */
static void check_spec(const rc_cfg_spec *spec, size_t i)
{
    const rc_cfg_spec *s = &spec[i];
    RC_ASSERT(s->section && *s->section && s->key && *s->key && s->help && *s->help);
    const char *dot = strchr(s->section, '.');
    const int tmpl = cfg_is_template(s->section); /* "name.*", with one '.' and a non-empty name */
    RC_ASSERT(!dot || (tmpl && dot > s->section && dot == s->section + strlen(s->section) - 2));
    RC_ASSERT(!strchr(s->section, ']') && !strchr(s->key, '='));
    RC_ASSERT(s->type >= RC_CFG_INT && s->type <= RC_CFG_FLOAT_LIST);
    if (cfg_is_numeric(s->type)) RC_ASSERT(!isnan(s->min) && !isnan(s->max) && s->min <= s->max);
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
        int clash = (cfg_is_template(a) && !tmpl && la == lb + 2 && !strncmp(a, b, lb)) ||
                    (tmpl && !cfg_is_template(a) && lb == la + 2 && !strncmp(a, b, la));
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
        const char *why = cfg_unrepresentable(spec[i].def);
        if (why) fprintf(stderr, "rcsim: default of %s.%s %s\n", spec[i].section, spec[i].key, why);
        RC_ASSERT(why == NULL);
        rc_status st = cfg_parse_value(&spec[i], spec[i].section, spec[i].def, &slots[i].v, &L, &e);
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
    for (size_t i = 0; slots && i < n; i++) cfg_value_free(&slots[i].v);
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
    cfg_value_free(&sl->v);
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
    const char *sec = cfg_find_section(cfg, name);
    if (sec && !cfg_is_template(sec)) {
        ld->section = sec;
        ld->inst = NONE;
        return RC_OK;
    }
    const char *dot = strchr(name, '.');
    size_t plen = dot ? (size_t)(dot - name) : strlen(name);
    const char *tmpl = cfg_find_template(cfg, name, plen);
    if (!tmpl) return cfg_unknown_section(cfg, L, name, err);
    if (!dot)
        return cfg_err(err, RC_ERR_CONFIG, L, "section [" CLIP_FMT "] needs an instance name: [%s.<name>], "
                       "<name> made of letters, digits and '_'", CLIP(name), name);
    if (!cfg_valid_inst_name(dot + 1))
        return cfg_err(err, RC_ERR_CONFIG, L, "section [" CLIP_FMT "]: instance name '" CLIP_FMT "' may hold "
                       "only letters, digits and '_'", CLIP(name), CLIP(dot + 1));
    cfg_inst *in = cfg_find_inst(cfg, name, strlen(name));
    if (!in && !(in = inst_add(cfg, tmpl, name))) return cfg_nomem(err, L);
    ld->section = tmpl;
    ld->inst = (size_t)(in - cfg->insts);
    return RC_OK;
}

/* One line, '\n' already removed; `len` is its length as read, to catch NULs. */
static rc_status parse_line(load_state *ld, char *line, size_t len, rc_err *err)
{
    rc_cfg *cfg = ld->cfg;
    const cfg_loc L = { ld->file, ld->line, NULL };
    if (strlen(line) != len) return cfg_err(err, RC_ERR_CONFIG, &L, "contains a NUL byte; expected a text file");
    const char *cr = memchr(line, '\r', len);
    if (cr && cr + 1 < line + len) /* a CR before the end: CR-only line endings would all read as line 1 */
        return cfg_err(err, RC_ERR_CONFIG, &L, "carriage return (CR) inside the line: CR-only (old Mac) line "
                       "endings? expected LF or CRLF line endings");
    if (ld->line == 1 && !strncmp(line, "\xEF\xBB\xBF", 3)) line += 3; /* editors' UTF-8 BOM */
    char *c = cfg_find_comment(line);
    if (c) *c = '\0';
    char *s = cfg_trim(line); /* also drops the '\r' of CRLF files */
    if (!*s) return RC_OK;

    size_t n = strlen(s);
    char *eq = strchr(s, '=');
    if ((*s == '[' && s[n - 1] != ']') || (*s != '[' && (!eq || eq == s)))
        return cfg_err(err, RC_ERR_CONFIG, &L, "expected 'key = value', '[section]' or a comment, found '" CLIP_FMT "'",
                       CLIP(s));
    if (*s == '[') {
        s[n - 1] = '\0';
        return open_section(ld, cfg_trim(s + 1), &L, err);
    }
    *eq = '\0';
    char *key = cfg_trim(s), *val = cfg_trim(eq + 1);
    if ((c = cfg_find_comment(val))) *c = '\0'; /* "key=#x" reads like "key = #x": no value starts a comment */
    val = cfg_trim(val);
    if (!ld->section)
        return cfg_err(err, RC_ERR_CONFIG, &L,
                       "key outside any section: '" CLIP_FMT "' (expected a [section] header first)", CLIP(key));
    const cfg_inst *in = ld->inst == NONE ? NULL : &cfg->insts[ld->inst];
    const char *shown = in ? in->name : ld->section;
    size_t i = cfg_find_key(cfg, ld->section, key);
    if (i == NONE) return cfg_unknown_key(cfg, &L, ld->section, shown, key, err);
    cfg_slot *sl = &cfg_slots_of(cfg, in)[i];
    if (sl->gen == cfg->gen && sl->origin == ld->file)
        return cfg_err(err, RC_ERR_CONFIG, &L, "%s.%s given twice (first at line %d)", shown, cfg->spec[i].key,
                       sl->line);
    cfg_value nv;
    rc_status st = cfg_parse_value(&cfg->spec[i], shown, val, &nv, &L, err);
    if (st) return st;
    slot_assign(sl, &nv, ld->file, ld->line, cfg->gen);
    return RC_OK;
}

/* Splits text[0..len) at '\n' and parses each line; text is modified. */
static rc_status load_text(load_state *ld, char *text, size_t len, rc_err *err)
{
    rc_status st = RC_OK;
    for (size_t pos = 0; st == RC_OK && pos < len;) {
        char *p = text + pos, *nl = memchr(p, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - p) : len - pos;
        p[n] = '\0'; /* text has room for one more byte at len */
        ld->line++;
        st = parse_line(ld, p, n, err);
        pos += n + 1;
    }
    return st;
}

rc_status rc_cfg_load_file(rc_cfg *cfg, const char *path, rc_err *err)
{
    RC_ASSERT(cfg && path);
    FILE *f = fopen(path, "r");
    if (!f) return rc_err_set(err, RC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    load_state ld;
    rc_status st = begin_load(cfg, path, &ld, err);
    /* Read at most RC_CFG_MAX_BYTES + 1 bytes into a buffer that grows with
     * what arrives: a config is small text, and /dev/zero or a huge file
     * must not grow memory without bound. */
    char *buf = NULL;
    size_t n = 0, cap = 0;
    while (!st) {
        if (n + 1 >= cap) { /* room for one more byte and the NUL load_text writes */
            size_t nc = cap ? 2 * cap : 4096;
            if (nc > RC_CFG_MAX_BYTES + 2) nc = RC_CFG_MAX_BYTES + 2;
            char *nb = realloc(buf, nc);
            if (!nb) { st = rc_err_set(err, RC_ERR_NOMEM, "%s: out of memory", path); break; }
            buf = nb;
            cap = nc;
        }
        errno = 0;
        size_t got = fread(buf + n, 1, cap - 1 - n, f);
        n += got;
        if (ferror(f)) /* a read error (e.g. a directory) */
            st = rc_err_set(err, RC_ERR_IO, "%s: cannot read: %s", path, strerror(errno ? errno : EIO));
        else if (n > RC_CFG_MAX_BYTES)
            st = rc_err_set(err, RC_ERR_CONFIG, "%s: larger than %d bytes; expected a config text file",
                            path, RC_CFG_MAX_BYTES);
        else if (got == 0)
            break; /* end of file */
    }
    if (!st) st = load_text(&ld, buf, n, err);
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
    size_t n = strlen(text);
    char *copy = malloc(n + 1);
    if (!copy) return rc_err_set(err, RC_ERR_NOMEM, "%s: out of memory", name);
    memcpy(copy, text, n + 1);
    st = load_text(&ld, copy, n, err);
    free(copy);
    return st;
}

/* Works on a private copy of the assignment, which the caller frees. */
static rc_status set_from_copy(rc_cfg *cfg, const cfg_loc *L, char *copy, rc_err *err)
{
    char *eq = strchr(copy, '=');
    if (!eq) return cfg_err(err, RC_ERR_CONFIG, L, "expected section.key=value");
    *eq = '\0';
    char *name = cfg_trim(copy), *val = cfg_trim(eq + 1);
    char *dot = strchr(name, '.');
    if (!dot || dot == name || !dot[1]) return cfg_err(err, RC_ERR_CONFIG, L, "expected section.key=value");
    cfg_inst *in;
    size_t i = cfg_find_slot(cfg, name, &in);
    if (i == NONE) return cfg_unknown_name(cfg, L, name, err);
    const rc_cfg_spec *s = &cfg->spec[i];
    const char *shown = in ? in->name : s->section;
    const char *why = cfg_unrepresentable(val);
    if (why) return cfg_err(err, RC_ERR_CONFIG, L, "%s.%s = '" CLIP_FMT "' %s", shown, s->key, CLIP(val), why);
    cfg_value nv;
    rc_status st = cfg_parse_value(s, shown, val, &nv, L, err);
    if (st == RC_OK) slot_assign(&cfg_slots_of(cfg, in)[i], &nv, "--set", 0, 0);
    return st;
}

rc_status rc_cfg_set(rc_cfg *cfg, const char *assignment, rc_err *err)
{
    RC_ASSERT(cfg && assignment);
    const cfg_loc L = { NULL, 0, assignment };
    char *copy = strdup(assignment);
    if (!copy) return cfg_nomem(err, &L);
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
    rc_strbuf more = { 0 };
    for (size_t k = 0; k <= cfg->ninsts; k++) { /* k == 0: the plain sections */
        const cfg_inst *in = k ? &cfg->insts[k - 1] : NULL;
        for (size_t i = 0; i < cfg->nspec; i++) {
            const char *sec = cfg->spec[i].section;
            if ((in ? strcmp(sec, in->tmpl) : cfg_is_template(sec)) || cfg_slots_of(cfg, in)[i].v.text) continue;
            const char *shown = in ? in->name : sec;
            if (!first) {
                first = &cfg->spec[i];
                first_sec = shown;
            } else if (more.len <= LIST_MAX) {
                rc_sb_printf(&more, "%s%s.%s", more.len ? ", " : "", shown, cfg->spec[i].key);
            }
        }
    }
    rc_status st = RC_OK;
    if (first) {
        if (more.len && !more.oom)
            st = rc_err_set(err, RC_ERR_CONFIG, "%s: missing required key %s.%s (%s); also missing: %s", where,
                            first_sec, first->key, first->help, more.s);
        else
            st = rc_err_set(err, RC_ERR_CONFIG, "%s: missing required key %s.%s (%s)", where, first_sec,
                            first->key, first->help);
    }
    rc_sb_free(&more);
    return st;
}

size_t rc_cfg_instances(const rc_cfg *cfg, const char *tmpl, const char **names, size_t cap)
{
    RC_ASSERT(cfg && tmpl && (names || cap == 0));
    size_t len = strlen(tmpl);
    if (cfg_is_template(tmpl)) len -= 2;
    const char *t = cfg_find_template(cfg, tmpl, len);
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
    size_t i = cfg_find_slot(cfg, name, &in);
    if (i == NONE) fprintf(stderr, "rcsim: config key '%s' is not in the spec\n", name);
    RC_ASSERT(i != NONE);
    const rc_cfg_type t = cfg->spec[i].type;
    if (t != t1 && t != t2) fprintf(stderr, "rcsim: config key '%s' read with a getter of the wrong type\n", name);
    RC_ASSERT(t == t1 || t == t2);
    const cfg_slot *sl = &cfg_slots_of(cfg, in)[i];
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
    size_t i = cfg_find_slot(cfg, name, &in);
    if (i == NONE) fprintf(stderr, "rcsim: config key '%s' is not in the spec\n", name);
    RC_ASSERT(i != NONE);
    return cfg_slots_of(cfg, in)[i].origin != NULL;
}

rc_status rc_cfg_forget_defaults(rc_cfg *cfg, rc_err *err)
{
    RC_ASSERT(cfg);
    rc_cfg *def = rc_cfg_new(cfg->spec, cfg->nspec);
    if (!def) return rc_err_set(err, RC_ERR_NOMEM, "config: out of memory");
    for (size_t i = 0; i < cfg->nspec; i++) {
        cfg_slot *sl = &cfg->slots[i];
        const char *d = def->slots[i].v.text;
        if (sl->origin && sl->v.text && d && !strcmp(sl->v.text, d)) {
            sl->origin = NULL;
            sl->line = 0;
        }
    }
    rc_cfg_free(def);
    return RC_OK;
}
