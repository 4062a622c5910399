/* uakey command line: messages, PIN prompt, loading, file writing, JSON. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "cli.h"

CLI_GLOBAL cli_global;


int cli_common_option(int c, const char *arg)
{
    switch (c) {
    case OPT_PIN_FILE:
        /* read (and made absolute for the URI) by libuakey where needed */
        cli_global.pin_file = arg;
        return 1;
    case OPT_JSON:
        cli_global.json = 1;
        return 1;
    case OPT_DEBUG:
        cli_global.debug = 1;
        /* read once, on the first debug call: nothing has run yet */
        setenv("UAKEY_DEBUG", "all", 1);
        return 1;
    default:
        return 0;
    }
}

void cli_getopt_reset(void)
{
    /* 0 makes glibc's getopt start over (and re-read the "+" / "-" mode) */
    optind = 0;
    opterr = 0;
}

int cli_parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    if (min >= 0 && *s == '-')
        return 0;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return 0;
    *out = v;
    return 1;
}

int cli_bad_option(const char *cmd, int ch, char **argv)
{
    const char *opt = optind > 0 ? argv[optind - 1] : "?";

    if (ch == ':')
        return cli_usage_error(cmd, "option '%s' needs a value", opt);
    if (ch == '?' && optopt != 0)
        return cli_usage_error(cmd, "unknown option '-%c'", optopt);
    if (ch == '?')
        return cli_usage_error(cmd, "unknown option '%s'", opt);
    return cli_usage_error(cmd, "option '%s' is not valid here", opt);
}

/* ---- messages ---------------------------------------------------------------- */

static void vmsg(const char *fmt, va_list ap)
{
    char buf[1024];
    char *p;

    vsnprintf(buf, sizeof(buf), fmt, ap);
    /* one line, whatever the cause text holds */
    for (p = buf; *p != '\0'; p++) {
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    }
    fprintf(stderr, "uakey: %s\n", buf);
}

int cli_fail(int rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vmsg(fmt, ap);
    va_end(ap);
    ERR_clear_error();
    return rc;
}

int cli_fail_lib(void)
{
    char buf[768];

    uakey_error_string(buf, sizeof(buf));
    return cli_fail(CLI_FAIL, "%s", buf);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    char buf[768];

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return cli_fail(CLI_USAGE, "%s (see 'uakey %s--help')", buf,
                    cmd != NULL ? cmd : "");
}

int cli_provider(void)
{
    if (!uakey_provider_load(NULL)) {
        cli_fail_lib();
        return 0;
    }
    return 1;
}

/* ---- PINs ------------------------------------------------------------------------ */

/* The UI for PIN prompts: none with --pin-file (libuakey answers from the
 * file itself), the terminal with echo off when there is one. */
const UI_METHOD *cli_ui(void)
{
    if (cli_global.pin_file != NULL)
        return NULL;
    return isatty(STDIN_FILENO) ? UI_OpenSSL() : NULL;
}

void cli_cleanup(void)
{
    cli_global.pin_file = NULL;
}

#define CLI_PIN_MAX 256

char *cli_prompt_secret(const char *kind, const char *what, int min, int max)
{
    UI *ui;
    char *buf, *prompt;
    int ok;

    if (!isatty(STDIN_FILENO))
        return NULL;
    buf = OPENSSL_secure_zalloc((size_t)max + 1);
    if (buf == NULL)
        return NULL;
    ui = UI_new_method(UI_OpenSSL());
    prompt = ui != NULL ? UI_construct_prompt(ui, kind, what) : NULL;
    /* an input string has echo off unless UI_INPUT_FLAG_ECHO is given */
    ok = prompt != NULL
         && UI_add_input_string(ui, prompt, 0, buf, min, max) >= 0
         && UI_process(ui) == 0;
    OPENSSL_free(prompt);
    UI_free(ui);
    if (!ok || strlen(buf) < (size_t)min) {
        OPENSSL_secure_clear_free(buf, (size_t)max + 1);
        return NULL;
    }
    return buf;
}

char *cli_prompt_pin(const char *what)
{
    return cli_prompt_secret("PIN", what, 1, CLI_PIN_MAX);
}

