/* libuakey: the PKI directory store (OPC 10000-12 Annex F layout, with the
 * "issuers" spelling of the seed and Qt; "issuer" is read as well).
 *
 *   <dir>/own/certs        own certificates, <name>.der
 *   <dir>/own/private      key references, <name>.pem (0700)
 *   <dir>/trusted/{certs,crl}
 *   <dir>/issuers/{certs,crl}   (and issuer/{certs,crl} when present)
 *   <dir>/rejected/certs   bounded by max-rejected (uakey-pki.conf)
 *   <dir>/uakey-pki.conf   "key = value": max-rejected, and no-revocation
 *                          (a CA whose CRLs are not required or looked at)
 *
 * Certificates are stored as DER "<CN> [<THUMBPRINT>].der", CRLs as DER
 * "<issuer CN> [<SHA-1 of the CRL>].crl".  Every write goes through
 * ukua_write_file_atomic().  Files that cannot be read or parsed are skipped
 * with a warning (the warn callback), never a failure of a whole listing. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ukua_int.h"

#define CONF_NAME "uakey-pki.conf"
#define MAX_REJECTED_LIMIT 1000000
#define CERT_MAX_BYTES (1024 * 1024)
#define CRL_MAX_BYTES (64 * 1024 * 1024)
#define CONF_MAX_BYTES (64 * 1024)
/* longest CN part of a file name (the rest is " [" + 40 hex + "].der") */
#define CN_MAX_CHARS 64
#define NAME_MAX_CHARS 64

struct uakey_pki_st {
    char *dir;
    int max_rejected;
    uakey_warn_fn *warn;
    void *warn_arg;
};

/* The folders init creates and open requires, parents first. */
static const struct {
    const char *path;
    mode_t mode;
} layout[] = {
    { "own", 0755 },
    { "own/certs", 0755 },
    { "own/private", 0700 },
    { "trusted", 0755 },
    { "trusted/certs", 0755 },
    { "trusted/crl", 0755 },
    { "issuers", 0755 },
    { "issuers/certs", 0755 },
    { "issuers/crl", 0755 },
    { "rejected", 0755 },
    { "rejected/certs", 0755 },
};

#define NLAYOUT (sizeof(layout) / sizeof(layout[0]))

/* Folders of a group: where it is written, and an extra one only read
 * (OPC 10000-12 and open62541 spell the issuer folder "issuer"). */
static const char *const cert_dir[] = { "own/certs", "trusted/certs", "issuers/certs",
                                        "rejected/certs" };
static const char *const crl_dir[] = { NULL, "trusted/crl", "issuers/crl", NULL };
static const char *const extra_cert_dir[] = { NULL, NULL, "issuer/certs", NULL };
static const char *const extra_crl_dir[] = { NULL, NULL, "issuer/crl", NULL };

static int group_ok(UAKEY_PKI_GROUP group)
{
    return group >= UAKEY_PKI_OWN && group <= UAKEY_PKI_REJECTED;
}

static int errno_reason(int e)
{
    return e == EACCES || e == EPERM || e == EROFS ? UK_R_PERMISSION : UK_R_IO;
}

/* ---- warnings ------------------------------------------------------------ */

static void pki_warn(UAKEY_PKI *pki, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void pki_warn(UAKEY_PKI *pki, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ukua_dbg("warning: %s", msg);
    if (pki->warn != NULL)
        pki->warn(pki->warn_arg, msg);
}

/* The text of the last error since the mark (for a warning), then the
 * queue back to the mark. */
static void pop_error_text(char *buf, size_t len)
{
    const char *data = NULL, *reason;
    unsigned long e;
    int flags = 0;

    e = ERR_peek_last_error_data(&data, &flags);
    if (e == 0) {
        snprintf(buf, len, "unknown error");
    } else {
        reason = ERR_reason_error_string(e);
        if (data != NULL && (flags & ERR_TXT_STRING) != 0 && *data != '\0')
            snprintf(buf, len, "%s", data);
        else
            snprintf(buf, len, "%s", reason != NULL ? reason : "unknown error");
    }
    ERR_pop_to_mark();
}

/* ---- small string helpers ----------------------------------------------- */

static char *dup_str(const char *s)
{
    char *p = strdup(s);

    if (p == NULL)
        uakey_raise(UK_R_MALLOC, "out of memory");
    return p;
}

static char *join3(const char *a, const char *b, const char *c)
{
    char *ab = ukua_path_join(a, b), *abc;

    if (ab == NULL)
        return NULL;
    abc = ukua_path_join(ab, c);
    free(ab);
    return abc;
}

/* |tp| normalised to 40 upper-case hex digits in |out|; 0 (nothing
 * raised) when it is not 40 hex digits. */
static int hex40(const char *tp, char out[41])
{
    size_t i;

    if (tp == NULL || strlen(tp) != 40)
        return 0;
    for (i = 0; i < 40; i++) {
        if (!isxdigit((unsigned char)tp[i]))
            return 0;
        out[i] = (char)toupper((unsigned char)tp[i]);
    }
    out[40] = '\0';
    return 1;
}

/* hex40() with the error raised. */
static int parse_thumbprint(const char *tp, char out[41])
{
    if (!hex40(tp, out)) {
        uakey_raise(UK_R_BAD_PARAM, "thumbprint \"%s\" is not 40 hex digits",
                    tp != NULL ? tp : "(null)");
        return 0;
    }
    return 1;
}

/* Does file name |name| carry "[<tp>]" (any case)? */
static int name_has_thumbprint(const char *name, const char *tp)
{
    const char *p;

    for (p = strchr(name, '['); p != NULL; p = strchr(p + 1, '[')) {
        if (strlen(p) >= 42 && p[41] == ']' && strncasecmp(p + 1, tp, 40) == 0)
            return 1;
    }
    return 0;
}

/* The CN part of a file name: letters, digits, space, '-', '_', '.' kept,
 * every other character (a UTF-8 sequence counts once) becomes '_'; at
 * most CN_MAX_CHARS; "cert" when empty.  A '/' can never get through, and
 * ".." stays inside a longer name ("<CN> [...].der"). */
static void safe_cn(const char *cn, char *out, size_t outlen)
{
    size_t n = 0;
    const unsigned char *p;

    if (cn != NULL) {
        for (p = (const unsigned char *)cn; *p != '\0' && n < CN_MAX_CHARS && n + 1 < outlen;
             p++) {
            unsigned char c = *p;

            if ((c & 0xC0) == 0x80)         /* UTF-8 continuation byte */
                continue;
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                || c == ' ' || c == '-' || c == '_' || c == '.')
                out[n++] = (char)c;
            else
                out[n++] = '_';
        }
    }
    out[n] = '\0';
    if (n == 0)
        snprintf(out, outlen, "cert");
}

/* ---- directory scanning -------------------------------------------------- */

typedef struct {
    char *name;             /* file name in the folder */
    char *path;             /* folder/name */
    struct timespec mtime;
} DIR_ENTRY;

static void entries_free(DIR_ENTRY *e, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(e[i].name);
        free(e[i].path);
    }
    free(e);
}

static int entry_by_name(const void *a, const void *b)
{
    const DIR_ENTRY *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    return c != 0 ? c : strcmp(x->path, y->path);
}

