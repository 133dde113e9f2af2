/* topo.c — hwloc topologies, thread placement and NUMA binding (see topo.h).
 *
 * All of rcsim's hwloc calls except the pool's thread binding live here, so
 * the rest of the program sees logical indices and plain integers. */
#include "sim/topo.h"

#include <errno.h>
#include <hwloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/topo_impl.h"

static const char rc_topo_expect[] =
    "expected host, synthetic:<hwloc synthetic description> (e.g. 'synthetic:pack:2 numa:2 core:8 pu:2'), "
    "or xml:<file> (or a path ending in .xml)";

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

void rc_topo_free(rc_topo *t)
{
    if (!t) return;
    if (t->h) hwloc_topology_destroy(t->h);
    free(t);
}

/* The process may have been started bound to part of the machine
 * (`mpirun --bind-to core`, `taskset`, a batch system's cpuset): then the
 * topology is cut down to those PUs, so threads are placed, and
 * `sim.threads = 0` counted, within what the process was given instead of
 * every rank pinning its thread 0 to the machine's first core. A binding
 * that covers the whole machine (the usual case) changes nothing. */
static void restrict_to_binding(rc_topo *t)
{
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    const hwloc_const_cpuset_t all = hwloc_topology_get_topology_cpuset(t->h);
    if (set && hwloc_get_cpubind(t->h, set, HWLOC_CPUBIND_PROCESS) == 0 && !hwloc_bitmap_iszero(set) &&
        all && hwloc_bitmap_isincluded(set, all) && !hwloc_bitmap_isequal(set, all))
        hwloc_topology_restrict(t->h, set, 0);
    hwloc_bitmap_free(set);
}

void rc_topo_recount(rc_topo *t)
{
    t->unit = hwloc_get_nbobjs_by_type(t->h, HWLOC_OBJ_CORE) > 0 ? HWLOC_OBJ_CORE : HWLOC_OBJ_PU;
    t->nunits = hwloc_get_nbobjs_by_type(t->h, t->unit);
}

rc_status rc_topo_new(rc_topo **out, const char *desc, const char *key, rc_err *err)
{
    if (!key) key = "topology";
    *out = NULL;
    rc_status st;
    rc_topo *t = calloc(1, sizeof *t);
    if (!t) return rc_err_set(err, RC_ERR_NOMEM, "%s: out of memory", key);
    if (hwloc_topology_init(&t->h) != 0) {
        t->h = NULL;
        st = rc_err_set(err, RC_ERR_NOMEM, "%s: hwloc_topology_init failed", key);
        goto fail;
    }
    const char *syn = NULL, *xml = NULL;
    if (!desc || !*desc || !strcmp(desc, "host")) {
        t->host = 1;
        snprintf(t->name, sizeof t->name, "this machine");
    } else if (!strncmp(desc, "synthetic:", 10)) {
        syn = desc + 10;
        while (*syn == ' ') syn++;
        if (!*syn) {
            st = rc_err_set(err, RC_ERR_CONFIG, "%s = '%s': empty synthetic description; %s", key, desc, rc_topo_expect);
            goto fail;
        }
        snprintf(t->name, sizeof t->name, "synthetic:%s", syn);
    } else if (!strncmp(desc, "xml:", 4) || ends_with(desc, ".xml")) {
        xml = !strncmp(desc, "xml:", 4) ? desc + 4 : desc;
        FILE *f = *xml ? fopen(xml, "r") : NULL;
        if (!f) {
            st = rc_err_set(err, RC_ERR_CONFIG, "%s = '%s': cannot read the XML file '%s' (%s); %s", key, desc, xml,
                       *xml ? strerror(errno) : "no path given", rc_topo_expect);
            goto fail;
        }
        fclose(f);
        snprintf(t->name, sizeof t->name, "xml:%s", xml);
    } else {
        st = rc_err_set(err, RC_ERR_CONFIG, "%s = '%s': unknown topology; %s", key, desc, rc_topo_expect);
        goto fail;
    }
    if (syn && hwloc_topology_set_synthetic(t->h, syn) != 0) {
        st = rc_err_set(err, RC_ERR_CONFIG, "%s = '%s': hwloc cannot parse the synthetic description '%s' (levels "
                   "'type:count' from the top down, ending with pu:N); %s", key, desc, syn, rc_topo_expect);
        goto fail;
    }
    if (xml && hwloc_topology_set_xml(t->h, xml) != 0) {
        st = rc_err_set(err, RC_ERR_CONFIG, "%s = '%s': hwloc cannot read '%s' as a topology XML; %s", key, desc, xml,
                   rc_topo_expect);
        goto fail;
    }
    if (hwloc_topology_load(t->h) != 0) {
        if (t->host)
            st = rc_err_set(err, RC_ERR_IO, "%s: hwloc cannot load this machine's topology (%s)", key, strerror(errno));
        else
            st = rc_err_set(err, RC_ERR_CONFIG, "%s = '%s': hwloc cannot load it as a topology; %s", key, desc,
                       rc_topo_expect);
        goto fail;
    }
    /* A synthetic or XML topology is never this system (unless the user
     * forces HWLOC_THISSYSTEM=1), which is what keeps plans from binding. */
    t->host = t->host || hwloc_topology_is_thissystem(t->h);
    if (t->host) restrict_to_binding(t);
    rc_topo_recount(t);
    if (t->nunits <= 0) {
        st = rc_err_set(err, RC_ERR_CONFIG, "%s = '%s': the topology has no cores or PUs; %s", key, desc ? desc : "",
                   rc_topo_expect);
        goto fail;
    }
    *out = t;
    return RC_OK;
fail:
    rc_topo_free(t);
    return st;
}

