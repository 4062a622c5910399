/* uakey provider: STORE for "pkcs11:" URIs.
 *
 * The first load finds every object the URI (and the caller's expectation)
 * selects and queues them: private keys, then public keys, then
 * certificates.  Each load call hands one over: keys by reference (the
 * address of a UKPROV_KEY pointer, picked up by our keymgmt's load), and
 * certificates as DER. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_object.h>
#include <openssl/store.h>

#include "keymgmt_int.h"
#include "ukprov.h"

UKPROV_FN(store, open, ukprov_store_open);
UKPROV_FN(store, attach, ukprov_store_attach);
UKPROV_FN(store, settable_ctx_params, ukprov_store_settable_ctx_params);
UKPROV_FN(store, set_ctx_params, ukprov_store_set_ctx_params);
UKPROV_FN(store, load, ukprov_store_load);
UKPROV_FN(store, eof, ukprov_store_eof);
UKPROV_FN(store, close, ukprov_store_close);

typedef struct {
    UKPROV_CTX *prov;
    UKP11_URI *uri;
    char *redacted;          /* for messages */
    int expect;              /* OSSL_STORE_INFO_*, 0 = anything */
    int loaded;              /* the find has run */
    int keys_as_public;      /* PUBKEY wanted, no public key objects: hand
                                private keys over without the private half */
    UKP11_OBJ **objs;
    size_t n, pos;
} UKPROV_STORE;

static void *ukprov_store_open(void *provctx, const char *uri)
{
    UKPROV_CTX *ctx = provctx;
    UKPROV_STORE *s = calloc(1, sizeof(*s));

    if (s == NULL) {
        UK_raise(ctx, UK_R_MALLOC, "cannot allocate a store context");
        return NULL;
    }
    s->prov = ctx;
    if (ukp11_uri_parse(ctx->p11, uri, &s->uri) != CKR_OK) {
        free(s);
        return NULL;
    }
    s->redacted = ukp11_uri_redacted(s->uri);
    uk_dbg(UK_DBG_PROVIDER, "store open %s", s->redacted != NULL ? s->redacted : "?");
    return s;
}

static void *ukprov_store_attach(void *provctx, OSSL_CORE_BIO *in)
{
    UK_raise(provctx, UK_R_NOT_SUPPORTED, "the pkcs11 store reads URIs, not streams");
    return NULL;
}

static const OSSL_PARAM store_settable[] = {
    OSSL_PARAM_int(OSSL_STORE_PARAM_EXPECT, NULL),
    OSSL_PARAM_END
};

static const OSSL_PARAM *ukprov_store_settable_ctx_params(void *provctx)
{
    return store_settable;
}

static int ukprov_store_set_ctx_params(void *loaderctx, const OSSL_PARAM params[])
{
    UKPROV_STORE *s = loaderctx;
    const OSSL_PARAM *p;
    int v;

    if (s == NULL)
        return 0;
    if (params == NULL)
        return 1;
    p = OSSL_PARAM_locate_const(params, OSSL_STORE_PARAM_EXPECT);
    if (p != NULL) {
        if (!OSSL_PARAM_get_int(p, &v)) {
            UK_raise(s->prov, UK_R_BAD_PARAM, "store expectation must be an integer");
            return 0;
        }
        s->expect = v;
    }
    /* Subject, serial, fingerprint and alias searches are not offered;
     * other parameters are ignored. */
    return 1;
}

/* Sort rank: private keys, public keys, certificates. */
static int class_rank(CK_OBJECT_CLASS c)
{
    switch (c) {
    case CKO_PRIVATE_KEY:
        return 0;
    case CKO_PUBLIC_KEY:
        return 1;
    case CKO_CERTIFICATE:
        return 2;
    }
    return 3;
}

/* Stable ordering (insertion sort keeps the token's order per class). */
static void sort_objs(UKP11_OBJ **objs, size_t n)
{
    size_t i, j;

    for (i = 1; i < n; i++) {
        UKP11_OBJ *o = objs[i];
        int r = class_rank(ukp11_obj_class(o));

        for (j = i; j > 0 && class_rank(ukp11_obj_class(objs[j - 1])) > r; j--)
            objs[j] = objs[j - 1];
        objs[j] = o;
    }
}