static int entry_by_age(const void *a, const void *b)
{
    const DIR_ENTRY *x = a, *y = b;

    if (x->mtime.tv_sec != y->mtime.tv_sec)
        return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
    if (x->mtime.tv_nsec != y->mtime.tv_nsec)
        return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* A temporary file of ukua_write_file_atomic: "<name>.tmp" + 12 hex. */
static int is_temp_name(const char *name)
{
    size_t n = strlen(name), i;

    if (n < 16 || strncmp(name + n - 16, ".tmp", 4) != 0)
        return 0;
    for (i = n - 12; i < n; i++)
        if (!isxdigit((unsigned char)name[i]))
            return 0;
    return 1;
}

/* The regular files of |dir| (symbolic links followed), appended to
 * *ents.  Anything else is skipped with a warning; temporary files of
 * writes in progress are skipped silently.  A missing folder is empty when
 * |missing_ok|. */
static int scan_dir(UAKEY_PKI *pki, const char *dir, int missing_ok, DIR_ENTRY **ents,
                    size_t *n)
{
    DIR *d;
    struct dirent *de;
    struct stat st;
    size_t cap = *n;
    int e;

    d = opendir(dir);
    if (d == NULL) {
        e = errno;
        if (e == ENOENT && missing_ok)
            return 1;
        uakey_raise(errno_reason(e), "cannot read folder %s: %s", dir, strerror(e));
        return 0;
    }
    for (;;) {
        DIR_ENTRY *ne;
        char *path;

        errno = 0;
        de = readdir(d);
        if (de == NULL) {
            e = errno;
            if (e != 0) {
                uakey_raise(errno_reason(e), "cannot read folder %s: %s", dir, strerror(e));
                closedir(d);
                return 0;
            }
            break;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (is_temp_name(de->d_name)) {
            ukua_dbg("skipping temporary file %s/%s", dir, de->d_name);
            continue;
        }
        if (fstatat(dirfd(d), de->d_name, &st, 0) != 0) {
            e = errno;
            pki_warn(pki, "skipping %s/%s: %s", dir, de->d_name, strerror(e));
            continue;
        }
        if (!S_ISREG(st.st_mode)) {
            pki_warn(pki, "skipping %s/%s: not a regular file", dir, de->d_name);
            continue;
        }
        path = ukua_path_join(dir, de->d_name);
        if (path == NULL) {
            closedir(d);
            return 0;
        }
        if (*n == cap) {
            cap = cap < 16 ? 16 : cap * 2;
            ne = realloc(*ents, cap * sizeof(**ents));
            if (ne == NULL) {
                free(path);
                closedir(d);
                uakey_raise(UK_R_MALLOC, "out of memory listing %s", dir);
                return 0;
            }
            *ents = ne;
        }
        ne = &(*ents)[*n];
        ne->path = path;
        ne->name = dup_str(de->d_name);
        ne->mtime = st.st_mtim;
        if (ne->name == NULL) {
            free(path);
            closedir(d);
            return 0;
        }
        (*n)++;
    }
    closedir(d);
    return 1;
}

/* The files of |group|'s certificate (or CRL) folders, sorted by name. */
static int scan_group(UAKEY_PKI *pki, UAKEY_PKI_GROUP group, int crl, DIR_ENTRY **ents,
                      size_t *n)
{
    const char *main_dir = crl ? crl_dir[group] : cert_dir[group];
    const char *extra = crl ? extra_crl_dir[group] : extra_cert_dir[group];
    char *p;
    int ok;

    *ents = NULL;
    *n = 0;
    p = ukua_path_join(pki->dir, main_dir);
    ok = p != NULL && scan_dir(pki, p, 0, ents, n);
    free(p);
    if (ok && extra != NULL) {
        p = ukua_path_join(pki->dir, extra);
        ok = p != NULL && scan_dir(pki, p, 1, ents, n);
        free(p);
    }
    if (!ok) {
        entries_free(*ents, *n);
        *ents = NULL;
        *n = 0;
        return 0;
    }
    if (*n > 1)
        qsort(*ents, *n, sizeof(**ents), entry_by_name);
    return 1;
}

/* A certificate from a store file; NULL with a warning (queue untouched)
 * when it cannot be read or is not a certificate. */
static X509 *read_cert_file(UAKEY_PKI *pki, const char *path)
{
    unsigned char *data = NULL;
    size_t len = 0;
    X509 *x = NULL;
    char why[512];

    ERR_set_mark();
    if (!ukua_read_file(path, &data, &len, CERT_MAX_BYTES)) {
        pop_error_text(why, sizeof(why));
        pki_warn(pki, "skipping %s: %s", path, why);
        return NULL;
    }
    x = ukua_cert_from_bytes(NULL, data, len);
    free(data);
    if (x == NULL) {
        ERR_pop_to_mark();
        pki_warn(pki, "skipping %s: not a certificate (DER or PEM)", path);
        return NULL;
    }
    ERR_pop_to_mark();
    return x;
}

static X509_CRL *read_crl_file(UAKEY_PKI *pki, const char *path)
{
    unsigned char *data = NULL;
    size_t len = 0;
    X509_CRL *c;
    char why[512];

    ERR_set_mark();
    if (!ukua_read_file(path, &data, &len, CRL_MAX_BYTES)) {
        pop_error_text(why, sizeof(why));
        pki_warn(pki, "skipping %s: %s", path, why);
        return NULL;
    }
    c = ukua_crl_from_bytes(data, len);
    free(data);
    ERR_pop_to_mark();
    if (c == NULL)
        pki_warn(pki, "skipping %s: not a CRL (DER or PEM)", path);
    return c;
}

/* Does |path| hold exactly |der|? (No error raised either way.) */
static int file_equals(const char *path, const unsigned char *der, size_t len)
{
    unsigned char *data = NULL;
    size_t dlen = 0;
    int eq;

    ERR_set_mark();
    if (!ukua_read_file(path, &data, &dlen, CRL_MAX_BYTES)) {
        ERR_pop_to_mark();
        return 0;
    }
    ERR_pop_to_mark();
    eq = dlen == len && memcmp(data, der, len) == 0;
    free(data);
    return eq;
}

/* ---- uakey-pki.conf ------------------------------------------------------ */

static char *trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

static int parse_max(const char *v, int *out)
{
    char *end;
    long l;

    errno = 0;
    l = strtol(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || l < 1 || l > MAX_REJECTED_LIMIT)
        return 0;
    *out = (int)l;
    return 1;
}

/* One CA thumbprint more in *list (kept once). */
static int off_add(char (**list)[41], size_t *n, const char tp[41])
{
    char (*grown)[41];
    size_t i;

    for (i = 0; i < *n; i++) {
        if (strcmp((*list)[i], tp) == 0)
            return 1;
    }
    grown = realloc(*list, (*n + 1) * sizeof(**list));
    if (grown == NULL) {
        uakey_raise(UK_R_MALLOC, "out of memory");
        return 0;
    }
    memcpy(grown[*n], tp, 41);
    *list = grown;
    (*n)++;
    return 1;
}

/* The settings of <dir>/uakey-pki.conf (the defaults when the file is
 * missing): max-rejected, and the CAs of the "no-revocation = <thumbprint>"
 * lines in *off (may be NULL: the lines are only checked; else malloc'd,
 * *noff entries, each CA once).  *present tells whether the file exists.
 * Unknown settings are ignored; a malformed line is an error naming the
 * file and the line. */
static int read_conf(const char *dir, int *max, int *present, char (**off)[41], size_t *noff)
{
    char *path = ukua_path_join(dir, CONF_NAME), *line, *next, *eq;
    unsigned char *data = NULL;
    size_t len = 0;
    struct stat st;
    int lineno = 0, ok = 0;

    *max = UAKEY_PKI_DEFAULT_MAX_REJECTED;
    *present = 0;
    if (off != NULL) {
        *off = NULL;
        *noff = 0;
    }
    if (path == NULL)
        return 0;
    if (stat(path, &st) != 0 && errno == ENOENT) {
        free(path);
        return 1;
    }
    *present = 1;
    if (!ukua_read_file(path, &data, &len, CONF_MAX_BYTES))
        goto end;
    if (memchr(data, '\0', len) != NULL) {
        uakey_raise(UK_R_BAD_CONFIG, "%s is not a text file", path);
        goto end;
    }
    for (line = (char *)data; line != NULL; line = next) {
        char *key, *val, tp[41];

        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        lineno++;
        key = trim(line);
        if (*key == '\0' || *key == '#')
            continue;
        eq = strchr(key, '=');
        if (eq == NULL) {
            uakey_raise(UK_R_BAD_CONFIG, "%s line %d: expected \"key = value\"", path, lineno);
            goto end;
        }
        *eq = '\0';
        key = trim(key);
        val = trim(eq + 1);
        if (strcmp(key, "max-rejected") == 0) {
            if (!parse_max(val, max)) {
                uakey_raise(UK_R_BAD_CONFIG, "%s line %d: max-rejected must be a number "
                            "from 1 to %d, not \"%s\"", path, lineno, MAX_REJECTED_LIMIT, val);
                goto end;
            }
        } else if (strcmp(key, "no-revocation") == 0) {
            if (!hex40(val, tp)) {
                uakey_raise(UK_R_BAD_CONFIG, "%s line %d: no-revocation must be the SHA-1 "
                            "thumbprint of a CA (40 hex digits), not \"%s\"", path, lineno,
                            val);
                goto end;
            }
            if (off != NULL && !off_add(off, noff, tp))
                goto end;
        } else {
            ukua_dbg("%s line %d: unknown setting \"%s\" ignored", path, lineno, key);
        }
    }
    ok = 1;
 end:
    if (!ok && off != NULL) {
        free(*off);
        *off = NULL;
        *noff = 0;
    }
    free(data);
    free(path);
    return ok;
}

/* Is |line| the setting |key| (with |value|, hex digits in any case; NULL:
 * any value)? */
static int conf_line_is(const char *line, const char *key, const char *value)
{
    size_t klen = strlen(key), vlen;
    const char *eq, *v;

    while (*line == ' ' || *line == '\t')
        line++;
    eq = strchr(line, '=');
    if (eq == NULL || strncmp(line, key, klen) != 0
        || strspn(line + klen, " \t") != (size_t)(eq - line - (ptrdiff_t)klen))
        return 0;
    if (value == NULL)
        return 1;
    for (v = eq + 1; *v == ' ' || *v == '\t'; v++)
        ;
    vlen = strlen(v);
    while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t' || v[vlen - 1] == '\r'))
        vlen--;
    return vlen == strlen(value) && strncasecmp(v, value, vlen) == 0;
}

/* Rewrite the conf keeping its other lines: the first line that is the
 * setting |key| (= |value|; NULL: any value) becomes |repl|, later ones
 * are dropped; with |repl| NULL they all go.  |repl| is appended when no
 * line matched.  The file is not written when nothing changes. */
static int write_conf(const char *dir, const char *key, const char *value, const char *repl)
{
    char *path = ukua_path_join(dir, CONF_NAME), *line, *next, *out = NULL;
    unsigned char *old = NULL;
    size_t oldlen = 0, cap, used = 0, ll;
    struct stat st;
    int ok = 0, done = 0, changed = 0;

    if (path == NULL)
        return 0;
    if (stat(path, &st) == 0 && !ukua_read_file(path, &old, &oldlen, CONF_MAX_BYTES))
        goto end;
    cap = oldlen + (repl != NULL ? strlen(repl) : 0) + 64;
    out = malloc(cap);
    if (out == NULL) {
        uakey_raise(UK_R_MALLOC, "out of memory");
        goto end;
    }
    if (old == NULL) {
        if (repl == NULL) {
            ok = 1;             /* nothing to drop */
            goto end;
        }
        used = (size_t)snprintf(out, cap, "# uakey PKI store settings\n");
        changed = 1;
    } else {
        for (line = (char *)old; line != NULL && *line != '\0'; line = next) {
            next = strchr(line, '\n');
            if (next != NULL)
                *next++ = '\0';
            if (conf_line_is(line, key, value)) {
                if (repl == NULL || done) {
                    changed = 1;    /* one setting only */
                    continue;
                }
                if (strcmp(line, repl) != 0)
                    changed = 1;
                line = (char *)repl;
                done = 1;
            }
            ll = strlen(line);
            memcpy(out + used, line, ll);
            used += ll;
            out[used++] = '\n';
        }
    }
    if (!done && repl != NULL) {
        used += (size_t)snprintf(out + used, cap - used, "%s\n", repl);
        changed = 1;
    }
    if (!changed) {
        ok = 1;
        goto end;
    }
    if (used > CONF_MAX_BYTES) {
        uakey_raise(UK_R_BAD_CONFIG, "%s would grow beyond %d bytes", path, CONF_MAX_BYTES);
        goto end;
    }
    ok = ukua_write_file_atomic(path, out, used, 0644);
 end:
    free(out);
    free(old);
    free(path);
    return ok;
}

/* "max-rejected = |max|" into the conf. */
static int write_conf_max(const char *dir, int max)
{
    char line[64];

    snprintf(line, sizeof(line), "max-rejected = %d", max);
    return write_conf(dir, "max-rejected", NULL, line);
}

/* ---- init, open ---------------------------------------------------------- */

int uakey_pki_init(const char *dir, int max_rejected)
{
    struct stat st;
    size_t i;
    int cur, present;

    if (dir == NULL || *dir == '\0') {
        uakey_raise(UK_R_BAD_PARAM, "uakey_pki_init: no directory");
        return 0;
    }
    if (max_rejected > MAX_REJECTED_LIMIT) {
        uakey_raise(UK_R_BAD_PARAM, "max-rejected %d is too large (at most %d)", max_rejected,
                    MAX_REJECTED_LIMIT);
        return 0;
    }
    if (!ukua_mkdir_p(dir, 0755))
        return 0;
    for (i = 0; i < NLAYOUT; i++) {
        char *p = ukua_path_join(dir, layout[i].path);
        int e;

        if (p == NULL)
            return 0;
        if (mkdir(p, layout[i].mode) == 0) {
            /* exactly the mode asked for, whatever the umask */
            if (chmod(p, layout[i].mode) != 0) {
                e = errno;
                uakey_raise(errno_reason(e), "cannot set the mode of %s: %s", p, strerror(e));
                free(p);
                return 0;
            }
            ukua_dbg("created %s (%03o)", p, (unsigned)layout[i].mode);
        } else {
            e = errno;
            if (e != EEXIST) {
                uakey_raise(errno_reason(e), "cannot create folder %s: %s", p, strerror(e));
                free(p);
                return 0;
            }
            if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
                uakey_raise(UK_R_PKI_STORE, "%s exists and is not a folder", p);
                free(p);
                return 0;
            }
        }
        free(p);
    }
    if (!read_conf(dir, &cur, &present, NULL, NULL))
        return 0;
    if (max_rejected > 0 && (max_rejected != cur || !present))
        return write_conf_max(dir, max_rejected);
    if (!present)
        return write_conf_max(dir, cur);
    return 1;
}

UAKEY_PKI *uakey_pki_open(const char *dir)
{
    UAKEY_PKI *pki;
    struct stat st;
    size_t i;
    int max, present, e;

    if (dir == NULL || *dir == '\0') {
        uakey_raise(UK_R_BAD_PARAM, "uakey_pki_open: no directory");
        return NULL;
    }
    if (stat(dir, &st) != 0) {
        e = errno;
        if (e == ENOENT)
            uakey_raise(UK_R_PKI_STORE, "%s does not exist: not a PKI store (run uakey pki "
                        "init)", dir);
        else
            uakey_raise(errno_reason(e), "cannot access %s: %s", dir, strerror(e));
        return NULL;
    }
    if (!S_ISDIR(st.st_mode)) {
        uakey_raise(UK_R_PKI_STORE, "%s is not a folder: not a PKI store", dir);
        return NULL;
    }
    if (access(dir, X_OK) != 0) {
        e = errno;
        uakey_raise(errno_reason(e), "cannot access %s: %s", dir, strerror(e));
        return NULL;
    }
    for (i = 0; i < NLAYOUT; i++) {
        char *p = ukua_path_join(dir, layout[i].path);

        if (p == NULL)
            return NULL;
        if (stat(p, &st) != 0) {
            e = errno;
            if (e == ENOENT || e == ENOTDIR)
                uakey_raise(UK_R_PKI_STORE, "%s is not a PKI store (run uakey pki init): "
                            "%s is missing", dir, p);
            else
                uakey_raise(errno_reason(e), "cannot access %s: %s", p, strerror(e));
            free(p);
            return NULL;
        }
        if (!S_ISDIR(st.st_mode)) {
            uakey_raise(UK_R_PKI_STORE, "%s is not a PKI store: %s is not a folder", dir, p);
            free(p);
            return NULL;
        }
        /* own/private may belong to another user (only the application
         * reads it); every other folder must be readable */
        if (strcmp(layout[i].path, "own/private") != 0 && access(p, R_OK | X_OK) != 0) {
            e = errno;
            uakey_raise(errno_reason(e), "cannot read %s: %s", p, strerror(e));
            free(p);
            return NULL;
        }
        free(p);
    }
    if (!read_conf(dir, &max, &present, NULL, NULL))
        return NULL;
    pki = calloc(1, sizeof(*pki));
    if (pki == NULL || (pki->dir = strdup(dir)) == NULL) {
        free(pki);
        uakey_raise(UK_R_MALLOC, "out of memory");
        return NULL;
    }
    /* "dir/" and "dir" are the same store: paths are built without "//" */
    for (i = strlen(pki->dir); i > 1 && pki->dir[i - 1] == '/'; i--)
        pki->dir[i - 1] = '\0';
    pki->max_rejected = max;
    ukua_dbg("opened PKI store %s (max-rejected %d)", dir, max);
    return pki;
}

void uakey_pki_free(UAKEY_PKI *pki)
{
    if (pki == NULL)
        return;
    free(pki->dir);
    free(pki);
}

void uakey_pki_set_warn(UAKEY_PKI *pki, uakey_warn_fn *fn, void *arg)
{
    if (pki == NULL)
        return;
    pki->warn = fn;
    pki->warn_arg = arg;
}

const char *uakey_pki_dir(const UAKEY_PKI *pki)
{
    return pki != NULL ? pki->dir : NULL;
}

int uakey_pki_max_rejected(const UAKEY_PKI *pki)
{
    return pki != NULL ? pki->max_rejected : 0;
}

/* ---- revocation checks per CA (uakey-pki.conf) ------------------------------ */

/* Read at each call, not cached at open: "uakey crl off" in another
 * process applies to the next validation of a running application. */
int uakey_pki_revocation_off(UAKEY_PKI *pki, char (**thumbprints)[41], size_t *n)
{
    int max, present;

    if (thumbprints != NULL)
        *thumbprints = NULL;
    if (n != NULL)
        *n = 0;
    if (pki == NULL || thumbprints == NULL || n == NULL) {
        uakey_raise(UK_R_BAD_PARAM, "uakey_pki_revocation_off: bad arguments");
        return 0;
    }
    return read_conf(pki->dir, &max, &present, thumbprints, n);
}

int uakey_pki_revocation_checked(UAKEY_PKI *pki, const char *ca_thumbprint)
{
    char tp[41], (*off)[41] = NULL;
    size_t n = 0, i;
    int rc = 1;

    if (pki == NULL) {
        uakey_raise(UK_R_BAD_PARAM, "uakey_pki_revocation_checked: no PKI store");
        return -1;
    }
    if (!parse_thumbprint(ca_thumbprint, tp) || !uakey_pki_revocation_off(pki, &off, &n))
        return -1;
    for (i = 0; i < n; i++) {
        if (strcmp(off[i], tp) == 0)
            rc = 0;
    }
    free(off);
    return rc;
}

int uakey_pki_set_revocation_check(UAKEY_PKI *pki, const char *ca_thumbprint, int check)
{
    char tp[41], line[64];
    int max, present;

    if (pki == NULL) {
        uakey_raise(UK_R_BAD_PARAM, "uakey_pki_set_revocation_check: no PKI store");
        return 0;
    }
    if (!parse_thumbprint(ca_thumbprint, tp))
        return 0;
    /* never rewrite a configuration that does not parse */
    if (!read_conf(pki->dir, &max, &present, NULL, NULL))
        return 0;
    snprintf(line, sizeof(line), "no-revocation = %s", tp);
    if (!write_conf(pki->dir, "no-revocation", tp, check ? NULL : line))
        return 0;
    ukua_dbg("%s: revocation check %s for CA %s", pki->dir, check ? "on" : "off", tp);
    return 1;
}

/* ---- listing ------------------------------------------------------------- */

static char *subject_line(const X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data = NULL, *s = NULL;
    long len;

    if (b == NULL)
        return NULL;
    if (X509_NAME_print_ex(b, X509_get_subject_name(x), 0, XN_FLAG_RFC2253) >= 0) {
        len = BIO_get_mem_data(b, &data);
        s = malloc((size_t)len + 1);
        if (s != NULL) {
            memcpy(s, data, (size_t)len);
            s[len] = '\0';
        }
    }
    BIO_free(b);
    return s;
}

static time_t asn1_time(const ASN1_TIME *t)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
        return (time_t)0;
    return timegm(&tm);
}

