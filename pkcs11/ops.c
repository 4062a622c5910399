/* uakey pkcs11/: private-key operations: sign, decrypt, ECDH.  Each call
 * borrows one session from the token's pool for its whole duration. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ukp11_int.h"

/* Length of the RSA modulus without leading zero bytes. */
static size_t modulus_size(const UKP11_OBJ *key)
{
    size_t len;
    const unsigned char *m = ukp11_obj_attr(key, CKA_MODULUS, &len);

    if (m == NULL)
        return 0;
    while (len > 0 && *m == 0) {
        m++;
        len--;
    }
    return len;
}

static size_t sig_size(const UKP11_OBJ *key)
{
    switch (key->ktype) {
    case CKK_RSA:
        return modulus_size(key);
    case CKK_EC:
    case CKK_EC_EDWARDS:
        return 2 * ukp11_obj_field_size(key);
    default:
        return 0;
    }
}

/* The session lost its login (token reset, logout by another process).
 * We keep no PIN, so we only say what happened and forget our state. */
static void lost_login(UKP11_TOKEN *tok)
{
    pthread_mutex_lock(&tok->login_lock);
    tok->logged_in = 0;
    pthread_mutex_unlock(&tok->login_lock);
}

static const char *rv_hint(CK_RV rv)
{
    if (rv == CKR_USER_NOT_LOGGED_IN)
        return ": the token is not logged in any more; load the key again with a PIN";
    return "";
}

/* Borrow a session and the key's current handle. */
static CK_RV op_begin(UKP11_OBJ *key, UKP11_SESS *s, CK_OBJECT_HANDLE *h)
{
    CK_RV rv;

    s->h = CK_INVALID_HANDLE;
    if (key->cls != CKO_PRIVATE_KEY) {
        ukp11_raise(key->tok->ctx, UK_R_WRONG_KEY_TYPE,
                    "object on token '%s' is not a private key", key->tok->info.label);
        return CKR_KEY_TYPE_INCONSISTENT;
    }
    rv = ukp11_session_get(key->tok, s);
    if (rv != CKR_OK)
        return rv;
    rv = ukp11_obj_handle(key, s->h, h);
    if (rv != CKR_OK)
        ukp11_session_put(key->tok, s, rv);
    return rv;
}

/* What to tell the pool about a session after a single-part operation:
 * when the Init call succeeded but the operation call failed (buffer too
 * small, or a device that failed mid-way without ending the operation),
 * the operation may still be active and would block the session's next
 * Init with CKR_OPERATION_ACTIVE: such a session is closed, not pooled. */
static CK_RV op_put_rv(int started, CK_RV rv)
{
    if (rv != CKR_OK && started)
        return UKP11_SESS_CLOSE;
    return rv;
}

CK_RV ukp11_sign(UKP11_OBJ *key, CK_MECHANISM *mech, const unsigned char *in,
                 size_t inlen, unsigned char *out, size_t *outlen)
{
    UKP11_TOKEN *tok = key->tok;
    CK_FUNCTION_LIST *fl;
    size_t need = sig_size(key);
    CK_OBJECT_HANDLE h;
    CK_ULONG len;
    const char *fname = "C_SignInit";
    int started = 0;
    UKP11_SESS s;
    CK_RV rv;

    if (out == NULL) {
        if (need == 0) {
            ukp11_raise(tok->ctx, UK_R_BAD_KEY,
                        "cannot tell the signature size of a key on token '%s'",
                        tok->info.label);
            return CKR_KEY_TYPE_INCONSISTENT;
        }
        *outlen = need;
        return CKR_OK;
    }
    if (need > 0 && *outlen < need) {
        ukp11_raise(tok->ctx, UK_R_BUFFER_TOO_SMALL,
                    "signature buffer is %zu bytes, should be at least %zu", *outlen, need);
        return CKR_BUFFER_TOO_SMALL;
    }
    rv = op_begin(key, &s, &h);
    if (rv != CKR_OK)
        return rv;
    fl = tok->mod->fl;
    rv = UKP11_CALL(fl, SignInit, s.h, mech, h);
    if (rv == CKR_OK) {
        fname = "C_Sign";
        started = 1;
        len = (CK_ULONG)*outlen;
        rv = UKP11_CALL(fl, Sign, s.h, (CK_BYTE *)in, (CK_ULONG)inlen, out, &len);
        if (rv == CKR_OK)
            *outlen = len;
    }
    ukp11_session_put(tok, &s, op_put_rv(started, rv));
    if (rv != CKR_OK) {
        if (rv == CKR_USER_NOT_LOGGED_IN)
            lost_login(tok);
        ukp11_raise(tok->ctx, UK_R_SIGN_FAILED, "%s(token '%s', %s): %s (0x%lx)%s", fname,
                    tok->info.label, ukp11_mech_name(mech->mechanism),
                    ukp11_rv_name(rv), rv, rv_hint(rv));
    }
    return rv;
}

