/* uakey: debug log. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "uk_debug.h"

volatile int uk_debug_mask = -1;
static int uk_debug_fd = 2;
static pthread_once_t uk_debug_once = PTHREAD_ONCE_INIT;

static const struct {
    const char *name;
    int bits;
} uk_dbg_names[] = {
    { "pkcs11", UK_DBG_PKCS11 },
    { "provider", UK_DBG_PROVIDER },
    { "opcua", UK_DBG_OPCUA },
    { "all", UK_DBG_ALL },
};

int uk_debug_parse(const char *spec)
{
    int mask = 0;
    const char *p = spec;

    if (spec == NULL)
        return 0;
    while (*p != '\0') {
        size_t len = strcspn(p, ",: ");
        size_t i;
        int found = 0;

        for (i = 0; len > 0 && i < sizeof(uk_dbg_names) / sizeof(uk_dbg_names[0]); i++) {
            if (strlen(uk_dbg_names[i].name) == len
                && strncmp(uk_dbg_names[i].name, p, len) == 0) {
                mask |= uk_dbg_names[i].bits;
                found = 1;
            }
        }
        if (len > 0 && !found)
            return -1;
        p += len;
        if (*p != '\0')
            p++;
    }
    return mask;
}

static void uk_debug_do_init(void)
{
    const char *spec = secure_getenv("UAKEY_DEBUG");
    const char *file = secure_getenv("UAKEY_DEBUG_FILE");
    int mask;

    if (spec == NULL || *spec == '\0') {
        uk_debug_mask = 0;
        return;
    }
    if (strcmp(spec, "help") == 0) {
        fprintf(stderr, "UAKEY_DEBUG: comma-separated list of pkcs11, provider, opcua, all\n");
        uk_debug_mask = 0;
        return;
    }
    mask = uk_debug_parse(spec);
    if (mask < 0) {
        fprintf(stderr, "uakey: UAKEY_DEBUG=%s: unknown category (try 'help')\n", spec);
        mask = 0;
    }
    if (mask != 0 && file != NULL && *file != '\0') {
        int fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);

        if (fd >= 0)
            uk_debug_fd = fd;
        else
            fprintf(stderr, "uakey: cannot open UAKEY_DEBUG_FILE %s: %s\n", file, strerror(errno));
    }
    uk_debug_mask = mask;
}

void uk_debug_init(void)
{
    pthread_once(&uk_debug_once, uk_debug_do_init);
}

void uk_debug_print(int cat, const char *file, int line, const char *func,
                    const char *fmt, ...)
{
    char buf[1024];
    struct timeval tv;
    struct tm tm;
    const char *cname = cat == UK_DBG_PKCS11 ? "pkcs11"
                        : cat == UK_DBG_PROVIDER ? "provider" : "opcua";
    const char *base = strrchr(file, '/');
    va_list ap;
    int n, m;

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    n = snprintf(buf, sizeof(buf), "%02d:%02d:%02d.%06ld [%d] %s %s:%d %s(): ",
                 tm.tm_hour, tm.tm_min, tm.tm_sec, (long)tv.tv_usec, (int)getpid(),
                 cname, base ? base + 1 : file, line, func);
    if (n < 0 || (size_t)n >= sizeof(buf))
        n = 0;
    va_start(ap, fmt);
    m = vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    n += m;
    if ((size_t)n > sizeof(buf) - 2)
        n = sizeof(buf) - 2;
    buf[n++] = '\n';
    if (write(uk_debug_fd, buf, n) < 0) {
        /* nothing sensible to do */
    }
}