static int find_objects(UKPROV_STORE *s, OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg)
{
    UKPROV_PIN_ARG pa = { pw_cb, pw_cbarg };
    ukp11_pin_fn *pin = pw_cb != NULL ? ukprov_pin_cb : NULL;
    CK_OBJECT_CLASS cls = ukp11_uri_class(s->uri);

    if (cls == (CK_OBJECT_CLASS)-1) {
        switch (s->expect) {
        case OSSL_STORE_INFO_PKEY:
            cls = CKO_PRIVATE_KEY;
            break;
        case OSSL_STORE_INFO_PUBKEY:
            cls = CKO_PUBLIC_KEY;
            break;
        case OSSL_STORE_INFO_CERT:
            cls = CKO_CERTIFICATE;
            break;
        }
    }
    if (ukp11_find(s->prov->p11, s->uri, cls, pin, &pa, &s->objs, &s->n) != CKR_OK)
        return 0;
    if (s->n == 0 && cls == CKO_PUBLIC_KEY && ukp11_uri_class(s->uri) == (CK_OBJECT_CLASS)-1) {
        /* Tokens may keep only the private key (and a certificate): its
         * public half is still a public key. */
        ukp11_objs_free(s->objs, s->n);
        s->objs = NULL;
        if (ukp11_find(s->prov->p11, s->uri, CKO_PRIVATE_KEY, pin, &pa, &s->objs, &s->n)
            != CKR_OK)
            return 0;
        s->keys_as_public = 1;
    }
    sort_objs(s->objs, s->n);
    uk_dbg(UK_DBG_PROVIDER, "store %s: %zu objects", s->redacted ? s->redacted : "?", s->n);
    if (s->n == 0) {
        UK_raise(s->prov, UK_R_OBJECT_NOT_FOUND, "no %s matches %s",
                 cls == CKO_PRIVATE_KEY ? "private key"
                 : cls == CKO_PUBLIC_KEY ? "public key"
                 : cls == CKO_CERTIFICATE ? "certificate" : "object",
                 s->redacted != NULL ? s->redacted : "the URI");
        return 0;
    }
    return 1;
}

/* A certificate in the queue with the same CKA_ID as |key|. */
static const unsigned char *queued_cert(UKPROV_STORE *s, const UKP11_OBJ *key,
                                        size_t *len)
{
    size_t idlen, cidlen, i;
    const unsigned char *id = ukp11_obj_attr(key, CKA_ID, &idlen), *cid;

    if (id == NULL)
        return NULL;
    for (i = 0; i < s->n; i++) {
        if (ukp11_obj_class(s->objs[i]) != CKO_CERTIFICATE
            || ukp11_obj_token(s->objs[i]) != ukp11_obj_token(key))
            continue;
        cid = ukp11_obj_attr(s->objs[i], CKA_ID, &cidlen);
        if (cid != NULL && cidlen == idlen && memcmp(cid, id, idlen) == 0)
            return ukp11_obj_attr(s->objs[i], CKA_VALUE, len);
    }
    return NULL;
}

static int pass_key(UKPROV_STORE *s, UKP11_OBJ *obj, OSSL_CALLBACK *object_cb,
                    void *object_cbarg)
{
    CK_KEY_TYPE kt = ukp11_obj_key_type(obj);
    const unsigned char *cert = NULL;
    unsigned char *owned = NULL;
    size_t certlen = 0;
    UKPROV_KEY *key;
    OSSL_PARAM params[4];
    int objtype = OSSL_OBJECT_PKEY, ok;

    if (kt == CKK_EC || kt == CKK_EC_EDWARDS) {
        if (ukp11_obj_class(obj) == CKO_PRIVATE_KEY
            && ukp11_obj_attr(obj, CKA_EC_POINT, NULL) == NULL
            && (cert = queued_cert(s, obj, &certlen)) == NULL)
            cert = owned = ukprov_find_cert_for(s->prov, obj, &certlen);
    }
    key = ukprov_key_from_obj(s->prov, obj, cert, certlen);
    free(owned);
    if (key == NULL)
        return 0;
    if (s->keys_as_public && key->priv != NULL) {
        ukp11_obj_free(key->priv);
        key->priv = NULL;
    }
    params[0] = OSSL_PARAM_construct_int(OSSL_OBJECT_PARAM_TYPE, &objtype);
    params[1] = OSSL_PARAM_construct_utf8_string(OSSL_OBJECT_PARAM_DATA_TYPE,
                                                 (char *)ukprov_keytype_name(key->type),
                                                 0);
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_OBJECT_PARAM_REFERENCE,
                                                  &key, sizeof(key));
    params[3] = OSSL_PARAM_construct_end();
    ok = object_cb(params, object_cbarg);
    /* The keymgmt took its own reference. */
    ukprov_key_free(key);
    return ok;
}

