/* uakey pkcs11/: finding objects and caching their public attributes.
 *
 * An object remembers its handle together with the token generation it
 * was found in.  After a fork the generation moves on and the handle is
 * found again by class + CKA_ID + label. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ukp11_int.h"

static const CK_ATTRIBUTE_TYPE cached_types[UKP11_NCACHED] = {
    CKA_LABEL, CKA_ID, CKA_MODULUS, CKA_PUBLIC_EXPONENT,
    CKA_EC_PARAMS, CKA_EC_POINT, CKA_VALUE, CKA_ALWAYS_AUTHENTICATE,
};

/* Which cached attributes make sense for an object of this kind. */
static int wanted(CK_OBJECT_CLASS cls, CK_KEY_TYPE kt, CK_ATTRIBUTE_TYPE t)
{
    int rsa = kt == CKK_RSA;
    int ec = kt == CKK_EC || kt == CKK_EC_EDWARDS;
    int key = cls == CKO_PRIVATE_KEY || cls == CKO_PUBLIC_KEY;

    switch (t) {
    case CKA_LABEL:
    case CKA_ID:
        return 1;
    case CKA_MODULUS:
    case CKA_PUBLIC_EXPONENT:
        return key && rsa;
    case CKA_EC_PARAMS:
    case CKA_EC_POINT:
        return key && ec;
    case CKA_VALUE:
        return cls == CKO_CERTIFICATE;
    case CKA_ALWAYS_AUTHENTICATE:
        return cls == CKO_PRIVATE_KEY;
    default:
        return 0;
    }
}

/* Read one attribute with the usual two passes.  Returns CKR_OK with
 * *val NULL when the object does not have it (or keeps it secret). */
static CK_RV read_attr(UKP11_TOKEN *tok, CK_SESSION_HANDLE sess, CK_OBJECT_HANDLE h,
                       CK_ATTRIBUTE_TYPE t, unsigned char **val, size_t *len)
{
    CK_FUNCTION_LIST *fl = tok->mod->fl;
    CK_ATTRIBUTE a = { t, NULL, 0 };
    CK_RV rv;

    *val = NULL;
    *len = 0;
    rv = UKP11_CALL(fl, GetAttributeValue, sess, h, &a, 1);
    if (rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_ATTRIBUTE_SENSITIVE
        || (rv == CKR_OK && a.ulValueLen == CK_UNAVAILABLE_INFORMATION))
        return CKR_OK;
    if (rv != CKR_OK)
        return rv;
    a.pValue = malloc(a.ulValueLen > 0 ? a.ulValueLen : 1);
    if (a.pValue == NULL)
        return CKR_HOST_MEMORY;
    rv = UKP11_CALL(fl, GetAttributeValue, sess, h, &a, 1);
    if (rv != CKR_OK) {
        free(a.pValue);
        return rv;
    }
    *val = a.pValue;
    *len = a.ulValueLen;
    return CKR_OK;
}

static struct ukp11_attr *obj_slot(UKP11_OBJ *obj, CK_ATTRIBUTE_TYPE t)
{
    size_t i;

    for (i = 0; i < UKP11_NCACHED; i++) {
        if (obj->attrs[i].type == t)
            return &obj->attrs[i];
    }
    return NULL;
}

CK_RV ukp11_find_handles(UKP11_TOKEN *tok, CK_SESSION_HANDLE sess,
                         CK_ATTRIBUTE *tmpl, CK_ULONG ntmpl,
                         CK_OBJECT_HANDLE **hs, size_t *n)
{
    CK_FUNCTION_LIST *fl = tok->mod->fl;
    CK_OBJECT_HANDLE batch[64], *all = NULL, *grown;
    CK_ULONG got;
    size_t count = 0;
    CK_RV rv, frv;

    *hs = NULL;
    *n = 0;
    rv = UKP11_CALL(fl, FindObjectsInit, sess, tmpl, ntmpl);
    if (rv != CKR_OK)
        return rv;
    for (;;) {
        rv = UKP11_CALL(fl, FindObjects, sess, batch, 64, &got);
        if (rv != CKR_OK || got == 0)
            break;
        grown = realloc(all, (count + got) * sizeof(*all));
        if (grown == NULL) {
            rv = CKR_HOST_MEMORY;
            break;
        }
        all = grown;
        memcpy(all + count, batch, got * sizeof(*all));
        count += got;
    }
    frv = UKP11_CALL(fl, FindObjectsFinal, sess);
    if (rv == CKR_OK)
        rv = frv;
    if (rv != CKR_OK) {
        free(all);
        return rv;
    }
    *hs = all;
    *n = count;
    return CKR_OK;
}