int rc_topo_is_host(const rc_topo *t) { return t->host; }
const char *rc_topo_name(const rc_topo *t) { return t->name; }
void *rc_topo_hwloc(const rc_topo *t) { return t ? t->h : NULL; }

static int count_type(const rc_topo *t, hwloc_obj_type_t type)
{
    int n = hwloc_get_nbobjs_by_type(t->h, type);
    return n > 0 ? n : 0;
}

int rc_topo_npackages(const rc_topo *t) { int n = count_type(t, HWLOC_OBJ_PACKAGE); return n ? n : 1; }
int rc_topo_nnuma(const rc_topo *t) { int n = count_type(t, HWLOC_OBJ_NUMANODE); return n ? n : 1; }
int rc_topo_ncores(const rc_topo *t) { return t->nunits; }
int rc_topo_npus(const rc_topo *t) { int n = count_type(t, HWLOC_OBJ_PU); return n ? n : 1; }

size_t rc_topo_pagesize(void)
{
    long p = sysconf(_SC_PAGESIZE);
    return p >= 4096 ? (size_t)p : 4096;
}

/* Logical index of the NUMA node whose cpuset holds all of obj, or -1. */
static int numa_of(hwloc_topology_t h, hwloc_obj_t obj)
{
    int nn = hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_NUMANODE);
    for (int k = 0; k < nn; k++) {
        hwloc_obj_t node = hwloc_get_obj_by_type(h, HWLOC_OBJ_NUMANODE, (unsigned)k);
        if (node && node->cpuset && obj->cpuset && hwloc_bitmap_isincluded(obj->cpuset, node->cpuset))
            return k;
    }
    return -1;
}

static int package_of(hwloc_topology_t h, hwloc_obj_t obj)
{
    hwloc_obj_t p = hwloc_get_ancestor_obj_by_type(h, HWLOC_OBJ_PACKAGE, obj);
    return p ? (int)p->logical_index : -1;
}

static void print_mem(FILE *f, unsigned long long bytes)
{
    if (bytes >= (1ull << 30)) fprintf(f, "%.1f GiB", (double)bytes / (double)(1ull << 30));
    else fprintf(f, "%.0f MiB", (double)bytes / (double)(1ull << 20));
}

void rc_topo_print(const rc_topo *t, FILE *f)
{
    hwloc_topology_t h = t->h;
    char list[256];
    fprintf(f, "topology (%s): %d package%s, %d NUMA node%s, %d cores, %d PUs\n", t->name, rc_topo_npackages(t),
            rc_topo_npackages(t) > 1 ? "s" : "", rc_topo_nnuma(t), rc_topo_nnuma(t) > 1 ? "s" : "",
            rc_topo_ncores(t), rc_topo_npus(t));
    int np = count_type(t, HWLOC_OBJ_PACKAGE);
    for (int p = 0; p < np; p++) {
        hwloc_obj_t o = hwloc_get_obj_by_type(h, HWLOC_OBJ_PACKAGE, (unsigned)p);
        if (!o || !o->cpuset) continue;
        hwloc_bitmap_list_snprintf(list, sizeof list, o->cpuset);
        fprintf(f, "  package %d: %d cores, PUs %s\n", p,
                hwloc_get_nbobjs_inside_cpuset_by_type(h, o->cpuset, t->unit), list);
    }
    int nn = count_type(t, HWLOC_OBJ_NUMANODE);
    for (int k = 0; k < nn; k++) {
        hwloc_obj_t o = hwloc_get_obj_by_type(h, HWLOC_OBJ_NUMANODE, (unsigned)k);
        if (!o || !o->cpuset) continue;
        hwloc_bitmap_list_snprintf(list, sizeof list, o->cpuset);
        fprintf(f, "  NUMA node %d (package %d): %d cores, PUs %s, memory ", k, package_of(h, o),
                hwloc_get_nbobjs_inside_cpuset_by_type(h, o->cpuset, t->unit), list);
        print_mem(f, (unsigned long long)o->attr->numanode.local_memory);
        fputc('\n', f);
    }
}

