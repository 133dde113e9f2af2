/* strbuf.c — see strbuf.h. An allocation failure sets oom and drops output;
 * callers check oom once at the end instead of after every append. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/strbuf.h"

/* Room for n more bytes and the NUL; 0 (and oom set) when that fails. */
static int sb_reserve(rc_strbuf *b, size_t n)
{
    if (b->oom) return 0;
    if (b->s && b->len + n < b->cap) return 1;
    size_t nc = b->cap ? b->cap * 2 : 256;
    while (nc < b->len + n + 1) nc *= 2;
    char *s = realloc(b->s, nc);
    if (!s) {
        b->oom = 1;
        return 0;
    }
    b->s = s;
    b->cap = nc;
    return 1;
}

void rc_sb_putn(rc_strbuf *b, const char *s, size_t n)
{
    if (!sb_reserve(b, n)) return;
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void rc_sb_puts(rc_strbuf *b, const char *s) { rc_sb_putn(b, s, strlen(s)); }

void rc_sb_printf(rc_strbuf *b, const char *fmt, ...)
{
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->len;
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0) { b->oom = 1; return; }
        if ((size_t)n < room && b->s) { b->len += (size_t)n; return; }
        if (!sb_reserve(b, (size_t)n)) return;
    }
}

void rc_sb_json_str(rc_strbuf *b, const char *s)
{
    rc_sb_putn(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': rc_sb_puts(b, "\\\""); break;
        case '\\': rc_sb_puts(b, "\\\\"); break;
        case '\b': rc_sb_puts(b, "\\b"); break;
        case '\f': rc_sb_puts(b, "\\f"); break;
        case '\n': rc_sb_puts(b, "\\n"); break;
        case '\r': rc_sb_puts(b, "\\r"); break;
        case '\t': rc_sb_puts(b, "\\t"); break;
        default:
            if (*p < 0x20) rc_sb_printf(b, "\\u%04x", *p);
            else rc_sb_putn(b, (const char *)p, 1);
        }
    }
    rc_sb_putn(b, "\"", 1);
}

void rc_sb_json_num(rc_strbuf *b, double v)
{
    if (isfinite(v)) rc_sb_printf(b, "%.10g", v);
    else rc_sb_printf(b, "null");
}

char *rc_sb_take(rc_strbuf *b)
{
    if (sb_reserve(b, 0)) b->s[b->len] = '\0';
    char *s = b->oom ? NULL : b->s;
    if (b->oom) free(b->s);
    *b = (rc_strbuf){ 0 };
    return s;
}

void rc_sb_free(rc_strbuf *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}