/* Fill |ci| from |x|; 0 (queue untouched) when a field cannot be read. */
static int fill_info(UAKEY_CERT_INFO *ci, UAKEY_PKI_GROUP group, const char *path, X509 *x)
{
    memset(ci, 0, sizeof(*ci));
    ci->group = group;
    ERR_set_mark();
    if (!uakey_cert_thumbprint(x, ci->thumbprint)) {
        ERR_pop_to_mark();
        return 0;
    }
    ci->path = strdup(path);
    ci->subject = subject_line(x);
    ci->app_uri = uakey_cert_app_uri(x);    /* NULL: none, or unreadable */
    ERR_pop_to_mark();
    if (ci->path == NULL || ci->subject == NULL) {
        free(ci->path);
        free(ci->subject);
        free(ci->app_uri);
        memset(ci, 0, sizeof(*ci));
        return 0;
    }
    ci->not_before = asn1_time(X509_get0_notBefore(x));
    ci->not_after = asn1_time(X509_get0_notAfter(x));
    ci->is_ca = X509_check_ca(x) != 0;
    return 1;
}

int uakey_pki_list(UAKEY_PKI *pki, UAKEY_PKI_GROUP group, UAKEY_CERT_INFO **certs, size_t *n)
{
    DIR_ENTRY *ents = NULL;
    UAKEY_CERT_INFO *out = NULL;
    size_t nents = 0, i, m = 0;

    if (certs != NULL)
        *certs = NULL;
    if (n != NULL)
        *n = 0;
    if (pki == NULL || certs == NULL || n == NULL || !group_ok(group)) {
        uakey_raise(UK_R_BAD_PARAM, "uakey_pki_list: bad arguments");
        return 0;
    }
    if (!scan_group(pki, group, 0, &ents, &nents))
        return 0;
    if (nents > 0) {
        out = calloc(nents, sizeof(*out));
        if (out == NULL) {
            entries_free(ents, nents);
            uakey_raise(UK_R_MALLOC, "out of memory");
            return 0;
        }
    }
    for (i = 0; i < nents; i++) {
        X509 *x = read_cert_file(pki, ents[i].path);

        if (x == NULL)
            continue;
        if (fill_info(&out[m], group, ents[i].path, x))
            m++;
        else
            pki_warn(pki, "skipping %s: cannot read the certificate's fields", ents[i].path);
        X509_free(x);
    }
    entries_free(ents, nents);
    if (m == 0) {
        free(out);
        out = NULL;
    }
    *certs = out;
    *n = m;
    return 1;
}

