/* Unit test: provider/digests.c, linked alone.  Every constant uakey sends
 * to a token or writes into a certificate is rebuilt here with OpenSSL's
 * own encoders and compared byte for byte: the DigestInfo prefix (as
 * X509_SIG), the sha*WithRSAEncryption and ecdsa-with-SHA* identifiers (as
 * X509_ALGOR), the digest sizes; the PKCS#11 names are checked for the
 * pairing of hash mechanism, MGF1 generator and combined mechanisms. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "ukprov.h"

static const char *const names[UKPROV_N_DIGESTS] = {
    "SHA1", "SHA224", "SHA256", "SHA384", "SHA512"
};

/* DER of DigestInfo { AlgorithmIdentifier(md, NULL), OCTET STRING hash }. */
static int digestinfo_der(int nid, const unsigned char *hash, size_t hlen,
                          unsigned char **der)
{
    X509_SIG *sig = X509_SIG_new();
    X509_ALGOR *alg = NULL;
    ASN1_OCTET_STRING *dg = NULL;
    int len = -1;

    if (sig == NULL)
        return -1;
    X509_SIG_getm(sig, &alg, &dg);
    if (X509_ALGOR_set0(alg, OBJ_nid2obj(nid), V_ASN1_NULL, NULL)
        && ASN1_OCTET_STRING_set(dg, hash, (int)hlen))
        len = i2d_X509_SIG(sig, der);
    X509_SIG_free(sig);
    return len;
}

static int algor_der(int nid, int ptype, unsigned char **der)
{
    X509_ALGOR *alg = X509_ALGOR_new();
    int len = -1;

    if (alg != NULL && X509_ALGOR_set0(alg, OBJ_nid2obj(nid), ptype, NULL))
        len = i2d_X509_ALGOR(alg, der);
    X509_ALGOR_free(alg);
    return len;
}

static void test_lookup(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < UKPROV_N_DIGESTS; i++) {
        EVP_MD *md = EVP_MD_fetch(NULL, names[i], NULL);
        const UKPROV_DIGEST *d;

        assert_non_null(md);
        d = ukprov_digest_find(md);
        assert_ptr_equal(d, &ukprov_digests[i]);
        assert_int_equal(d->size, (size_t)EVP_MD_get_size(md));
        EVP_MD_free(md);
    }
    /* a digest uakey does not support is not found */
    {
        EVP_MD *md = EVP_MD_fetch(NULL, "SHA3-256", NULL);

        assert_non_null(md);
        assert_null(ukprov_digest_find(md));
        EVP_MD_free(md);
    }
    assert_null(ukprov_digest_find(NULL));
}

static void test_digestinfo(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < UKPROV_N_DIGESTS; i++) {
        const UKPROV_DIGEST *d = &ukprov_digests[i];
        unsigned char hash[EVP_MAX_MD_SIZE], *der = NULL;
        int len;

        memset(hash, 0xa5, sizeof(hash));
        len = digestinfo_der(d->nid, hash, d->size, &der);
        assert_int_equal(len, (int)(d->dilen + d->size));
        assert_memory_equal(der, d->di, d->dilen);
        assert_memory_equal(der + d->dilen, hash, d->size);
        OPENSSL_free(der);
    }
}

static void test_algorithm_ids(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < UKPROV_N_DIGESTS; i++) {
        const UKPROV_DIGEST *d = &ukprov_digests[i];
        unsigned char *der = NULL;
        int rsa_nid = NID_undef, ec_nid = NID_undef, len;

        assert_true(OBJ_find_sigid_by_algs(&rsa_nid, d->nid, NID_rsaEncryption));
        assert_true(OBJ_find_sigid_by_algs(&ec_nid, d->nid, NID_X9_62_id_ecPublicKey));
        /* RFC 4055: NULL parameters for sha*WithRSAEncryption */
        len = algor_der(rsa_nid, V_ASN1_NULL, &der);
        assert_int_equal(len, (int)d->aid_rsa_len);
        assert_memory_equal(der, d->aid_rsa, d->aid_rsa_len);
        OPENSSL_free(der);
        der = NULL;
        /* RFC 5758: no parameters for ecdsa-with-SHA* */
        len = algor_der(ec_nid, V_ASN1_UNDEF, &der);
        assert_int_equal(len, (int)d->aid_ecdsa_len);
        assert_memory_equal(der, d->aid_ecdsa, d->aid_ecdsa_len);
        OPENSSL_free(der);
    }
}

/* The PKCS#11 names of one digest belong together (PKCS#11 v2.40 values
 * are facts; this catches a row with a neighbour's value). */
static void test_pkcs11_names(void **state)
{
    static const CK_MECHANISM_TYPE hash[] = {
        CKM_SHA_1, CKM_SHA224, CKM_SHA256, CKM_SHA384, CKM_SHA512
    };
    static const CK_RSA_PKCS_MGF_TYPE mgf[] = {
        CKG_MGF1_SHA1, CKG_MGF1_SHA224, CKG_MGF1_SHA256, CKG_MGF1_SHA384, CKG_MGF1_SHA512
    };
    static const CK_MECHANISM_TYPE pkcs[] = {
        CKM_SHA1_RSA_PKCS, CKM_SHA224_RSA_PKCS, CKM_SHA256_RSA_PKCS,
        CKM_SHA384_RSA_PKCS, CKM_SHA512_RSA_PKCS
    };
    static const CK_MECHANISM_TYPE pss[] = {
        CKM_SHA1_RSA_PKCS_PSS, CKM_SHA224_RSA_PKCS_PSS, CKM_SHA256_RSA_PKCS_PSS,
        CKM_SHA384_RSA_PKCS_PSS, CKM_SHA512_RSA_PKCS_PSS
    };
    static const CK_MECHANISM_TYPE ecdsa[] = {
        CKM_ECDSA_SHA1, CKM_ECDSA_SHA224, CKM_ECDSA_SHA256, CKM_ECDSA_SHA384,
        CKM_ECDSA_SHA512
    };
    size_t i;

    (void)state;
    for (i = 0; i < UKPROV_N_DIGESTS; i++) {
        assert_int_equal(ukprov_digests[i].hash, hash[i]);
        assert_int_equal(ukprov_digests[i].mgf, mgf[i]);
        assert_int_equal(ukprov_digests[i].rsa_pkcs, pkcs[i]);
        assert_int_equal(ukprov_digests[i].rsa_pss, pss[i]);
        assert_int_equal(ukprov_digests[i].ecdsa, ecdsa[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_digestinfo),
        cmocka_unit_test(test_algorithm_ids),
        cmocka_unit_test(test_pkcs11_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
