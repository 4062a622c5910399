/* uakey bench: the set-up bench/uk_bench.c and bench/uk_bench_connect.c
 * share (see uk_bench_token.h). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/provider.h>

#include "uakey/uakey.h"
#include "uk_bench_token.h"

const char *ukb_prog = "uk_bench";

/* ---- small helpers --------------------------------------------------------- */

static void vdie(int with_cause, const char *fmt, va_list ap) __attribute__((noreturn));
static void vdie(int with_cause, const char *fmt, va_list ap)
{
    char buf[512];

    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    if (with_cause && ERR_peek_error() != 0)
        fprintf(stderr, "  cause: %s\n", uakey_error_string(buf, sizeof(buf)));
    exit(2);
}

void ukb_die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vdie(0, fmt, ap);
}

void ukb_die_ossl(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vdie(1, fmt, ap);
}

double ukb_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *ukb_rv_name(CK_RV rv)
{
    static const struct { CK_RV rv; const char *name; } names[] = {
        { CKR_OK, "CKR_OK" },
        { CKR_HOST_MEMORY, "CKR_HOST_MEMORY" },
        { CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR" },
        { CKR_FUNCTION_FAILED, "CKR_FUNCTION_FAILED" },
        { CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD" },
        { CKR_ATTRIBUTE_SENSITIVE, "CKR_ATTRIBUTE_SENSITIVE" },
        { CKR_ATTRIBUTE_VALUE_INVALID, "CKR_ATTRIBUTE_VALUE_INVALID" },
        { CKR_DATA_LEN_RANGE, "CKR_DATA_LEN_RANGE" },
        { CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR" },
        { CKR_ENCRYPTED_DATA_INVALID, "CKR_ENCRYPTED_DATA_INVALID" },
        { CKR_FUNCTION_NOT_SUPPORTED, "CKR_FUNCTION_NOT_SUPPORTED" },
        { CKR_KEY_TYPE_INCONSISTENT, "CKR_KEY_TYPE_INCONSISTENT" },
        { CKR_KEY_FUNCTION_NOT_PERMITTED, "CKR_KEY_FUNCTION_NOT_PERMITTED" },
        { CKR_MECHANISM_INVALID, "CKR_MECHANISM_INVALID" },
        { CKR_MECHANISM_PARAM_INVALID, "CKR_MECHANISM_PARAM_INVALID" },
        { CKR_OPERATION_ACTIVE, "CKR_OPERATION_ACTIVE" },
        { CKR_PIN_INCORRECT, "CKR_PIN_INCORRECT" },
        { CKR_SESSION_HANDLE_INVALID, "CKR_SESSION_HANDLE_INVALID" },
        { CKR_TEMPLATE_INCOMPLETE, "CKR_TEMPLATE_INCOMPLETE" },
        { CKR_TEMPLATE_INCONSISTENT, "CKR_TEMPLATE_INCONSISTENT" },
        { CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT" },
        { CKR_USER_ALREADY_LOGGED_IN, "CKR_USER_ALREADY_LOGGED_IN" },
        { CKR_USER_NOT_LOGGED_IN, "CKR_USER_NOT_LOGGED_IN" },
        { CKR_BUFFER_TOO_SMALL, "CKR_BUFFER_TOO_SMALL" },
    };
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (names[i].rv == rv)
            return names[i].name;
    }
    return "CKR_(other)";
}

const char *ukb_serving_provider(EVP_PKEY *key, int decrypt)
{
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    const char *name = "?";

    if (pc != NULL && (decrypt ? EVP_PKEY_decrypt_init(pc) : EVP_PKEY_sign_init(pc)) > 0
        && EVP_PKEY_CTX_get0_provider(pc) != NULL)
        name = OSSL_PROVIDER_get0_name(EVP_PKEY_CTX_get0_provider(pc));
    EVP_PKEY_CTX_free(pc);
    ERR_clear_error();
    return name;
}

/* A fixed-width field (space padded, no NUL) as a C string. */
static void trimmed(char *dst, size_t cap, const unsigned char *src, size_t len)
{
    while (len > 0 && src[len - 1] == ' ')
        len--;
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

/* Percent-encode a URI attribute value (unreserved characters and '/'
 * pass). */
static void pct_encode(char *dst, size_t cap, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    for (; *s != '\0' && o + 4 < cap; s++) {
        unsigned char c = (unsigned char)*s;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
            || strchr("-._~/", c) != NULL) {
            dst[o++] = (char)c;
        } else {
            dst[o++] = '%';
            dst[o++] = hex[c >> 4];
            dst[o++] = hex[c & 15];
        }
    }
    if (*s != '\0')
        ukb_die("%s: URI attribute too long", ukb_prog);
    dst[o] = '\0';
}

/* The first line of the PIN file into buf (wiped by the caller). */
static size_t read_pin(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    size_t n;

    if (f == NULL)
        ukb_die("%s: cannot open PIN file %s: %s", ukb_prog, path, strerror(errno));
    if (fgets(buf, (int)cap, f) == NULL) {
        fclose(f);
        ukb_die("%s: PIN file %s is empty", ukb_prog, path);
    }
    fclose(f);
    n = strcspn(buf, "\r\n");
    buf[n] = '\0';
    if (n == 0)
        ukb_die("%s: PIN file %s is empty", ukb_prog, path);
    return n;
}

/* ---- the token --------------------------------------------------------------- */

void ukb_token_open(struct ukb_token *t)
{
    CK_SLOT_ID *slots = NULL;
    CK_ULONG n = 0, i;
    CK_INFO info;
    CK_TOKEN_INFO ti;
    char label[64], manuf[64], desc[64], pin[256];
    int found = 0;
    size_t pinlen;
    CK_RV rv;

    t->fl = p11_kit_module_load(t->module, 0);
    if (t->fl == NULL)
        ukb_die("%s: cannot load %s: %s", ukb_prog, t->module,
                p11_kit_message() != NULL ? p11_kit_message() : "unknown reason");
    /* SoftHSM leaves its own libcrypto's complaints (an rdrand engine it
     * cannot load) on our error queue: not ours, dropped */
    ERR_set_mark();
    rv = p11_kit_module_initialize(t->fl);
    ERR_pop_to_mark();
    if (rv != CKR_OK)
        ukb_die("%s: C_Initialize(%s): %s (0x%lx)", ukb_prog, t->module, ukb_rv_name(rv),
                (unsigned long)rv);
    if (t->fl->C_GetInfo(&info) == CKR_OK) {
        trimmed(manuf, sizeof(manuf), info.manufacturerID, sizeof(info.manufacturerID));
        trimmed(desc, sizeof(desc), info.libraryDescription, sizeof(info.libraryDescription));
        snprintf(t->module_desc, sizeof(t->module_desc), "%s, %s %u.%u", manuf, desc,
                 info.libraryVersion.major, info.libraryVersion.minor);
    }
    if ((rv = t->fl->C_GetSlotList(CK_TRUE, NULL, &n)) != CKR_OK || n == 0)
        ukb_die("%s: no token in %s (C_GetSlotList: %s)", ukb_prog, t->module, ukb_rv_name(rv));
    if ((slots = calloc(n, sizeof(*slots))) == NULL)
        ukb_die("%s: out of memory", ukb_prog);
    if ((rv = t->fl->C_GetSlotList(CK_TRUE, slots, &n)) != CKR_OK)
        ukb_die("%s: C_GetSlotList: %s", ukb_prog, ukb_rv_name(rv));
    for (i = 0; i < n && !found; i++) {
        if (t->fl->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
            continue;
        trimmed(label, sizeof(label), ti.label, sizeof(ti.label));
        if (strcmp(label, t->label) == 0) {
            t->slot = slots[i];
            found = 1;
        }
    }
    free(slots);
    if (!found)
        ukb_die("%s: no token labelled '%s' in %s", ukb_prog, t->label, t->module);

    rv = t->fl->C_OpenSession(t->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
                              &t->setup);
    if (rv != CKR_OK)
        ukb_die("%s: C_OpenSession: %s (0x%lx)", ukb_prog, ukb_rv_name(rv), (unsigned long)rv);
    pinlen = read_pin(t->pin_file, pin, sizeof(pin));
    rv = t->fl->C_Login(t->setup, CKU_USER, (CK_UTF8CHAR *)pin, pinlen);
    OPENSSL_cleanse(pin, sizeof(pin));
    if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
        ukb_die("%s: C_Login: %s (0x%lx)", ukb_prog, ukb_rv_name(rv), (unsigned long)rv);
    ERR_clear_error();
}

void ukb_token_close(struct ukb_token *t)
{
    if (t->fl == NULL)
        return;
    t->fl->C_CloseSession(t->setup);
    p11_kit_module_finalize(t->fl);
    p11_kit_module_release(t->fl);
    t->fl = NULL;
}

/* ---- importing a key made in memory ------------------------------------------ */

/* A big-number parameter of |k| as big-endian bytes (OPENSSL_clear_free). */
static unsigned char *bn_param(EVP_PKEY *k, const char *name, CK_ULONG *len)
{
    BIGNUM *bn = NULL;
    unsigned char *buf;
    int n;

    if (!EVP_PKEY_get_bn_param(k, name, &bn))
        ukb_die_ossl("%s: the memory key has no %s", ukb_prog, name);
    n = BN_num_bytes(bn);
    buf = OPENSSL_malloc(n > 0 ? (size_t)n : 1);
    if (buf == NULL)
        ukb_die("%s: out of memory", ukb_prog);
    BN_bn2bin(bn, buf);
    BN_clear_free(bn);
    *len = (CK_ULONG)n;
    return buf;
}

static int find_label(struct ukb_token *t, CK_OBJECT_CLASS cls, const char *label,
                      CK_OBJECT_HANDLE *h)
{
    CK_ATTRIBUTE tmpl[] = {
        { CKA_CLASS, &cls, sizeof(cls) },
        { CKA_LABEL, (void *)label, strlen(label) },
    };
    CK_ULONG n = 0;
    CK_RV rv = t->fl->C_FindObjectsInit(t->setup, tmpl, 2);

    if (rv == CKR_OK) {
        rv = t->fl->C_FindObjects(t->setup, h, 1, &n);
        t->fl->C_FindObjectsFinal(t->setup);
    }
    if (rv != CKR_OK)
        ukb_die("%s: C_FindObjects: %s (0x%lx)", ukb_prog, ukb_rv_name(rv), (unsigned long)rv);
    return n > 0;
}

static void create(struct ukb_token *t, CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE *h,
                   const char *what)
{
    CK_RV rv = t->fl->C_CreateObject(t->setup, tmpl, n, h);

    if (rv != CKR_OK)
        ukb_die("%s: C_CreateObject(%s): %s (0x%lx)", ukb_prog, what, ukb_rv_name(rv),
                (unsigned long)rv);
}

/* Append an attribute to a template. */
#define ADD(t, n, typ, ptr, size) \
    do { \
        (t)[n].type = (typ); \
        (t)[n].pValue = (void *)(ptr); \
        (t)[n].ulValueLen = (CK_ULONG)(size); \
        (n)++; \
    } while (0)

static CK_OBJECT_HANDLE import_rsa(struct ukb_token *t, EVP_PKEY *mem, const char *label,
                                   unsigned char id)
{
    static const char *const names[] = {
        OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D,
        OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
        OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2,
        OSSL_PKEY_PARAM_RSA_COEFFICIENT1
    };
    static const CK_ATTRIBUTE_TYPE types[] = {
        CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT, CKA_PRIME_1,
        CKA_PRIME_2, CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_COEFFICIENT
    };
    CK_OBJECT_CLASS pub_cls = CKO_PUBLIC_KEY, priv_cls = CKO_PRIVATE_KEY;
    CK_KEY_TYPE kt = CKK_RSA;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_ATTRIBUTE pub[12], priv[20];
    CK_ULONG np = 0, nv = 0, len[8];
    unsigned char *val[8];
    CK_OBJECT_HANDLE ph, h;
    size_t i;

    for (i = 0; i < 8; i++)
        val[i] = bn_param(mem, names[i], &len[i]);

    ADD(pub, np, CKA_CLASS, &pub_cls, sizeof(pub_cls));
    ADD(pub, np, CKA_KEY_TYPE, &kt, sizeof(kt));
    ADD(pub, np, CKA_TOKEN, &yes, sizeof(yes));
    ADD(pub, np, CKA_PRIVATE, &no, sizeof(no));
    ADD(pub, np, CKA_VERIFY, &yes, sizeof(yes));
    ADD(pub, np, CKA_ENCRYPT, &yes, sizeof(yes));
    ADD(pub, np, CKA_LABEL, label, strlen(label));
    ADD(pub, np, CKA_ID, &id, 1);
    ADD(pub, np, CKA_MODULUS, val[0], len[0]);
    ADD(pub, np, CKA_PUBLIC_EXPONENT, val[1], len[1]);

    ADD(priv, nv, CKA_CLASS, &priv_cls, sizeof(priv_cls));
    ADD(priv, nv, CKA_KEY_TYPE, &kt, sizeof(kt));
    ADD(priv, nv, CKA_TOKEN, &yes, sizeof(yes));
    ADD(priv, nv, CKA_PRIVATE, &yes, sizeof(yes));
    ADD(priv, nv, CKA_SENSITIVE, &yes, sizeof(yes));
    ADD(priv, nv, CKA_EXTRACTABLE, &no, sizeof(no));
    ADD(priv, nv, CKA_SIGN, &yes, sizeof(yes));
    ADD(priv, nv, CKA_DECRYPT, &yes, sizeof(yes));
    ADD(priv, nv, CKA_LABEL, label, strlen(label));
    ADD(priv, nv, CKA_ID, &id, 1);
    for (i = 0; i < 8; i++)
        ADD(priv, nv, types[i], val[i], len[i]);

    create(t, pub, np, &ph, "RSA public key");
    create(t, priv, nv, &h, "RSA private key");
    for (i = 0; i < 8; i++)
        OPENSSL_clear_free(val[i], len[i]);
    return h;
}

static CK_OBJECT_HANDLE import_ec(struct ukb_token *t, EVP_PKEY *mem, const char *label,
                                  unsigned char id)
{
    CK_OBJECT_CLASS pub_cls = CKO_PUBLIC_KEY, priv_cls = CKO_PRIVATE_KEY;
    CK_KEY_TYPE kt = CKK_EC;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    unsigned char params[16], *pp = params, point[2 + 133], scalar[32];
    size_t ptlen = 0;
    int plen;
    BIGNUM *d = NULL;
    CK_ATTRIBUTE pub[10], priv[14];
    CK_ULONG np = 0, nv = 0;
    CK_OBJECT_HANDLE ph, h;
    char curve[64];

    if (!EVP_PKEY_get_utf8_string_param(mem, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof(curve),
                                        NULL)
        || OBJ_sn2nid(curve) != NID_X9_62_prime256v1)
        ukb_die_ossl("%s: only P-256 keys are imported", ukb_prog);
    /* CKA_EC_PARAMS: the DER OID; CKA_EC_POINT: DER OCTET STRING(04||X||Y) */
    plen = i2d_ASN1_OBJECT(OBJ_nid2obj(NID_X9_62_prime256v1), NULL);
    if (plen <= 0 || plen > (int)sizeof(params)
        || i2d_ASN1_OBJECT(OBJ_nid2obj(NID_X9_62_prime256v1), &pp) != plen)
        ukb_die_ossl("%s: cannot encode the P-256 OID", ukb_prog);
    if (!EVP_PKEY_get_octet_string_param(mem, OSSL_PKEY_PARAM_PUB_KEY, point + 2,
                                         sizeof(point) - 2, &ptlen)
        || ptlen != 65 || point[2] != 0x04)
        ukb_die_ossl("%s: cannot get the P-256 public point", ukb_prog);
    point[0] = 0x04;
    point[1] = (unsigned char)ptlen;
    if (!EVP_PKEY_get_bn_param(mem, OSSL_PKEY_PARAM_PRIV_KEY, &d)
        || BN_bn2binpad(d, scalar, sizeof(scalar)) != (int)sizeof(scalar))
        ukb_die_ossl("%s: cannot get the P-256 private scalar", ukb_prog);
    BN_clear_free(d);

    ADD(pub, np, CKA_CLASS, &pub_cls, sizeof(pub_cls));
    ADD(pub, np, CKA_KEY_TYPE, &kt, sizeof(kt));
    ADD(pub, np, CKA_TOKEN, &yes, sizeof(yes));
    ADD(pub, np, CKA_PRIVATE, &no, sizeof(no));
    ADD(pub, np, CKA_VERIFY, &yes, sizeof(yes));
    ADD(pub, np, CKA_LABEL, label, strlen(label));
    ADD(pub, np, CKA_ID, &id, 1);
    ADD(pub, np, CKA_EC_PARAMS, params, (CK_ULONG)plen);
    ADD(pub, np, CKA_EC_POINT, point, ptlen + 2);

    ADD(priv, nv, CKA_CLASS, &priv_cls, sizeof(priv_cls));
    ADD(priv, nv, CKA_KEY_TYPE, &kt, sizeof(kt));
    ADD(priv, nv, CKA_TOKEN, &yes, sizeof(yes));
    ADD(priv, nv, CKA_PRIVATE, &yes, sizeof(yes));
    ADD(priv, nv, CKA_SENSITIVE, &yes, sizeof(yes));
    ADD(priv, nv, CKA_EXTRACTABLE, &no, sizeof(no));
    ADD(priv, nv, CKA_SIGN, &yes, sizeof(yes));
    ADD(priv, nv, CKA_DERIVE, &yes, sizeof(yes));
    ADD(priv, nv, CKA_LABEL, label, strlen(label));
    ADD(priv, nv, CKA_ID, &id, 1);
    ADD(priv, nv, CKA_EC_PARAMS, params, (CK_ULONG)plen);
    ADD(priv, nv, CKA_VALUE, scalar, sizeof(scalar));

    create(t, pub, np, &ph, "EC public key");
    create(t, priv, nv, &h, "EC private key");
    OPENSSL_cleanse(scalar, sizeof(scalar));
    return h;
}

/* The token says the private object is sensitive and not extractable, and
 * refuses to give out its private component. */
static void check_object(struct ukb_token *t, CK_OBJECT_HANDLE h, int rsa, const char *label)
{
    CK_BBOOL sens = CK_FALSE, extr = CK_TRUE;
    CK_ATTRIBUTE tmpl[] = {
        { CKA_SENSITIVE, &sens, sizeof(sens) },
        { CKA_EXTRACTABLE, &extr, sizeof(extr) },
    };
    CK_ATTRIBUTE secret = { rsa ? CKA_PRIVATE_EXPONENT : CKA_VALUE, NULL, 0 };
    CK_RV rv = t->fl->C_GetAttributeValue(t->setup, h, tmpl, 2);

    if (rv != CKR_OK || sens != CK_TRUE || extr != CK_FALSE)
        ukb_die("%s: %s is not sensitive and non-extractable in the token", ukb_prog, label);
    rv = t->fl->C_GetAttributeValue(t->setup, h, &secret, 1);
    if (rv != CKR_ATTRIBUTE_SENSITIVE)
        ukb_die("%s: the token answers %s for %s's private component, not "
                "CKR_ATTRIBUTE_SENSITIVE", ukb_prog, ukb_rv_name(rv), label);
}

CK_OBJECT_HANDLE ukb_token_import(struct ukb_token *t, EVP_PKEY *mem, const char *obj_label,
                                  unsigned char id)
{
    CK_OBJECT_HANDLE h;
    int rsa = EVP_PKEY_is_a(mem, "RSA");

    if (!rsa && !EVP_PKEY_is_a(mem, "EC"))
        ukb_die("%s: only RSA and EC keys are imported", ukb_prog);
    if (find_label(t, CKO_PRIVATE_KEY, obj_label, &h)
        || find_label(t, CKO_PUBLIC_KEY, obj_label, &h))
        ukb_die("%s: token '%s' already holds '%s': give me a fresh token", ukb_prog, t->label,
                obj_label);
    h = rsa ? import_rsa(t, mem, obj_label, id) : import_ec(t, mem, obj_label, id);
    check_object(t, h, rsa, obj_label);
    return h;
}

EVP_PKEY *ukb_token_load_key(struct ukb_token *t, const char *obj_label, EVP_PKEY *mem)
{
    char tok[256], mod[1024], obj[256], uri[1800], *kuri;
    EVP_PKEY *k;

    pct_encode(tok, sizeof(tok), t->label);
    pct_encode(mod, sizeof(mod), t->module);
    pct_encode(obj, sizeof(obj), obj_label);
    /* the PIN comes from the PIN file (libuakey adds pin-source) */
    snprintf(uri, sizeof(uri), "pkcs11:token=%s;object=%s;type=private?module-path=%s",
             tok, obj, mod);
    k = uakey_load_key(NULL, uri, t->pin_file, NULL, NULL);
    if (k == NULL)
        ukb_die_ossl("%s: uakey_load_key(%s) failed", ukb_prog, uri);
    if ((kuri = uakey_key_uri(k)) == NULL)
        ukb_die_ossl("%s: %s did not load as a token key", ukb_prog, uri);
    free(kuri);
    if (EVP_PKEY_eq(k, mem) != 1)
        ukb_die_ossl("%s: the token key %s is not the memory key", ukb_prog, obj_label);
    ERR_clear_error();
    return k;
}
