/* uakey provider: KEYMGMT for RSA and RSA-PSS keys.  The key bodies live in
 * keymgmt_common.c; this file holds the per-type tables and parameter
 * lists. */
#include "config.h"

#include <string.h>

#include "keymgmt_int.h"
#include "ukprov.h"

UKPROV_FN(keymgmt, new, ukprov_rsa_new);
UKPROV_FN(keymgmt, new, ukprov_rsapss_new);
UKPROV_FN(keymgmt, free, ukprov_rsa_free);
UKPROV_FN(keymgmt, load, ukprov_rsa_load);
UKPROV_FN(keymgmt, load, ukprov_rsapss_load);
UKPROV_FN(keymgmt, has, ukprov_rsa_has);
UKPROV_FN(keymgmt, match, ukprov_rsa_match);
UKPROV_FN(keymgmt, import, ukprov_rsa_import);
UKPROV_FN(keymgmt, import_types, ukprov_rsa_import_types);
UKPROV_FN(keymgmt, export, ukprov_rsa_export);
UKPROV_FN(keymgmt, export_types, ukprov_rsa_export_types);
UKPROV_FN(keymgmt, get_params, ukprov_rsa_get_params);
UKPROV_FN(keymgmt, gettable_params, ukprov_rsa_gettable_params);
UKPROV_FN(keymgmt, dup, ukprov_rsa_dup);
UKPROV_FN(keymgmt, query_operation_name, ukprov_rsa_query_operation_name);
UKPROV_FN(keymgmt, gen_init, ukprov_rsa_gen_init);
UKPROV_FN(keymgmt, gen_init, ukprov_rsapss_gen_init);
UKPROV_FN(keymgmt, gen_set_params, ukprov_rsa_gen_set_params);
UKPROV_FN(keymgmt, gen_settable_params, ukprov_rsa_gen_settable_params);
UKPROV_FN(keymgmt, gen, ukprov_rsa_gen);
UKPROV_FN(keymgmt, gen_cleanup, ukprov_rsa_gen_cleanup);

static void *ukprov_rsa_new(void *provctx)
{
    return ukprov_km_new(provctx, UKPROV_KT_RSA);
}

static void *ukprov_rsapss_new(void *provctx)
{
    return ukprov_km_new(provctx, UKPROV_KT_RSA_PSS);
}

static void ukprov_rsa_free(void *keydata)
{
    ukprov_km_free(keydata);
}

static void *ukprov_rsa_load(const void *ref, size_t ref_sz)
{
    return ukprov_km_load(ref, ref_sz, UKPROV_KT_RSA);
}

static void *ukprov_rsapss_load(const void *ref, size_t ref_sz)
{
    return ukprov_km_load(ref, ref_sz, UKPROV_KT_RSA_PSS);
}

static int ukprov_rsa_has(const void *keydata, int selection)
{
    return ukprov_km_has(keydata, selection);
}

static int ukprov_rsa_match(const void *k1, const void *k2, int selection)
{
    return ukprov_km_match(k1, k2, selection);
}

static int ukprov_rsa_import(void *keydata, int selection, const OSSL_PARAM params[])
{
    return ukprov_km_import(keydata, selection, params);
}

/* Public parts only: the private factors are never accepted. */
static const OSSL_PARAM rsa_key_types[] = {
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
    OSSL_PARAM_END
};

static const OSSL_PARAM *ukprov_rsa_import_types(int selection)
{
    return (selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) != 0 ? rsa_key_types : NULL;
}

static int ukprov_rsa_export(void *keydata, int selection, OSSL_CALLBACK *cb,
                             void *cbarg)
{
    return ukprov_km_export(keydata, selection, cb, cbarg);
}

static const OSSL_PARAM *ukprov_rsa_export_types(int selection)
{
    return (selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) != 0 ? rsa_key_types : NULL;
}

static int ukprov_rsa_get_params(void *keydata, OSSL_PARAM params[])
{
    return ukprov_km_get_params(keydata, params);
}

static const OSSL_PARAM rsa_gettable[] = {
    OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, NULL),
    OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, NULL),
    OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, NULL),
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_DEFAULT_DIGEST, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_MANDATORY_DIGEST, NULL, 0),
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
    OSSL_PARAM_END
};

static const OSSL_PARAM *ukprov_rsa_gettable_params(void *provctx)
{
    return rsa_gettable;
}

static void *ukprov_rsa_dup(const void *keydata, int selection)
{
    return ukprov_km_dup(keydata, selection);
}

