/* status.c — status strings and the message setter. */
#include "base/escape.h"
#include "base/status.h"

const char *rc_status_str(rc_status s)
{
    switch (s) {
    case RC_OK: return "ok";
    case RC_ERR_CONFIG: return "config error";
    case RC_ERR_USAGE: return "usage error";
    case RC_ERR_IO: return "I/O error";
    case RC_ERR_DATA: return "data error";
    case RC_ERR_NOMEM: return "out of memory";
    case RC_ERR_NUMERIC: return "numeric error";
    case RC_ERR_INTERRUPTED: return "interrupted";
    }
    return "unknown status";
}

rc_status rc_err_set(rc_err *err, rc_status s, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        rc_escape_ctl(err->msg, sizeof err->msg); /* one line, whatever the input held */
    }
    return s;
}
