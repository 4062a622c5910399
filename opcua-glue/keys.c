/* libuakey: keys and certificates by path or URI, keys in the token, and
 * key-reference files.  Public OpenSSL API only: OSSL_STORE for loading,
 * EVP_PKEY_keygen with the provider's "pkcs11_uri" parameter for key
 * generation, i2d_PrivateKey for the key reference of a token key. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/store.h>
#include <openssl/x509.h>

#include "keyref.h"
#include "ukua_int.h"

#define UKUA_MAX_FILE (1024 * 1024)

/* ---- URI helpers ------------------------------------------------------------ */

static int is_pkcs11_uri(const char *ref)
{
    return strncasecmp(ref, "pkcs11:", 7) == 0;
}

/* A copy of |uri| for messages: the value of pin-value is replaced. */
static char *uri_for_message(const char *uri)
{
    char *copy = strdup(uri), *p;

    if (copy == NULL)
        return NULL;
    for (p = strstr(copy, "pin-value="); p != NULL; p = strstr(p, "pin-value=")) {
        char *v = p + strlen("pin-value="), *end = v + strcspn(v, ";&?");

        if (end > v) {
            memset(v, '*', 3 < end - v ? 3 : (size_t)(end - v));
            memmove(v + (3 < end - v ? 3 : end - v), end, strlen(end) + 1);
        }
        p = v;
    }
    return copy;
}

static void uri_free(char *uri)
{
    if (uri != NULL) {
        OPENSSL_cleanse(uri, strlen(uri));
        free(uri);
    }
}

/* Percent-encode |s| for a URI attribute value (RFC 3986 unreserved and
 * '/' ':' pass).  malloc'd. */
