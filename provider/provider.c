/* uakey provider: entry point, configuration, algorithm tables, errors. */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/provider.h>

#include "names.h"
#include "ukprov.h"

#define UKPROV_NAME "uakey: PKCS#11 token keys for OPC UA"

/* ---- errors ---------------------------------------------------------------- */

void ukprov_raise(UKPROV_CTX *ctx, const char *file, int line, const char *func,
                  int reason, const char *fmt, ...)
{
    va_list ap;

    if (uk_debug_mask != 0) {
        char buf[512];

        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        uk_dbg(UK_DBG_PROVIDER, "error %d (%s): %s", reason, uk_reason_string(reason), buf);
    }
    if (ctx == NULL || ctx->core_new_error == NULL || ctx->core_vset_error == NULL)
        return;
    ctx->core_new_error(ctx->handle);
    if (ctx->core_set_error_debug != NULL)
        ctx->core_set_error_debug(ctx->handle, file, line, func);
    va_start(ap, fmt);
    ctx->core_vset_error(ctx->handle, (uint32_t)reason, fmt, ap);
    va_end(ap);
}

/* The token backend reports through this sink, in the failing thread. */
static void ukprov_p11_sink(void *arg, int reason, const char *msg)
{
    ukprov_raise((UKPROV_CTX *)arg, "pkcs11", 0, "ukp11", reason, "%s", msg);
}

static OSSL_ITEM ukprov_reason_strings[UK_R_MAX];

static void ukprov_fill_reasons(void)
{
    int i, n = 0;

    for (i = 1; i < UK_R_MAX; i++) {
        ukprov_reason_strings[n].id = (unsigned int)i;
        ukprov_reason_strings[n].ptr = (void *)uk_reason_string(i);
        n++;
    }
    ukprov_reason_strings[n].id = 0;
    ukprov_reason_strings[n].ptr = NULL;
}

/* ---- host library context ------------------------------------------------- */