void uakey_cert_info_free(UAKEY_CERT_INFO *certs, size_t n)
{
    size_t i;

    if (certs == NULL)
        return;
    for (i = 0; i < n; i++) {
        free(certs[i].path);
        free(certs[i].subject);
        free(certs[i].app_uri);
    }
    free(certs);
}

STACK_OF(X509) *uakey_pki_certs(UAKEY_PKI *pki, UAKEY_PKI_GROUP group)
{
    STACK_OF(X509) *sk;
    DIR_ENTRY *ents = NULL;
    size_t nents = 0, i;

    if (pki == NULL || !group_ok(group)) {
        uakey_raise(UK_R_BAD_PARAM, "uakey_pki_certs: bad arguments");
        return NULL;
    }
    if (!scan_group(pki, group, 0, &ents, &nents))
        return NULL;
    sk = sk_X509_new_null();
    if (sk == NULL) {
        entries_free(ents, nents);
        uakey_raise(UK_R_MALLOC, "out of memory");
        return NULL;
    }
    for (i = 0; i < nents; i++) {
        X509 *x = read_cert_file(pki, ents[i].path);

        if (x != NULL && !sk_X509_push(sk, x)) {
            X509_free(x);
            sk_X509_pop_free(sk, X509_free);
            entries_free(ents, nents);
            uakey_raise(UK_R_MALLOC, "out of memory");
            return NULL;
        }
    }
    entries_free(ents, nents);
    return sk;
}