/* RSA-PSS keys sign through the "RSA" signature implementation. */
static const char *ukprov_rsa_query_operation_name(int operation_id)
{
    switch (operation_id) {
    case OSSL_OP_SIGNATURE:
    case OSSL_OP_ASYM_CIPHER:
        return "RSA";
    }
    return NULL;
}

static void *ukprov_rsa_gen_init(void *provctx, int selection, const OSSL_PARAM params[])
{
    return ukprov_km_gen_init(provctx, selection, params, UKPROV_KT_RSA);
}

static void *ukprov_rsapss_gen_init(void *provctx, int selection,
                                    const OSSL_PARAM params[])
{
    return ukprov_km_gen_init(provctx, selection, params, UKPROV_KT_RSA_PSS);
}

static int ukprov_rsa_gen_set_params(void *genctx, const OSSL_PARAM params[])
{
    return ukprov_km_gen_set_params(genctx, params);
}

static const OSSL_PARAM rsa_gen_settable[] = {
    OSSL_PARAM_utf8_string(UKPROV_GEN_PARAM_URI, NULL, 0),
    OSSL_PARAM_size_t(OSSL_PKEY_PARAM_RSA_BITS, NULL),
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
    OSSL_PARAM_END
};

static const OSSL_PARAM *ukprov_rsa_gen_settable_params(void *genctx, void *provctx)
{
    return rsa_gen_settable;
}

static void *ukprov_rsa_gen(void *genctx, OSSL_CALLBACK *cb, void *cbarg)
{
    return ukprov_km_gen(genctx, cb, cbarg);
}

static void ukprov_rsa_gen_cleanup(void *genctx)
{
    ukprov_km_gen_cleanup(genctx);
}

#define UKPROV_RSA_COMMON_FUNCTIONS \
    { OSSL_FUNC_KEYMGMT_FREE, (void (*)(void))ukprov_rsa_free }, \
    { OSSL_FUNC_KEYMGMT_HAS, (void (*)(void))ukprov_rsa_has }, \
    { OSSL_FUNC_KEYMGMT_MATCH, (void (*)(void))ukprov_rsa_match }, \
    { OSSL_FUNC_KEYMGMT_IMPORT, (void (*)(void))ukprov_rsa_import }, \
    { OSSL_FUNC_KEYMGMT_IMPORT_TYPES, (void (*)(void))ukprov_rsa_import_types }, \
    { OSSL_FUNC_KEYMGMT_EXPORT, (void (*)(void))ukprov_rsa_export }, \
    { OSSL_FUNC_KEYMGMT_EXPORT_TYPES, (void (*)(void))ukprov_rsa_export_types }, \
    { OSSL_FUNC_KEYMGMT_GET_PARAMS, (void (*)(void))ukprov_rsa_get_params }, \
    { OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, (void (*)(void))ukprov_rsa_gettable_params }, \
    { OSSL_FUNC_KEYMGMT_DUP, (void (*)(void))ukprov_rsa_dup }, \
    { OSSL_FUNC_KEYMGMT_GEN_SET_PARAMS, (void (*)(void))ukprov_rsa_gen_set_params }, \
    { OSSL_FUNC_KEYMGMT_GEN_SETTABLE_PARAMS, \
      (void (*)(void))ukprov_rsa_gen_settable_params }, \
    { OSSL_FUNC_KEYMGMT_GEN, (void (*)(void))ukprov_rsa_gen }, \
    { OSSL_FUNC_KEYMGMT_GEN_CLEANUP, (void (*)(void))ukprov_rsa_gen_cleanup }

const OSSL_DISPATCH ukprov_rsa_keymgmt_functions[] = {
    { OSSL_FUNC_KEYMGMT_NEW, (void (*)(void))ukprov_rsa_new },
    { OSSL_FUNC_KEYMGMT_LOAD, (void (*)(void))ukprov_rsa_load },
    { OSSL_FUNC_KEYMGMT_GEN_INIT, (void (*)(void))ukprov_rsa_gen_init },
    UKPROV_RSA_COMMON_FUNCTIONS,
    { 0, NULL }
};

const OSSL_DISPATCH ukprov_rsapss_keymgmt_functions[] = {
    { OSSL_FUNC_KEYMGMT_NEW, (void (*)(void))ukprov_rsapss_new },
    { OSSL_FUNC_KEYMGMT_LOAD, (void (*)(void))ukprov_rsapss_load },
    { OSSL_FUNC_KEYMGMT_GEN_INIT, (void (*)(void))ukprov_rsapss_gen_init },
    { OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME,
      (void (*)(void))ukprov_rsa_query_operation_name },
    UKPROV_RSA_COMMON_FUNCTIONS,
    { 0, NULL }
};