void cli_secret_free(char *s)
{
    if (s != NULL)
        OPENSSL_secure_clear_free(s, strlen(s) + 1);
}

int cli_uri_has_pin(const char *uri)
{
    return strstr(uri, "pin-value=") != NULL || strstr(uri, "pin-source=") != NULL;
}

char *cli_uri_with_pin(const char *uri, const char *pin)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t ulen = strlen(uri), plen = strlen(pin), o, i;
    char *out = OPENSSL_secure_zalloc(ulen + 3 * plen + 16);

    if (out == NULL)
        return NULL;
    memcpy(out, uri, ulen);
    o = ulen;
    o += (size_t)sprintf(out + o, "%spin-value=", strchr(uri, '?') != NULL ? "&" : "?");
    for (i = 0; i < plen; i++) {
        unsigned char c = (unsigned char)pin[i];

        if (isalnum(c) || strchr("-._~", c) != NULL) {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    return out;
}

int cli_error_is_pin_required(void)
{
    const char *data = NULL, *reason;
    int flags = 0;
    unsigned long e = ERR_peek_last_error_data(&data, &flags);

    if (e == 0)
        return 0;
    reason = ERR_reason_error_string(e);
    if (reason != NULL && strstr(reason, "PIN required") != NULL)
        return 1;
    return data != NULL && (flags & ERR_TXT_STRING) != 0
           && strstr(data, "PIN required") != NULL;
}

/* ---- loading ---------------------------------------------------------------------- */

EVP_PKEY *cli_load_key(const char *ref)
{
    EVP_PKEY *key = uakey_load_key(NULL, ref, cli_global.pin_file, cli_ui(), NULL);

    if (key == NULL)
        cli_fail_lib();
    return key;
}

X509 *cli_load_cert(const char *path)
{
    X509 *cert;

    if (access(path, R_OK) != 0 && strncmp(path, "pkcs11:", 7) != 0) {
        cli_fail(CLI_FAIL, "cannot read certificate %s: %s", path, strerror(errno));
        return NULL;
    }
    cert = uakey_load_cert(NULL, path);
    if (cert == NULL)
        cli_fail_lib();
    return cert;
}

static void pki_warn(void *arg, const char *msg)
{
    (void)arg;
    fprintf(stderr, "uakey: warning: %s\n", msg);
}

UAKEY_PKI *cli_pki_open(const char *dir)
{
    UAKEY_PKI *pki = uakey_pki_open(dir);

    if (pki == NULL) {
        cli_fail_lib();
        return NULL;
    }
    uakey_pki_set_warn(pki, pki_warn, NULL);
    return pki;
}

/* ---- files ------------------------------------------------------------------------ */

int cli_write_file(const char *path, const void *data, size_t len, unsigned int mode)
{
    const unsigned char *p = data;
    size_t plen = strlen(path), done = 0;
    char *tmp = malloc(plen + 16);
    int fd, err;

    if (tmp == NULL)
        return cli_fail(0, "out of memory");
    snprintf(tmp, plen + 16, "%s.tmpXXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0) {
        err = errno;
        free(tmp);
        return cli_fail(0, "cannot write %s: %s", path, strerror(err));
    }
    if (fchmod(fd, (mode_t)mode) != 0)
        goto fail;
    while (done < len) {
        ssize_t w = write(fd, p + done, len - done);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto fail;
        done += (size_t)w;
    }
    if (fsync(fd) != 0)
        goto fail;
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) != 0)
        goto fail;
    free(tmp);
    return 1;

fail:
    err = errno;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    free(tmp);
    return cli_fail(0, "cannot write %s: %s", path, strerror(err));
}

/* ---- thumbprints ---------------------------------------------------------------- */

int cli_is_thumbprint(const char *s)
{
    size_t i;

    for (i = 0; i < 40; i++) {
        if (!isxdigit((unsigned char)s[i]))
            return 0;
    }
    return s[40] == '\0';
}

