/* fsutil.c — mkdir -p, folder test and listing, atomic replace (write temp,
 * fsync, rename). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "io/fsutil.h"

rc_status rc_mkdir_p(const char *path, rc_err *err)
{
    char buf[4096];
    if (strlen(path) >= sizeof buf)
        return rc_err_set(err, RC_ERR_IO, "%s: path too long", path);
    strcpy(buf, path);
    for (char *p = buf + 1; ; p++) {
        if (*p == '/' || *p == 0) {
            char c = *p;
            *p = 0;
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return rc_err_set(err, RC_ERR_IO, "%s: cannot create folder: %s", buf, strerror(errno));
            *p = c;
            if (!c) break;
        }
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return rc_err_set(err, RC_ERR_IO, "%s: exists and is not a folder", path);
    return RC_OK;
}

rc_status rc_write_atomic(const char *path, const char *data, size_t len, rc_err *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (fd < 0) return rc_err_set(err, RC_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            unlink(tmp);
            return rc_err_set(err, RC_ERR_IO, "%s: write failed: %s", tmp, strerror(e));
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        return rc_err_set(err, RC_ERR_IO, "%s: cannot flush: %s", tmp, strerror(e));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return rc_err_set(err, RC_ERR_IO, "%s: cannot rename to %s: %s", tmp, path, strerror(e));
    }
    return RC_OK;
}

int rc_fs_is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

void rc_fs_list_free(char **v, int n)
{
    for (int i = 0; v && i < n; i++) free(v[i]);
    free(v);
}

rc_status rc_fs_list_dir(const char *dir, int dirs, const char *suffix, char ***out, int *nout, rc_err *err)
{
    DIR *d = opendir(dir);
    if (!d) return rc_err_set(err, RC_ERR_IO, "%s: cannot open folder: %s", dir, strerror(errno));
    const size_t slen = suffix ? strlen(suffix) : 0;
    char **v = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    rc_status st = RC_OK;
    while ((e = readdir(d))) {
        const char *nm = e->d_name;
        if (nm[0] == '.') continue;
        size_t len = strlen(nm);
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", dir, nm) >= (int)sizeof path) continue;
        struct stat sb;
        if (stat(path, &sb) != 0) continue;
        if (dirs ? !S_ISDIR(sb.st_mode) : !(S_ISREG(sb.st_mode) && len > slen && !strcmp(nm + len - slen, suffix ? suffix : "")))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **nv = realloc(v, (size_t)cap * sizeof *nv);
            if (!nv) { st = RC_ERR_NOMEM; break; }
            v = nv;
        }
        if (!(v[n] = strdup(nm))) { st = RC_ERR_NOMEM; break; }
        n++;
    }
    closedir(d);
    if (st) {
        rc_fs_list_free(v, n);
        return rc_err_set(err, st, "%s: out of memory listing the folder", dir);
    }
    if (n) qsort(v, (size_t)n, sizeof *v, cmp_str);
    *out = v;
    *nout = n;
    return RC_OK;
}

rc_status rc_fs_lock_dir(const char *dir, int *fd, rc_err *err)
{
    char path[4200];
    *fd = -1;
    if (snprintf(path, sizeof path, "%s/.rcsim.lock", dir) >= (int)sizeof path)
        return rc_err_set(err, RC_ERR_IO, "%.200s...: path too long", dir);
    int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (f < 0) return rc_err_set(err, RC_ERR_IO, "%s: cannot create the folder's lock file: %s", path, strerror(errno));
    if (flock(f, LOCK_EX | LOCK_NB) != 0) {
        const int e = errno;
        if (e == ENOLCK || e == EOPNOTSUPP || e == ENOSYS || e == EINVAL) { /* no flock here */
            close(f);
            return RC_OK;
        }
        close(f);
        if (e == EWOULDBLOCK)
            return rc_err_set(err, RC_ERR_USAGE, "%s: another rcsim process is writing to this folder (it holds %s); "
                              "wait for it to finish or use another --out", dir, path);
        return rc_err_set(err, RC_ERR_IO, "%s: cannot lock: %s", path, strerror(e));
    }
    *fd = f;
    return RC_OK;
}

void rc_fs_remove_tmp(const char *dir, const char *const *names, int n)
{
    char path[4200];
    for (int i = 0; i < n; i++)
        if (snprintf(path, sizeof path, "%s/%s.tmp", dir, names[i]) < (int)sizeof path) unlink(path);
}
