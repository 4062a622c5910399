/* uakey pkcs11/: module selection and PIN sources.  A PIN read here lives
 * only in the caller's buffer, which the caller wipes; it is never logged
 * (at most "pin=<set,len=N>"). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ukp11_int.h"

static int set(const char *s)
{
    return s != NULL && *s != '\0';
}

const char *ukp11_select_module(const char *uri_module_path,
                                const char *uri_module_name,
                                const char *cfg_path, const char *env,
                                const char *proxy)
{
    if (set(uri_module_path))
        return uri_module_path;
    if (set(uri_module_name))
        return uri_module_name;
    if (set(cfg_path))
        return cfg_path;
    if (set(env))
        return env;
    return proxy;
}

const char *ukp11_env_module(void)
{
    return secure_getenv("UAKEY_PKCS11_MODULE");
}

/* Read the first line of |path| into buf.  Returns 1 on success. */
static int read_pin_file(UKP11_CTX *ctx, const char *path, char *buf,
                         size_t cap, size_t *len)
{
    char tmp[1024];
    size_t have = 0, line;
    ssize_t got;
    int fd, ok = 0;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        ukp11_raise(ctx, UK_R_PIN_SOURCE, "cannot open PIN file %s: %s", path,
                    strerror(errno));
        return 0;
    }
    while (have < sizeof(tmp)) {
        got = read(fd, tmp + have, sizeof(tmp) - have);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            ukp11_raise(ctx, UK_R_PIN_SOURCE, "cannot read PIN file %s: %s", path,
                        strerror(errno));
            goto done;
        }
        if (got == 0)
            break;
        have += (size_t)got;
        if (memchr(tmp, '\n', have) != NULL)
            break;
    }
    for (line = 0; line < have && tmp[line] != '\n' && tmp[line] != '\r'; line++)
        ;
    if (line == 0) {
        ukp11_raise(ctx, UK_R_PIN_SOURCE, "PIN file %s is empty", path);
        goto done;
    }
    if (line > cap || (line == have && have == sizeof(tmp))) {
        ukp11_raise(ctx, UK_R_PIN_SOURCE, "PIN in %s is too long (limit %zu bytes)",
                    path, cap);
        goto done;
    }
    memcpy(buf, tmp, line);
    *len = line;
    ok = 1;
    ukp11_dbg("read PIN from %s: pin=<set,len=%zu>", path, line);

done:
    OPENSSL_cleanse(tmp, sizeof(tmp));
    close(fd);
    return ok;
}

int ukp11_pin_source_read(UKP11_CTX *ctx, const char *src, char *buf,
                          size_t cap, size_t *len)
{
    size_t n;

    if (src == NULL) {
        ukp11_raise(ctx, UK_R_PIN_SOURCE, "no PIN source given");
        return 0;
    }
    if (strncmp(src, "file:", 5) == 0) {
        const char *path = src + 5;

        /* file:///path (empty host) or file:/path */
        if (strncmp(path, "//", 2) == 0)
            path += 2;
        if (*path != '/') {
            ukp11_raise(ctx, UK_R_PIN_SOURCE,
                        "PIN source %s: only local absolute file: paths are supported",
                        src);
            return 0;
        }
        return read_pin_file(ctx, path, buf, cap, len);
    }
    n = strlen(src);
    if (n > cap) {
        ukp11_raise(ctx, UK_R_PIN_SOURCE, "PIN is too long (limit %zu bytes)", cap);
        return 0;
    }
    memcpy(buf, src, n);
    *len = n;
    return 1;
}