int cli_thumbprint_arg(const char *arg, char hex[41])
{
    X509 *cert;
    int ok;
    size_t i;

    if (cli_is_thumbprint(arg)) {
        for (i = 0; i < 40; i++)
            hex[i] = (char)toupper((unsigned char)arg[i]);
        hex[40] = '\0';
        return 1;
    }
    cert = cli_load_cert(arg);
    if (cert == NULL)
        return 0;
    ok = uakey_cert_thumbprint(cert, hex);
    X509_free(cert);
    if (!ok)
        cli_fail_lib();
    return ok;
}

/* ---- JSON and text output ----------------------------------------------------- */

/* Length of a valid UTF-8 sequence at |s| (1..4), 0 when invalid. */
static size_t utf8_len(const unsigned char *s)
{
    size_t n, i;
    unsigned int cp;

    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xE0) == 0xC0) {
        n = 2;
        cp = s[0] & 0x1F;
    } else if ((s[0] & 0xF0) == 0xE0) {
        n = 3;
        cp = s[0] & 0x0F;
    } else if ((s[0] & 0xF8) == 0xF0) {
        n = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    /* overlong forms, surrogates, beyond U+10FFFF */
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000)
        || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        return 0;
    return n;
}

void json_str(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    if (s == NULL) {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    while (*p != '\0') {
        size_t n;

        switch (*p) {
        case '"': fputs("\\\"", f); p++; continue;
        case '\\': fputs("\\\\", f); p++; continue;
        case '\b': fputs("\\b", f); p++; continue;
        case '\f': fputs("\\f", f); p++; continue;
        case '\n': fputs("\\n", f); p++; continue;
        case '\r': fputs("\\r", f); p++; continue;
        case '\t': fputs("\\t", f); p++; continue;
        default: break;
        }
        if (*p < 0x20 || *p == 0x7F) {
            fprintf(f, "\\u%04x", *p);
            p++;
            continue;
        }
        n = utf8_len(p);
        if (n == 0) {
            /* not UTF-8: the replacement character keeps the JSON valid */
            fputs("\\ufffd", f);
            p++;
            continue;
        }
        fwrite(p, 1, n, f);
        p += n;
    }
    fputc('"', f);
}

const char *cli_time(time_t t, char *buf, size_t len)
{
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, len, "%lld", (long long)t);
    return buf;
}

static const char *group_name(UAKEY_PKI_GROUP g)
{
    switch (g) {
    case UAKEY_PKI_OWN: return "own";
    case UAKEY_PKI_TRUSTED: return "trusted";
    case UAKEY_PKI_ISSUERS: return "issuers";
    case UAKEY_PKI_REJECTED: return "rejected";
    }
    return "?";
}

void cli_print_cert_list(const UAKEY_CERT_INFO *certs, size_t n)
{
    char nb[32], na[32];
    size_t i;

    if (cli_global.json) {
        printf("[");
        for (i = 0; i < n; i++) {
            const UAKEY_CERT_INFO *c = &certs[i];

            printf("%s\n  {\"group\": ", i == 0 ? "" : ",");
            json_str(stdout, group_name(c->group));
            printf(", \"thumbprint\": ");
            json_str(stdout, c->thumbprint);
            printf(", \"subject\": ");
            json_str(stdout, c->subject);
            printf(", \"application_uri\": ");
            json_str(stdout, c->app_uri);
            printf(", \"not_before\": ");
            json_str(stdout, cli_time(c->not_before, nb, sizeof(nb)));
            printf(", \"not_after\": ");
            json_str(stdout, cli_time(c->not_after, na, sizeof(na)));
            printf(", \"ca\": %s, \"path\": ", c->is_ca ? "true" : "false");
            json_str(stdout, c->path);
            printf("}");
        }
        printf("%s]\n", n > 0 ? "\n" : "");
        return;
    }
    for (i = 0; i < n; i++) {
        const UAKEY_CERT_INFO *c = &certs[i];

        printf("%s  %s\n", c->thumbprint, c->subject != NULL ? c->subject : "");
        printf("    ApplicationUri: %s\n", c->app_uri != NULL ? c->app_uri : "(none)");
        printf("    valid: %s to %s%s\n", cli_time(c->not_before, nb, sizeof(nb)),
               cli_time(c->not_after, na, sizeof(na)), c->is_ca ? "  (CA)" : "");
        printf("    file: %s\n", c->path != NULL ? c->path : "");
    }
}
