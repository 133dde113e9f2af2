/* progress.c — the training progress on stderr: one line redrawn in place on
 * a terminal, timestamped log lines otherwise (or when asked), nothing with
 * output.progress = off. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "base/clock.h"
#include "sim/app/app.h"

void rc_app_progress_init(rc_app_progress *p, const char *how, double every)
{
    memset(p, 0, sizeof *p);
    p->every = every;
    if (!strcmp(how, "off")) p->mode = 0;
    else if (!strcmp(how, "line")) p->mode = 1;
    else if (!strcmp(how, "log")) p->mode = 2;
    else p->mode = isatty(2) ? 1 : 2;
    p->t0 = p->last = rc_now_s();
}

static void fmt_eta(char *buf, size_t cap, double s)
{
    if (!(s >= 0) || s > 1e7) snprintf(buf, cap, "?");
    else if (s >= 3600) snprintf(buf, cap, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
    else snprintf(buf, cap, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
}

void rc_app_progress_show(rc_app_progress *p, int64_t done, int64_t total, double ex_s, double loss,
                          double val_acc, double tsp, int force)
{
    if (!p->mode) return;
    double t = rc_now_s();
    if (!force && t - p->last < (p->mode == 1 ? 0.2 : p->every)) return;
    p->last = t;
    char eta[32];
    fmt_eta(eta, sizeof eta, ex_s > 0 ? (double)(total - done) / ex_s : -1);
    /* Before the first validation point there is none to show: a dash. */
    char va[32] = "\u2014", ts[32] = "\u2014", line[256];
    if (!isnan(val_acc)) snprintf(va, sizeof va, "%.4f", val_acc);
    if (!isnan(tsp)) snprintf(ts, sizeof ts, "%.2f", tsp);
    snprintf(line, sizeof line,
             "train %lld/%lld (%.0f%%)  %.0f ex/s  loss %.4f  val acc %s  mean t_sp %s  ETA %s",
             (long long)done, (long long)total, 100.0 * (double)done / (double)total, ex_s,
             loss, va, ts, eta);
    if (p->mode == 1) {
        fprintf(stderr, "\r%-110s", line);
        p->drawn = 1;
    } else {
        fprintf(stderr, "[%7.1fs] %s\n", t - p->t0, line);
    }
    fflush(stderr);
}

void rc_app_progress_end(rc_app_progress *p)
{
    if (p->mode == 1 && p->drawn) fprintf(stderr, "\n");
    p->drawn = 0;
}
