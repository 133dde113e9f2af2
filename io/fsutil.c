/* fsutil.c — mkdir -p and atomic replace (write temp, fsync, rename). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
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
