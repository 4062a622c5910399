/* Fork safety: a key loaded before fork() signs in the child (which
 * re-initializes the module on first use) and still signs in the parent;
 * every signature is verified by the default provider in its own library
 * context. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tutil.h"

static void sign_verify(OSSL_LIB_CTX *host, EVP_PKEY *key, EVP_PKEY *pub, const char *who)
{
    static const unsigned char msg[] = "fork safety message";
    unsigned char sig[1024];
    size_t siglen = sizeof(sig);
    EVP_MD_CTX *md = EVP_MD_CTX_new();

    T_CHECK(md != NULL);
    if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1
        || EVP_DigestSign(md, sig, &siglen, msg, sizeof(msg)) != 1)
        T_FAIL("%s: sign", who);
    EVP_MD_CTX_free(md);
    md = EVP_MD_CTX_new();
    if (EVP_DigestVerifyInit_ex(md, NULL, "SHA256", host, NULL, pub, NULL) != 1
        || EVP_DigestVerify(md, sig, siglen, msg, sizeof(msg)) != 1)
        T_FAIL("%s: host verification of the token signature", who);
    EVP_MD_CTX_free(md);
}

int main(void)
{
    const char *uri = t_env("UK_RSA_URI");
    OSSL_LIB_CTX *host = t_hostctx();
    EVP_PKEY *key = t_load_key(uri, 0);
    EVP_PKEY *pub = t_host_pub(host, key);
    int round, status;

    sign_verify(host, key, pub, "parent before fork");
    for (round = 0; round < 2; round++) {
        pid_t pid = fork();

        T_CHECK(pid >= 0);
        if (pid == 0) {
            alarm(60);
            sign_verify(host, key, pub, "child");
            sign_verify(host, key, pub, "child again");
            /* a clean exit, so the child's own teardown (provider, module
             * finalization after a fork) runs and is checked too */
            EVP_PKEY_free(pub);
            EVP_PKEY_free(key);
            t_hostctx_free(host);
            exit(0);
        }
        alarm(90);
        T_CHECK(waitpid(pid, &status, 0) == pid);
        alarm(0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            T_FAIL("child round %d failed (status 0x%x)", round, status);
        sign_verify(host, key, pub, "parent after fork");
    }
    EVP_PKEY_free(pub);
    EVP_PKEY_free(key);
    t_hostctx_free(host);
    printf("fork: parent and two children signed, all verified by the host\n");
    return 0;
}
