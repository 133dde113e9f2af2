/* strbuf.h — a growable string for building JSON and CSV text. */
#ifndef RC_STRBUF_H
#define RC_STRBUF_H
#include <stddef.h>
typedef struct { char *s; size_t len, cap; int oom; } rc_strbuf;
void rc_sb_printf(rc_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends a JSON string literal (quoted, escaped). */
void rc_sb_json_str(rc_strbuf *b, const char *s);
/* Appends a JSON number: finite values with %.10g, non-finite as null. */
void rc_sb_json_num(rc_strbuf *b, double v);
void rc_sb_free(rc_strbuf *b);
#endif
