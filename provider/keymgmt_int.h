/* uakey provider: code shared by the keymgmt tables (keymgmt_rsa.c,
 * keymgmt_ec.c); implemented in keymgmt_common.c. */
#ifndef UKPROV_KEYMGMT_INT_H
#define UKPROV_KEYMGMT_INT_H

#include "ukprov.h"

/* The DER (malloc'd) of a certificate on the same token with the same
 * CKA_ID as |obj|, or NULL (no error raised): the point source for EC keys
 * whose token keeps no CKA_EC_POINT and no public key object. */
unsigned char *ukprov_find_cert_for(UKPROV_CTX *ctx, const UKP11_OBJ *obj, size_t *len);

/* Dispatch bodies shared by every key type; |type| is the table's type. */
void *ukprov_km_new(void *provctx, UKPROV_KEYTYPE type);
void ukprov_km_free(void *keydata);
void *ukprov_km_load(const void *ref, size_t ref_sz, UKPROV_KEYTYPE type);
int ukprov_km_has(const void *keydata, int selection);
int ukprov_km_match(const void *k1, const void *k2, int selection);
/* Host algorithm name for |type| ("RSA", "RSA-PSS", "EC", "ED25519"). */
int ukprov_km_import(void *keydata, int selection, const OSSL_PARAM params[]);
int ukprov_km_export(void *keydata, int selection, OSSL_CALLBACK *cb, void *cbarg);
int ukprov_km_get_params(void *keydata, OSSL_PARAM params[]);
int ukprov_km_set_params(void *keydata, const OSSL_PARAM params[]);
int ukprov_km_gen_set_template(void *genctx, void *templ);
void *ukprov_km_dup(const void *keydata, int selection);

/* Key generation in the token. */
typedef struct {
    UKPROV_CTX *prov;
    UKPROV_KEYTYPE type;
    int selection;
    char *uri;               /* "pkcs11_uri" */
    size_t bits;             /* RSA */
    unsigned char e[16];     /* RSA public exponent, big-endian */
    size_t elen;             /* 0: default 65537 */
    char group[64];          /* EC curve as given ("P-256", "prime256v1") */
} UKPROV_GEN;

#define UKPROV_GEN_PARAM_URI "pkcs11_uri"

void *ukprov_km_gen_init(void *provctx, int selection, const OSSL_PARAM params[],
                         UKPROV_KEYTYPE type);
int ukprov_km_gen_set_params(void *genctx, const OSSL_PARAM params[]);
void *ukprov_km_gen(void *genctx, OSSL_CALLBACK *cb, void *cbarg);
void ukprov_km_gen_cleanup(void *genctx);

#endif
