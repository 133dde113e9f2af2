/* cfg_names.c — finding sections, keys and instance sections by name, and the
 * messages for names that match nothing, with a did-you-mean suggestion
 * (see cfg_impl.h). Lookups are linear: specs have a few hundred rows and
 * configs are read once per run. */
#include "io/cfg_impl.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
int cfg_better_match(const char *found, const char *cand, size_t *best)
{
    size_t d = edit_distance(found, cand);
    size_t lf = strlen(found), lc = strlen(cand);
    size_t lim = lf / 2 > 2 ? lf / 2 : 2;
    if (d == SIZE_MAX || d > lim || d >= (lf > lc ? lf : lc) || d >= *best) return 0;
    *best = d;
    return 1;
}

/* ---- lookup -------------------------------------------------------------- */

/* A template section "population.*" holds the rows of every [population.NAME]. */
int cfg_is_template(const char *section)
{
    size_t n = strlen(section);
    return n > 2 && section[n - 2] == '.' && section[n - 1] == '*';
}

/* A section as users see it: "population.<name>" for a template. */
static const char *sec_display(const char *section, char *buf, size_t size)
{
    if (!cfg_is_template(section)) return section;
    snprintf(buf, size, "%.*s.<name>", (int)(strlen(section) - 2), section);
    return buf;
}

size_t cfg_find_key(const rc_cfg *cfg, const char *section, const char *key)
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
        if (cfg_is_template(spec[i].section)) continue;
        if (!strncmp(name, spec[i].section, ls) && name[ls] == '.' && !strcmp(name + ls + 1, spec[i].key))
            return i;
    }
    return NONE;
}

/* The spec's spelling of a section, or NULL if no key lives there. */
const char *cfg_find_section(const rc_cfg *cfg, const char *section)
{
    for (size_t i = 0; i < cfg->nspec; i++)
        if (!strcmp(cfg->spec[i].section, section)) return cfg->spec[i].section;
    return NULL;
}

/* The spec's spelling of the template whose prefix is name[0, len), or NULL. */
const char *cfg_find_template(const rc_cfg *cfg, const char *name, size_t len)
{
    for (size_t i = 0; i < cfg->nspec; i++) {
        const char *sec = cfg->spec[i].section;
        if (cfg_is_template(sec) && strlen(sec) == len + 2 && !strncmp(sec, name, len)) return sec;
    }
    return NULL;
}

/* The instance whose full name is name[0, len) ("population.E"), or NULL. */
cfg_inst *cfg_find_inst(const rc_cfg *cfg, const char *name, size_t len)
{
    for (size_t k = 0; k < cfg->ninsts; k++)
        if (!strncmp(cfg->insts[k].name, name, len) && !cfg->insts[k].name[len]) return &cfg->insts[k];
    return NULL;
}

/* Where "section.key" or "tmpl.NAME.key" lives: returns the spec row (NONE if
 * nowhere) and sets *inst to the instance, or NULL for a plain section. */
