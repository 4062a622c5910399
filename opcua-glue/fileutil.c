/* libuakey: file helpers.  Every write is atomic: temporary file in the
 * same directory, fsync, rename, fsync of the directory. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "ukua_int.h"

static int err_reason(int e)
{
    return e == EACCES || e == EPERM || e == EROFS ? UK_R_PERMISSION : UK_R_IO;
}

char *ukua_path_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *p = malloc(la + lb + 2);

    if (p == NULL) {
        uakey_raise(UK_R_MALLOC, "out of memory");
        return NULL;
    }
    memcpy(p, a, la);
    if (la > 0 && a[la - 1] == '/')
        la--;
    p[la] = '/';
    memcpy(p + la + 1, b, lb + 1);
    return p;
}

static int write_all(int fd, const unsigned char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return 0;
        }
        p += n;
        len -= (size_t)n;
    }
    return 1;
}

int ukua_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
    char tmp[PATH_MAX], dir[PATH_MAX];
    unsigned char rnd[6];
    const char *slash;
    int fd = -1, e, ok = 0;

    if (strlen(path) + 16 >= sizeof(tmp)) {
        uakey_raise(UK_R_IO, "path too long: %s", path);
        return 0;
    }
    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        uakey_raise(UK_R_INTERNAL, "no random bytes for a temporary name");
        return 0;
    }
    snprintf(tmp, sizeof(tmp), "%s.tmp%02x%02x%02x%02x%02x%02x", path, rnd[0], rnd[1],
             rnd[2], rnd[3], rnd[4], rnd[5]);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) {
        e = errno;
        uakey_raise(err_reason(e), "cannot create %s: %s", tmp, strerror(e));
        return 0;
    }
    if (fchmod(fd, mode) != 0 || !write_all(fd, data, len) || fsync(fd) != 0) {
        e = errno;
        uakey_raise(err_reason(e), "cannot write %s: %s", tmp, strerror(e));
        goto end;
    }
    if (close(fd) != 0) {
        fd = -1;
        e = errno;
        uakey_raise(err_reason(e), "cannot write %s: %s", tmp, strerror(e));
        goto end;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        e = errno;
        uakey_raise(err_reason(e), "cannot rename %s to %s: %s", tmp, path, strerror(e));
        goto end;
    }
    ok = 1;
    /* make the rename itself durable */
    slash = strrchr(path, '/');
    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path == 0 ? 1 : slash - path), path);
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    fd = -1;
 end:
    if (fd >= 0)
        close(fd);
    if (!ok)
        unlink(tmp);
    return ok;
}

int ukua_read_file(const char *path, unsigned char **data, size_t *len, size_t max)
{
    struct stat st;
    unsigned char *buf = NULL;
    size_t got = 0;
    int fd, e;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        e = errno;
        uakey_raise(err_reason(e), "cannot open %s: %s", path, strerror(e));
        return 0;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        uakey_raise(UK_R_IO, "%s is not a regular file", path);
        close(fd);
        return 0;
    }
    if ((size_t)st.st_size > max) {
        uakey_raise(UK_R_IO, "%s is too large (%lld bytes, at most %zu)", path,
                    (long long)st.st_size, max);
        close(fd);
        return 0;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        uakey_raise(UK_R_MALLOC, "out of memory reading %s", path);
        close(fd);
        return 0;
    }
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    e = errno;
    close(fd);
    if (got != (size_t)st.st_size) {
        uakey_raise(UK_R_IO, "cannot read %s: %s", path, got < (size_t)st.st_size ? "short read" : strerror(e));
        free(buf);
        return 0;
    }
    buf[got] = 0;
    *data = buf;
    *len = got;
    return 1;
}

int ukua_mkdir_p(const char *path, mode_t mode)
{
    char buf[PATH_MAX];
    size_t i, n = strlen(path);
    struct stat st;

    if (n == 0 || n >= sizeof(buf)) {
        uakey_raise(UK_R_IO, "invalid directory path");
        return 0;
    }
    memcpy(buf, path, n + 1);
    for (i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        buf[i] = '\0';
        if (mkdir(buf, mode) != 0) {
            int e = errno;

            if (e != EEXIST || stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
                uakey_raise(err_reason(e), "cannot create directory %s: %s", buf,
                            e == EEXIST ? "a file of that name exists" : strerror(e));
                return 0;
            }
        }
        if (i < n)
            buf[i] = '/';
    }
    return 1;
}

X509 *ukua_cert_from_bytes(OSSL_LIB_CTX *libctx, const unsigned char *data, size_t len)
{
    const unsigned char *p = data;
    X509 *x = X509_new_ex(libctx, NULL);
    BIO *b;

    if (x == NULL)
        return NULL;
    if (d2i_X509(&x, &p, (long)len) != NULL && p == data + len)
        return x;
    X509_free(x);
    /* PEM */
    x = X509_new_ex(libctx, NULL);
    b = BIO_new_mem_buf(data, (int)len);
    if (x == NULL || b == NULL || PEM_read_bio_X509(b, &x, NULL, NULL) == NULL) {
        X509_free(x);
        x = NULL;
    }
    BIO_free(b);
    return x;
}

X509_CRL *ukua_crl_from_bytes(const unsigned char *data, size_t len)
{
    const unsigned char *p = data;
    X509_CRL *c = d2i_X509_CRL(NULL, &p, (long)len);
    BIO *b;

    if (c != NULL && p == data + len)
        return c;
    X509_CRL_free(c);
    b = BIO_new_mem_buf(data, (int)len);
    c = b != NULL ? PEM_read_bio_X509_CRL(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    return c;
}
