/* h5util.c — HDF5 helpers shared by checkpoint.c and traces.c (see h5util.h).
 * One copy of what checkpoint.c and traces.c both need: the API-level
 * failure plus its innermost cause, carried from the failing call to the
 * message that reports it. */
#include <stdio.h>
#include <string.h>

#include <hdf5.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "io/h5util.h"
#include "io/h5guard.h"

typedef struct { char outer[200], inner[200]; unsigned n; } rc_h5err_text;

/* HDF5's reasons can hold newlines (its disk-full text does): one line. */
static void rc_h5err_fold(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) *s = ' ';
}

/* HDF5's I/O failures read "file write failed: time = ..., filename = ...,
 * file descriptor = 4, errno = 28, error message = 'No space left on device',
 * buf = ..." and are cut by the buffer: keep "file write failed: No space
 * left on device". */
static void rc_h5err_tidy(char *s, size_t cap)
{
    const char *em = strstr(s, "error message = '"), *end = em ? strchr(em + 17, '\'') : NULL;
    if (!end) return;
    em += 17;
    const char *colon = strstr(s, ": time = ");
    const int head = colon && colon < em ? (int)(colon - s) : 0;
    char out[200];
    snprintf(out, sizeof out, "%.*s%s%.*s", head, s, head ? ": " : "", (int)(end - em), em);
    snprintf(s, cap, "%s", out);
}

static herr_t rc_h5err_walk(unsigned n, const H5E_error2_t *e, void *p)
{
    rc_h5err_text *s = p;
    const char *d = e->desc && *e->desc ? e->desc : e->func_name;
    if (n == 0) snprintf(s->outer, sizeof s->outer, "%s", d ? d : "?");
    snprintf(s->inner, sizeof s->inner, "%s", d ? d : "?");
    rc_h5err_fold(s->outer);
    rc_h5err_fold(s->inner);
    rc_h5err_tidy(s->inner, sizeof s->inner);
    s->n = n + 1;
    return 0;
}

/* HDF5 clears its error stack on entry to every API call, the H5?close calls
 * of our cleanup included, so the reason is copied out where a call fails
 * (rc_h5err_note) and put into the message later (rc_h5err_msg). One line:
 * the API-level failure plus the innermost cause, e.g. "unable to open file
 * (truncated file: eof = ...)" or "unable to create file (Permission
 * denied)". Serial HDF5 is single-threaded anyway. */
static char rc_h5err_why[440];

void rc_h5err_note(void)
{
    if (H5Eget_num(H5E_DEFAULT) <= 0) return; /* keep the earlier note */
    rc_h5err_text s = { "", "", 0 };
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, rc_h5err_walk, &s);
    H5Eclear2(H5E_DEFAULT);
    if (s.n == 1 || !strcmp(s.outer, s.inner)) snprintf(rc_h5err_why, sizeof rc_h5err_why, "%s", s.outer);
    else snprintf(rc_h5err_why, sizeof rc_h5err_why, "%s (%s)", s.outer, s.inner);
}

const char *rc_h5err_msg(char *buf, size_t cap)
{
    rc_h5err_note();
    snprintf(buf, cap, "%s", *rc_h5err_why ? rc_h5err_why : "HDF5 call failed");
    rc_h5err_why[0] = 0;
    return buf;
}

/* HDF5 registers H5close with atexit when it starts. After an H5Fclose that
 * failed (disk full while writing the last metadata), HDF5 1.10 keeps the
 * file's id while freeing the file, and that H5close crashes at exit. So the
 * library is started without its atexit hook and ours runs H5close only when
 * no close has failed (the process is exiting anyway; the OS reclaims it). */
static int rc_h5_close_failed;

static void rc_h5_atexit(void)
{
    if (!rc_h5_close_failed) H5close();
}

static void rc_h5_init(void)
{
    static int done;
    if (done) return;
    done = 1;
    H5dont_atexit(); /* must come before the library starts (a no-op after) */
    atexit(rc_h5_atexit);
}

herr_t rc_h5_fclose(hid_t f)
{
    herr_t rc = H5Fclose(f);
    if (rc < 0) {
        rc_h5err_note();
        rc_h5_close_failed = 1;
    }
    return rc;
}