/* For a private EC key without CKA_EC_POINT: take the point from the public
 * key with the same CKA_ID. */
static void ec_point_from_public(UKP11_OBJ *obj, CK_SESSION_HANDLE sess,
                                 CK_OBJECT_HANDLE pubh)
{
    struct ukp11_attr *id = obj_slot(obj, CKA_ID), *pt = obj_slot(obj, CKA_EC_POINT);
    CK_OBJECT_CLASS pub = CKO_PUBLIC_KEY;
    CK_ATTRIBUTE tmpl[2] = {
        { CKA_CLASS, &pub, sizeof(pub) },
        { CKA_ID, NULL, 0 },
    };
    CK_OBJECT_HANDLE *hs = NULL;
    size_t n = 0;

    if (id == NULL || !id->present || pt == NULL || pt->present)
        return;
    tmpl[1].pValue = id->val;
    tmpl[1].ulValueLen = id->len;
    if (pubh != CK_INVALID_HANDLE) {
        if (read_attr(obj->tok, sess, pubh, CKA_EC_POINT, &pt->val, &pt->len) == CKR_OK
            && pt->val != NULL)
            pt->present = 1;
    } else if (ukp11_find_handles(obj->tok, sess, tmpl, 2, &hs, &n) == CKR_OK && n > 0) {
        if (read_attr(obj->tok, sess, hs[0], CKA_EC_POINT, &pt->val, &pt->len) == CKR_OK
            && pt->val != NULL)
            pt->present = 1;
    }
    free(hs);
}

CK_RV ukp11_obj_load(UKP11_TOKEN *tok, CK_SESSION_HANDLE sess,
                     CK_OBJECT_HANDLE h, CK_OBJECT_HANDLE pub, UKP11_OBJ **out)
{
    CK_FUNCTION_LIST *fl = tok->mod->fl;
    CK_OBJECT_CLASS cls = (CK_OBJECT_CLASS)-1;
    CK_KEY_TYPE kt = (CK_KEY_TYPE)-1;
    CK_ATTRIBUTE a[2] = {
        { CKA_CLASS, &cls, sizeof(cls) },
        { CKA_KEY_TYPE, &kt, sizeof(kt) },
    };
    UKP11_OBJ *obj;
    size_t i;
    CK_RV rv;

    *out = NULL;
    rv = UKP11_CALL(fl, GetAttributeValue, sess, h, a, 1);
    if (rv != CKR_OK)
        return rv;
    if (cls == CKO_PRIVATE_KEY || cls == CKO_PUBLIC_KEY || cls == CKO_SECRET_KEY) {
        rv = UKP11_CALL(fl, GetAttributeValue, sess, h, &a[1], 1);
        if (rv != CKR_OK)
            return rv;
    }
    obj = calloc(1, sizeof(*obj));
    if (obj == NULL)
        return CKR_HOST_MEMORY;
    atomic_init(&obj->refs, 1);
    obj->tok = tok;
    obj->handle = h;
    pthread_mutex_lock(&tok->lock);
    obj->gen = tok->gen;
    pthread_mutex_unlock(&tok->lock);
    obj->cls = cls;
    obj->ktype = kt;
    for (i = 0; i < UKP11_NCACHED; i++) {
        struct ukp11_attr *at = &obj->attrs[i];

        at->type = cached_types[i];
        if (!wanted(cls, kt, at->type))
            continue;
        rv = read_attr(tok, sess, h, at->type, &at->val, &at->len);
        if (rv != CKR_OK) {
            ukp11_obj_free(obj);
            return rv;
        }
        at->present = at->val != NULL;
    }
    if (cls == CKO_PRIVATE_KEY && (kt == CKK_EC || kt == CKK_EC_EDWARDS))
        ec_point_from_public(obj, sess, pub);
    *out = obj;
    return CKR_OK;
}

