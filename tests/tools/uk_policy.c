/* Test helper: libuakey's security-policy adapter from the command line, so
 * a shell test can hand its output to an independent OPC UA implementation
 * (tests/interop/policy_check.js, node-opcua-crypto) and back.  Uses only
 * libuakey's public API: uakey_policy_* for the crypto, uakey_load_key /
 * uakey_load_cert for keys (pkcs11: URI or key-reference file; the provider
 * is active through OPENSSL_CONF, as run-test.sh sets it) and certificates.
 *
 *   uk_policy sign    POLICY KEYREF IN OUT
 *   uk_policy verify  POLICY CERT IN SIG       exit 0 valid, 1 invalid
 *   uk_policy encrypt POLICY CERT IN OUT       multi-block, to the cert's key
 *   uk_policy decrypt POLICY KEYREF IN OUT     multi-block, through the key
 *   uk_policy derive  POLICY SECRET SEED LEN OUT [INFO]
 *   uk_policy info    POLICY                   names and lengths, one a line
 *
 * Exit 0 on success, 1 when the operation fails (or a signature does not
 * verify), 2 on usage or set-up errors.  OUT is written only on success: a
 * failed decryption leaves no file behind. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "uakey/uakey.h"

static const char *prog = "uk_policy";

static void usage(void)
{
    fprintf(stderr,
            "usage: %s sign POLICY KEYREF IN OUT\n"
            "       %s verify POLICY CERT IN SIG\n"
            "       %s encrypt POLICY CERT IN OUT\n"
            "       %s decrypt POLICY KEYREF IN OUT\n"
            "       %s derive POLICY SECRET SEED LEN OUT [INFO]\n"
            "       %s info POLICY\n",
            prog, prog, prog, prog, prog, prog);
}

/* Print libuakey's view of the last error (one line) and clear the queue. */
static void report(const char *what)
{
    char buf[512];

    fprintf(stderr, "%s: %s: %s\n", prog, what, uakey_error_string(buf, sizeof(buf)));
    ERR_clear_error();
}

/* Whole file into a malloc'd buffer (an empty file gives a 1-byte buffer
 * and *len 0). */
