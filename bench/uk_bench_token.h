/* uakey bench: what bench/uk_bench.c and bench/uk_bench_connect.c share --
 * error exits, the Cryptoki session on the throwaway token, and a key made
 * in memory put into that token as a sensitive, non-extractable object and
 * loaded back the way an application loads it (uakey_load_key with a
 * pkcs11: URI and a PIN file).  No key or PIN byte is printed or written. */
#ifndef UK_BENCH_TOKEN_H
#define UK_BENCH_TOKEN_H

#include <stddef.h>

#include <openssl/evp.h>

#include <p11-kit/p11-kit.h>

/* The program's name, the prefix of every message ("uk_bench"). */
extern const char *ukb_prog;

/* Set-up errors end the run with exit status 2.  ukb_die_ossl() adds the
 * cause that OpenSSL / libuakey left on the error queue; ukb_die() is for
 * Cryptoki errors, whose queue holds only SoftHSM's own libcrypto noise.
 * The message is printed as given (put the program name in it). */
void ukb_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void ukb_die_ossl(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* CLOCK_MONOTONIC in seconds. */
double ukb_now(void);

/* "CKR_OK" etc. ("CKR_(other)" for codes not listed). */
const char *ukb_rv_name(CK_RV rv);

/* The provider that runs a signature (decrypt == 0) or a decryption with
 * |key| in the default library context ("?" when none). */
const char *ukb_serving_provider(EVP_PKEY *key, int decrypt);

struct ukb_token {
    /* in */
    const char *module;         /* PKCS#11 module path */
    const char *label;          /* token label */
    const char *pin_file;       /* first line: the user PIN */
    /* out */
    CK_FUNCTION_LIST *fl;
    CK_SLOT_ID slot;
    CK_SESSION_HANDLE setup;    /* open and logged in until ukb_token_close */
    char module_desc[160];      /* "SoftHSM, Implementation of PKCS11 2.6" */
};

/* Load and initialise the module, find the token by its label, open a
 * read-write session and log in with the PIN from the PIN file. */
void ukb_token_open(struct ukb_token *t);
void ukb_token_close(struct ukb_token *t);

/* Put |mem| (RSA, or EC P-256) into the token: a private key object
 * (CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE, not CKA_EXTRACTABLE; RSA:
 * CKA_SIGN + CKA_DECRYPT, EC: CKA_SIGN + CKA_DERIVE) and its public key
 * object, both labelled |obj_label| with CKA_ID |id|.  Refuses a label the
 * token already has; checks that the token calls the private object
 * sensitive and non-extractable and refuses to give out its secret.
 * Returns the private object's handle. */
CK_OBJECT_HANDLE ukb_token_import(struct ukb_token *t, EVP_PKEY *mem, const char *obj_label,
                                  unsigned char id);

/* The private key |obj_label| loaded through libuakey (uakey_load_key with
 * "pkcs11:token=...;object=...;type=private?module-path=..." and the PIN
 * file, which brings the uakey provider into the default library context
 * by itself).  Checks that it is a token key and the same key as |mem|. */
EVP_PKEY *ukb_token_load_key(struct ukb_token *t, const char *obj_label, EVP_PKEY *mem);

#endif