CK_RV ukp11_obj_handle(UKP11_OBJ *obj, CK_SESSION_HANDLE sess, CK_OBJECT_HANDLE *h)
{
    UKP11_TOKEN *tok = obj->tok;
    struct ukp11_attr *id = obj_slot(obj, CKA_ID), *label = obj_slot(obj, CKA_LABEL);
    CK_ATTRIBUTE tmpl[3];
    CK_ULONG nt = 0;
    CK_OBJECT_HANDLE *hs = NULL;
    unsigned long gen;
    size_t n = 0;
    CK_RV rv;

    pthread_mutex_lock(&tok->lock);
    gen = tok->gen;
    if (obj->gen == gen) {
        *h = obj->handle;
        pthread_mutex_unlock(&tok->lock);
        return CKR_OK;
    }
    pthread_mutex_unlock(&tok->lock);

    ukp11_dbg("re-finding object on token '%s' after reset", tok->info.label);
    if (obj->cls == CKO_PRIVATE_KEY) {
        rv = ukp11_token_login(tok, NULL, NULL, NULL, 1);
        if (rv != CKR_OK)
            return rv;
    }
    tmpl[nt].type = CKA_CLASS;
    tmpl[nt].pValue = &obj->cls;
    tmpl[nt++].ulValueLen = sizeof(obj->cls);
    if (id != NULL && id->present) {
        tmpl[nt].type = CKA_ID;
        tmpl[nt].pValue = id->val;
        tmpl[nt++].ulValueLen = id->len;
    }
    if (label != NULL && label->present) {
        tmpl[nt].type = CKA_LABEL;
        tmpl[nt].pValue = label->val;
        tmpl[nt++].ulValueLen = label->len;
    }
    rv = ukp11_find_handles(tok, sess, tmpl, nt, &hs, &n);
    if (rv != CKR_OK) {
        ukp11_raise(tok->ctx, UK_R_PKCS11_CALL,
                    "C_FindObjects(token '%s', re-find after fork): %s (0x%lx)",
                    tok->info.label, ukp11_rv_name(rv), rv);
        return rv;
    }
    if (n == 0) {
        free(hs);
        ukp11_raise(tok->ctx, UK_R_OBJECT_NOT_FOUND,
                    "object '%s' is gone from token '%s'",
                    label != NULL && label->present ? (char *)label->val : "",
                    tok->info.label);
        return CKR_OBJECT_HANDLE_INVALID;
    }
    pthread_mutex_lock(&tok->lock);
    obj->handle = hs[0];
    obj->gen = gen;
    *h = hs[0];
    pthread_mutex_unlock(&tok->lock);
    free(hs);
    return CKR_OK;
}

/* Which classes a find with class |cls| accepts. */
static int class_ok(CK_OBJECT_CLASS want, CK_OBJECT_CLASS have)
{
    if (want != (CK_OBJECT_CLASS)-1)
        return want == have;
    return have == CKO_PRIVATE_KEY || have == CKO_PUBLIC_KEY
           || have == CKO_CERTIFICATE || have == CKO_SECRET_KEY;
}