OSSL_LIB_CTX *ukprov_hostctx(UKPROV_CTX *ctx)
{
    OSSL_LIB_CTX *h = __atomic_load_n(&ctx->hostctx_, __ATOMIC_ACQUIRE);

    if (h != NULL)
        return h;
    pthread_mutex_lock((pthread_mutex_t *)ctx->hostlock_);
    h = ctx->hostctx_;
    if (h == NULL) {
        h = OSSL_LIB_CTX_new();
        if (h != NULL) {
            ctx->hostdefault_ = OSSL_PROVIDER_load(h, "default");
            if (ctx->hostdefault_ == NULL) {
                OSSL_LIB_CTX_free(h);
                h = NULL;
            }
        }
        if (h != NULL)
            __atomic_store_n(&ctx->hostctx_, h, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock((pthread_mutex_t *)ctx->hostlock_);
    if (h == NULL)
        UK_raise(ctx, UK_R_INTERNAL, "cannot create the host library context with the default provider");
    return h;
}

/* ---- algorithm tables ----------------------------------------------------- */

static const OSSL_ALGORITHM ukprov_keymgmt[] = {
    { UKPROV_NAMES_RSA, UKPROV_PROPS, ukprov_rsa_keymgmt_functions, "uakey RSA token keys" },
    { UKPROV_NAMES_RSA_PSS, UKPROV_PROPS, ukprov_rsapss_keymgmt_functions, "uakey RSA-PSS token keys" },
    { UKPROV_NAMES_EC, UKPROV_PROPS, ukprov_ec_keymgmt_functions, "uakey EC token keys" },
    { UKPROV_NAMES_ED25519, UKPROV_PROPS, ukprov_ed25519_keymgmt_functions, "uakey Ed25519 token keys" },
    { NULL, NULL, NULL, NULL }
};

static const OSSL_ALGORITHM ukprov_signature[] = {
    { UKPROV_NAMES_RSA, UKPROV_PROPS, ukprov_rsa_signature_functions, "RSA PKCS#1 v1.5 and PSS in the token" },
    { UKPROV_NAMES_ECDSA, UKPROV_PROPS, ukprov_ecdsa_signature_functions, "ECDSA in the token" },
    { UKPROV_NAMES_ED25519, UKPROV_PROPS, ukprov_ed25519_signature_functions, "Ed25519 in the token" },
    { NULL, NULL, NULL, NULL }
};

static const OSSL_ALGORITHM ukprov_asym_cipher[] = {
    { UKPROV_NAMES_RSA, UKPROV_PROPS, ukprov_rsa_asym_cipher_functions, "RSA decryption in the token" },
    { NULL, NULL, NULL, NULL }
};

static const OSSL_ALGORITHM ukprov_keyexch[] = {
    { UKPROV_NAMES_ECDH, UKPROV_PROPS, ukprov_ecdh_keyexch_functions, "ECDH in the token" },
    { NULL, NULL, NULL, NULL }
};

static const OSSL_ALGORITHM ukprov_store[] = {
    { "pkcs11", UKPROV_PROPS, ukprov_store_functions, "pkcs11: URIs (RFC 7512)" },
    { NULL, NULL, NULL, NULL }
};

static const OSSL_ALGORITHM *ukprov_query(void *provctx, int operation_id, int *no_cache)
{
    *no_cache = 0;
    switch (operation_id) {
    case OSSL_OP_KEYMGMT:
        return ukprov_keymgmt;
    case OSSL_OP_SIGNATURE:
        return ukprov_signature;
    case OSSL_OP_ASYM_CIPHER:
        return ukprov_asym_cipher;
    case OSSL_OP_KEYEXCH:
        return ukprov_keyexch;
    case OSSL_OP_STORE:
        return ukprov_store;
    case OSSL_OP_DECODER:
        return ukprov_decoders;
    case OSSL_OP_ENCODER:
        return ukprov_encoders;
    default:
        /* No DIGEST, CIPHER or RAND: SoftHSM calls libcrypto itself and
         * must never land back in a token under its own lock. */
        return NULL;
    }
}

/* ---- provider parameters -------------------------------------------------- */

static const OSSL_PARAM ukprov_param_types[] = {
    OSSL_PARAM_DEFN(OSSL_PROV_PARAM_NAME, OSSL_PARAM_UTF8_PTR, NULL, 0),
    OSSL_PARAM_DEFN(OSSL_PROV_PARAM_VERSION, OSSL_PARAM_UTF8_PTR, NULL, 0),
    OSSL_PARAM_DEFN(OSSL_PROV_PARAM_BUILDINFO, OSSL_PARAM_UTF8_PTR, NULL, 0),
    OSSL_PARAM_DEFN(OSSL_PROV_PARAM_STATUS, OSSL_PARAM_INTEGER, NULL, 0),
    OSSL_PARAM_END
};

static const OSSL_PARAM *ukprov_gettable_params(void *provctx)
{
    return ukprov_param_types;
}

static int ukprov_get_params(void *provctx, OSSL_PARAM params[])
{
    OSSL_PARAM *p;

    p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_NAME);
    if (p != NULL && !OSSL_PARAM_set_utf8_ptr(p, UKPROV_NAME))
        return 0;
    p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_VERSION);
    if (p != NULL && !OSSL_PARAM_set_utf8_ptr(p, PACKAGE_VERSION))
        return 0;
    p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_BUILDINFO);
    if (p != NULL && !OSSL_PARAM_set_utf8_ptr(p, PACKAGE_STRING))
        return 0;
    p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_STATUS);
    if (p != NULL && !OSSL_PARAM_set_int(p, 1))
        return 0;
    return 1;
}

/* ---- TLS groups ------------------------------------------------------------ */

/* libssl takes a provider's TLS groups only when an unqualified fetch of
 * the group's key algorithm lands in that provider.  With uakey listed
 * before the default provider, "EC" lands in uakey, so uakey must name
 * the EC groups itself or TLS loses every ECDHE group; uakey then makes
 * the ephemeral keys on the host (keymgmt host_gen).  With uakey after the
 * default provider these entries are simply not used.  Values are the
 * registered TLS NamedGroup code points and the curves' security bits. */