STACK_OF(X509_CRL) *uakey_pki_crls(UAKEY_PKI *pki, UAKEY_PKI_GROUP group)
{
    STACK_OF(X509_CRL) *sk;
    DIR_ENTRY *ents = NULL;
    size_t nents = 0, i;

    if (pki == NULL || !group_ok(group)) {
        uakey_raise(UK_R_BAD_PARAM, "uakey_pki_crls: bad arguments");
        return NULL;
    }
    sk = sk_X509_CRL_new_null();
    if (sk == NULL) {
        uakey_raise(UK_R_MALLOC, "out of memory");
        return NULL;
    }
    if (crl_dir[group] == NULL)
        return sk;                  /* own/ and rejected/ hold no CRLs */
    if (!scan_group(pki, group, 1, &ents, &nents)) {
        sk_X509_CRL_free(sk);
        return NULL;
    }
    for (i = 0; i < nents; i++) {
        X509_CRL *c = read_crl_file(pki, ents[i].path);

        if (c != NULL && !sk_X509_CRL_push(sk, c)) {
            X509_CRL_free(c);
            sk_X509_CRL_pop_free(sk, X509_CRL_free);
            entries_free(ents, nents);
            uakey_raise(UK_R_MALLOC, "out of memory");
            return NULL;
        }
    }
    entries_free(ents, nents);
    return sk;
}

/* ---- adding certificates -------------------------------------------------- */

static int reject_cert(UAKEY_PKI *pki, X509 *cert, char **out_path);

/* "<CN> [<THUMBPRINT>].der" for |x| (tp filled in). */
static char *cert_file_name(const X509 *x, char tp[41])
{
    char cn[CN_MAX_CHARS + 1], *name, *c;
    size_t len;

    if (!uakey_cert_thumbprint(x, tp))
        return NULL;
    ERR_set_mark();
    c = uakey_cert_common_name(x);      /* NULL: no CN, or an unusable one */
    ERR_pop_to_mark();
    safe_cn(c, cn, sizeof(cn));
    free(c);
    len = strlen(cn) + 48;
    name = malloc(len);
    if (name == NULL) {
        uakey_raise(UK_R_MALLOC, "out of memory");
        return NULL;
    }
    snprintf(name, len, "%s [%s].der", cn, tp);
    return name;
}

static int cert_der(X509 *x, unsigned char **der, size_t *len)
{
    int l;

    *der = NULL;
    l = i2d_X509(x, der);
    if (l <= 0) {
        uakey_raise(UK_R_BAD_CERT, "cannot encode the certificate as DER");
        return 0;
    }
    *len = (size_t)l;
    return 1;
}

/* Store |x| in folder |dir| (a group's written folder).  Already there
 * (same bytes under a name carrying its thumbprint): success, nothing
 * written.  *out_path (may be NULL) gets the file's path. */