size_t cfg_find_slot(const rc_cfg *cfg, const char *name, cfg_inst **inst)
{
    *inst = NULL;
    size_t i = find_name(cfg->spec, cfg->nspec, name);
    if (i != NONE) return i;
    const char *d1 = strchr(name, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    cfg_inst *in = d2 ? cfg_find_inst(cfg, name, (size_t)(d2 - name)) : NULL;
    if (!in) return NONE;
    i = cfg_find_key(cfg, in->tmpl, d2 + 1);
    if (i != NONE) *inst = in;
    return i;
}

cfg_slot *cfg_slots_of(const rc_cfg *cfg, const cfg_inst *inst)
{
    return inst ? inst->slots : cfg->slots;
}

/* Instance names: [A-Za-z0-9_]+, so "tmpl.NAME.key" splits unambiguously. */
int cfg_valid_inst_name(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_') return 0;
    return 1;
}

/* Sections are listed in order of first appearance in the spec. */
int cfg_first_of_section(const rc_cfg_spec *spec, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (!strcmp(spec[j].section, spec[i].section)) return 0;
    return 1;
}

/* Suggests the nearest section; for a template, the typed text before the
 * first '.' is matched against the template's prefix ("popultion.E" ->
 * [population.E]). */
rc_status cfg_unknown_section(const rc_cfg *cfg, const cfg_loc *L, const char *name, rc_err *err)
{
    rc_strbuf list = { 0 };
    size_t best = SIZE_MAX;
    char near[600] = "", disp[300], typed[300];
    const char *dot = strchr(name, '.');
    snprintf(typed, sizeof typed, "%.*s", (int)(dot ? (size_t)(dot - name) : strlen(name)), name);
    int clipped = 0;
    for (size_t i = 0; i < cfg->nspec; i++) {
        if (!cfg_first_of_section(cfg->spec, i)) continue;
        const char *sec = cfg->spec[i].section;
        if (!cfg_is_template(sec)) {
            if (cfg_better_match(name, sec, &best)) snprintf(near, sizeof near, "%s", sec);
        } else {
            snprintf(disp, sizeof disp, "%.*s", (int)(strlen(sec) - 2), sec);
            if (cfg_better_match(typed, disp, &best))
                snprintf(near, sizeof near, "%s%.200s", disp, dot ? dot : ".<name>");
        }
        if (list.len <= LIST_MAX) rc_sb_printf(&list, "%s[%s]", list.len ? ", " : "", sec_display(sec, disp, sizeof disp));
        else if (!clipped++) rc_sb_puts(&list, ", ...");
    }
    const char *known = list.oom || !list.s ? "the sections listed by --help" : list.s;
    rc_status st;
    if (*near)
        st = cfg_err(err, RC_ERR_CONFIG, L, "unknown section [" CLIP_FMT "]; expected one of %s (did you mean [" CLIP_FMT "]?)",
                     CLIP(name), known, CLIP(near));
    else
        st = cfg_err(err, RC_ERR_CONFIG, L, "unknown section [" CLIP_FMT "]; expected one of %s", CLIP(name), known);
    rc_sb_free(&list);
    return st;
}

/* `section` is the spec's spelling, `shown` the name in the file (they differ
 * for an instance: "population.*" and "population.E"). */
rc_status cfg_unknown_key(const rc_cfg *cfg, const cfg_loc *L, const char *section, const char *shown,
                             const char *key, rc_err *err)
{
    rc_strbuf list = { 0 };
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
        if (list.len <= LIST_MAX) rc_sb_printf(&list, "%s%s", list.len ? ", " : "", s->key);
        else if (!clipped++) rc_sb_puts(&list, ", ...");
        if (cfg_better_match(key, s->key, &best)) near = s->key;
    }
    const char *known = list.oom || !list.s ? "see --help" : list.s;
    rc_status st;
    if (elsewhere) /* the right key under the wrong header is the likelier slip */
        st = cfg_err(err, RC_ERR_CONFIG, L, "unknown key '" CLIP_FMT "' in [%s] (did you mean '%s' in [%s]?); known keys: %s",
                     CLIP(key), shown, key, sec_display(elsewhere, disp, sizeof disp), known);
    else if (near)
        st = cfg_err(err, RC_ERR_CONFIG, L, "unknown key '" CLIP_FMT "' in [%s] (did you mean '%s'?); known keys: %s",
                     CLIP(key), shown, near, known);
    else
        st = cfg_err(err, RC_ERR_CONFIG, L, "unknown key '" CLIP_FMT "' in [%s]; known keys: %s", CLIP(key),
                     shown, known);
    rc_sb_free(&list);
    return st;
}

/* --set on "tmpl.NAME.key" where [tmpl.NAME] was never given: --set does not
 * create instances (a typo would silently add a population), so list them. */
static rc_status missing_instance(const rc_cfg *cfg, const cfg_loc *L, const char *tmpl, const char *name,
                                  size_t len, rc_err *err)
{
    rc_strbuf list = { 0 };
    for (size_t k = 0; k < cfg->ninsts && list.len <= LIST_MAX; k++)
        if (!strcmp(cfg->insts[k].tmpl, tmpl)) rc_sb_printf(&list, "%s[%s]", list.len ? ", " : "", cfg->insts[k].name);
    char disp[300];
    rc_status st = cfg_err(err, RC_ERR_CONFIG, L, "no section [%.*s] in the config (--set changes instances a file declares); "
                           "instances of [%s]: %s", (int)(len > CLIP_MAX ? CLIP_MAX : len), name,
                           sec_display(tmpl, disp, sizeof disp), list.s && !list.oom ? list.s : "none");
    rc_sb_free(&list);
    return st;
}

/* --set names a key by "section.key" (or "tmpl.NAME.key"); suggest the
 * nearest full name, instances included. */
rc_status cfg_unknown_name(const rc_cfg *cfg, const cfg_loc *L, const char *name, rc_err *err)
{
    const char *d1 = strchr(name, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    const char *tmpl = d1 ? cfg_find_template(cfg, name, (size_t)(d1 - name)) : NULL;
    if (tmpl && d2 && cfg_find_key(cfg, tmpl, d2 + 1) != NONE && !cfg_find_inst(cfg, name, (size_t)(d2 - name)))
        return missing_instance(cfg, L, tmpl, name, (size_t)(d2 - name), err);
    size_t best = SIZE_MAX;
    char full[600], near[600] = "";
    for (size_t i = 0; i < cfg->nspec; i++) {
        const rc_cfg_spec *s = &cfg->spec[i];
        for (size_t k = 0; k <= cfg->ninsts; k++) { /* k == 0: the plain section */
            const cfg_inst *in = k ? &cfg->insts[k - 1] : NULL;
            if (in ? strcmp(in->tmpl, s->section) : cfg_is_template(s->section)) continue;
            snprintf(full, sizeof full, "%s.%s", in ? in->name : s->section, s->key);
            if (cfg_better_match(name, full, &best)) memcpy(near, full, sizeof full);
            if (!cfg_is_template(s->section)) break;
        }
    }
    if (*near)
        return cfg_err(err, RC_ERR_CONFIG, L, "unknown key '" CLIP_FMT "' (did you mean '" CLIP_FMT "'?)", CLIP(name),
                       CLIP(near));
    return cfg_err(err, RC_ERR_CONFIG, L, "unknown key '" CLIP_FMT "'; expected section.key as listed by --help",
                   CLIP(name));
}