/* ---- placement ------------------------------------------------------------ */

typedef struct { int r, p, k; } node_key;

static int node_key_cmp(const void *a, const void *b)
{
    const node_key *x = a, *y = b;
    if (x->r != y->r) return x->r < y->r ? -1 : 1;
    if (x->p != y->p) return x->p < y->p ? -1 : 1;
    return x->k < y->k ? -1 : x->k > y->k;
}

/* order[0..nc) = unit indices in placement order (see topo.h). */
static int unit_order(const rc_topo *t, rc_placement place, const int *numa, int *order)
{
    const int nc = t->nunits;
    if (place == RC_PLACE_COMPACT) {
        for (int c = 0; c < nc; c++) order[c] = c;
        return 0;
    }
    hwloc_topology_t h = t->h;
    int nn = count_type(t, HWLOC_OBJ_NUMANODE);
    /* Visit order of the nodes: rank within the package, then package. The
     * last bucket (index nn) holds units without a node. */
    node_key *keys = calloc((size_t)nn + 1, sizeof *keys);
    int *cursor = calloc((size_t)nn + 1, sizeof *cursor);
    if (!keys || !cursor) {
        free(keys);
        free(cursor);
        return -1;
    }
    for (int k = 0; k < nn; k++) {
        hwloc_obj_t o = hwloc_get_obj_by_type(h, HWLOC_OBJ_NUMANODE, (unsigned)k);
        keys[k].k = k;
        keys[k].p = o ? package_of(h, o) : -1;
        keys[k].r = 0;
        for (int j = 0; j < k; j++) keys[k].r += keys[j].p == keys[k].p;
    }
    qsort(keys, (size_t)nn, sizeof *keys, node_key_cmp);
    keys[nn] = (node_key){ .r = 0, .p = -1, .k = -1 };
    int filled = 0;
    while (filled < nc) {
        for (int b = 0; b <= nn && filled < nc; b++) {
            int c = cursor[b];
            while (c < nc && numa[c] != keys[b].k) c++;
            if (c < nc) order[filled++] = c++;
            cursor[b] = c;
        }
    }
    free(keys);
    free(cursor);
    return 0;
}

rc_status rc_topo_place(const rc_topo *t, int nth, rc_placement place, rc_thread_place *out, rc_err *err)
{
    RC_ASSERT(nth >= 1);
    const int nc = t->nunits;
    int *order = malloc((size_t)nc * sizeof *order);
    int *numa = malloc((size_t)nc * sizeof *numa);
    if (!order || !numa) goto nomem;
    for (int c = 0; c < nc; c++) {
        hwloc_obj_t o = hwloc_get_obj_by_type(t->h, t->unit, (unsigned)c);
        numa[c] = o ? numa_of(t->h, o) : -1;
    }
    if (unit_order(t, place, numa, order) != 0) goto nomem;
    for (int i = 0; i < nth; i++) {
        const int pos = i % nc, round = i / nc, c = order[pos];
        hwloc_obj_t o = hwloc_get_obj_by_type(t->h, t->unit, (unsigned)c);
        rc_thread_place *pl = &out[i];
        *pl = (rc_thread_place){ .core = c, .pu = -1, .numa = numa[c], .package = -1, .shared = 0 };
        if (!o || !o->cpuset) continue;
        pl->package = package_of(t->h, o);
        /* Round r of the wrap-around takes the core's (r mod npu)-th PU. */
        const int npu = hwloc_bitmap_weight(o->cpuset) > 0 ? hwloc_bitmap_weight(o->cpuset) : 1;
        int pu = hwloc_bitmap_first(o->cpuset);
        for (int r = 0; r < round % npu && pu >= 0; r++) pu = hwloc_bitmap_next(o->cpuset, pu);
        pl->pu = pu;
        const int nthreads_here = (nth - pos + nc - 1) / nc; /* threads on this core */
        pl->shared = nthreads_here > npu;
    }
    free(order);
    free(numa);
    return RC_OK;
nomem:
    free(order);
    free(numa);
    return rc_err_set(err, RC_ERR_NOMEM, "placement: out of memory planning %d threads", nth);
}

