/* strbuf.c — see strbuf.h. An allocation failure sets oom and drops output;
 * callers check oom once at the end instead of after every append. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "base/strbuf.h"

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
        size_t nc = b->cap ? b->cap * 2 : 256;
        while (nc < b->len + (size_t)n + 1) nc *= 2;
        char *s = realloc(b->s, nc);
        if (!s) { b->oom = 1; return; }
        b->s = s;
        b->cap = nc;
    }
}

void rc_sb_json_str(rc_strbuf *b, const char *s)
{
    rc_sb_printf(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') rc_sb_printf(b, "\\%c", *p);
        else if (*p == '\n') rc_sb_printf(b, "\\n");
        else if (*p == '\t') rc_sb_printf(b, "\\t");
        else if (*p < 0x20) rc_sb_printf(b, "\\u%04x", *p);
        else rc_sb_printf(b, "%c", *p);
    }
    rc_sb_printf(b, "\"");
}

void rc_sb_json_num(rc_strbuf *b, double v)
{
    if (isfinite(v)) rc_sb_printf(b, "%.10g", v);
    else rc_sb_printf(b, "null");
}

void rc_sb_free(rc_strbuf *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}