/* Entry of every public function: no stale reason from an earlier call. */
void rc_h5err_reset(void)
{
    rc_h5_init();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* we report errors ourselves */
    H5Eclear2(H5E_DEFAULT);
    rc_h5err_why[0] = 0;
}

/* ---- shared writers ---------------------------------------------------- */

/* Cluster file systems are often mounted without flock support; HDF5
 * >= 1.10.7 can then carry on without locking instead of refusing the file
 * (the HDF5_USE_FILE_LOCKING=FALSE workaround, built in). */
void rc_h5_lenient_locking(hid_t fapl)
{
#if H5_VERSION_GE(1, 12, 1) || (H5_VERS_MAJOR == 1 && H5_VERS_MINOR == 10 && H5_VERS_RELEASE >= 7)
    H5Pset_file_locking(fapl, 1, 1);
#else
    (void)fapl;
#endif
}


/* Scalar attribute of a fixed-length, NUL-terminated string sized to the text
 * (strlen + 1), which h5py, MATLAB and libsonata all read. */
herr_t rc_h5_attr_str(hid_t loc, const char *name, const char *s, H5T_cset_t cset)
{
    herr_t rc = -1;
    hid_t t = H5Tcopy(H5T_C_S1), sp = H5I_INVALID_HID, a = H5I_INVALID_HID;
    if (t < 0) return -1;
    if (H5Tset_size(t, strlen(s) + 1) < 0 || H5Tset_strpad(t, H5T_STR_NULLTERM) < 0 ||
        H5Tset_cset(t, cset) < 0)
        goto out;
    if ((sp = H5Screate(H5S_SCALAR)) < 0) goto out;
    if ((a = H5Acreate2(loc, name, t, sp, H5P_DEFAULT, H5P_DEFAULT)) < 0) goto out;
    rc = H5Awrite(a, t, s);
out:
    if (rc < 0) rc_h5err_note();
    if (a >= 0) H5Aclose(a);
    if (sp >= 0) H5Sclose(sp);
    H5Tclose(t);
    return rc;
}

herr_t rc_h5_attr_num(hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *v)
{
    herr_t rc = -1;
    hid_t sp = H5Screate(H5S_SCALAR), a = H5I_INVALID_HID;
    if (sp < 0) return -1;
    if ((a = H5Acreate2(loc, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT)) >= 0)
        rc = H5Awrite(a, mtype, v);
    if (rc < 0) rc_h5err_note();
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    return rc;
}


char *rc_h5_escape(char *buf, size_t cap, const char *s, size_t max)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0, i = 0;
    if (!cap) return buf;
    for (; s && s[i] && i < max; i++) {
        const unsigned char c = (unsigned char)s[i];
        const int plain = c >= 0x20 && c < 0x7f && c != '\\';
        if (o + (plain ? 1 : 4) + 4 > cap) break; /* room for "..." + NUL */
        if (plain) buf[o++] = (char)c;
        else { buf[o++] = '\\'; buf[o++] = 'x'; buf[o++] = hex[c >> 4]; buf[o++] = hex[c & 15]; }
    }
    if (s && s[i] && o + 4 <= cap) { memcpy(buf + o, "...", 3); o += 3; }
    buf[o] = 0;
    return buf;
}

/* fsync the folder holding path, so the rename itself survives a crash. */
int rc_h5_sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t n = !slash ? 1 : slash == path ? 1 : (size_t)(slash - path);
    char *dir = malloc(n + 1);
    if (!dir) return -1;
    if (slash) memcpy(dir, path, n);
    else dir[0] = '.';
    dir[n] = 0;
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    free(dir);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

rc_status rc_h5_open_foreign(const char *path, const char *what, hid_t *out, rc_err *err)
{
    *out = H5I_INVALID_HID;
    rc_status st = rc_h5guard_check(path, RC_H5_FOREIGN, what, NULL, err);
    if (st) return st;
    rc_h5err_reset();
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    rc_h5_lenient_locking(fapl);
    const hid_t f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    if (f < 0) rc_h5err_note();
    H5Pclose(fapl);
    if (f < 0) {
        char why[256];
        return rc_err_set(err, RC_ERR_IO, "%s: cannot open %s (%s)", path, what, rc_h5err_msg(why, sizeof why));
    }
    *out = f;
    return RC_OK;
}
