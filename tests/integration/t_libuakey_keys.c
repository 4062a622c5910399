/* libuakey keys.c / provider_load.c / err.c against a real SoftHSM2 token,
 * with no openssl.cnf at all: the application registers the provider with
 * uakey_provider_load(), names the module through UAKEY_PKCS11_MODULE and
 * the PIN through a PIN file.  Keys generated through libuakey are checked
 * by the default provider in its own library context (signatures verify
 * with the exported public key), key-reference files are read back, and a
 * software key is never written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "tutil.h"
#include "uakey/uakey.h"

static char dir[512];

static void sign_check(OSSL_LIB_CTX *host, EVP_PKEY *key, const char *what)
{
    static const unsigned char msg[] = "libuakey key check";
    unsigned char sig[1024];
    size_t siglen = sizeof(sig);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY *pub = t_host_pub(host, key);

    T_CHECK(md != NULL);
    if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1
        || EVP_DigestSign(md, sig, &siglen, msg, sizeof(msg)) != 1)
        T_FAIL("%s: sign", what);
    EVP_MD_CTX_free(md);
    md = EVP_MD_CTX_new();
    if (EVP_DigestVerifyInit_ex(md, NULL, "SHA256", host, NULL, pub, NULL) != 1
        || EVP_DigestVerify(md, sig, siglen, msg, sizeof(msg)) != 1)
        T_FAIL("%s: the default provider does not verify the token's signature", what);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pub);
    printf("ok - %s: token signature verified by the default provider\n", what);
}

static int file_contains(const char *path, const char *needle)
{
    char buf[8192];
    FILE *f = fopen(path, "r");
    size_t n;

    if (f == NULL)
        return 0;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, needle) != NULL;
}

int main(void)
{
    const char *base = t_env("UK_BASEURI"), *module = t_env("UK_MODULE"), *pin = t_env("UK_PIN");
    const char *tmp = getenv("UK_TEST_DIR") ? getenv("UK_TEST_DIR") : "/tmp";
    char pinfile[600], ref[600], soft[600], err[512], *uri_rsa = NULL, *uri_ec = NULL;
    UAKEY_KEY_INFO *keys = NULL;
    size_t n = 0, i;
    int found_rsa = 0, found_ec = 0;
    OSSL_LIB_CTX *host;
    EVP_PKEY *key, *again, *sw;
    FILE *f;
    struct stat st;

    /* no configuration file: everything comes from the application */
    setenv("OPENSSL_CONF", "/dev/null", 1);
    setenv("UAKEY_PKCS11_MODULE", module, 1);
    snprintf(dir, sizeof(dir), "%s/libuakey.XXXXXX", tmp);
    T_CHECK(mkdtemp(dir) != NULL);
    snprintf(pinfile, sizeof(pinfile), "%s/pin", dir);
    f = fopen(pinfile, "w");
    T_CHECK(f != NULL && fputs(pin, f) >= 0 && fclose(f) == 0);

    T_CHECK(uakey_provider_load(NULL) == 1);
    T_CHECK(uakey_provider_load(NULL) == 1);    /* idempotent */
    printf("ok - provider loaded without openssl.cnf\n");
    host = t_hostctx();

    /* generation */
    T_CHECK(uakey_key_type_valid("rsa2048") && uakey_key_type_valid("ec-p256"));
    T_CHECK(!uakey_key_type_valid("dsa1024"));
    if (!uakey_key_generate(NULL, base, "lib rsa/key", "rsa2048", pinfile, &uri_rsa))
        T_FAIL("generate rsa2048: %s", uakey_error_string(err, sizeof(err)));
    if (!uakey_key_generate(NULL, base, "lib-ec", "ec-p256", pinfile, &uri_ec))
        T_FAIL("generate ec-p256: %s", uakey_error_string(err, sizeof(err)));
    printf("ok - generated %s and %s\n", uri_rsa, uri_ec);
    T_CHECK(strstr(uri_rsa, "pin-") == NULL && strstr(uri_rsa, pin) == NULL);
    /* the same label again is refused */
    T_CHECK(uakey_key_generate(NULL, base, "lib-ec", "ec-p256", pinfile, NULL) == 0);
    uakey_error_string(err, sizeof(err));
    printf("ok - duplicate label refused: %s\n", err);
    T_CHECK(uakey_key_generate(NULL, base, "x", "dsa1024", pinfile, NULL) == 0);
    uakey_error_string(err, sizeof(err));
    T_CHECK(strstr(err, "dsa1024") != NULL);
    printf("ok - unknown type refused: %s\n", err);

    /* listing */
    if (!uakey_key_list(NULL, base, pinfile, &keys, &n))
        T_FAIL("key list: %s", uakey_error_string(err, sizeof(err)));
    for (i = 0; i < n; i++) {
        printf("    key: %s %s %d %s\n", keys[i].label, keys[i].type, keys[i].bits, keys[i].uri);
        if (strcmp(keys[i].label, "lib rsa/key") == 0 && strcmp(keys[i].type, "RSA") == 0
            && keys[i].bits == 2048)
            found_rsa = 1;
        if (strcmp(keys[i].label, "lib-ec") == 0 && keys[i].curve != NULL
            && strcmp(keys[i].curve, "prime256v1") == 0)
            found_ec = 1;
    }
    T_CHECK(found_rsa && found_ec);
    uakey_key_info_free(keys, n);
    printf("ok - both new keys listed with label, type and size\n");

    /* loading by URI, signing, key reference round trip */
    key = uakey_load_key(NULL, uri_rsa, pinfile, NULL, NULL);
    if (key == NULL)
        T_FAIL("load %s: %s", uri_rsa, uakey_error_string(err, sizeof(err)));
    sign_check(host, key, "rsa key by URI");
    snprintf(ref, sizeof(ref), "%s/rsa.pem", dir);
    T_CHECK(uakey_keyref_write(key, ref) == 1);
    T_CHECK(stat(ref, &st) == 0 && (st.st_mode & 0777) == 0600);
    T_CHECK(file_contains(ref, "BEGIN PKCS#11 PROVIDER URI"));
    T_CHECK(!file_contains(ref, "PRIVATE KEY"));
    again = uakey_load_key(NULL, ref, pinfile, NULL, NULL);
    if (again == NULL)
        T_FAIL("load %s: %s", ref, uakey_error_string(err, sizeof(err)));
    T_CHECK(EVP_PKEY_eq(key, again) == 1);
    sign_check(host, again, "rsa key from its key-reference file");
    EVP_PKEY_free(again);
    EVP_PKEY_free(key);
    key = uakey_load_key(NULL, uri_ec, pinfile, NULL, NULL);
    T_CHECK(key != NULL);
    sign_check(host, key, "ec key by URI");
    EVP_PKEY_free(key);

    /* a fresh library context: loading a token key by URI or key-reference
     * file registers the provider there by itself */
    {
        OSSL_LIB_CTX *app = OSSL_LIB_CTX_new();
        EVP_PKEY *k1, *k2;

        T_CHECK(app != NULL && !OSSL_PROVIDER_available(app, "uakey"));
        k1 = uakey_load_key(app, ref, pinfile, NULL, NULL);
        if (k1 == NULL)
            T_FAIL("load %s in a new context: %s", ref, uakey_error_string(err, sizeof(err)));
        T_CHECK(OSSL_PROVIDER_available(app, "uakey") && OSSL_PROVIDER_available(app, "default"));
        sign_check(host, k1, "key-reference file in a new library context (provider loaded by libuakey)");
        k2 = uakey_load_key(app, uri_ec, pinfile, NULL, NULL);
        T_CHECK(k2 != NULL);
        sign_check(host, k2, "URI in the same context");
        EVP_PKEY_free(k2);
        EVP_PKEY_free(k1);
        OSSL_LIB_CTX_free(app);
    }

    /* a software key is never written */
    sw = EVP_PKEY_Q_keygen(host, NULL, "EC", "P-256");
    T_CHECK(sw != NULL);
    snprintf(soft, sizeof(soft), "%s/soft.pem", dir);
    T_CHECK(uakey_keyref_write(sw, soft) == 0);
    uakey_error_string(err, sizeof(err));
    T_CHECK(access(soft, F_OK) != 0);
    printf("ok - software key refused, nothing written: %s\n", err);
    EVP_PKEY_free(sw);

    /* bad input */
    T_CHECK(uakey_load_key(NULL, "pkcs11:token=no-such-token;object=x", pinfile, NULL, NULL) == NULL);
    printf("ok - absent token: %s\n", uakey_error_string(err, sizeof(err)));
    T_CHECK(uakey_load_key(NULL, "pkcs11:token=uakey-test;object=x;pin-value=00000000",
                           NULL, NULL, NULL) == NULL);
    uakey_error_string(err, sizeof(err));
    T_CHECK(strstr(err, "00000000") == NULL);
    printf("ok - a PIN in the URI never shows in the message: %s\n", err);
    T_CHECK(uakey_load_cert(NULL, "/nonexistent/cert.der") == NULL);
    printf("ok - missing certificate file: %s\n", uakey_error_string(err, sizeof(err)));
    T_CHECK(uakey_load_crl(NULL, pinfile) == NULL);
    printf("ok - a non-CRL file: %s\n", uakey_error_string(err, sizeof(err)));

    free(uri_rsa);
    free(uri_ec);
    unlink(ref);
    unlink(pinfile);
    rmdir(dir);
    t_hostctx_free(host);
    printf("PASS\n");
    return 0;
}