static CK_RV find_on_token(UKP11_TOKEN *tok, const UKP11_URI *uri, CK_OBJECT_CLASS cls,
                           UKP11_OBJ ***objs, size_t *n)
{
    CK_ATTRIBUTE *uattrs, tmpl[8];
    CK_ULONG nu = 0, nt = 0, i;
    CK_OBJECT_HANDLE *hs = NULL;
    size_t nh = 0, k;
    UKP11_OBJ **grown;
    UKP11_SESS s;
    CK_RV rv;

    uattrs = p11_kit_uri_get_attributes(uri->uri, &nu);
    for (i = 0; i < nu && nt < 7; i++) {
        if (uattrs[i].type == CKA_CLASS)
            continue;
        tmpl[nt++] = uattrs[i];
    }
    if (cls != (CK_OBJECT_CLASS)-1) {
        tmpl[nt].type = CKA_CLASS;
        tmpl[nt].pValue = &cls;
        tmpl[nt++].ulValueLen = sizeof(cls);
    }
    rv = ukp11_session_get(tok, &s);
    if (rv != CKR_OK)
        return rv;
    rv = ukp11_find_handles(tok, s.h, tmpl, nt, &hs, &nh);
    if (rv != CKR_OK) {
        ukp11_session_put(tok, &s, rv);
        ukp11_raise(tok->ctx, UK_R_PKCS11_CALL, "C_FindObjects(token '%s'): %s (0x%lx)",
                    tok->info.label, ukp11_rv_name(rv), rv);
        return rv;
    }
    for (k = 0; k < nh; k++) {
        UKP11_OBJ *obj;

        rv = ukp11_obj_load(tok, s.h, hs[k], CK_INVALID_HANDLE, &obj);
        if (rv == CKR_OBJECT_HANDLE_INVALID) {
            continue; /* deleted meanwhile */
        }
        if (rv != CKR_OK) {
            ukp11_raise(tok->ctx, UK_R_PKCS11_CALL,
                        "C_GetAttributeValue(token '%s', object %lu): %s (0x%lx)",
                        tok->info.label, hs[k], ukp11_rv_name(rv), rv);
            break;
        }
        if (!class_ok(cls, obj->cls)) {
            ukp11_obj_free(obj);
            continue;
        }
        grown = realloc(*objs, (*n + 1) * sizeof(**objs));
        if (grown == NULL) {
            ukp11_obj_free(obj);
            rv = CKR_HOST_MEMORY;
            ukp11_raise(tok->ctx, UK_R_MALLOC, "out of memory finding objects");
            break;
        }
        *objs = grown;
        (*objs)[(*n)++] = obj;
    }
    ukp11_session_put(tok, &s, rv);
    free(hs);
    return rv;
}

CK_RV ukp11_find(UKP11_CTX *ctx, const UKP11_URI *uri, CK_OBJECT_CLASS cls,
                 ukp11_pin_fn *pin_cb, void *pin_arg, UKP11_OBJ ***objs,
                 size_t *n)
{
    UKP11_TOKEN **toks = NULL;
    size_t ntoks = 0, i;
    CK_RV rv;

    *objs = NULL;
    *n = 0;
    if (uri == NULL) {
        ukp11_raise(ctx, UK_R_BAD_URI, "no pkcs11 URI given");
        return CKR_ARGUMENTS_BAD;
    }
    if (cls == (CK_OBJECT_CLASS)-1)
        cls = uri->cls;
    rv = ukp11_tokens_match(ctx, uri, &toks, &ntoks);
    if (rv != CKR_OK)
        return rv;
    if (ntoks == 0) {
        CK_TOKEN_INFO *want = p11_kit_uri_get_token_info(uri->uri);
        char label[33];

        ukp11_trim(label, sizeof(label), want->label, sizeof(want->label));
        if (label[0] != '\0')
            ukp11_raise(ctx, UK_R_TOKEN_NOT_FOUND, "no token labelled '%s' matches %s",
                        label, uri->redacted);
        else
            ukp11_raise(ctx, UK_R_TOKEN_NOT_FOUND, "no token matches %s", uri->redacted);
        free(toks);
        return CKR_TOKEN_NOT_PRESENT;
    }
    for (i = 0; i < ntoks && rv == CKR_OK; i++) {
        if (cls == CKO_PRIVATE_KEY || cls == (CK_OBJECT_CLASS)-1) {
            rv = ukp11_token_login(toks[i], uri, pin_cb, pin_arg, cls == CKO_PRIVATE_KEY);
            if (rv != CKR_OK)
                break;
        }
        rv = find_on_token(toks[i], uri, cls, objs, n);
    }
    free(toks);
    if (rv != CKR_OK) {
        ukp11_objs_free(*objs, *n);
        *objs = NULL;
        *n = 0;
    }
    return rv;
}

void ukp11_objs_free(UKP11_OBJ **objs, size_t n)
{
    size_t i;

    if (objs == NULL)
        return;
    for (i = 0; i < n; i++)
        ukp11_obj_free(objs[i]);
    free(objs);
}

UKP11_OBJ *ukp11_obj_ref(UKP11_OBJ *obj)
{
    if (obj != NULL)
        atomic_fetch_add(&obj->refs, 1);
    return obj;
}

void ukp11_obj_free(UKP11_OBJ *obj)
{
    size_t i;

    if (obj == NULL || atomic_fetch_sub(&obj->refs, 1) != 1)
        return;
    for (i = 0; i < UKP11_NCACHED; i++)
        free(obj->attrs[i].val);
    free(obj);
}

CK_OBJECT_CLASS ukp11_obj_class(const UKP11_OBJ *obj)
{
    return obj->cls;
}

