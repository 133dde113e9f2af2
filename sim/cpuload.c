/* cpuload.c — which CPUs are busy right now (for sim.threads = 0 on a shared
 * machine): two /proc/stat snapshots a few tens of ms apart; a CPU that
 * spent more than half of that window outside idle and iowait is busy. The
 * calling process sleeps through the window, so its own work does not count.
 * The topology is then cut down to the idle CPUs (see topo.h). */
#include <hwloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <time.h>
#include "sim/topo.h"
#include "sim/topo_impl.h"

/* "cpuN user nice system idle iowait irq softirq steal ..." -> busy, total. */
static int parse_stat(const char *text, int cap, unsigned long long *busy, unsigned long long *total)
{
    int n = 0;
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        int cpu;
        unsigned long long v[8] = { 0 };
        if (strncmp(p, "cpu", 3) || p[3] < '0' || p[3] > '9') continue;
        const int got = sscanf(p, "cpu%d %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &v[0], &v[1], &v[2],
                               &v[3], &v[4], &v[5], &v[6], &v[7]);
        if (got < 5 || cpu < 0 || cpu >= cap) continue;
        unsigned long long all = 0;
        for (int k = 0; k < got - 1; k++) all += v[k];
        total[cpu] = all;
        busy[cpu] = all - v[3] - (got > 5 ? v[4] : 0); /* less idle and iowait */
        if (cpu + 1 > n) n = cpu + 1;
    }
    return n;
}

int rc_cpu_busy_from_stat(const char *stat0, const char *stat1, const char *own, int *busy, int cap)
{
    unsigned long long *b = calloc((size_t)cap * 4, sizeof *b);
    if (!b) return 0;
    unsigned long long *t0 = b + cap, *b1 = b + 2 * (size_t)cap, *t1 = b + 3 * (size_t)cap;
    const int n0 = parse_stat(stat0, cap, b, t0), n1 = parse_stat(stat1, cap, b1, t1);
    const int n = n0 < n1 ? n0 : n1;
    for (const char *p = own; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        int c;
        unsigned long long j;
        if (sscanf(p, "cpu%d %llu", &c, &j) == 2 && c >= 0 && c < n)
            b1[c] = b1[c] > j ? b1[c] - j : 0;
    }
    for (int c = 0; c < n; c++) {
        const unsigned long long dt = t1[c] > t0[c] ? t1[c] - t0[c] : 0, db = b1[c] > b[c] ? b1[c] - b[c] : 0;
        busy[c] = dt > 0 && 2 * db > dt;
    }
    free(b);
    return n;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    size_t cap = 1 << 16, len = 0;
    char *s = malloc(cap);
    while (s) {
        const size_t got = fread(s + len, 1, cap - 1 - len, f);
        len += got;
        if (got == 0 || len + 1 >= cap) break;
    }
    fclose(f);
    if (s) s[len] = 0;
    return s;
}

/* This process's threads: utime + stime (jiffies, as /proc/stat) by thread
 * id, and the CPU each last ran on; n entries at most. */
typedef struct { long tid; unsigned long long jiffies; int cpu; } own_thread;

static int own_threads(own_thread *out, int cap)
{
    DIR *d = opendir("/proc/self/task");
    if (!d) return 0;
    int n = 0;
    for (struct dirent *e; n < cap && (e = readdir(d));) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        char path[300];
        snprintf(path, sizeof path, "/proc/self/task/%s/stat", e->d_name);
        char *st = slurp(path), *p = st ? strrchr(st, ')') : NULL; /* the name may hold spaces */
        unsigned long long ut = 0, stt = 0;
        int cpu = -1;
        /* after ')': state(3) ... utime(14) stime(15) ... processor(39) */
        if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d "
                               "%*u %*u %*d %*u %*u %*u %*u %*u %*u %*u %*u %*u %*u %*u %*u %*u %*d %d",
                        &ut, &stt, &cpu) == 3)
            out[n++] = (own_thread){ atol(e->d_name), ut + stt, cpu };
        free(st);
    }
    closedir(d);
    return n;
}

int rc_topo_restrict_idle(rc_topo *t, int window_ms, int min_cores)
{
    if (!t->host || t->nunits < 2) return 0;
    enum { CAP = 4096, OWN = 256 };
    own_thread o0[OWN], o1[OWN];
    const int n0 = own_threads(o0, OWN);
    char *s0 = slurp("/proc/stat");
    if (!s0) return 0;
    const struct timespec w = { window_ms / 1000, (long)(window_ms % 1000) * 1000000L };
    nanosleep(&w, NULL);
    char *s1 = slurp("/proc/stat");
    const int n1 = own_threads(o1, OWN);
    /* Our own threads (BLAS threads winding down, a data-loading pool) are
     * not the competition: their jiffies in the window come off their CPU's
     * busy time. */
    char own_text[16384];
    int ol = 0;
    for (int i = 0; i < n1; i++) {
        unsigned long long before = 0;
        for (int j = 0; j < n0; j++) if (o0[j].tid == o1[i].tid) before = o0[j].jiffies;
        if (o1[i].cpu >= 0 && o1[i].jiffies > before && ol < (int)sizeof own_text - 64)
            ol += snprintf(own_text + ol, sizeof own_text - (size_t)ol, "cpu%d %llu\n", o1[i].cpu, o1[i].jiffies - before);
    }
    own_text[ol] = 0;
    int *busy = s1 ? calloc(CAP, sizeof *busy) : NULL;
    const int n = busy ? rc_cpu_busy_from_stat(s0, s1, own_text, busy, CAP) : 0;
    free(s0);
    free(s1);
    const int excluded = busy ? rc_topo_restrict_busy(t, busy, n, min_cores) : 0;
    free(busy);
    return excluded;
}

int rc_topo_restrict_busy(rc_topo *t, const int *busy, int n, int min_cores)
{
    int excluded = 0;
    hwloc_bitmap_t idle = hwloc_bitmap_dup(hwloc_topology_get_topology_cpuset(t->h));
    if (idle) {
        for (int c = 0; c < n; c++)
            if (busy[c] && hwloc_bitmap_isset(idle, (unsigned)c)) { hwloc_bitmap_clr(idle, (unsigned)c); excluded++; }
        /* All busy, or fewer idle cores than the threads asked for: keep the
         * machine (one thread per core, as before). */
        const int idle_cores = hwloc_get_nbobjs_inside_cpuset_by_type(t->h, idle, HWLOC_OBJ_CORE);
        if (excluded && !hwloc_bitmap_iszero(idle) && idle_cores >= (min_cores > 1 ? min_cores : 1)
            && hwloc_topology_restrict(t->h, idle, 0) == 0)
            rc_topo_recount(t);
        else
            excluded = 0;
        hwloc_bitmap_free(idle);
    }
    return excluded;
}