static int store_cert(UAKEY_PKI *pki, const char *dir, X509 *x, char **out_path)
{
    DIR_ENTRY *ents = NULL;
    size_t nents = 0, i, len = 0;
    unsigned char *der = NULL;
    char tp[41], *name = NULL, *path = NULL;
    int ok = 0;

    if (out_path != NULL)
        *out_path = NULL;
    if (!cert_der(x, &der, &len) || (name = cert_file_name(x, tp)) == NULL)
        goto end;
    if (!scan_dir(pki, dir, 0, &ents, &nents))
        goto end;
    for (i = 0; i < nents; i++) {
        if (name_has_thumbprint(ents[i].name, tp) && file_equals(ents[i].path, der, len)) {
            ukua_dbg("%s is already in %s", tp, dir);
            path = ents[i].path;
            ents[i].path = NULL;
            ok = 1;
            goto end;
        }
    }
    path = ukua_path_join(dir, name);
    if (path == NULL || !ukua_write_file_atomic(path, der, len, 0644))
        goto end;
    ukua_dbg("stored %s as %s", tp, path);
    ok = 1;
 end:
    if (ok && out_path != NULL) {
        *out_path = path;
        path = NULL;
    }
    entries_free(ents, nents);
    OPENSSL_free(der);
    free(name);
    free(path);
    return ok;
}

int uakey_pki_add_cert(UAKEY_PKI *pki, UAKEY_PKI_GROUP group, X509 *cert, char **path)
{
    char *dir;
    int ok;

    if (path != NULL)
        *path = NULL;
    if (pki == NULL || cert == NULL || !group_ok(group)) {
        uakey_raise(UK_R_BAD_PARAM, "uakey_pki_add_cert: bad arguments");
        return 0;
    }
    if (group == UAKEY_PKI_REJECTED)
        return reject_cert(pki, cert, path);
    dir = ukua_path_join(pki->dir, cert_dir[group]);
    if (dir == NULL)
        return 0;
    ok = store_cert(pki, dir, cert, path);
    free(dir);
    return ok;
}

/* ---- CRLs ---------------------------------------------------------------- */

/* The CA certificate of the store (trusted/, issuers/, issuer/) that signed
 * |crl|; 0 with UK_R_BAD_CRL naming why. */
static int check_crl_signer(UAKEY_PKI *pki, X509_CRL *crl, const char *issuer)
{
    static const UAKEY_PKI_GROUP groups[] = { UAKEY_PKI_TRUSTED, UAKEY_PKI_ISSUERS };
    char why[256] = "", tp[41];
    size_t g;
    int i, found = 0, ok = 0;

    for (g = 0; g < sizeof(groups) / sizeof(groups[0]) && !ok; g++) {
        STACK_OF(X509) *sk = uakey_pki_certs(pki, groups[g]);

        if (sk == NULL)
            return 0;
        for (i = 0; i < sk_X509_num(sk) && !ok; i++) {
            X509 *ca = sk_X509_value(sk, i);
            EVP_PKEY *pub;

            if (X509_NAME_cmp(X509_get_subject_name(ca), X509_CRL_get_issuer(crl)) != 0)
                continue;
            found = 1;
            ERR_set_mark();
            if (!uakey_cert_thumbprint(ca, tp))
                snprintf(tp, sizeof(tp), "?");
            if (X509_check_ca(ca) == 0) {
                snprintf(why, sizeof(why), "the certificate %s with the CRL's issuer name is "
                         "not a CA", tp);
            } else if ((X509_get_extension_flags(ca) & EXFLAG_KUSAGE) != 0
                       && (X509_get_key_usage(ca) & KU_CRL_SIGN) == 0) {
                snprintf(why, sizeof(why), "the CA certificate %s lacks keyUsage cRLSign", tp);
            } else if ((pub = X509_get0_pubkey(ca)) == NULL) {
                snprintf(why, sizeof(why), "the public key of the CA certificate %s cannot "
                         "be read", tp);
            } else if (X509_CRL_verify(crl, pub) != 1) {
                snprintf(why, sizeof(why), "the CRL signature does not verify with the CA "
                         "certificate %s", tp);
            } else {
                ok = 1;
                ukua_dbg("CRL of %s verified with %s", issuer, tp);
            }
            ERR_pop_to_mark();
        }
        sk_X509_pop_free(sk, X509_free);
    }
    if (ok)
        return 1;
    if (!found)
        uakey_raise(UK_R_BAD_CRL, "CRL issuer %s: no CA certificate with that subject in "
                    "trusted/ or issuers/", issuer);
    else
        uakey_raise(UK_R_BAD_CRL, "CRL issuer %s: %s", issuer, why);
    return 0;
}

int uakey_pki_add_crl(UAKEY_PKI *pki, UAKEY_PKI_GROUP group, X509_CRL *crl)
{
    unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0, i;
    char hex[41], cn[CN_MAX_CHARS + 1], *issuer = NULL, *name = NULL, *dir = NULL;
    char *path = NULL, *icn = NULL;
    const X509_NAME *iname;
    int l, ok = 0, idx;
    BIO *b = NULL;
    size_t nlen;

    if (pki == NULL || crl == NULL
        || (group != UAKEY_PKI_TRUSTED && group != UAKEY_PKI_ISSUERS)) {
        uakey_raise(UK_R_BAD_PARAM, "uakey_pki_add_crl: a CRL goes to trusted/ or issuers/");
        return 0;
    }
    iname = X509_CRL_get_issuer(crl);
    b = BIO_new(BIO_s_mem());
    if (b == NULL || iname == NULL || X509_NAME_print_ex(b, iname, 0, XN_FLAG_RFC2253) < 0) {
        uakey_raise(UK_R_BAD_CRL, "the CRL has no readable issuer name");
        goto end;
    }
    {
        char *data = NULL;
        long len = BIO_get_mem_data(b, &data);

        issuer = malloc((size_t)len + 1);
        if (issuer == NULL) {
            uakey_raise(UK_R_MALLOC, "out of memory");
            goto end;
        }
        memcpy(issuer, data, (size_t)len);
        issuer[len] = '\0';
    }
    if (!check_crl_signer(pki, crl, issuer))
        goto end;
    l = i2d_X509_CRL(crl, &der);
    if (l <= 0) {
        uakey_raise(UK_R_BAD_CRL, "cannot encode the CRL of %s as DER", issuer);
        goto end;
    }
    if (!EVP_Digest(der, (size_t)l, md, &mdlen, EVP_sha1(), NULL) || mdlen != 20) {
        uakey_raise(UK_R_INTERNAL, "cannot compute the SHA-1 of the CRL");
        goto end;
    }
    for (i = 0; i < mdlen; i++)
        snprintf(hex + 2 * i, 3, "%02X", md[i]);
    /* the issuer's CN, as a certificate's */
    idx = X509_NAME_get_index_by_NID(iname, NID_commonName, -1);
    if (idx >= 0) {
        const ASN1_STRING *v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(iname, idx));
        unsigned char *u = NULL;
        int ul = v != NULL ? ASN1_STRING_to_UTF8(&u, v) : -1;

        if (ul >= 0 && memchr(u, '\0', (size_t)ul) == NULL) {
            icn = malloc((size_t)ul + 1);
            if (icn != NULL) {
                memcpy(icn, u, (size_t)ul);
                icn[ul] = '\0';
            }
        }
        OPENSSL_free(u);
    }
    safe_cn(icn, cn, sizeof(cn));
    nlen = strlen(cn) + 48;
    name = malloc(nlen);
    dir = ukua_path_join(pki->dir, crl_dir[group]);
    if (name == NULL || dir == NULL) {
        if (name == NULL)
            uakey_raise(UK_R_MALLOC, "out of memory");
        goto end;
    }
    snprintf(name, nlen, "%s [%s].crl", cn, hex);
    path = ukua_path_join(dir, name);
    if (path == NULL)
        goto end;
    if (file_equals(path, der, (size_t)l)) {
        ukua_dbg("CRL %s is already in %s", hex, dir);
        ok = 1;
        goto end;
    }
    ok = ukua_write_file_atomic(path, der, (size_t)l, 0644);
    if (ok)
        ukua_dbg("stored CRL of %s as %s", issuer, path);
 end:
    BIO_free(b);
    OPENSSL_free(der);
    free(issuer);
    free(icn);
    free(name);
    free(dir);
    free(path);
    return ok;
}