/* ---- memory ----------------------------------------------------------------- */

int rc_topo_can_membind(const rc_topo *t, const char **why)
{
    const char *w = NULL;
    const struct hwloc_topology_support *s = hwloc_topology_get_support(t->h);
    if (!t->host) w = "not this machine's topology (planning only)";
    else if (!s || !s->membind || !s->membind->set_area_membind || !s->membind->bind_membind)
        w = "hwloc cannot bind memory areas on this system";
    if (why) *why = w;
    return w == NULL;
}

int rc_topo_can_memlocate(const rc_topo *t, const char **why)
{
    const char *w = NULL;
    const struct hwloc_topology_support *s = hwloc_topology_get_support(t->h);
    if (!t->host) w = "not this machine's topology (planning only)";
    else if (!s || !s->membind || !s->membind->get_area_memlocation)
        w = "hwloc cannot query page locations on this system (no hwloc_get_area_memlocation support)";
    if (why) *why = w;
    return w == NULL;
}

/* Whole pages inside [addr, addr + len): 0 if there are none. */
static size_t inner_pages(const void *addr, size_t len, uintptr_t *a)
{
    const uintptr_t ps = (uintptr_t)rc_topo_pagesize(), lo = (uintptr_t)addr, hi = lo + len;
    const uintptr_t a0 = (lo + ps - 1) / ps * ps, b0 = hi / ps * ps;
    *a = a0;
    return b0 > a0 ? (size_t)(b0 - a0) : 0;
}

int rc_topo_membind(const rc_topo *t, void *addr, size_t len, int node, unsigned long long node_mask)
{
    if (!rc_topo_can_membind(t, NULL)) return ENOSYS;
    uintptr_t a;
    const size_t n = inner_pages(addr, len, &a);
    if (n == 0) return 0;
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    if (!set) return ENOMEM;
    const int nn = hwloc_get_nbobjs_by_type(t->h, HWLOC_OBJ_NUMANODE);
    for (int k = 0; k < nn && k < 64; k++) {
        const int want = node >= 0 ? k == node : (node_mask == 0 || (node_mask >> k) & 1);
        hwloc_obj_t o = want ? hwloc_get_obj_by_type(t->h, HWLOC_OBJ_NUMANODE, (unsigned)k) : NULL;
        if (o && o->nodeset) hwloc_bitmap_or(set, set, o->nodeset);
    }
    int rc = 0;
    if (hwloc_bitmap_iszero(set)) rc = EINVAL;
    else {
        const hwloc_membind_policy_t pol = node >= 0 ? HWLOC_MEMBIND_BIND : HWLOC_MEMBIND_INTERLEAVE;
        const int fl = HWLOC_MEMBIND_BYNODESET | HWLOC_MEMBIND_MIGRATE;
        if (hwloc_set_area_membind(t->h, (void *)a, n, set, pol, fl) != 0) rc = errno ? errno : EINVAL;
    }
    hwloc_bitmap_free(set);
    return rc;
}

int rc_topo_memlocation(const rc_topo *t, const void *addr, size_t len, unsigned long long *mask)
{
    if (mask) *mask = 0;
    if (!rc_topo_can_memlocate(t, NULL)) return -3;
    uintptr_t a;
    const size_t n = inner_pages(addr, len, &a);
    if (n == 0) return -2;
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    if (!set) return -3;
    int res;
    if (hwloc_get_area_memlocation(t->h, (const void *)a, n, set, HWLOC_MEMBIND_BYNODESET) != 0) res = -3;
    else if (hwloc_bitmap_iszero(set)) res = -2;
    else {
        unsigned long long m = 0;
        int one = -1, count = 0, os;
        hwloc_bitmap_foreach_begin(os, set) {
            hwloc_obj_t o = hwloc_get_numanode_obj_by_os_index(t->h, (unsigned)os);
            const int k = o ? (int)o->logical_index : -1;
            if (k >= 0 && k < 64) m |= 1ull << k;
            one = k;
            count++;
        } hwloc_bitmap_foreach_end();
        if (mask) *mask = m;
        res = count == 1 ? one : -1;
    }
    hwloc_bitmap_free(set);
    return res;
}