static char *pct_encode(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s), i, o = 0;
    char *out = malloc(3 * n + 1);

    if (out == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (isalnum(c) || strchr("-._~/:", c) != NULL) {
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

/* |uri| with |path_attr| (e.g. "object=x", may be NULL) added to the path
 * and, when pin_file is given and the URI names no PIN, "pin-source=file:"
 * added to the query.  malloc'd (wipe with uri_free). */
static char *uri_compose(const char *uri, const char *path_attr, const char *pin_file)
{
    const char *q = strchr(uri, '?');
    size_t plen = q != NULL ? (size_t)(q - uri) : strlen(uri);
    char *pin = NULL, *out;
    size_t need;
    int has_pin = strstr(uri, "pin-value=") != NULL || strstr(uri, "pin-source=") != NULL;

    if (pin_file != NULL && !has_pin) {
        /* p11-kit wants an absolute file: path */
        char *abs = realpath(pin_file, NULL);
        char *enc = pct_encode(abs != NULL ? abs : pin_file);

        free(abs);

        if (enc == NULL)
            return NULL;
        pin = malloc(strlen(enc) + 32);
        if (pin != NULL)
            sprintf(pin, "pin-source=file:%s", enc);
        free(enc);
        if (pin == NULL)
            return NULL;
    }
    need = strlen(uri) + (path_attr ? strlen(path_attr) : 0) + (pin ? strlen(pin) : 0) + 4;
    out = malloc(need);
    if (out == NULL) {
        free(pin);
        return NULL;
    }
    memcpy(out, uri, plen);
    out[plen] = '\0';
    if (path_attr != NULL) {
        if (plen > 7 && out[plen - 1] != ';')
            strcat(out, ";");
        strcat(out, path_attr);
    }
    if (q != NULL)
        strcat(out, q);
    if (pin != NULL) {
        strcat(out, q != NULL ? "&" : "?");
        strcat(out, pin);
    }
    free(pin);
    return out;
}

/* The URI a token key refers to: its key reference, decoded.  NULL (no
 * error) for a key that is not in a token. */
static char *token_key_uri(EVP_PKEY *key)
{
    unsigned char *der = NULL;
    char *uri = NULL;
    int len;

    ERR_set_mark();
    len = i2d_PrivateKey(key, &der);
    ERR_pop_to_mark();
    if (len > 0)
        uri = ukprov_keyref_decode(der, (size_t)len);
    /* for a software key this was key material: wipe it */
    if (der != NULL)
        OPENSSL_clear_free(der, len > 0 ? (size_t)len : 0);
    return uri;
}

/* ---- loading ---------------------------------------------------------------- */

/* 1 when the file at |path| is a key reference (PEM label or DER body). */
static int file_is_keyref(const char *path)
{
    unsigned char *data = NULL;
    size_t len = 0;
    char *uri;
    int yes;

    ERR_set_mark();
    if (!ukua_read_file(path, &data, &len, UKUA_MAX_FILE)) {
        ERR_pop_to_mark();
        return 0;
    }
    ERR_pop_to_mark();
    yes = strstr((const char *)data, "-----BEGIN " UKPROV_KEYREF_PEM_LABEL "-----") != NULL;
    if (!yes && (uri = ukprov_keyref_decode(data, len)) != NULL) {
        uri_free(uri);
        yes = 1;
    }
    free(data);
    return yes;
}

/* Applications configure a key path or URI and need no openssl.cnf edit:
 * a token reference loads the uakey provider into |libctx| when it is not
 * there yet. */
static int provider_for(OSSL_LIB_CTX *libctx, const char *ref)
{
    if (OSSL_PROVIDER_available(libctx, "uakey"))
        return 1;
    if (!is_pkcs11_uri(ref) && !file_is_keyref(ref))
        return 1;
    return uakey_provider_load(libctx);
}

/* The first object of |type| behind |ref| (OSSL_STORE_INFO_PKEY / _CERT). */
static OSSL_STORE_INFO *store_first(OSSL_LIB_CTX *libctx, const char *ref, int type,
                                    const UI_METHOD *ui, void *ui_data)
{
    OSSL_STORE_CTX *st;
    OSSL_STORE_INFO *found = NULL;

    st = OSSL_STORE_open_ex(ref, libctx, NULL, ui, ui_data, NULL, NULL, NULL);
    if (st == NULL)
        return NULL;
    OSSL_STORE_expect(st, type);
    while (found == NULL && !OSSL_STORE_eof(st)) {
        OSSL_STORE_INFO *info = OSSL_STORE_load(st);

        if (info == NULL) {
            if (OSSL_STORE_error(st))
                break;
            continue;
        }
        if (OSSL_STORE_INFO_get_type(info) == type)
            found = info;
        else
            OSSL_STORE_INFO_free(info);
    }
    OSSL_STORE_close(st);
    return found;
}

/* PEM-style callback answering a PIN prompt from the file |u| (first
 * line, without the line end). */
static int pin_file_cb(char *buf, int size, int rwflag, void *u)
{
    unsigned char *data = NULL;
    size_t len = 0, n;

    (void)rwflag;
    if (u == NULL || size <= 0 || !ukua_read_file(u, &data, &len, 4096))
        return -1;
    n = strcspn((char *)data, "\r\n");
    if (n == 0 || n >= (size_t)size) {
        OPENSSL_clear_free(data, len);
        uakey_raise(UK_R_PIN_SOURCE, "PIN file %s is empty or too long", (char *)u);
        return -1;
    }
    memcpy(buf, data, n);
    OPENSSL_clear_free(data, len);
    return (int)n;
}

EVP_PKEY *uakey_load_key(OSSL_LIB_CTX *libctx, const char *ref, const char *pin_file,
                         const UI_METHOD *ui, void *ui_data)
{
    OSSL_STORE_INFO *info;
    EVP_PKEY *key = NULL;
    UI_METHOD *pin_ui = NULL;
    char *uri = NULL, *shown;

    if (ref == NULL || *ref == '\0') {
        uakey_raise(UK_R_BAD_PARAM, "no key given");
        return NULL;
    }
    if (!provider_for(libctx, ref))
        return NULL;
    if (is_pkcs11_uri(ref)) {
        uri = uri_compose(ref, NULL, pin_file);
        if (uri == NULL) {
            uakey_raise(UK_R_MALLOC, "out of memory");
            return NULL;
        }
    }
    /* A key-reference file cannot carry the PIN file: answer the prompt
     * from the file instead (when the caller gave no prompt of its own). */
    if (pin_file != NULL && ui == NULL && uri == NULL) {
        pin_ui = UI_UTIL_wrap_read_pem_callback(pin_file_cb, 0);
        if (pin_ui == NULL) {
            uakey_raise(UK_R_MALLOC, "out of memory");
            return NULL;
        }
        ui = pin_ui;
        ui_data = (void *)pin_file;
    }
    info = store_first(libctx, uri != NULL ? uri : ref, OSSL_STORE_INFO_PKEY, ui, ui_data);
    if (info != NULL) {
        key = OSSL_STORE_INFO_get1_PKEY(info);
        OSSL_STORE_INFO_free(info);
    }
    if (key == NULL) {
        shown = uri_for_message(ref);
        /* the store usually said why (PIN, token, object): keep that as
         * the cause and say what was asked for */
        if (ERR_peek_last_error() == 0)
            uakey_raise(UK_R_OBJECT_NOT_FOUND, "no private key at %s", shown ? shown : "(key)");
        else
            uakey_raise(UK_R_BAD_KEY, "cannot load the private key at %s", shown ? shown : "(key)");
        free(shown);
    }
    UI_destroy_method(pin_ui);
    uri_free(uri);
    return key;
}

X509 *uakey_load_cert(OSSL_LIB_CTX *libctx, const char *ref)
{
    unsigned char *data = NULL;
    size_t len = 0;
    X509 *cert = NULL;

    if (ref == NULL || *ref == '\0') {
        uakey_raise(UK_R_BAD_PARAM, "no certificate given");
        return NULL;
    }
    if (is_pkcs11_uri(ref)) {
        OSSL_STORE_INFO *info;

        if (!provider_for(libctx, ref))
            return NULL;
        info = store_first(libctx, ref, OSSL_STORE_INFO_CERT, NULL, NULL);
        char *shown;

        if (info != NULL) {
            cert = OSSL_STORE_INFO_get1_CERT(info);
            OSSL_STORE_INFO_free(info);
        }
        if (cert == NULL) {
            shown = uri_for_message(ref);
            uakey_raise(UK_R_OBJECT_NOT_FOUND, "no certificate at %s", shown ? shown : "");
            free(shown);
        }
        return cert;
    }
    if (!ukua_read_file(ref, &data, &len, UKUA_MAX_FILE))
        return NULL;
    cert = ukua_cert_from_bytes(libctx, data, len);
    free(data);
    if (cert == NULL)
        uakey_raise(UK_R_BAD_CERT, "%s is not a DER or PEM certificate", ref);
    return cert;
}

X509_CRL *uakey_load_crl(OSSL_LIB_CTX *libctx, const char *path)
{
    unsigned char *data = NULL;
    size_t len = 0;
    X509_CRL *crl;

    (void)libctx;
    if (path == NULL || !ukua_read_file(path, &data, &len, 16 * UKUA_MAX_FILE))
        return NULL;
    crl = ukua_crl_from_bytes(data, len);
    free(data);
    if (crl == NULL)
        uakey_raise(UK_R_BAD_CRL, "%s is not a DER or PEM CRL", path);
    return crl;
}

/* ---- keys in the token -------------------------------------------------------- */

static const struct {
    const char *name, *alg, *group;
    size_t bits;
} key_types[] = {
    { "rsa2048", "RSA", NULL, 2048 },
    { "rsa3072", "RSA", NULL, 3072 },
    { "rsa4096", "RSA", NULL, 4096 },
    { "ec-p256", "EC", "P-256", 0 },
    { "ec-p384", "EC", "P-384", 0 },
    { "ec-brainpoolp256r1", "EC", "brainpoolP256r1", 0 },
    { "ec-brainpoolp384r1", "EC", "brainpoolP384r1", 0 },
};

static int key_type_index(const char *type)
{
    size_t i;

    for (i = 0; type != NULL && i < sizeof(key_types) / sizeof(key_types[0]); i++)
        if (strcasecmp(type, key_types[i].name) == 0)
            return (int)i;
    return -1;
}

int uakey_key_type_valid(const char *type)
{
    return key_type_index(type) >= 0;
}

int uakey_key_generate(OSSL_LIB_CTX *libctx, const char *token_uri, const char *label,
                       const char *type, const char *pin_file, char **key_uri)
{
    EVP_PKEY_CTX *pctx = NULL;
    EVP_PKEY *key = NULL;
    OSSL_PARAM params[3], *p = params;
    char *enc = NULL, *attr = NULL, *uri = NULL;
    int t = key_type_index(type != NULL ? type : "rsa2048"), ok = 0;
    size_t bits;

    if (t < 0) {
        uakey_raise(UK_R_BAD_PARAM, "unknown key type '%s' (rsa2048, rsa3072, rsa4096, "
                    "ec-p256, ec-p384, ec-brainpoolp256r1, ec-brainpoolp384r1)", type);
        return 0;
    }
    if (token_uri == NULL || !is_pkcs11_uri(token_uri)) {
        uakey_raise(UK_R_BAD_URI, "the token must be a pkcs11: URI (e.g. pkcs11:token=NAME)");
        return 0;
    }
    if (label == NULL || *label == '\0') {
        uakey_raise(UK_R_BAD_PARAM, "a key label is required");
        return 0;
    }
    if ((enc = pct_encode(label)) == NULL || (attr = malloc(strlen(enc) + 8)) == NULL) {
        uakey_raise(UK_R_MALLOC, "out of memory");
        goto end;
    }
    sprintf(attr, "object=%s", enc);
    if ((uri = uri_compose(token_uri, attr, pin_file)) == NULL) {
        uakey_raise(UK_R_MALLOC, "out of memory");
        goto end;
    }
    bits = key_types[t].bits;
    *p++ = OSSL_PARAM_construct_utf8_string("pkcs11_uri", uri, 0);
    if (key_types[t].group != NULL)
        *p++ = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                                (char *)key_types[t].group, 0);
    else
        *p++ = OSSL_PARAM_construct_size_t(OSSL_PKEY_PARAM_RSA_BITS, &bits);
    *p = OSSL_PARAM_construct_end();
    pctx = EVP_PKEY_CTX_new_from_name(libctx, key_types[t].alg, "provider=uakey");
    if (pctx == NULL) {
        uakey_raise(UK_R_MODULE_LOAD, "the uakey provider is not loaded");
        goto end;
    }
    if (EVP_PKEY_keygen_init(pctx) != 1 || EVP_PKEY_CTX_set_params(pctx, params) != 1
        || EVP_PKEY_generate(pctx, &key) != 1) {
        uakey_raise(UK_R_KEYGEN_FAILED, "cannot generate a %s key labelled '%s' in the token",
                    key_types[t].name, label);
        goto end;
    }
    if (key_uri != NULL && (*key_uri = token_key_uri(key)) == NULL) {
        uakey_raise(UK_R_INTERNAL, "the new key has no key reference");
        goto end;
    }
    ok = 1;
 end:
    EVP_PKEY_free(key);
    EVP_PKEY_CTX_free(pctx);
    uri_free(uri);
    free(attr);
    free(enc);
    return ok;
}

/* Percent-decoded value of path attribute |name| in |uri| (malloc'd), or
 * an empty string. */
static char *uri_attr(const char *uri, const char *name)
{
    size_t nl = strlen(name);
    const char *p = strchr(uri, ':'), *end;
    char *out, *o;

    p = p != NULL ? p + 1 : uri;
    end = strchr(p, '?');
    if (end == NULL)
        end = p + strlen(p);
    while (p < end) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *stop = semi != NULL ? semi : end;

        if ((size_t)(stop - p) > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            const char *v = p + nl + 1;

            out = o = malloc((size_t)(stop - v) + 1);
            if (out == NULL)
                return NULL;
            while (v < stop) {
                if (*v == '%' && stop - v >= 3 && isxdigit((unsigned char)v[1])
                    && isxdigit((unsigned char)v[2])) {
                    char h[3] = { v[1], v[2], 0 };

                    *o++ = (char)strtol(h, NULL, 16);
                    v += 3;
                } else {
                    *o++ = *v++;
                }
            }
            *o = '\0';
            return out;
        }
        p = stop + 1;
    }
    return strdup("");
}