/* ---- remove, reject ------------------------------------------------------ */

/* Every file of |ents| holding the certificate |tp|: a name carrying
 * "[tp]" is checked by content, like any other file (a file named by hand
 * counts too).  Matching entries get mtime.tv_nsec = -1 as a mark. */
static size_t mark_matches(UAKEY_PKI *pki, DIR_ENTRY *ents, size_t n, const char *tp)
{
    size_t i, found = 0;
    char xtp[41];

    for (i = 0; i < n; i++) {
        X509 *x = read_cert_file(pki, ents[i].path);
        int match;

        if (x == NULL)
            continue;
        ERR_set_mark();
        match = uakey_cert_thumbprint(x, xtp) && strcmp(xtp, tp) == 0;
        ERR_pop_to_mark();
        X509_free(x);
        if (match) {
            ents[i].mtime.tv_nsec = -1;
            found++;
        }
    }
    return found;
}

static const char *group_name(UAKEY_PKI_GROUP group)
{
    static const char *const names[] = { "own", "trusted", "issuers", "rejected" };

    return names[group];
}

int uakey_pki_remove(UAKEY_PKI *pki, UAKEY_PKI_GROUP group, const char *thumbprint)
{
    DIR_ENTRY *ents = NULL;
    size_t nents = 0, i;
    char tp[41];
    int ok = 1, e;

    if (pki == NULL || !group_ok(group)) {
        uakey_raise(UK_R_BAD_PARAM, "uakey_pki_remove: bad arguments");
        return 0;
    }
    if (!parse_thumbprint(thumbprint, tp) || !scan_group(pki, group, 0, &ents, &nents))
        return 0;
    if (mark_matches(pki, ents, nents, tp) == 0) {
        entries_free(ents, nents);
        uakey_raise(UK_R_OBJECT_NOT_FOUND, "no certificate %s in %s/", tp, group_name(group));
        return 0;
    }
    for (i = 0; i < nents; i++) {
        if (ents[i].mtime.tv_nsec != -1)
            continue;
        if (unlink(ents[i].path) != 0) {
            e = errno;
            uakey_raise(errno_reason(e), "cannot remove %s: %s", ents[i].path, strerror(e));
            ok = 0;
        } else {
            ukua_dbg("removed %s", ents[i].path);
        }
    }
    entries_free(ents, nents);
    return ok;
}

int uakey_pki_reject(UAKEY_PKI *pki, X509 *cert)
{
    return reject_cert(pki, cert, NULL);
}

/* Store |cert| in rejected/ (bounded); *out_path (may be NULL) gets the
 * file's path. */
static int reject_cert(UAKEY_PKI *pki, X509 *cert, char **out_path)
{
    DIR_ENTRY *ents = NULL;
    size_t nents = 0, i, len = 0, drop;
    unsigned char *der = NULL;
    char tp[41], *dir = NULL, *name = NULL, *path = NULL;
    struct timespec newest = { 0, 0 };
    struct stat st;
    int ok = 0, e;

    if (out_path != NULL)
        *out_path = NULL;
    if (pki == NULL || cert == NULL) {
        uakey_raise(UK_R_BAD_PARAM, "uakey_pki_reject: bad arguments");
        return 0;
    }
    if (!cert_der(cert, &der, &len) || (name = cert_file_name(cert, tp)) == NULL)
        goto end;
    dir = ukua_path_join(pki->dir, cert_dir[UAKEY_PKI_REJECTED]);
    if (dir == NULL || !scan_dir(pki, dir, 0, &ents, &nents))
        goto end;
    /* already rejected: not stored twice */
    for (i = 0; i < nents; i++) {
        if (name_has_thumbprint(ents[i].name, tp) && file_equals(ents[i].path, der, len)) {
            ukua_dbg("%s is already in %s", tp, dir);
            path = ents[i].path;
            ents[i].path = NULL;
            ok = 1;
            goto end;
        }
    }
    /* make room: oldest first (modification time, then name) */
    if (nents > 1)
        qsort(ents, nents, sizeof(*ents), entry_by_age);
    if (nents > 0)
        newest = ents[nents - 1].mtime;
    drop = nents >= (size_t)pki->max_rejected ? nents - (size_t)pki->max_rejected + 1 : 0;
    for (i = 0; i < drop; i++) {
        if (unlink(ents[i].path) != 0 && errno != ENOENT) {
            e = errno;
            uakey_raise(errno_reason(e), "cannot remove %s to make room in %s: %s",
                        ents[i].path, dir, strerror(e));
            goto end;
        }
        ukua_dbg("rejected/ full (%d): removed %s", pki->max_rejected, ents[i].name);
    }
    path = ukua_path_join(dir, name);
    if (path == NULL || !ukua_write_file_atomic(path, der, len, 0644))
        goto end;
    /* The newest file must sort last even when the clock is coarser than
     * the rate of rejections (or was set back): its time goes just past
     * the newest one already there. */
    if (nents > 0 && stat(path, &st) == 0
        && (st.st_mtim.tv_sec < newest.tv_sec
            || (st.st_mtim.tv_sec == newest.tv_sec && st.st_mtim.tv_nsec <= newest.tv_nsec))) {
        struct timespec ts[2];

        ts[0].tv_sec = 0;
        ts[0].tv_nsec = UTIME_OMIT;
        ts[1] = newest;
        if (++ts[1].tv_nsec >= 1000000000L) {
            ts[1].tv_sec++;
            ts[1].tv_nsec = 0;
        }
        if (utimensat(AT_FDCWD, path, ts, 0) != 0)
            ukua_dbg("cannot set the time of %s: %s", path, strerror(errno));
    }
    ukua_dbg("rejected %s stored as %s", tp, path);
    ok = 1;
 end:
    if (ok && out_path != NULL) {
        *out_path = path;
        path = NULL;
    }
    entries_free(ents, nents);
    OPENSSL_free(der);
    free(dir);
    free(name);
    free(path);
    return ok;
}

