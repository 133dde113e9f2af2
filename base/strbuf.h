/* strbuf.h — a growable string for building JSON, CSV and config text.
 *
 * Zero-initialise one (rc_strbuf b = {0}) and append. An allocation failure
 * sets oom and drops all later output, so builders check oom once at the end
 * (or let rc_sb_take report it). After any successful append, s is a
 * NUL-terminated string of len bytes. */
#ifndef RC_STRBUF_H
#define RC_STRBUF_H
#include <stddef.h>
typedef struct { char *s; size_t len, cap; int oom; } rc_strbuf;
void rc_sb_putn(rc_strbuf *b, const char *s, size_t n); /* n bytes of s */
void rc_sb_puts(rc_strbuf *b, const char *s);
void rc_sb_printf(rc_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends a JSON string literal: quoted; '"', '\\' and control characters
 * escaped (\b \f \n \r \t, others \u00XX); UTF-8 passes through. */
void rc_sb_json_str(rc_strbuf *b, const char *s);
/* Appends a JSON number: finite values with %.10g, non-finite as null. */
void rc_sb_json_num(rc_strbuf *b, double v);
/* Hands the text to the caller (who frees it; "" if nothing was appended) and
 * leaves b empty; NULL if an append failed (the text is freed then). */
char *rc_sb_take(rc_strbuf *b);
void rc_sb_free(rc_strbuf *b);
#endif
