/* uakey provider/: the digests uakey signs and decrypts with, as PKCS#11
 * and X.509 name them: the PKCS#11 hash mechanism and MGF1 generator, the
 * combined sign mechanisms, the DigestInfo prefix for CKM_RSA_PKCS and the
 * signature AlgorithmIdentifiers.  Pure data; tests/unit/test_digests.c
 * checks every byte against OpenSSL's own encoders. */
#include "config.h"

#include <openssl/evp.h>
#include <openssl/objects.h>

#include "ukprov.h"

/* DigestInfo prefixes (RFC 8017 section 9.2, note 1). */
static const unsigned char di_sha1[] = {
    0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05,
    0x00, 0x04, 0x14
};
static const unsigned char di_sha224[] = {
    0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
    0x04, 0x02, 0x04, 0x05, 0x00, 0x04, 0x1c
};
static const unsigned char di_sha256[] = {
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
    0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20
};
static const unsigned char di_sha384[] = {
    0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
    0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30
};
static const unsigned char di_sha512[] = {
    0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
    0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40
};

/* AlgorithmIdentifier DER: sha*WithRSAEncryption (NULL parameters) and
 * ecdsa-with-SHA* (no parameters). */
#define RSA_AID(last) { 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, \
                        0x0d, 0x01, 0x01, (last), 0x05, 0x00 }
static const unsigned char aid_rsa_sha1[] = RSA_AID(0x05);
static const unsigned char aid_rsa_sha224[] = RSA_AID(0x0e);
static const unsigned char aid_rsa_sha256[] = RSA_AID(0x0b);
static const unsigned char aid_rsa_sha384[] = RSA_AID(0x0c);
static const unsigned char aid_rsa_sha512[] = RSA_AID(0x0d);
static const unsigned char aid_ecdsa_sha1[] = {
    0x30, 0x09, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01
};
#define ECDSA_AID(last) { 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, \
                          0x3d, 0x04, 0x03, (last) }
static const unsigned char aid_ecdsa_sha224[] = ECDSA_AID(0x01);
static const unsigned char aid_ecdsa_sha256[] = ECDSA_AID(0x02);
static const unsigned char aid_ecdsa_sha384[] = ECDSA_AID(0x03);
static const unsigned char aid_ecdsa_sha512[] = ECDSA_AID(0x04);

#define DD(nid, sz, h, g, p, s, e, di, ar, ae) \
    { nid, sz, h, g, p, s, e, di, sizeof(di), ar, ae, sizeof(ar), sizeof(ae) }
const UKPROV_DIGEST ukprov_digests[UKPROV_N_DIGESTS] = {
    DD(NID_sha1, 20, CKM_SHA_1, CKG_MGF1_SHA1, CKM_SHA1_RSA_PKCS,
       CKM_SHA1_RSA_PKCS_PSS, CKM_ECDSA_SHA1, di_sha1, aid_rsa_sha1, aid_ecdsa_sha1),
    DD(NID_sha224, 28, CKM_SHA224, CKG_MGF1_SHA224, CKM_SHA224_RSA_PKCS,
       CKM_SHA224_RSA_PKCS_PSS, CKM_ECDSA_SHA224, di_sha224, aid_rsa_sha224,
       aid_ecdsa_sha224),
    DD(NID_sha256, 32, CKM_SHA256, CKG_MGF1_SHA256, CKM_SHA256_RSA_PKCS,
       CKM_SHA256_RSA_PKCS_PSS, CKM_ECDSA_SHA256, di_sha256, aid_rsa_sha256,
       aid_ecdsa_sha256),
    DD(NID_sha384, 48, CKM_SHA384, CKG_MGF1_SHA384, CKM_SHA384_RSA_PKCS,
       CKM_SHA384_RSA_PKCS_PSS, CKM_ECDSA_SHA384, di_sha384, aid_rsa_sha384,
       aid_ecdsa_sha384),
    DD(NID_sha512, 64, CKM_SHA512, CKG_MGF1_SHA512, CKM_SHA512_RSA_PKCS,
       CKM_SHA512_RSA_PKCS_PSS, CKM_ECDSA_SHA512, di_sha512, aid_rsa_sha512,
       aid_ecdsa_sha512),
};

const UKPROV_DIGEST *ukprov_digest_find(const EVP_MD *md)
{
    size_t i;
    int nid;

    if (md == NULL)
        return NULL;
    nid = EVP_MD_get_type(md);
    for (i = 0; i < UKPROV_N_DIGESTS; i++)
        if (ukprov_digests[i].nid == nid)
            return &ukprov_digests[i];
    return NULL;
}
