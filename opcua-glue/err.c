/* libuakey: errors on OpenSSL's queue under the library "uakey". */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "ukua_int.h"

static CRYPTO_ONCE ukua_err_once = CRYPTO_ONCE_STATIC_INIT;
static int ukua_lib;
static ERR_STRING_DATA ukua_strings[UK_R_MAX + 1];

static void ukua_err_init(void)
{
    int i, n = 0;

    ukua_lib = ERR_get_next_error_library();
    ukua_strings[n].error = ERR_PACK(ukua_lib, 0, 0);
    ukua_strings[n].string = "uakey";
    n++;
    for (i = 1; i < UK_R_MAX; i++) {
        ukua_strings[n].error = ERR_PACK(ukua_lib, 0, i);
        ukua_strings[n].string = uk_reason_string(i);
        n++;
    }
    ukua_strings[n].error = 0;
    ukua_strings[n].string = NULL;
    ERR_load_strings(ukua_lib, ukua_strings);
}

int uakey_err_lib(void)
{
    CRYPTO_THREAD_run_once(&ukua_err_once, ukua_err_init);
    return ukua_lib;
}

void uakey_raise(int reason, const char *fmt, ...)
{
    va_list ap;

    ERR_new();
    ERR_set_debug(OPENSSL_FILE, OPENSSL_LINE, OPENSSL_FUNC);
    va_start(ap, fmt);
    ERR_vset_error(uakey_err_lib(), reason, fmt, ap);
    va_end(ap);
    if (uk_debug_mask != 0) {
        char buf[512];

        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        ukua_dbg("error %d (%s): %s", reason, uk_reason_string(reason), buf);
    }
}

/* "reason: data" of one error, reason by our table for our library. */
static void describe(unsigned long e, const char *data, char *out, size_t len)
{
    char reason[256];

    if (ERR_GET_LIB(e) == uakey_err_lib())
        snprintf(reason, sizeof(reason), "%s", uk_reason_string(ERR_GET_REASON(e)));
    else if (ERR_reason_error_string(e) != NULL)
        snprintf(reason, sizeof(reason), "%s", ERR_reason_error_string(e));
    else
        ERR_error_string_n(e, reason, sizeof(reason));
    if (data != NULL && *data != '\0')
        snprintf(out, len, "%s: %s", reason, data);
    else
        snprintf(out, len, "%s", reason);
}

/* 1 for errors raised by uakey itself: libuakey or the provider (whose
 * library OpenSSL names after the provider). */
static int is_uakey_error(unsigned long e)
{
    const char *lib;

    if (ERR_GET_LIB(e) == uakey_err_lib())
        return 1;
    lib = ERR_lib_error_string(e);
    return lib != NULL && strcmp(lib, "uakey") == 0;
}

/* OpenSSL queues the root cause first and the callers' wrapping errors
 * after it: the line is the last (what failed), followed by the cause (the
 * first error uakey raised, else the first of all) when they differ.
 * OpenSSL's own trial-and-error noise (a store scheme it tried and did not
 * find) thus never hides uakey's explanation. */
const char *uakey_error_string(char *buf, size_t len)
{
    unsigned long e, first = 0, last = 0;
    const char *data = NULL;
    int flags = 0, first_ours = 0;
    char firstdata[512] = "", lastdata[512] = "", a[700], b[700];

    if (buf == NULL || len == 0)
        return "";
    /* copied as they come: the queue reuses its buffers */
    while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
        const char *d = data != NULL && (flags & ERR_TXT_STRING) != 0 ? data : "";

        if (first == 0 || (!first_ours && is_uakey_error(e) && e != 0)) {
            first = e;
            first_ours = is_uakey_error(e);
            snprintf(firstdata, sizeof(firstdata), "%s", d);
        }
        last = e;
        snprintf(lastdata, sizeof(lastdata), "%s", d);
    }
    if (last == 0) {
        snprintf(buf, len, "unknown error");
        return buf;
    }
    describe(last, lastdata, a, sizeof(a));
    describe(first, firstdata, b, sizeof(b));
    if (first == last && strcmp(a, b) == 0)
        snprintf(buf, len, "%s", a);
    else
        snprintf(buf, len, "%s (%s)", a, b);
    return buf;
}
