/* uakey pkcs11/: key-pair generation inside the token with templates that
 * keep the private key in it (sensitive, not extractable, private). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "ukp11_int.h"

#define UKP11_GEN_ID_LEN 16

/* 1 if a private key with this label exists, 0 if not, -1 on error. */
static int label_taken(UKP11_TOKEN *tok, CK_SESSION_HANDLE sess, const char *label)
{
    CK_OBJECT_CLASS priv = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE tmpl[2] = {
        { CKA_CLASS, &priv, sizeof(priv) },
        { CKA_LABEL, (void *)label, strlen(label) },
    };
    CK_OBJECT_HANDLE *hs = NULL;
    size_t n = 0;
    CK_RV rv;

    rv = ukp11_find_handles(tok, sess, tmpl, 2, &hs, &n);
    free(hs);
    if (rv != CKR_OK) {
        ukp11_raise(tok->ctx, UK_R_KEYGEN_FAILED, "C_FindObjects(token '%s'): %s (0x%lx)",
                    tok->info.label, ukp11_rv_name(rv), rv);
        return -1;
    }
    return n > 0;
}

CK_RV ukp11_generate(UKP11_CTX *ctx, const UKP11_URI *uri, const UKP11_KEYGEN *p,
                     ukp11_pin_fn *pin_cb, void *pin_arg, UKP11_OBJ **priv)
{
    static const unsigned char f4[] = { 0x01, 0x00, 0x01 };
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_ULONG bits;
    CK_ATTRIBUTE pub_t[10], priv_t[10];
    CK_ULONG npub = 0, npriv = 0;
    CK_MECHANISM mech = { 0, NULL, 0 };
    unsigned char rid[UKP11_GEN_ID_LEN];
    const unsigned char *id;
    size_t idlen;
    const char *label;
    UKP11_TOKEN **toks = NULL, *tok;
    size_t ntoks = 0;
    CK_OBJECT_HANDLE hpub = CK_INVALID_HANDLE, hpriv = CK_INVALID_HANDLE;
    UKP11_SESS s;
    UKP11_OBJ *obj = NULL;
    int taken;
    CK_RV rv;

#define ADD(t, n, typ, ptr, len)        \
    do {                                \
        t[n].type = (typ);              \
        t[n].pValue = (void *)(ptr);    \
        t[n].ulValueLen = (CK_ULONG)(len); \
        n++;                            \
    } while (0)

    *priv = NULL;
    label = ukp11_uri_label(uri);
    if (label == NULL || *label == '\0') {
        ukp11_raise(ctx, UK_R_BAD_PARAM, "key generation needs object=<label> in the URI");
        return CKR_ARGUMENTS_BAD;
    }
    switch (p->type) {
    case CKK_RSA:
        mech.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
        if (p->bits < 1024) {
            ukp11_raise(ctx, UK_R_BAD_PARAM, "RSA key size %lu is too small", p->bits);
            return CKR_ARGUMENTS_BAD;
        }
        break;
    case CKK_EC:
        mech.mechanism = CKM_EC_KEY_PAIR_GEN;
        break;
    case CKK_EC_EDWARDS:
        mech.mechanism = CKM_EC_EDWARDS_KEY_PAIR_GEN;
        break;
    default:
        ukp11_raise(ctx, UK_R_NOT_SUPPORTED, "cannot generate keys of type 0x%lx", p->type);
        return CKR_ARGUMENTS_BAD;
    }
    if (p->type != CKK_RSA && (p->ec_params == NULL || p->ec_params_len == 0)) {
        ukp11_raise(ctx, UK_R_BAD_PARAM, "EC key generation needs the curve parameters");
        return CKR_ARGUMENTS_BAD;
    }

    rv = ukp11_tokens_match(ctx, uri, &toks, &ntoks);
    if (rv != CKR_OK)
        return rv;
    if (ntoks != 1) {
        if (ntoks == 0)
            ukp11_raise(ctx, UK_R_TOKEN_NOT_FOUND, "no token matches %s", uri->redacted);
        else
            ukp11_raise(ctx, UK_R_KEYGEN_FAILED,
                        "%zu tokens match %s; key generation needs exactly one", ntoks,
                        uri->redacted);
        free(toks);
        return CKR_TOKEN_NOT_PRESENT;
    }
    tok = toks[0];
    free(toks);
    rv = ukp11_token_login(tok, uri, pin_cb, pin_arg, 1);
    if (rv != CKR_OK)
        return rv;

    id = ukp11_uri_id(uri, &idlen);
    if (id == NULL) {
        if (RAND_bytes(rid, sizeof(rid)) != 1) {
            ukp11_raise(ctx, UK_R_KEYGEN_FAILED, "cannot get random bytes for CKA_ID");
            return CKR_FUNCTION_FAILED;
        }
        id = rid;
        idlen = sizeof(rid);
    }

    ADD(pub_t, npub, CKA_TOKEN, &yes, sizeof(yes));
    ADD(pub_t, npub, CKA_PRIVATE, &no, sizeof(no));
    ADD(pub_t, npub, CKA_VERIFY, &yes, sizeof(yes));
    ADD(pub_t, npub, CKA_LABEL, label, strlen(label));
    ADD(pub_t, npub, CKA_ID, id, idlen);
    ADD(priv_t, npriv, CKA_TOKEN, &yes, sizeof(yes));
    ADD(priv_t, npriv, CKA_PRIVATE, &yes, sizeof(yes));
    ADD(priv_t, npriv, CKA_SENSITIVE, &yes, sizeof(yes));
    ADD(priv_t, npriv, CKA_EXTRACTABLE, &no, sizeof(no));
    ADD(priv_t, npriv, CKA_SIGN, &yes, sizeof(yes));
    ADD(priv_t, npriv, CKA_LABEL, label, strlen(label));
    ADD(priv_t, npriv, CKA_ID, id, idlen);
    if (p->type == CKK_RSA) {
        bits = p->bits;
        ADD(pub_t, npub, CKA_ENCRYPT, &yes, sizeof(yes));
        ADD(pub_t, npub, CKA_MODULUS_BITS, &bits, sizeof(bits));
        if (p->pubexp != NULL && p->pubexp_len > 0)
            ADD(pub_t, npub, CKA_PUBLIC_EXPONENT, p->pubexp, p->pubexp_len);
        else
            ADD(pub_t, npub, CKA_PUBLIC_EXPONENT, f4, sizeof(f4));
        ADD(priv_t, npriv, CKA_DECRYPT, &yes, sizeof(yes));
    } else {
        ADD(pub_t, npub, CKA_EC_PARAMS, p->ec_params, p->ec_params_len);
        if (p->type == CKK_EC)
            ADD(priv_t, npriv, CKA_DERIVE, &yes, sizeof(yes));
    }
#undef ADD

    rv = ukp11_session_get(tok, &s);
    if (rv != CKR_OK)
        return rv;
    taken = label_taken(tok, s.h, label);
    if (taken != 0) {
        ukp11_session_put(tok, &s, CKR_OK);
        if (taken > 0)
            ukp11_raise(ctx, UK_R_KEYGEN_FAILED,
                        "token '%s' already has a private key labelled '%s'",
                        tok->info.label, label);
        return CKR_FUNCTION_FAILED;
    }
    ukp11_dbg("generating %s key '%s' on token '%s'", ukp11_mech_name(mech.mechanism),
              label, tok->info.label);
    rv = UKP11_CALL(tok->mod->fl, GenerateKeyPair, s.h, &mech, pub_t, npub, priv_t, npriv,
                    &hpub, &hpriv);
    if (rv != CKR_OK) {
        ukp11_session_put(tok, &s, rv);
        ukp11_raise(ctx, UK_R_KEYGEN_FAILED, "C_GenerateKeyPair(token '%s', %s): %s (0x%lx)",
                    tok->info.label, ukp11_mech_name(mech.mechanism), ukp11_rv_name(rv),
                    rv);
        return rv;
    }
    /* The EC point comes from the public key just generated. */
    rv = ukp11_obj_load(tok, s.h, hpriv, hpub, &obj);
    ukp11_session_put(tok, &s, rv);
    if (rv != CKR_OK) {
        ukp11_raise(ctx, UK_R_KEYGEN_FAILED,
                    "C_GetAttributeValue(token '%s', new key '%s'): %s (0x%lx)",
                    tok->info.label, label, ukp11_rv_name(rv), rv);
        return rv;
    }
    *priv = obj;
    return CKR_OK;
}