void uakey_key_info_free(UAKEY_KEY_INFO *keys, size_t n)
{
    size_t i;

    if (keys == NULL)
        return;
    for (i = 0; i < n; i++) {
        free(keys[i].uri);
        free(keys[i].label);
        free(keys[i].type);
        free(keys[i].curve);
    }
    free(keys);
}

int uakey_key_list(OSSL_LIB_CTX *libctx, const char *token_uri, const char *pin_file,
                   UAKEY_KEY_INFO **keys, size_t *n)
{
    OSSL_STORE_CTX *st = NULL;
    UAKEY_KEY_INFO *list = NULL;
    size_t cnt = 0;
    char *uri = NULL;
    int ok = 0;

    *keys = NULL;
    *n = 0;
    if (token_uri == NULL || !is_pkcs11_uri(token_uri)) {
        uakey_raise(UK_R_BAD_URI, "the token must be a pkcs11: URI (e.g. pkcs11:token=NAME)");
        return 0;
    }
    uri = uri_compose(token_uri, strstr(token_uri, "type=") ? NULL : "type=private", pin_file);
    if (uri == NULL) {
        uakey_raise(UK_R_MALLOC, "out of memory");
        return 0;
    }
    st = OSSL_STORE_open_ex(uri, libctx, NULL, NULL, NULL, NULL, NULL, NULL);
    if (st == NULL)
        goto end;
    OSSL_STORE_expect(st, OSSL_STORE_INFO_PKEY);
    ERR_set_mark();
    while (!OSSL_STORE_eof(st)) {
        OSSL_STORE_INFO *info = OSSL_STORE_load(st);
        UAKEY_KEY_INFO *k, *grown;
        EVP_PKEY *pk;
        char group[64];
        size_t glen = 0;

        if (info == NULL) {
            if (OSSL_STORE_error(st))
                break;
            continue;
        }
        pk = OSSL_STORE_INFO_get0_PKEY(info);
        if (pk == NULL) {
            OSSL_STORE_INFO_free(info);
            continue;
        }
        grown = realloc(list, (cnt + 1) * sizeof(*list));
        if (grown == NULL) {
            OSSL_STORE_INFO_free(info);
            ERR_clear_last_mark();
            uakey_raise(UK_R_MALLOC, "out of memory");
            goto end;
        }
        list = grown;
        k = &list[cnt++];
        memset(k, 0, sizeof(*k));
        k->uri = token_key_uri(pk);
        k->label = k->uri != NULL ? uri_attr(k->uri, "object") : strdup("");
        k->type = strdup(EVP_PKEY_get0_type_name(pk) != NULL ? EVP_PKEY_get0_type_name(pk) : "?");
        k->bits = EVP_PKEY_get_bits(pk);
        if (EVP_PKEY_get_group_name(pk, group, sizeof(group), &glen) == 1)
            k->curve = strdup(group);
        OSSL_STORE_INFO_free(info);
        if (k->uri == NULL || k->label == NULL || k->type == NULL) {
            ERR_clear_last_mark();
            uakey_raise(UK_R_INTERNAL, "cannot describe a key of the token");
            goto end;
        }
    }
    if (cnt == 0 && OSSL_STORE_error(st)) {
        ERR_clear_last_mark();
        goto end;
    }
    /* a token with no key at all is not an error */
    ERR_pop_to_mark();
    ok = 1;
 end:
    OSSL_STORE_close(st);
    uri_free(uri);
    if (ok) {
        *keys = list;
        *n = cnt;
    } else {
        uakey_key_info_free(list, cnt);
    }
    return ok;
}

/* ---- key-reference files ------------------------------------------------------ */

char *uakey_key_uri(EVP_PKEY *key)
{
    return key != NULL ? token_key_uri(key) : NULL;
}

int uakey_keyref_write(EVP_PKEY *key, const char *path)
{
    unsigned char *der = NULL;
    char *uri, *pem = NULL;
    size_t derlen = 0;
    int ok = 0;

    if (key == NULL || path == NULL) {
        uakey_raise(UK_R_BAD_PARAM, "no key or no path");
        return 0;
    }
    uri = token_key_uri(key);
    if (uri == NULL) {
        uakey_raise(UK_R_NOT_SUPPORTED, "the key is not held in a token: uakey writes "
                    "key references only, never key material");
        return 0;
    }
    if (!ukprov_keyref_encode(uri, &der, &derlen)
        || (pem = ukprov_keyref_pem(der, derlen)) == NULL) {
        uakey_raise(UK_R_MALLOC, "cannot encode the key reference");
        goto end;
    }
    ok = ukua_write_file_atomic(path, pem, strlen(pem), 0600);
 end:
    free(pem);
    free(der);
    uri_free(uri);
    return ok;
}