CK_KEY_TYPE ukp11_obj_key_type(const UKP11_OBJ *obj)
{
    if (obj->cls != CKO_PRIVATE_KEY && obj->cls != CKO_PUBLIC_KEY
        && obj->cls != CKO_SECRET_KEY)
        return (CK_KEY_TYPE)-1;
    return obj->ktype;
}

const unsigned char *ukp11_obj_attr(const UKP11_OBJ *obj, CK_ATTRIBUTE_TYPE t,
                                    size_t *len)
{
    size_t i;

    for (i = 0; i < UKP11_NCACHED; i++) {
        if (obj->attrs[i].type == t && obj->attrs[i].present) {
            if (len != NULL)
                *len = obj->attrs[i].len;
            return obj->attrs[i].val;
        }
    }
    if (len != NULL)
        *len = 0;
    return NULL;
}

size_t ukp11_obj_field_size(const UKP11_OBJ *obj)
{
    size_t len, hdr;
    const unsigned char *p = ukp11_obj_attr(obj, CKA_EC_POINT, &len);

    if (p == NULL || len < 2 || p[0] != 0x04)
        return 0;
    /* DER OCTET STRING: 04 len [len bytes...] content */
    if (p[1] < 0x80)
        hdr = 2;
    else
        hdr = 2 + (p[1] & 0x7f);
    if (hdr >= len)
        return 0;
    p += hdr;
    len -= hdr;
    if (obj->ktype == CKK_EC_EDWARDS)
        return len; /* Ed25519: 32, Ed448: 57 */
    if (p[0] == 0x04 && len % 2 == 1)
        return (len - 1) / 2;
    return 0;
}

char *ukp11_obj_uri(const UKP11_OBJ *obj)
{
    P11KitUri *u = p11_kit_uri_new();
    CK_ATTRIBUTE a;
    char *text = NULL;
    size_t i;

    if (u == NULL)
        return NULL;
    pthread_mutex_lock(&obj->tok->lock);
    memcpy(p11_kit_uri_get_token_info(u), &obj->tok->raw, sizeof(obj->tok->raw));
    pthread_mutex_unlock(&obj->tok->lock);
    a.type = CKA_CLASS;
    a.pValue = (void *)&obj->cls;
    a.ulValueLen = sizeof(obj->cls);
    p11_kit_uri_set_attribute(u, &a);
    for (i = 0; i < UKP11_NCACHED; i++) {
        const struct ukp11_attr *at = &obj->attrs[i];

        if ((at->type == CKA_ID || at->type == CKA_LABEL) && at->present) {
            a.type = at->type;
            a.pValue = at->val;
            a.ulValueLen = at->len;
            p11_kit_uri_set_attribute(u, &a);
        }
    }
    if (p11_kit_uri_format(u, P11_KIT_URI_FOR_OBJECT_ON_TOKEN, &text) != P11_KIT_URI_OK)
        text = NULL;
    p11_kit_uri_free(u);
    return text;
}

UKP11_TOKEN *ukp11_obj_token(const UKP11_OBJ *obj)
{
    return obj->tok;
}

int ukp11_token_has_mech(UKP11_TOKEN *tok, CK_MECHANISM_TYPE m)
{
    CK_FUNCTION_LIST *fl;
    CK_ULONG i, n = 0;
    CK_MECHANISM_TYPE *list;
    int found = 0;

    if (ukp11_module_ensure(tok->ctx, tok->mod) != CKR_OK)
        return 0;
    fl = tok->mod->fl;
    pthread_mutex_lock(&tok->lock);
    if (!tok->mechs_loaded) {
        if (UKP11_CALL(fl, GetMechanismList, tok->slot, NULL, &n) == CKR_OK
            && (list = calloc(n > 0 ? n : 1, sizeof(*list))) != NULL) {
            if (UKP11_CALL(fl, GetMechanismList, tok->slot, list, &n) == CKR_OK) {
                tok->mechs = list;
                tok->nmechs = n;
                tok->mechs_loaded = 1;
            } else {
                free(list);
            }
        }
    }
    for (i = 0; i < tok->nmechs; i++) {
        if (tok->mechs[i] == m) {
            found = 1;
            break;
        }
    }
    pthread_mutex_unlock(&tok->lock);
    return found;
}
