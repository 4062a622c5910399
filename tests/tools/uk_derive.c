/* Test helper: ECDH with a token key (URI) and a peer given as a whole key
 * pair (a PEM private key made by the default provider), as applications
 * do through EVP_PKEY_derive_set_peer.  The openssl 3.0 CLI cannot load a
 * key pair as -peerkey, hence this program.  Writes the secret to OUT. */
#include <stdio.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/store.h>

#include "../integration/tutil.h"

int main(int argc, char **argv)
{
    EVP_PKEY *key = NULL, *peer = NULL;
    EVP_PKEY_CTX *dctx = NULL;
    unsigned char secret[256];
    size_t slen = sizeof(secret);
    FILE *f;
    int rc = 1;

    if (argc != 4) {
        fprintf(stderr, "usage: %s KEY-URI PEER-KEYPAIR.pem OUT\n", argv[0]);
        return 2;
    }
    key = t_load_key(argv[1], 0);      /* exits with the error when it fails */
    f = fopen(argv[2], "r");
    if (f != NULL) {
        peer = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        fclose(f);
    }
    if (key == NULL || peer == NULL) {
        fprintf(stderr, "cannot load %s\n", key == NULL ? argv[1] : argv[2]);
        goto end;
    }
    dctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    if (dctx == NULL || EVP_PKEY_derive_init(dctx) != 1
        || EVP_PKEY_derive_set_peer(dctx, peer) != 1
        || EVP_PKEY_derive(dctx, secret, &slen) != 1) {
        fprintf(stderr, "derive failed\n");
        goto end;
    }
    f = fopen(argv[3], "wb");
    if (f == NULL || fwrite(secret, 1, slen, f) != slen) {
        fprintf(stderr, "cannot write %s\n", argv[3]);
        if (f != NULL)
            fclose(f);
        goto end;
    }
    fclose(f);
    rc = 0;
end:
    ERR_print_errors_fp(stderr);
    EVP_PKEY_CTX_free(dctx);
    EVP_PKEY_free(peer);
    EVP_PKEY_free(key);
    return rc;
}