static int pass_cert(UKPROV_STORE *s, UKP11_OBJ *obj, OSSL_CALLBACK *object_cb,
                     void *object_cbarg)
{
    size_t len = 0;
    const unsigned char *der = ukp11_obj_attr(obj, CKA_VALUE, &len);
    OSSL_PARAM params[3];
    int objtype = OSSL_OBJECT_CERT;

    if (der == NULL || len == 0) {
        UK_raise(s->prov, UK_R_BAD_KEY, "certificate object has no CKA_VALUE");
        return 0;
    }
    params[0] = OSSL_PARAM_construct_int(OSSL_OBJECT_PARAM_TYPE, &objtype);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_OBJECT_PARAM_DATA,
                                                  (void *)der, len);
    params[2] = OSSL_PARAM_construct_end();
    return object_cb(params, object_cbarg);
}

static int ukprov_store_load(void *loaderctx, OSSL_CALLBACK *object_cb,
                             void *object_cbarg, OSSL_PASSPHRASE_CALLBACK *pw_cb,
                             void *pw_cbarg)
{
    UKPROV_STORE *s = loaderctx;

    if (s == NULL)
        return 0;
    if (!s->loaded) {
        s->loaded = 1;
        if (!find_objects(s, pw_cb, pw_cbarg)) {
            s->pos = s->n; /* eof from now on */
            return 0;
        }
    }
    while (s->pos < s->n) {
        UKP11_OBJ *obj = s->objs[s->pos++];
        CK_OBJECT_CLASS cls = ukp11_obj_class(obj);
        CK_KEY_TYPE kt;

        if (cls == CKO_CERTIFICATE) {
            if (s->expect != 0 && s->expect != OSSL_STORE_INFO_CERT)
                continue;
            return pass_cert(s, obj, object_cb, object_cbarg);
        }
        if (cls != CKO_PRIVATE_KEY && cls != CKO_PUBLIC_KEY) {
            uk_dbg(UK_DBG_PROVIDER, "store: skipping object of class %lu",
                   (unsigned long)cls);
            continue;
        }
        kt = ukp11_obj_key_type(obj);
        if (kt != CKK_RSA && kt != CKK_EC && kt != CKK_EC_EDWARDS) {
            uk_dbg(UK_DBG_PROVIDER, "store: skipping key of unsupported type 0x%lx",
                   (unsigned long)kt);
            continue;
        }
        return pass_key(s, obj, object_cb, object_cbarg);
    }
    return 1;
}

static int ukprov_store_eof(void *loaderctx)
{
    UKPROV_STORE *s = loaderctx;

    return s == NULL || (s->loaded && s->pos >= s->n);
}

static int ukprov_store_close(void *loaderctx)
{
    UKPROV_STORE *s = loaderctx;

    if (s == NULL)
        return 1;
    ukp11_objs_free(s->objs, s->n);
    ukp11_uri_free(s->uri);
    free(s->redacted);
    free(s);
    return 1;
}

const OSSL_DISPATCH ukprov_store_functions[] = {
    { OSSL_FUNC_STORE_OPEN, (void (*)(void))ukprov_store_open },
    { OSSL_FUNC_STORE_ATTACH, (void (*)(void))ukprov_store_attach },
    { OSSL_FUNC_STORE_SETTABLE_CTX_PARAMS,
      (void (*)(void))ukprov_store_settable_ctx_params },
    { OSSL_FUNC_STORE_SET_CTX_PARAMS, (void (*)(void))ukprov_store_set_ctx_params },
    { OSSL_FUNC_STORE_LOAD, (void (*)(void))ukprov_store_load },
    { OSSL_FUNC_STORE_EOF, (void (*)(void))ukprov_store_eof },
    { OSSL_FUNC_STORE_CLOSE, (void (*)(void))ukprov_store_close },
    { 0, NULL }
};