typedef struct {
    const char *name, *internal;
    unsigned int id, secbits;
    int maxtls, maxdtls;        /* 0: no upper bound */
} UKPROV_TLS_GROUP;

static const UKPROV_TLS_GROUP ukprov_tls_groups[] = {
    { "secp256r1", "prime256v1", 23, 128, 0, 0 },
    { "P-256", "prime256v1", 23, 128, 0, 0 },
    { "secp384r1", "secp384r1", 24, 192, 0, 0 },
    { "P-384", "secp384r1", 24, 192, 0, 0 },
    { "secp521r1", "secp521r1", 25, 256, 0, 0 },
    { "P-521", "secp521r1", 25, 256, 0, 0 },
    /* RFC 7027 brainpool groups exist up to TLS 1.2 only */
    { "brainpoolP256r1", "brainpoolP256r1", 26, 128, 0x0303, 0xFEFD },
    { "brainpoolP384r1", "brainpoolP384r1", 27, 192, 0x0303, 0xFEFD },
    { "brainpoolP512r1", "brainpoolP512r1", 28, 256, 0x0303, 0xFEFD },
};

static int ukprov_get_capabilities(void *provctx, const char *capability,
                                   OSSL_CALLBACK *cb, void *arg)
{
    size_t i;

    if (capability == NULL || strcasecmp(capability, "TLS-GROUP") != 0)
        return 0;
    for (i = 0; i < sizeof(ukprov_tls_groups) / sizeof(ukprov_tls_groups[0]); i++) {
        const UKPROV_TLS_GROUP *g = &ukprov_tls_groups[i];
        unsigned int id = g->id, secbits = g->secbits;
        int mintls = 0x0301, maxtls = g->maxtls, mindtls = 0xFEFF, maxdtls = g->maxdtls;
        int is_kem = 0;
        OSSL_PARAM p[] = {
            OSSL_PARAM_utf8_string(OSSL_CAPABILITY_TLS_GROUP_NAME, (char *)g->name, 0),
            OSSL_PARAM_utf8_string(OSSL_CAPABILITY_TLS_GROUP_NAME_INTERNAL,
                                   (char *)g->internal, 0),
            OSSL_PARAM_utf8_string(OSSL_CAPABILITY_TLS_GROUP_ALG, "EC", 0),
            OSSL_PARAM_uint(OSSL_CAPABILITY_TLS_GROUP_ID, &id),
            OSSL_PARAM_uint(OSSL_CAPABILITY_TLS_GROUP_SECURITY_BITS, &secbits),
            OSSL_PARAM_int(OSSL_CAPABILITY_TLS_GROUP_MIN_TLS, &mintls),
            OSSL_PARAM_int(OSSL_CAPABILITY_TLS_GROUP_MAX_TLS, &maxtls),
            OSSL_PARAM_int(OSSL_CAPABILITY_TLS_GROUP_MIN_DTLS, &mindtls),
            OSSL_PARAM_int(OSSL_CAPABILITY_TLS_GROUP_MAX_DTLS, &maxdtls),
            OSSL_PARAM_int(OSSL_CAPABILITY_TLS_GROUP_IS_KEM, &is_kem),
            OSSL_PARAM_END
        };

        p[0].data_size = strlen(g->name);
        p[1].data_size = strlen(g->internal);
        p[2].data_size = 2;
        if (!cb(p, arg))
            return 0;
    }
    return 1;
}

static const OSSL_ITEM *ukprov_get_reason_strings(void *provctx)
{
    return ukprov_reason_strings;
}

/* ---- life cycle ------------------------------------------------------------ */

/* Every live provider context, so the exit hook can finalize modules while
 * libcrypto and the modules themselves are still whole.  The hook is
 * registered with atexit() from this shared object each time a module has
 * been loaded and initialized: exit handlers run in reverse order, so it
 * runs before the module's own destructors (SoftHSM's C++ statics) and
 * before OpenSSL's cleanup.  It is idempotent.  If the provider is
 * unloaded earlier, glibc runs it at dlclose, when the list is empty. */
static pthread_mutex_t ukprov_live_lock = PTHREAD_MUTEX_INITIALIZER;
static UKPROV_CTX *ukprov_live[64];
static int ukprov_live_n;

