/* wav.c — see wav.h. The whole file is read into memory (a Speech Commands
 * clip is 32 kB; a background noise file a few MB) and parsed from there, so
 * every size check is a comparison against the bytes actually present. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/escape.h"
#include "io/wav.h"

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }

static rc_status read_all(const char *path, unsigned char **buf, size_t *len, rc_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return rc_err_set(err, RC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    unsigned char *b = malloc(cap);
    while (b) {
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (n < cap) break;
        unsigned char *nb = realloc(b, cap * 2);
        if (!nb) { free(b); b = NULL; break; }
        b = nb;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!b) return rc_err_set(err, RC_ERR_NOMEM, "%s: out of memory reading the file", path);
    if (bad) {
        free(b);
        return rc_err_set(err, RC_ERR_IO, "%s: read error", path);
    }
    *buf = b;
    *len = n;
    return RC_OK;
}

rc_status rc_wav_read(const char *path, rc_wav *out, rc_err *err)
{
    out->samples = NULL;
    out->n = 0;
    unsigned char *b = NULL;
    size_t len = 0;
    rc_status st = read_all(path, &b, &len, err);
    if (st) return st;
    st = RC_ERR_DATA;
    if (len < 12 || memcmp(b, "RIFF", 4) || memcmp(b + 8, "WAVE", 4)) {
        rc_err_set(err, st, "%s: not a RIFF/WAVE file (%zu bytes, expected a 'RIFF....WAVE' header)", path, len);
        goto out;
    }
    int have_fmt = 0;
    size_t pos = 12;
    while (pos + 8 <= len) {
        const unsigned char *id = b + pos;
        const uint64_t sz = le32(b + pos + 4);
        const size_t body = pos + 8;
        if (sz > len - body) {
            char shown[24]; /* the id is 4 bytes of anything: escaped, NULs included */
            rc_escape(shown, sizeof shown, id, 4);
            rc_err_set(err, st, "%s: chunk '%s' of %llu bytes at offset %zu runs past the end of the file (%zu bytes left); truncated?",
                       path, shown, (unsigned long long)sz, pos, len - body);
            goto out;
        }
        if (!memcmp(id, "fmt ", 4)) {
            if (sz < 16) {
                rc_err_set(err, st, "%s: 'fmt ' chunk of %llu bytes, expected at least 16", path, (unsigned long long)sz);
                goto out;
            }
            const unsigned char *f = b + body;
            unsigned tag = le16(f), ch = le16(f + 2), bits = le16(f + 14), align = le16(f + 12);
            uint32_t rate = le32(f + 4);
            /* WAVE_FORMAT_EXTENSIBLE names its real format in the sub-format GUID. */
            if (tag == 0xFFFE && sz >= 40) tag = le16(f + 24);
            if (tag != 1) {
                rc_err_set(err, st, "%s: audio format %u, expected PCM (1)%s", path, tag,
                           tag == 3 ? " (this file has float samples)" : "");
                goto out;
            }
            if (ch != 1) { rc_err_set(err, st, "%s: %u channels, expected mono (1)", path, ch); goto out; }
            if (rate != RC_WAV_RATE) {
                rc_err_set(err, st, "%s: sample rate %u Hz, expected %d Hz", path, rate, RC_WAV_RATE);
                goto out;
            }
            if (bits != 16 || align != 2) {
                rc_err_set(err, st, "%s: %u bits per sample (block align %u), expected 16-bit PCM (block align 2)", path, bits, align);
                goto out;
            }
            have_fmt = 1;
        } else if (!memcmp(id, "data", 4)) {
            if (!have_fmt) {
                rc_err_set(err, st, "%s: 'data' chunk before any 'fmt ' chunk, expected the format first", path);
                goto out;
            }
            if (sz % 2) {
                rc_err_set(err, st, "%s: 'data' chunk of %llu bytes, expected a whole number of 16-bit samples", path, (unsigned long long)sz);
                goto out;
            }
            out->n = (int64_t)(sz / 2);
            out->samples = malloc(sz ? (size_t)sz : 1);
            if (!out->samples) {
                st = rc_err_set(err, RC_ERR_NOMEM, "%s: out of memory for %llu samples", path, (unsigned long long)(sz / 2));
                goto out;
            }
            for (int64_t i = 0; i < out->n; i++) out->samples[i] = (int16_t)le16(b + body + 2 * (size_t)i);
            st = RC_OK;
            goto out;
        }
        pos = body + (size_t)sz + (sz & 1); /* chunks are padded to even sizes */
    }
    rc_err_set(err, st, "%s: no %s chunk found, expected 'fmt ' and 'data'", path, have_fmt ? "'data'" : "'fmt '");
out:
    free(b);
    if (st) {
        free(out->samples);
        out->samples = NULL;
        out->n = 0;
    }
    return st;
}

void rc_wav_free(rc_wav *w)
{
    if (!w) return;
    free(w->samples);
    w->samples = NULL;
    w->n = 0;
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); p[2] = (unsigned char)(v >> 16); p[3] = (unsigned char)(v >> 24);
}

rc_status rc_wav_write(const char *path, const int16_t *samples, int64_t n, rc_err *err)
{
    unsigned char h[44];
    const uint32_t bytes = (uint32_t)(n * 2);
    memcpy(h, "RIFF", 4); put32(h + 4, 36 + bytes); memcpy(h + 8, "WAVEfmt ", 8);
    put32(h + 16, 16); h[20] = 1; h[21] = 0; h[22] = 1; h[23] = 0;
    put32(h + 24, RC_WAV_RATE); put32(h + 28, 2 * RC_WAV_RATE); h[32] = 2; h[33] = 0; h[34] = 16; h[35] = 0;
    memcpy(h + 36, "data", 4); put32(h + 40, bytes);
    FILE *f = fopen(path, "wb");
    if (!f) return rc_err_set(err, RC_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    int ok = fwrite(h, 1, 44, f) == 44;
    for (int64_t i = 0; ok && i < n; i++) {
        unsigned char s[2] = { (unsigned char)((uint16_t)samples[i] & 0xff), (unsigned char)((uint16_t)samples[i] >> 8) };
        ok = fwrite(s, 1, 2, f) == 2;
    }
    if (fclose(f) || !ok) return rc_err_set(err, RC_ERR_IO, "%s: write failed", path);
    return RC_OK;
}