static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL, *nbuf;
    size_t cap = 0, n = 0, got;

    if (f == NULL) {
        fprintf(stderr, "%s: cannot open %s\n", prog, path);
        return NULL;
    }
    for (;;) {
        if (n == cap) {
            cap = cap == 0 ? 4096 : cap * 2;
            if ((nbuf = realloc(buf, cap)) == NULL) {
                free(buf);
                fclose(f);
                fprintf(stderr, "%s: out of memory reading %s\n", prog, path);
                return NULL;
            }
            buf = nbuf;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        fprintf(stderr, "%s: cannot read %s\n", prog, path);
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

static int spill(const char *path, const unsigned char *data, size_t len)
{
    FILE *f = fopen(path, "wb");

    if (f == NULL || fwrite(data, 1, len, f) != len) {
        fprintf(stderr, "%s: cannot write %s\n", prog, path);
        if (f != NULL) {
            fclose(f);
            remove(path);
        }
        return 0;
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "%s: cannot write %s\n", prog, path);
        remove(path);
        return 0;
    }
    return 1;
}

static EVP_PKEY *load_private(const char *ref)
{
    EVP_PKEY *key = uakey_load_key(NULL, ref, NULL, NULL, NULL);

    if (key == NULL)
        report(ref);
    return key;
}

/* The public key of a certificate (DER or PEM file, or pkcs11:...;type=cert). */
static EVP_PKEY *load_cert_key(const char *ref)
{
    X509 *cert = uakey_load_cert(NULL, ref);
    EVP_PKEY *key;

    if (cert == NULL) {
        report(ref);
        return NULL;
    }
    key = X509_get_pubkey(cert);
    X509_free(cert);
    if (key == NULL)
        fprintf(stderr, "%s: no public key in %s\n", prog, ref);
    return key;
}

static int do_sign(const UAKEY_POLICY *pol, char **a)
{
    EVP_PKEY *key = load_private(a[0]);
    unsigned char *in = NULL, *sig = NULL;
    size_t inlen = 0, siglen;
    int rc = 2;

    if (key == NULL || (in = slurp(a[1], &inlen)) == NULL)
        goto end;
    siglen = uakey_policy_signature_size(pol, key);
    if (siglen == 0) {
        report("signature size");
        goto end;
    }
    if ((sig = malloc(siglen)) == NULL)
        goto end;
    if (!uakey_policy_sign(pol, key, in, inlen, sig, &siglen)) {
        report("sign");
        rc = 1;
        goto end;
    }
    rc = spill(a[2], sig, siglen) ? 0 : 2;
end:
    free(sig);
    free(in);
    EVP_PKEY_free(key);
    return rc;
}

static int do_verify(const UAKEY_POLICY *pol, char **a)
{
    EVP_PKEY *key = load_cert_key(a[0]);
    unsigned char *in = NULL, *sig = NULL;
    size_t inlen = 0, siglen = 0;
    int rc = 2;

    if (key == NULL || (in = slurp(a[1], &inlen)) == NULL
        || (sig = slurp(a[2], &siglen)) == NULL)
        goto end;
    ERR_clear_error();
    if (uakey_policy_verify(pol, key, in, inlen, sig, siglen)) {
        printf("signature valid\n");
        rc = 0;
    } else if (ERR_peek_error() != 0) {
        report("verify");
        rc = 1;
    } else {
        printf("signature INVALID\n");
        rc = 1;
    }
end:
    free(sig);
    free(in);
    EVP_PKEY_free(key);
    return rc;
}

static int do_encrypt(const UAKEY_POLICY *pol, char **a)
{
    EVP_PKEY *key = load_cert_key(a[0]);
    unsigned char *in = NULL, *out = NULL;
    size_t inlen = 0, outlen;
    int rc = 2;

    if (key == NULL || (in = slurp(a[1], &inlen)) == NULL)
        goto end;
    outlen = uakey_policy_encrypted_size(pol, key, inlen);
    if (outlen == 0) {
        report("encrypted size");
        goto end;
    }
    if ((out = malloc(outlen)) == NULL)
        goto end;
    if (!uakey_policy_encrypt(pol, key, in, inlen, out, &outlen)) {
        report("encrypt");
        rc = 1;
        goto end;
    }
    rc = spill(a[2], out, outlen) ? 0 : 2;
end:
    free(out);
    free(in);
    EVP_PKEY_free(key);
    return rc;
}

static int do_decrypt(const UAKEY_POLICY *pol, char **a)
{
    EVP_PKEY *key = load_private(a[0]);
    unsigned char *in = NULL, *out = NULL;
    size_t inlen = 0, outlen = 0, cap = 0;
    int rc = 2;

    /* Never leave an old OUT behind that could pass for this run's output. */
    remove(a[2]);
    if (key == NULL || (in = slurp(a[1], &inlen)) == NULL)
        goto end;
    cap = outlen = inlen > 0 ? inlen : 1;    /* inlen is always enough */
    if ((out = malloc(cap)) == NULL)
        goto end;
    if (!uakey_policy_decrypt(pol, key, in, inlen, out, &outlen)) {
        report("decrypt");
        rc = 1;
        goto end;
    }
    rc = spill(a[2], out, outlen) ? 0 : 2;
end:
    if (out != NULL)
        OPENSSL_cleanse(out, cap);
    free(out);
    free(in);
    EVP_PKEY_free(key);
    return rc;
}

static int do_derive(const UAKEY_POLICY *pol, char **a, int n)
{
    unsigned char *secret = NULL, *seed = NULL, *info = NULL, *out = NULL;
    size_t slen = 0, seedlen = 0, infolen = 0;
    char *endp;
    long len = strtol(a[2], &endp, 10);
    int rc = 2;

    if (*a[2] == '\0' || *endp != '\0' || len <= 0 || len > 65536) {
        fprintf(stderr, "%s: bad length '%s'\n", prog, a[2]);
        return 2;
    }
    if ((secret = slurp(a[0], &slen)) == NULL || (seed = slurp(a[1], &seedlen)) == NULL
        || (n > 4 && (info = slurp(a[4], &infolen)) == NULL)
        || (out = malloc((size_t)len)) == NULL)
        goto end;
    if (!uakey_policy_derive(pol, secret, slen, seed, seedlen, info, infolen,
                             out, (size_t)len)) {
        report("derive");
        rc = 1;
        goto end;
    }
    rc = spill(a[3], out, (size_t)len) ? 0 : 2;
end:
    free(out);
    free(info);
    free(seed);
    free(secret);
    return rc;
}

static const char *nz(const char *s)
{
    return s != NULL ? s : "(none)";
}

static int do_info(const UAKEY_POLICY *pol)
{
    size_t sk = 0, ek = 0, iv = 0;

    uakey_policy_derived_lengths(pol, &sk, &ek, &iv);
    printf("uri: %s\n", nz(uakey_policy_uri(pol)));
    printf("name: %s\n", nz(uakey_policy_name(pol)));
    printf("ecc: %d\n", uakey_policy_is_ecc(pol));
    printf("key_bits: %d-%d\n", uakey_policy_min_key_bits(pol),
           uakey_policy_max_key_bits(pol));
    printf("nonce_length: %zu\n", uakey_policy_nonce_length(pol));
    printf("asym_sign: %s\n", nz(uakey_policy_asym_sign_alg(pol)));
    printf("asym_enc: %s\n", nz(uakey_policy_asym_enc_alg(pol)));
    printf("kdf: %s\n", nz(uakey_policy_kdf_alg(pol)));
    printf("sym_sign: %s\n", nz(uakey_policy_sym_sign_alg(pol)));
    printf("sym_enc: %s\n", nz(uakey_policy_sym_enc_alg(pol)));
    printf("derived: %zu %zu %zu\n", sk, ek, iv);
    return 0;
}

int main(int argc, char **argv)
{
    const UAKEY_POLICY *pol;
    const char *cmd;
    int nargs, rc;

    if (argc < 3) {
        usage();
        return 2;
    }
    cmd = argv[1];
    nargs = argc - 3;               /* arguments after POLICY */
    if ((strcmp(cmd, "sign") == 0 || strcmp(cmd, "verify") == 0
         || strcmp(cmd, "encrypt") == 0 || strcmp(cmd, "decrypt") == 0) ? nargs != 3
        : strcmp(cmd, "derive") == 0 ? (nargs != 4 && nargs != 5)
        : strcmp(cmd, "info") == 0 ? nargs != 0 : 1) {
        usage();
        return 2;
    }
    if ((pol = uakey_policy_find(argv[2])) == NULL) {
        report(argv[2]);
        return 2;
    }
    if (strcmp(cmd, "sign") == 0)
        rc = do_sign(pol, argv + 3);
    else if (strcmp(cmd, "verify") == 0)
        rc = do_verify(pol, argv + 3);
    else if (strcmp(cmd, "encrypt") == 0)
        rc = do_encrypt(pol, argv + 3);
    else if (strcmp(cmd, "decrypt") == 0)
        rc = do_decrypt(pol, argv + 3);
    else if (strcmp(cmd, "derive") == 0)
        rc = do_derive(pol, argv + 3, nargs);
    else
        rc = do_info(pol);
    ERR_clear_error();
    return rc;
}
