/* uakey provider: KEYMGMT for EC (NIST and Brainpool curves) and Ed25519
 * keys.  The key bodies live in keymgmt_common.c. */
#include "config.h"

#include <string.h>

#include "keymgmt_int.h"
#include "ukprov.h"

UKPROV_FN(keymgmt, new, ukprov_ec_new);
UKPROV_FN(keymgmt, new, ukprov_ed25519_new);
UKPROV_FN(keymgmt, free, ukprov_ec_free);
UKPROV_FN(keymgmt, load, ukprov_ec_load);
UKPROV_FN(keymgmt, load, ukprov_ed25519_load);
UKPROV_FN(keymgmt, has, ukprov_ec_has);
UKPROV_FN(keymgmt, match, ukprov_ec_match);
UKPROV_FN(keymgmt, import, ukprov_ec_import);
UKPROV_FN(keymgmt, import_types, ukprov_ec_import_types);
UKPROV_FN(keymgmt, import_types, ukprov_ed25519_import_types);
UKPROV_FN(keymgmt, export, ukprov_ec_export);
UKPROV_FN(keymgmt, export_types, ukprov_ec_export_types);
UKPROV_FN(keymgmt, export_types, ukprov_ed25519_export_types);
UKPROV_FN(keymgmt, get_params, ukprov_ec_get_params);
UKPROV_FN(keymgmt, set_params, ukprov_ec_set_params);
UKPROV_FN(keymgmt, settable_params, ukprov_ec_settable_params);
UKPROV_FN(keymgmt, gettable_params, ukprov_ec_gettable_params);
UKPROV_FN(keymgmt, gettable_params, ukprov_ed25519_gettable_params);
UKPROV_FN(keymgmt, dup, ukprov_ec_dup);
UKPROV_FN(keymgmt, query_operation_name, ukprov_ec_query_operation_name);
UKPROV_FN(keymgmt, query_operation_name, ukprov_ed25519_query_operation_name);
UKPROV_FN(keymgmt, gen_init, ukprov_ec_gen_init);
UKPROV_FN(keymgmt, gen_init, ukprov_ed25519_gen_init);
UKPROV_FN(keymgmt, gen_set_params, ukprov_ec_gen_set_params);
UKPROV_FN(keymgmt, gen_settable_params, ukprov_ec_gen_settable_params);
UKPROV_FN(keymgmt, gen_settable_params, ukprov_ed25519_gen_settable_params);
UKPROV_FN(keymgmt, gen, ukprov_ec_gen);
UKPROV_FN(keymgmt, gen_cleanup, ukprov_ec_gen_cleanup);
UKPROV_FN(keymgmt, gen_set_template, ukprov_ec_gen_set_template);

static void *ukprov_ec_new(void *provctx)
{
    return ukprov_km_new(provctx, UKPROV_KT_EC);
}

static void *ukprov_ed25519_new(void *provctx)
{
    return ukprov_km_new(provctx, UKPROV_KT_ED25519);
}

static void ukprov_ec_free(void *keydata)
{
    ukprov_km_free(keydata);
}

static void *ukprov_ec_load(const void *ref, size_t ref_sz)
{
    return ukprov_km_load(ref, ref_sz, UKPROV_KT_EC);
}

static void *ukprov_ed25519_load(const void *ref, size_t ref_sz)
{
    return ukprov_km_load(ref, ref_sz, UKPROV_KT_ED25519);
}

static int ukprov_ec_has(const void *keydata, int selection)
{
    return ukprov_km_has(keydata, selection);
}

static int ukprov_ec_match(const void *k1, const void *k2, int selection)
{
    return ukprov_km_match(k1, k2, selection);
}

static int ukprov_ec_import(void *keydata, int selection, const OSSL_PARAM params[])
{
    return ukprov_km_import(keydata, selection, params);
}

/* Public parts only: a private scalar is never accepted. */
static const OSSL_PARAM ec_key_types[] = {
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
    OSSL_PARAM_END
};

static const OSSL_PARAM ed25519_key_types[] = {
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
    OSSL_PARAM_END
};

static const OSSL_PARAM *ukprov_ec_import_types(int selection)
{
    return (selection & (OSSL_KEYMGMT_SELECT_PUBLIC_KEY
                         | OSSL_KEYMGMT_SELECT_DOMAIN_PARAMETERS)) != 0
        ? ec_key_types : NULL;
}

static const OSSL_PARAM *ukprov_ed25519_import_types(int selection)
{
    return (selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) != 0 ? ed25519_key_types : NULL;
}