int uakey_pki_trust_rejected(UAKEY_PKI *pki, const char *thumbprint)
{
    DIR_ENTRY *ents = NULL;
    size_t nents = 0, i;
    char tp[41], *tdir = NULL;
    X509 *x = NULL;
    int ok = 0, e;

    if (pki == NULL) {
        uakey_raise(UK_R_BAD_PARAM, "uakey_pki_trust_rejected: no store");
        return 0;
    }
    if (!parse_thumbprint(thumbprint, tp)
        || !scan_group(pki, UAKEY_PKI_REJECTED, 0, &ents, &nents))
        return 0;
    if (mark_matches(pki, ents, nents, tp) == 0) {
        uakey_raise(UK_R_OBJECT_NOT_FOUND, "no certificate %s in rejected/", tp);
        goto end;
    }
    for (i = 0; i < nents && x == NULL; i++)
        if (ents[i].mtime.tv_nsec == -1)
            x = read_cert_file(pki, ents[i].path);
    if (x == NULL) {
        uakey_raise(UK_R_IO, "certificate %s in rejected/ could not be read again", tp);
        goto end;
    }
    tdir = ukua_path_join(pki->dir, cert_dir[UAKEY_PKI_TRUSTED]);
    if (tdir == NULL || !store_cert(pki, tdir, x, NULL))
        goto end;
    /* trusted/ has it now; only then does it leave rejected/ */
    ok = 1;
    for (i = 0; i < nents; i++) {
        if (ents[i].mtime.tv_nsec != -1)
            continue;
        if (unlink(ents[i].path) != 0) {
            e = errno;
            uakey_raise(errno_reason(e), "certificate %s is trusted but %s cannot be "
                        "removed: %s", tp, ents[i].path, strerror(e));
            ok = 0;
        }
    }
 end:
    X509_free(x);
    free(tdir);
    entries_free(ents, nents);
    return ok;
}

int uakey_pki_clear_rejected(UAKEY_PKI *pki)
{
    DIR_ENTRY *ents = NULL;
    size_t nents = 0, i;
    char *dir;
    int ok = 1, e;

    if (pki == NULL) {
        uakey_raise(UK_R_BAD_PARAM, "uakey_pki_clear_rejected: no store");
        return 0;
    }
    dir = ukua_path_join(pki->dir, cert_dir[UAKEY_PKI_REJECTED]);
    if (dir == NULL || !scan_dir(pki, dir, 0, &ents, &nents)) {
        free(dir);
        return 0;
    }
    for (i = 0; i < nents; i++) {
        if (unlink(ents[i].path) != 0 && errno != ENOENT) {
            e = errno;
            uakey_raise(errno_reason(e), "cannot remove %s: %s", ents[i].path, strerror(e));
            ok = 0;
        }
    }
    ukua_dbg("cleared %s (%zu files)", dir, nents);
    entries_free(ents, nents);
    free(dir);
    return ok;
}

/* ---- own identities ------------------------------------------------------ */

int uakey_pki_name_valid(const char *name)
{
    size_t i, n;

    if (name == NULL || *name == '\0') {
        uakey_raise(UK_R_BAD_NAME, "empty identity name");
        return 0;
    }
    n = strlen(name);
    if (n > NAME_MAX_CHARS) {
        uakey_raise(UK_R_BAD_NAME, "identity name longer than %d characters", NAME_MAX_CHARS);
        return 0;
    }
    if (name[0] == '.' || strstr(name, "..") != NULL) {
        uakey_raise(UK_R_BAD_NAME, "identity name \"%s\" starts with '.' or contains \"..\"",
                    name);
        return 0;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
              || c == '.' || c == '_' || c == '-')) {
            if (c < 0x20 || c == 0x7f)
                uakey_raise(UK_R_BAD_NAME, "identity name contains control character 0x%02x "
                            "at %zu", c, i);
            else
                uakey_raise(UK_R_BAD_NAME, "identity name \"%s\": only letters, digits, "
                            "'.', '_' and '-' are allowed", name);
            return 0;
        }
    }
    return 1;
}

/* own/<sub>/<name><ext> */
static char *own_path(UAKEY_PKI *pki, const char *sub, const char *name, const char *ext)
{
    char file[NAME_MAX_CHARS + 8];

    snprintf(file, sizeof(file), "%s%s", name, ext);
    return join3(pki->dir, sub, file);
}

int uakey_pki_write_own(UAKEY_PKI *pki, const char *name, X509 *cert, EVP_PKEY *key)
{
    unsigned char *der = NULL, *oldref = NULL;
    size_t len = 0, oldlen = 0;
    char *cpath = NULL, *kpath = NULL, tp[41];
    struct stat st;
    int ok = 0, had_ref = 0;

    if (pki == NULL || cert == NULL) {
        uakey_raise(UK_R_BAD_PARAM, "uakey_pki_write_own: no store or certificate");
        return 0;
    }
    if (!uakey_pki_name_valid(name) || !uakey_cert_thumbprint(cert, tp)
        || !cert_der(cert, &der, &len))
        goto end;
    cpath = own_path(pki, "own/certs", name, ".der");
    kpath = own_path(pki, "own/private", name, ".pem");
    if (cpath == NULL || kpath == NULL)
        goto end;
    if (key != NULL) {
        /* everything checked before anything is written */
        if (X509_check_private_key(cert, key) != 1) {
            ERR_clear_error();
            uakey_raise(UK_R_KEY_MISMATCH, "certificate %s does not belong to the key", tp);
            goto end;
        }
        /* the current reference, put back if the certificate cannot be
         * written after it */
        if (stat(kpath, &st) == 0) {
            if (!ukua_read_file(kpath, &oldref, &oldlen, CONF_MAX_BYTES))
                goto end;
            had_ref = 1;
        }
        if (!uakey_keyref_write(key, kpath))
            goto end;
    }
    if (!ukua_write_file_atomic(cpath, der, len, 0644)) {
        if (key != NULL) {
            ERR_set_mark();
            if (had_ref)
                (void)ukua_write_file_atomic(kpath, oldref, oldlen, 0600);
            else if (unlink(kpath) != 0)
                ukua_dbg("cannot remove %s: %s", kpath, strerror(errno));
            ERR_pop_to_mark();
        }
        goto end;
    }
    ukua_dbg("own identity \"%s\": %s (%s)%s", name, cpath, tp,
             key != NULL ? ", key reference written" : "");
    ok = 1;
 end:
    OPENSSL_free(der);
    free(oldref);
    free(cpath);
    free(kpath);
    return ok;
}

X509 *uakey_pki_own_cert(UAKEY_PKI *pki, const char *name)
{
    unsigned char *data = NULL;
    size_t len = 0;
    struct stat st;
    char *path;
    X509 *x = NULL;

    if (pki == NULL) {
        uakey_raise(UK_R_BAD_PARAM, "uakey_pki_own_cert: no store");
        return NULL;
    }
    if (!uakey_pki_name_valid(name))
        return NULL;
    path = own_path(pki, "own/certs", name, ".der");
    if (path == NULL)
        return NULL;
    if (stat(path, &st) != 0 && errno == ENOENT) {
        uakey_raise(UK_R_OBJECT_NOT_FOUND, "no own certificate \"%s\" (%s does not exist)",
                    name, path);
        goto end;
    }
    if (!ukua_read_file(path, &data, &len, CERT_MAX_BYTES))
        goto end;
    ERR_set_mark();
    x = ukua_cert_from_bytes(NULL, data, len);
    ERR_pop_to_mark();
    if (x == NULL)
        uakey_raise(UK_R_BAD_CERT, "%s is not a certificate (DER or PEM)", path);
 end:
    free(data);
    free(path);
    return x;
}

char *uakey_pki_own_key_path(UAKEY_PKI *pki, const char *name)
{
    if (pki == NULL) {
        uakey_raise(UK_R_BAD_PARAM, "uakey_pki_own_key_path: no store");
        return NULL;
    }
    if (!uakey_pki_name_valid(name))
        return NULL;
    return own_path(pki, "own/private", name, ".pem");
}
