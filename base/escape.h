/* escape.h — text from input, made safe to echo on one line.
 *
 * Error messages are one line on stderr. Anything in them that came from a
 * file or the command line (a WAV chunk id, a --set value, a config value, a
 * reason string from HDF5) can hold newlines, escape sequences or NULs; these
 * helpers write such text with control bytes as C escapes, so a message can
 * never span two lines or drive the terminal. rc_err_set applies
 * rc_escape_ctl to every message it formats, so no caller can forget it. */
#ifndef RC_ESCAPE_H
#define RC_ESCAPE_H
#include <stddef.h>

/* Writes src[0..n) into dst (size bytes, NUL-terminated; size > 0) with
 * '\n' '\r' '\t' as \n \r \t, a NUL and other bytes < 0x20 or 0x7f as \xHH,
 * and '\\' as \\; everything else (UTF-8 included) as is. Stops early, with
 * "..." at the end, when the escaped text would not fit. Returns dst. */
char *rc_escape(char *dst, size_t size, const void *src, size_t n);

/* Escapes control bytes in the NUL-terminated string s in place (backslashes
 * are left alone: this is for whole messages, where paths may hold them),
 * within a buffer of `size` bytes; clipped with "..." if it grows past it. */
void rc_escape_ctl(char *s, size_t size);

#endif
