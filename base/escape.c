/* escape.c — see escape.h. */
#include <string.h>
#include "base/escape.h"

/* The escape for byte c into out (at most 5 bytes), its length; 0: as is. */
static size_t esc1(unsigned char c, int backslash, char out[5])
{
    static const char hex[] = "0123456789abcdef";
    switch (c) {
    case '\n': memcpy(out, "\\n", 2); return 2;
    case '\r': memcpy(out, "\\r", 2); return 2;
    case '\t': memcpy(out, "\\t", 2); return 2;
    case '\\':
        if (!backslash) return 0;
        memcpy(out, "\\\\", 2);
        return 2;
    default:
        if (c >= 0x20 && c != 0x7f) return 0;
        out[0] = '\\'; out[1] = 'x'; out[2] = hex[c >> 4]; out[3] = hex[c & 15];
        return 4;
    }
}

static char *escape_into(char *dst, size_t size, const unsigned char *p, size_t n, int backslash)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char e[5];
        size_t k = esc1(p[i], backslash, e);
        const char *w = k ? e : (const char *)&p[i];
        if (!k) k = 1;
        if (o + k + 1 > size) { /* no room: end with "..." where it fits */
            size_t at = size > 4 ? size - 4 : 0;
            if (o < at) at = o;
            if (size > 4) memcpy(dst + at, "...", 3), at += 3;
            dst[at] = '\0';
            return dst;
        }
        memcpy(dst + o, w, k);
        o += k;
    }
    dst[o] = '\0';
    return dst;
}

char *rc_escape(char *dst, size_t size, const void *src, size_t n)
{
    if (!size) return dst;
    return escape_into(dst, size, (const unsigned char *)src, n, 1);
}

void rc_escape_ctl(char *s, size_t size)
{
    size_t n = strlen(s), i = 0;
    while (i < n && (unsigned char)s[i] >= 0x20 && s[i] != 0x7f) i++;
    if (i == n) return; /* the common case: nothing to do, no copy */
    char tmp[8192];
    if (n > sizeof tmp) n = sizeof tmp;
    memcpy(tmp, s, n);
    escape_into(s, size, (const unsigned char *)tmp, n, 0);
}