static int ukprov_ec_export(void *keydata, int selection, OSSL_CALLBACK *cb, void *cbarg)
{
    return ukprov_km_export(keydata, selection, cb, cbarg);
}

static const OSSL_PARAM *ukprov_ec_export_types(int selection)
{
    return ukprov_ec_import_types(selection);
}

static const OSSL_PARAM *ukprov_ed25519_export_types(int selection)
{
    return ukprov_ed25519_import_types(selection);
}

static int ukprov_ec_get_params(void *keydata, OSSL_PARAM params[])
{
    return ukprov_km_get_params(keydata, params);
}

static int ukprov_ec_set_params(void *keydata, const OSSL_PARAM params[])
{
    return ukprov_km_set_params(keydata, params);
}

static int ukprov_ec_gen_set_template(void *genctx, void *templ)
{
    return ukprov_km_gen_set_template(genctx, templ);
}

static const OSSL_PARAM ec_settable[] = {
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0),
    OSSL_PARAM_END
};

static const OSSL_PARAM *ukprov_ec_settable_params(void *provctx)
{
    return ec_settable;
}

static const OSSL_PARAM ec_gettable[] = {
    OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, NULL),
    OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, NULL),
    OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, NULL),
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_DEFAULT_DIGEST, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0),
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_EC_PUB_X, NULL, 0),
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_EC_PUB_Y, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_ENCODING, NULL, 0),
    OSSL_PARAM_END
};

static const OSSL_PARAM ed25519_gettable[] = {
    OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, NULL),
    OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, NULL),
    OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, NULL),
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_MANDATORY_DIGEST, NULL, 0),
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0),
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
    OSSL_PARAM_END
};

static const OSSL_PARAM *ukprov_ec_gettable_params(void *provctx)
{
    return ec_gettable;
}

static const OSSL_PARAM *ukprov_ed25519_gettable_params(void *provctx)
{
    return ed25519_gettable;
}

static void *ukprov_ec_dup(const void *keydata, int selection)
{
    return ukprov_km_dup(keydata, selection);
}

static const char *ukprov_ec_query_operation_name(int operation_id)
{
    switch (operation_id) {
    case OSSL_OP_SIGNATURE:
        return "ECDSA";
    case OSSL_OP_KEYEXCH:
        return "ECDH";
    }
    return NULL;
}

static const char *ukprov_ed25519_query_operation_name(int operation_id)
{
    return operation_id == OSSL_OP_SIGNATURE ? "ED25519" : NULL;
}

static void *ukprov_ec_gen_init(void *provctx, int selection, const OSSL_PARAM params[])
{
    return ukprov_km_gen_init(provctx, selection, params, UKPROV_KT_EC);
}

static void *ukprov_ed25519_gen_init(void *provctx, int selection,
                                     const OSSL_PARAM params[])
{
    return ukprov_km_gen_init(provctx, selection, params, UKPROV_KT_ED25519);
}

static int ukprov_ec_gen_set_params(void *genctx, const OSSL_PARAM params[])
{
    return ukprov_km_gen_set_params(genctx, params);
}