/* Wipes a decryption scratch buffer; frees it when it came from the heap.
 * The caller's own buffer is left as it is (it holds the plaintext). */
static void tmp_free(unsigned char *tmp, unsigned char *out, unsigned char *stackbuf,
                     size_t cap)
{
    if (tmp == out)
        return;
    OPENSSL_cleanse(tmp, cap);
    if (tmp != stackbuf)
        free(tmp);
}

CK_RV ukp11_decrypt(UKP11_OBJ *key, CK_MECHANISM *mech, const unsigned char *in,
                    size_t inlen, unsigned char *out, size_t *outlen, int quiet)
{
    UKP11_TOKEN *tok = key->tok;
    CK_FUNCTION_LIST *fl;
    size_t cap = modulus_size(key);
    unsigned char stackbuf[1024], *tmp;
    CK_OBJECT_HANDLE h;
    CK_ULONG len;
    const char *fname = "C_DecryptInit";
    int started = 0;
    UKP11_SESS s;
    CK_RV rv;

    if (cap == 0)
        cap = inlen;
    if (out == NULL) {
        *outlen = cap;
        return CKR_OK;
    }
    /* Decrypt into a buffer of modulus size: the plaintext length is not
     * known in advance and a short buffer would leave the operation open.
     * The caller's buffer when it is that large (the usual case), else one
     * on the stack; the heap only for moduli above 8192 bits. */
    if (*outlen >= cap)
        tmp = out;
    else if (cap <= sizeof(stackbuf))
        tmp = stackbuf;
    else if ((tmp = malloc(cap)) == NULL) {
        ukp11_raise(tok->ctx, UK_R_MALLOC, "out of memory decrypting");
        return CKR_HOST_MEMORY;
    }
    rv = op_begin(key, &s, &h);
    if (rv != CKR_OK) {
        tmp_free(tmp, out, stackbuf, cap);
        return rv;
    }
    fl = tok->mod->fl;
    rv = UKP11_CALL(fl, DecryptInit, s.h, mech, h);
    if (rv == CKR_OK) {
        fname = "C_Decrypt";
        started = 1;
        len = (CK_ULONG)cap;
        rv = UKP11_CALL(fl, Decrypt, s.h, (CK_BYTE *)in, (CK_ULONG)inlen, tmp, &len);
    }
    ukp11_session_put(tok, &s, op_put_rv(started, rv));
    if (rv == CKR_OK) {
        if (len > *outlen) {
            tmp_free(tmp, out, stackbuf, cap);
            if (!quiet)
                ukp11_raise(tok->ctx, UK_R_BUFFER_TOO_SMALL,
                            "plaintext buffer is %zu bytes, need %lu", *outlen, len);
            return CKR_BUFFER_TOO_SMALL;
        }
        if (tmp != out)
            memcpy(out, tmp, len);
        *outlen = len;
    } else {
        if (rv == CKR_USER_NOT_LOGGED_IN)
            lost_login(tok);
        if (!quiet)
            ukp11_raise(tok->ctx, UK_R_DECRYPT_FAILED, "%s(token '%s', %s): %s (0x%lx)%s",
                        fname, tok->info.label, ukp11_mech_name(mech->mechanism),
                        ukp11_rv_name(rv), rv, rv_hint(rv));
    }
    tmp_free(tmp, out, stackbuf, cap);
    return rv;
}

/* Errors that may mean "wrong form of the peer point". */
static int form_error(CK_RV rv)
{
    return rv == CKR_MECHANISM_PARAM_INVALID || rv == CKR_ARGUMENTS_BAD
           || rv == CKR_DOMAIN_PARAMS_INVALID || rv == CKR_ATTRIBUTE_VALUE_INVALID
           || rv == CKR_DATA_INVALID || rv == CKR_PUBLIC_KEY_INVALID
           || rv == CKR_TEMPLATE_INCONSISTENT;
}