static void ukprov_exit_hook(void)
{
    int i;

    pthread_mutex_lock(&ukprov_live_lock);
    for (i = 0; i < ukprov_live_n; i++)
        ukp11_ctx_finalize_modules(ukprov_live[i]->p11);
    pthread_mutex_unlock(&ukprov_live_lock);
}

static void ukprov_module_loaded(void)
{
    atexit(ukprov_exit_hook);
}

static void ukprov_live_add(UKPROV_CTX *ctx)
{
    pthread_mutex_lock(&ukprov_live_lock);
    if (ukprov_live_n < (int)(sizeof(ukprov_live) / sizeof(ukprov_live[0])))
        ukprov_live[ukprov_live_n++] = ctx;
    pthread_mutex_unlock(&ukprov_live_lock);
}

static void ukprov_live_remove(UKPROV_CTX *ctx)
{
    int i;

    pthread_mutex_lock(&ukprov_live_lock);
    for (i = 0; i < ukprov_live_n; i++) {
        if (ukprov_live[i] == ctx) {
            ukprov_live[i] = ukprov_live[--ukprov_live_n];
            break;
        }
    }
    pthread_mutex_unlock(&ukprov_live_lock);
}

static void ukprov_ctx_free(UKPROV_CTX *ctx)
{
    if (ctx == NULL)
        return;
    ukprov_live_remove(ctx);
    ukprov_decoder_cache_flush(ctx);
    ukp11_ctx_free(ctx->p11);
    if (ctx->hostdefault_ != NULL)
        OSSL_PROVIDER_unload(ctx->hostdefault_);
    OSSL_LIB_CTX_free(ctx->hostctx_);
    if (ctx->hostlock_ != NULL) {
        pthread_mutex_destroy((pthread_mutex_t *)ctx->hostlock_);
        free(ctx->hostlock_);
    }
    free(ctx->module_path);
    if (ctx->token_pin != NULL) {
        OPENSSL_cleanse(ctx->token_pin, strlen(ctx->token_pin));
        free(ctx->token_pin);
    }
    free(ctx);
}

static void ukprov_teardown(void *provctx)
{
    uk_dbg(UK_DBG_PROVIDER, "teardown");
    ukprov_ctx_free(provctx);
}

static const OSSL_DISPATCH ukprov_dispatch[] = {
    { OSSL_FUNC_PROVIDER_TEARDOWN, (void (*)(void))ukprov_teardown },
    { OSSL_FUNC_PROVIDER_GETTABLE_PARAMS, (void (*)(void))ukprov_gettable_params },
    { OSSL_FUNC_PROVIDER_GET_PARAMS, (void (*)(void))ukprov_get_params },
    { OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))ukprov_query },
    { OSSL_FUNC_PROVIDER_GET_REASON_STRINGS, (void (*)(void))ukprov_get_reason_strings },
    { OSSL_FUNC_PROVIDER_GET_CAPABILITIES, (void (*)(void))ukprov_get_capabilities },
    { 0, NULL }
};

/* Boolean config words as openssl.cnf users write them. */
static int ukprov_parse_bool(const char *s, int *out)
{
    static const char *const yes[] = { "1", "yes", "true", "on" };
    static const char *const no[] = { "0", "no", "false", "off" };
    size_t i;

    for (i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = 1;
            return 1;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = 0;
            return 1;
        }
    }
    return 0;
}

int OSSL_provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
                       const OSSL_DISPATCH **out, void **provctx);