static const OSSL_PARAM ec_gen_settable[] = {
    OSSL_PARAM_utf8_string(UKPROV_GEN_PARAM_URI, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
    OSSL_PARAM_END
};

static const OSSL_PARAM ed25519_gen_settable[] = {
    OSSL_PARAM_utf8_string(UKPROV_GEN_PARAM_URI, NULL, 0),
    OSSL_PARAM_END
};

static const OSSL_PARAM *ukprov_ec_gen_settable_params(void *genctx, void *provctx)
{
    return ec_gen_settable;
}

static const OSSL_PARAM *ukprov_ed25519_gen_settable_params(void *genctx, void *provctx)
{
    return ed25519_gen_settable;
}

static void *ukprov_ec_gen(void *genctx, OSSL_CALLBACK *cb, void *cbarg)
{
    return ukprov_km_gen(genctx, cb, cbarg);
}

static void ukprov_ec_gen_cleanup(void *genctx)
{
    ukprov_km_gen_cleanup(genctx);
}

const OSSL_DISPATCH ukprov_ec_keymgmt_functions[] = {
    { OSSL_FUNC_KEYMGMT_NEW, (void (*)(void))ukprov_ec_new },
    { OSSL_FUNC_KEYMGMT_FREE, (void (*)(void))ukprov_ec_free },
    { OSSL_FUNC_KEYMGMT_LOAD, (void (*)(void))ukprov_ec_load },
    { OSSL_FUNC_KEYMGMT_HAS, (void (*)(void))ukprov_ec_has },
    { OSSL_FUNC_KEYMGMT_MATCH, (void (*)(void))ukprov_ec_match },
    { OSSL_FUNC_KEYMGMT_IMPORT, (void (*)(void))ukprov_ec_import },
    { OSSL_FUNC_KEYMGMT_IMPORT_TYPES, (void (*)(void))ukprov_ec_import_types },
    { OSSL_FUNC_KEYMGMT_EXPORT, (void (*)(void))ukprov_ec_export },
    { OSSL_FUNC_KEYMGMT_EXPORT_TYPES, (void (*)(void))ukprov_ec_export_types },
    { OSSL_FUNC_KEYMGMT_GET_PARAMS, (void (*)(void))ukprov_ec_get_params },
    { OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, (void (*)(void))ukprov_ec_gettable_params },
    { OSSL_FUNC_KEYMGMT_SET_PARAMS, (void (*)(void))ukprov_ec_set_params },
    { OSSL_FUNC_KEYMGMT_GEN_SET_TEMPLATE, (void (*)(void))ukprov_ec_gen_set_template },
    { OSSL_FUNC_KEYMGMT_SETTABLE_PARAMS, (void (*)(void))ukprov_ec_settable_params },
    { OSSL_FUNC_KEYMGMT_DUP, (void (*)(void))ukprov_ec_dup },
    { OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME,
      (void (*)(void))ukprov_ec_query_operation_name },
    { OSSL_FUNC_KEYMGMT_GEN_INIT, (void (*)(void))ukprov_ec_gen_init },
    { OSSL_FUNC_KEYMGMT_GEN_SET_PARAMS, (void (*)(void))ukprov_ec_gen_set_params },
    { OSSL_FUNC_KEYMGMT_GEN_SETTABLE_PARAMS,
      (void (*)(void))ukprov_ec_gen_settable_params },
    { OSSL_FUNC_KEYMGMT_GEN, (void (*)(void))ukprov_ec_gen },
    { OSSL_FUNC_KEYMGMT_GEN_CLEANUP, (void (*)(void))ukprov_ec_gen_cleanup },
    { 0, NULL }
};

const OSSL_DISPATCH ukprov_ed25519_keymgmt_functions[] = {
    { OSSL_FUNC_KEYMGMT_NEW, (void (*)(void))ukprov_ed25519_new },
    { OSSL_FUNC_KEYMGMT_FREE, (void (*)(void))ukprov_ec_free },
    { OSSL_FUNC_KEYMGMT_LOAD, (void (*)(void))ukprov_ed25519_load },
    { OSSL_FUNC_KEYMGMT_HAS, (void (*)(void))ukprov_ec_has },
    { OSSL_FUNC_KEYMGMT_MATCH, (void (*)(void))ukprov_ec_match },
    { OSSL_FUNC_KEYMGMT_IMPORT, (void (*)(void))ukprov_ec_import },
    { OSSL_FUNC_KEYMGMT_IMPORT_TYPES, (void (*)(void))ukprov_ed25519_import_types },
    { OSSL_FUNC_KEYMGMT_EXPORT, (void (*)(void))ukprov_ec_export },
    { OSSL_FUNC_KEYMGMT_EXPORT_TYPES, (void (*)(void))ukprov_ed25519_export_types },
    { OSSL_FUNC_KEYMGMT_GET_PARAMS, (void (*)(void))ukprov_ec_get_params },
    { OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS,
      (void (*)(void))ukprov_ed25519_gettable_params },
    { OSSL_FUNC_KEYMGMT_DUP, (void (*)(void))ukprov_ec_dup },
    { OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME,
      (void (*)(void))ukprov_ed25519_query_operation_name },
    { OSSL_FUNC_KEYMGMT_GEN_INIT, (void (*)(void))ukprov_ed25519_gen_init },
    { OSSL_FUNC_KEYMGMT_GEN_SET_PARAMS, (void (*)(void))ukprov_ec_gen_set_params },
    { OSSL_FUNC_KEYMGMT_GEN_SETTABLE_PARAMS,
      (void (*)(void))ukprov_ed25519_gen_settable_params },
    { OSSL_FUNC_KEYMGMT_GEN, (void (*)(void))ukprov_ec_gen },
    { OSSL_FUNC_KEYMGMT_GEN_CLEANUP, (void (*)(void))ukprov_ec_gen_cleanup },
    { 0, NULL }
};