CK_RV ukp11_derive_ecdh(UKP11_OBJ *key, const unsigned char *peer, size_t peerlen,
                        unsigned char *out, size_t *outlen)
{
    UKP11_TOKEN *tok = key->tok;
    CK_FUNCTION_LIST *fl;
    CK_OBJECT_CLASS sclass = CKO_SECRET_KEY;
    CK_KEY_TYPE stype = CKK_GENERIC_SECRET;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_ULONG field = ukp11_obj_field_size(key);
    CK_ATTRIBUTE tmpl[] = {
        { CKA_CLASS, &sclass, sizeof(sclass) },
        { CKA_KEY_TYPE, &stype, sizeof(stype) },
        { CKA_VALUE_LEN, &field, sizeof(field) },
        { CKA_TOKEN, &no, sizeof(no) },
        { CKA_SENSITIVE, &no, sizeof(no) },
        { CKA_EXTRACTABLE, &yes, sizeof(yes) },
    };
    CK_ECDH1_DERIVE_PARAMS params;
    CK_MECHANISM mech = { CKM_ECDH1_DERIVE, &params, sizeof(params) };
    unsigned char der[4 + 256];
    size_t derlen = 0;
    CK_OBJECT_HANDLE h, secret = CK_INVALID_HANDLE;
    CK_ATTRIBUTE val;
    UKP11_SESS s;
    const char *fname = "C_DeriveKey";
    int der_first, pass;
    CK_RV rv;

    if (key->ktype != CKK_EC) {
        ukp11_raise(tok->ctx, UK_R_WRONG_KEY_TYPE, "ECDH needs an EC key (token '%s')",
                    tok->info.label);
        return CKR_KEY_TYPE_INCONSISTENT;
    }
    if (peer == NULL || peerlen < 3 || peerlen > 255 || peer[0] != 0x04) {
        ukp11_raise(tok->ctx, UK_R_BAD_PARAM,
                    "ECDH peer key must be an uncompressed point (got %zu bytes)", peerlen);
        return CKR_ARGUMENTS_BAD;
    }
    if (field == 0)
        field = (peerlen - 1) / 2;
    if (*outlen < field) {
        ukp11_raise(tok->ctx, UK_R_BUFFER_TOO_SMALL,
                    "shared secret buffer is %zu bytes, should be at least %lu", *outlen,
                    field);
        return CKR_BUFFER_TOO_SMALL;
    }
    /* DER OCTET STRING around the point, for tokens that want that form. */
    der[derlen++] = 0x04;
    if (peerlen >= 0x80)
        der[derlen++] = 0x81;
    der[derlen++] = (unsigned char)peerlen;
    memcpy(der + derlen, peer, peerlen);
    derlen += peerlen;

    rv = op_begin(key, &s, &h);
    if (rv != CKR_OK)
        return rv;
    fl = tok->mod->fl;
    der_first = tok->ecdh_der;
    for (pass = 0; pass < 2; pass++) {
        int use_der = pass == 0 ? der_first : !der_first;

        memset(&params, 0, sizeof(params));
        params.kdf = CKD_NULL;
        params.pPublicData = use_der ? der : (unsigned char *)peer;
        params.ulPublicDataLen = use_der ? derlen : peerlen;
        rv = UKP11_CALL(fl, DeriveKey, s.h, &mech, h, tmpl,
                        sizeof(tmpl) / sizeof(tmpl[0]), &secret);
        if (rv == CKR_OK) {
            tok->ecdh_der = use_der;
            break;
        }
        if (!form_error(rv))
            break;
        ukp11_dbg("C_DeriveKey with %s point: %s, trying the other form",
                  use_der ? "DER" : "raw", ukp11_rv_name(rv));
    }
    if (rv == CKR_OK) {
        val.type = CKA_VALUE;
        val.pValue = out;
        val.ulValueLen = (CK_ULONG)*outlen;
        rv = UKP11_CALL(fl, GetAttributeValue, s.h, secret, &val, 1);
        if (rv == CKR_OK)
            *outlen = val.ulValueLen;
        else
            fname = "C_GetAttributeValue";
        (void)UKP11_CALL(fl, DestroyObject, s.h, secret);
    }
    ukp11_session_put(tok, &s, rv);
    if (rv != CKR_OK) {
        if (rv == CKR_USER_NOT_LOGGED_IN)
            lost_login(tok);
        ukp11_raise(tok->ctx, UK_R_DERIVE_FAILED, "%s(token '%s', CKM_ECDH1_DERIVE): %s (0x%lx)%s",
                    fname, tok->info.label, ukp11_rv_name(rv), rv, rv_hint(rv));
    }
    return rv;
}