__attribute__((visibility("default")))
int OSSL_provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
                       const OSSL_DISPATCH **out, void **provctx)
{
    OSSL_FUNC_core_get_params_fn *core_get_params = NULL;
    char *module_path = NULL, *token_pin = NULL, *oaep = NULL, *max_sessions = NULL;
    OSSL_PARAM cfg[5];
    UKP11_CONFIG pcfg;
    UKPROV_CTX *ctx;

    ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL)
        return 0;
    ctx->handle = handle;
    ctx->oaep_fallback = 1;
    for (; in->function_id != 0; in++) {
        switch (in->function_id) {
        case OSSL_FUNC_CORE_GET_PARAMS:
            core_get_params = OSSL_FUNC_core_get_params(in);
            break;
        case OSSL_FUNC_CORE_NEW_ERROR:
            ctx->core_new_error = OSSL_FUNC_core_new_error(in);
            break;
        case OSSL_FUNC_CORE_SET_ERROR_DEBUG:
            ctx->core_set_error_debug = OSSL_FUNC_core_set_error_debug(in);
            break;
        case OSSL_FUNC_CORE_VSET_ERROR:
            ctx->core_vset_error = OSSL_FUNC_core_vset_error(in);
            break;
        case OSSL_FUNC_BIO_READ_EX:
            ctx->core_bio_read_ex = OSSL_FUNC_BIO_read_ex(in);
            break;
        case OSSL_FUNC_BIO_WRITE_EX:
            ctx->core_bio_write_ex = OSSL_FUNC_BIO_write_ex(in);
            break;
        default:
            break;
        }
    }
    ukprov_fill_reasons();

    ctx->hostlock_ = malloc(sizeof(pthread_mutex_t));
    if (ctx->hostlock_ == NULL) {
        free(ctx);
        return 0;
    }
    pthread_mutex_init((pthread_mutex_t *)ctx->hostlock_, NULL);

    cfg[0] = OSSL_PARAM_construct_utf8_ptr("pkcs11-module-path", &module_path, 0);
    cfg[1] = OSSL_PARAM_construct_utf8_ptr("pkcs11-module-token-pin", &token_pin, 0);
    cfg[2] = OSSL_PARAM_construct_utf8_ptr("pkcs11-oaep-fallback", &oaep, 0);
    cfg[3] = OSSL_PARAM_construct_utf8_ptr("pkcs11-max-sessions", &max_sessions, 0);
    cfg[4] = OSSL_PARAM_construct_end();
    if (core_get_params != NULL && !core_get_params(handle, cfg)) {
        UK_raise(ctx, UK_R_BAD_CONFIG, "cannot read the provider configuration");
        goto err;
    }
    memset(&pcfg, 0, sizeof(pcfg));
    if (module_path != NULL && *module_path != '\0') {
        ctx->module_path = strdup(module_path);
        if (ctx->module_path == NULL)
            goto err;
    }
    if (token_pin != NULL && *token_pin != '\0') {
        ctx->token_pin = strdup(token_pin);
        if (ctx->token_pin == NULL)
            goto err;
    }
    if (oaep != NULL && !ukprov_parse_bool(oaep, &ctx->oaep_fallback)) {
        UK_raise(ctx, UK_R_BAD_CONFIG,
                 "pkcs11-oaep-fallback = %s: expected yes or no", oaep);
        goto err;
    }
    if (max_sessions != NULL) {
        char *end = NULL;
        long v = strtol(max_sessions, &end, 10);

        if (end == max_sessions || *end != '\0' || v < 1 || v > 1024) {
            UK_raise(ctx, UK_R_BAD_CONFIG,
                     "pkcs11-max-sessions = %s: expected a number from 1 to 1024", max_sessions);
            goto err;
        }
        pcfg.max_sessions = (unsigned int)v;
    }
    pcfg.module_path = ctx->module_path;
    pcfg.token_pin = ctx->token_pin;
    pcfg.module_loaded = ukprov_module_loaded;
    ctx->p11 = ukp11_ctx_new(&pcfg, ukprov_p11_sink, ctx);
    if (ctx->p11 == NULL) {
        UK_raise(ctx, UK_R_MALLOC, "cannot create the token backend context");
        goto err;
    }
    uk_dbg(UK_DBG_PROVIDER, "init: module=%s pin=%s oaep-fallback=%d",
           ctx->module_path ? ctx->module_path : "(default)",
           ctx->token_pin ? "<set>" : "<unset>", ctx->oaep_fallback);

    ukprov_live_add(ctx);
    *out = ukprov_dispatch;
    *provctx = ctx;
    return 1;

err:
    ukprov_ctx_free(ctx);
    return 0;
}
