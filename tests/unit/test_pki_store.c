/* uakey unit test: the PKI directory store (opcua-glue/pki_store.c).
 *
 * Every certificate, CA and CRL is made here with OpenSSL and software keys
 * generated at run time.  Each test works in its own temporary folder
 * (under $UK_TMPROOT or /tmp), removed afterwards.
 *
 * uakey_keyref_write (keys.c) is replaced by a stand-in below, so the test
 * does not need a token: in "refuse" mode it behaves like the real one for a
 * software key (0, nothing written); in "write" mode it writes a dummy
 * reference, as the real one does for a token key. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ukua_int.h"

/* ---- stand-in for keys.c -------------------------------------------------- */

static int keyref_mode;        /* 0: refuse (software key), 1: write */
static int keyref_calls;

int uakey_keyref_write(EVP_PKEY *key, const char *path)
{
    keyref_calls++;
    if (keyref_mode == 0) {
        uakey_raise(UK_R_WRONG_KEY_TYPE, "test stand-in: not a token key, %s not written",
                    path);
        return 0;
    }
    return ukua_write_file_atomic(path, "KEYREF NEW\n", 11, 0600);
}

/* ---- fixtures --------------------------------------------------------------- */

static EVP_PKEY *leaf_key;      /* Ed25519: fast to sign with */
static EVP_PKEY *ca_key;        /* EC P-256 */
static EVP_PKEY *other_key;     /* EC P-256, not the CA's */

typedef struct {
    char dir[512];
    int nwarn;
    char warnings[8192];    /* every warning, one per line */
} CTX;

static void on_warn(void *arg, const char *msg)
{
    CTX *c = arg;

    size_t used = strlen(c->warnings);

    c->nwarn++;
    snprintf(c->warnings + used, sizeof(c->warnings) - used, "%s\n", msg);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    chmod(path, 0700);
    return remove(path);
}

static int group_setup(void **state)
{
    (void)state;
    leaf_key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    other_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    return leaf_key != NULL && ca_key != NULL && other_key != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(leaf_key);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(other_key);
    return 0;
}

static int setup(void **state)
{
    const char *root = getenv("UK_TMPROOT");
    CTX *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return -1;
    if (root == NULL || *root == '\0')
        root = "/tmp";
    mkdir(root, 0755);
    snprintf(c->dir, sizeof(c->dir), "%s/test_pki_store.XXXXXX", root);
    if (mkdtemp(c->dir) == NULL) {
        free(c);
        return -1;
    }
    keyref_mode = 0;
    keyref_calls = 0;
    ERR_clear_error();
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    CTX *c = *state;

    chmod(c->dir, 0700);
    nftw(c->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(c);
    ERR_clear_error();
    return 0;
}

/* "<store>/<rel>" in a static buffer (one at a time). */
static const char *sp(const CTX *c, const char *rel)
{
    static char buf[2][2048];
    static int which;

    which ^= 1;
    if (snprintf(buf[which], sizeof(buf[which]), "%s/%s", c->dir, rel) >= (int)sizeof(buf[which]))
        fail_msg("path too long: %s/%s", c->dir, rel);
    return buf[which];
}

static UAKEY_PKI *make_store(CTX *c, int max)
{
    UAKEY_PKI *pki;

    assert_int_equal(uakey_pki_init(c->dir, max), 1);
    pki = uakey_pki_open(c->dir);
    assert_non_null(pki);
    uakey_pki_set_warn(pki, on_warn, c);
    return pki;
}

/* ---- certificates ------------------------------------------------------------ */

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509_EXTENSION *ext;

    X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    assert_non_null(ext);
    assert_int_equal(X509_add_ext(x, ext, -1), 1);
    X509_EXTENSION_free(ext);
}

/* A certificate for |key| with subject CN |cn| (NULL: no CN; the name then
 * has O=uakey-test), signed by |ikey| as |issuer| (NULL: self-signed).
 * The CN is set as a raw UTF8String: no length limits, "" allowed. */
static X509 *make_cert_full(const char *cn, long serial, EVP_PKEY *key, X509 *issuer,
                            EVP_PKEY *ikey, int is_ca, const char *uri)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();

    assert_non_null(x);
    assert_non_null(name);
    assert_int_equal(X509_set_version(x, 2), 1);
    assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), serial), 1);
    if (cn != NULL)
        assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", V_ASN1_UTF8STRING,
                                                    (const unsigned char *)cn, -1, -1, 0), 1);
    else
        assert_int_equal(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                                    (const unsigned char *)"uakey-test", -1, -1,
                                                    0), 1);
    assert_int_equal(X509_set_subject_name(x, name), 1);
    assert_int_equal(X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer)
                                                            : name), 1);
    X509_NAME_free(name);
    assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -3600));
    assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 30));
    assert_int_equal(X509_set_pubkey(x, key), 1);
    if (is_ca) {
        add_ext(x, issuer != NULL ? issuer : x, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(x, issuer != NULL ? issuer : x, NID_key_usage, "critical,keyCertSign,cRLSign");
    }
    if (uri != NULL) {
        char san[512];

        snprintf(san, sizeof(san), "URI:%s", uri);
        add_ext(x, issuer != NULL ? issuer : x, NID_subject_alt_name, san);
    }
    assert_true(X509_sign(x, ikey != NULL ? ikey : key, NULL) > 0);
    return x;
}

static X509 *make_cert(const char *cn, long serial)
{
    return make_cert_full(cn, serial, leaf_key, NULL, NULL, 0, NULL);
}

static X509 *make_ca(const char *cn, EVP_PKEY *key)
{
    return make_cert_full(cn, 1, key, NULL, NULL, 1, NULL);
}

/* A CRL naming |issuer_name|, signed with |key|, revoking serial 7. */
static X509_CRL *make_crl(const X509_NAME *issuer_name, EVP_PKEY *key)
{
    X509_CRL *crl = X509_CRL_new();
    X509_REVOKED *r = X509_REVOKED_new();
    ASN1_TIME *t = ASN1_TIME_new();
    ASN1_INTEGER *serial = ASN1_INTEGER_new();

    assert_non_null(crl);
    assert_non_null(r);
    assert_int_equal(X509_CRL_set_version(crl, 1), 1);
    assert_int_equal(X509_CRL_set_issuer_name(crl, issuer_name), 1);
    assert_non_null(X509_gmtime_adj(t, 0));
    assert_int_equal(X509_CRL_set1_lastUpdate(crl, t), 1);
    assert_non_null(X509_gmtime_adj(t, 86400));
    assert_int_equal(X509_CRL_set1_nextUpdate(crl, t), 1);
    assert_int_equal(ASN1_INTEGER_set(serial, 7), 1);
    assert_int_equal(X509_REVOKED_set_serialNumber(r, serial), 1);
    assert_non_null(X509_gmtime_adj(t, -60));
    assert_int_equal(X509_REVOKED_set_revocationDate(r, t), 1);
    assert_int_equal(X509_CRL_add0_revoked(crl, r), 1);
    assert_int_equal(X509_CRL_sort(crl), 1);
    assert_true(X509_CRL_sign(crl, key, EVP_sha256()) > 0);
    ASN1_TIME_free(t);
    ASN1_INTEGER_free(serial);
    return crl;
}

static void thumb(const X509 *x, char tp[41])
{
    assert_int_equal(uakey_cert_thumbprint(x, tp), 1);
}

static void lower(char *s)
{
    for (; *s != '\0'; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

/* ---- files -------------------------------------------------------------------- */

static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;

    assert_non_null(d);
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

/* Does any file under |dir| (recursively) have ".tmp" in its name? */
static int tmp_found;

static int tmp_check(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    if (strstr(path + ftw->base, ".tmp") != NULL)
        tmp_found++;
    return 0;
}

static int temp_files(const char *dir)
{
    tmp_found = 0;
    assert_int_equal(nftw(dir, tmp_check, 16, FTW_PHYS), 0);
    return tmp_found;
}

static void write_raw(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void write_der(const char *path, X509 *x)
{
    unsigned char *der = NULL;
    int len = i2d_X509(x, &der);

    assert_true(len > 0);
    write_raw(path, der, (size_t)len);
    OPENSSL_free(der);
}

static size_t read_all(const char *path, char *buf, size_t max)
{
    FILE *f = fopen(path, "rb");
    size_t n;

    assert_non_null(f);
    n = fread(buf, 1, max - 1, f);
    buf[n] = '\0';
    fclose(f);
    return n;
}

static int exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

static mode_t mode_of(const char *path)
{
    struct stat st;

    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

/* The last error is |reason| and its text holds |needle|; clears the queue. */
static void expect_error(int reason, const char *needle)
{
    unsigned long e = ERR_peek_last_error();
    char buf[1024];

    assert_int_not_equal(e, 0);
    assert_int_equal(ERR_GET_LIB(e), uakey_err_lib());
    assert_int_equal(ERR_GET_REASON(e), reason);
    uakey_error_string(buf, sizeof(buf));
    if (needle != NULL && strstr(buf, needle) == NULL)
        fail_msg("error \"%s\" does not mention \"%s\"", buf, needle);
}

/* Run |fn| as an unprivileged user when the test runs as root (chmod
 * does not stop root); returns the child's result (1 = checks passed). */
static int as_nobody(int (*fn)(CTX *), CTX *c)
{
    pid_t pid;
    int status;

    if (geteuid() != 0)
        return fn(c);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int ok = setgid(65534) == 0 && setuid(65534) == 0 && fn(c);

        /* the result as an exec'd shell's status: under valgrind the child
         * then ends without a leak check of the parent's objects */
        execl("/bin/sh", "sh", "-c", ok ? "exit 0" : "exit 1", (char *)NULL);
        _exit(2);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status) == 0;
}

/* ---- tests: init, open ------------------------------------------------------ */

static void test_init_layout(void **state)
{
    CTX *c = *state;
    UAKEY_PKI *pki;
    char buf[1024];
    mode_t old = umask(077);        /* the modes must not depend on the umask */
    static const char *const dirs[] = { "own", "own/certs", "trusted", "trusted/certs",
                                        "trusted/crl", "issuers", "issuers/certs",
                                        "issuers/crl", "rejected", "rejected/certs" };
    size_t i;

    assert_int_equal(uakey_pki_init(c->dir, 0), 1);
    umask(old);
    for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
        assert_int_equal(mode_of(sp(c, dirs[i])), 0755);
    assert_int_equal(mode_of(sp(c, "own/private")), 0700);
    assert_false(exists(sp(c, "issuer")));
    read_all(sp(c, "uakey-pki.conf"), buf, sizeof(buf));
    assert_non_null(strstr(buf, "max-rejected = 100\n"));
    assert_int_equal(mode_of(sp(c, "uakey-pki.conf")), 0644);
    pki = uakey_pki_open(c->dir);
    assert_non_null(pki);
    assert_string_equal(uakey_pki_dir(pki), c->dir);
    assert_int_equal(uakey_pki_max_rejected(pki), UAKEY_PKI_DEFAULT_MAX_REJECTED);
    uakey_pki_free(pki);
    assert_int_equal(temp_files(c->dir), 0);
    assert_int_equal(ERR_peek_error(), 0);

    /* a trailing '/' is dropped */
    snprintf(buf, sizeof(buf), "%s//", c->dir);
    pki = uakey_pki_open(buf);
    assert_non_null(pki);
    assert_string_equal(uakey_pki_dir(pki), c->dir);
    uakey_pki_free(pki);

    /* a nested path is created */
    assert_int_equal(uakey_pki_init(sp(c, "a/b/pki"), 5), 1);
    pki = uakey_pki_open(sp(c, "a/b/pki"));
    assert_non_null(pki);
    assert_int_equal(uakey_pki_max_rejected(pki), 5);
    uakey_pki_free(pki);
}

static void test_init_twice_keeps_files(void **state)
{
    CTX *c = *state;
    UAKEY_PKI *pki = make_store(c, 0);
    X509 *x = make_cert("keep", 1);
    char *path = NULL, buf[512];
    struct stat before, after;

    assert_int_equal(uakey_pki_add_cert(pki, UAKEY_PKI_TRUSTED, x, &path), 1);
    write_raw(sp(c, "own/private/app.pem"), "REF\n", 4);
    assert_int_equal(stat(path, &before), 0);
    uakey_pki_free(pki);

    /* extra lines of the configuration survive */
    write_raw(sp(c, "uakey-pki.conf"), "# mine\nfuture-setting = 1\nmax-rejected = 100\n", 45);
    assert_int_equal(uakey_pki_init(c->dir, 50), 1);
    assert_int_equal(stat(path, &after), 0);
    assert_int_equal(before.st_ino, after.st_ino);
    assert_int_equal(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
    read_all(sp(c, "own/private/app.pem"), buf, sizeof(buf));
    assert_string_equal(buf, "REF\n");
    read_all(sp(c, "uakey-pki.conf"), buf, sizeof(buf));
    assert_non_null(strstr(buf, "# mine\n"));
    assert_non_null(strstr(buf, "future-setting = 1\n"));
    assert_non_null(strstr(buf, "max-rejected = 50\n"));
    assert_null(strstr(buf, "max-rejected = 100"));

    /* <= 0 keeps the recorded value */
    assert_int_equal(uakey_pki_init(c->dir, 0), 1);
    assert_int_equal(uakey_pki_init(c->dir, -3), 1);
    pki = uakey_pki_open(c->dir);
    assert_non_null(pki);
    assert_int_equal(uakey_pki_max_rejected(pki), 50);
    uakey_pki_free(pki);
    assert_int_equal(count_files(sp(c, "trusted/certs")), 1);

    /* a file where a folder should be */
    assert_int_equal(rmdir(sp(c, "issuers/crl")), 0);
    write_raw(sp(c, "issuers/crl"), "x", 1);
    assert_int_equal(uakey_pki_init(c->dir, 0), 0);
    expect_error(UK_R_PKI_STORE, "not a folder");
    free(path);
    X509_free(x);
}

static void test_open_not_a_store(void **state)
{
    CTX *c = *state;
    UAKEY_PKI *pki;

    /* an empty folder */
    pki = uakey_pki_open(c->dir);
    assert_null(pki);
    expect_error(UK_R_PKI_STORE, "not a PKI store (run uakey pki init)");
    /* nothing there at all */
    assert_null(uakey_pki_open(sp(c, "nowhere")));
    expect_error(UK_R_PKI_STORE, "run uakey pki init");
    /* a file */
    write_raw(sp(c, "file"), "x", 1);
    assert_null(uakey_pki_open(sp(c, "file")));
    expect_error(UK_R_PKI_STORE, "not a PKI store");
    /* one folder missing */
    assert_int_equal(uakey_pki_init(c->dir, 0), 1);
    assert_int_equal(rmdir(sp(c, "rejected/certs")), 0);
    assert_null(uakey_pki_open(c->dir));
    expect_error(UK_R_PKI_STORE, "rejected/certs is missing");
    assert_int_equal(uakey_pki_init(c->dir, 0), 1);
    /* a broken configuration names the file and line */
    write_raw(sp(c, "uakey-pki.conf"), "# x\nmax-rejected = lots\n", 24);
    assert_null(uakey_pki_open(c->dir));
    expect_error(UK_R_BAD_CONFIG, "uakey-pki.conf line 2: max-rejected");
    write_raw(sp(c, "uakey-pki.conf"), "max-rejected = 0\n", 17);
    assert_null(uakey_pki_open(c->dir));
    expect_error(UK_R_BAD_CONFIG, "max-rejected must be");
    write_raw(sp(c, "uakey-pki.conf"), "garbage\n", 8);
    assert_null(uakey_pki_open(c->dir));
    expect_error(UK_R_BAD_CONFIG, "line 1");
    /* a missing configuration is the default */
    assert_int_equal(unlink(sp(c, "uakey-pki.conf")), 0);
    pki = uakey_pki_open(c->dir);
    assert_non_null(pki);
    assert_int_equal(uakey_pki_max_rejected(pki), 100);
    uakey_pki_free(pki);
    assert_null(uakey_pki_open(NULL));
    expect_error(UK_R_BAD_PARAM, NULL);
}

/* How often |needle| occurs in |hay|. */
static int occurrences(const char *hay, const char *needle)
{
    int n = 0;

    for (hay = strstr(hay, needle); hay != NULL; hay = strstr(hay + 1, needle))
        n++;
    return n;
}

/* "no-revocation = <thumbprint>" lines of uakey-pki.conf: set, query, list,
 * other lines kept, duplicates, bad thumbprints, a broken line. */
static void test_revocation_conf(void **state)
{
    CTX *c = *state;
    UAKEY_PKI *pki = make_store(c, 0);
    X509 *ca1 = make_ca("ca one", ca_key), *ca2 = make_ca("ca two", other_key);
    char tp1[41], tp2[41], low1[41], line1[80], line2[80], buf[4096], before[4096];
    char (*off)[41] = NULL;
    size_t n = 99;
    struct stat st1, st2;
    static const char *const bad[] = { "", "0123", "0123456789ABCDEF0123456789ABCDEF0123456",
                                       "0123456789ABCDEF0123456789ABCDEF012345678",
                                       "0123456789ABCDEF0123456789ABCDEF0123456G",
                                       " 123456789ABCDEF0123456789ABCDEF01234567" };
    size_t i;

    thumb(ca1, tp1);
    thumb(ca2, tp2);
    memcpy(low1, tp1, sizeof(low1));
    lower(low1);
    snprintf(line1, sizeof(line1), "no-revocation = %s\n", tp1);
    snprintf(line2, sizeof(line2), "no-revocation = %s\n", tp2);

    /* the default: checked, nothing listed */
    assert_int_equal(uakey_pki_revocation_checked(pki, tp1), 1);
    assert_int_equal(uakey_pki_revocation_off(pki, &off, &n), 1);
    assert_int_equal(n, 0);
    assert_null(off);

    /* off, given in lower case: stored once, upper case, other lines kept */
    snprintf(before, sizeof(before), "# mine\nfuture-setting = 1\nmax-rejected = 7\n");
    write_raw(sp(c, "uakey-pki.conf"), before, strlen(before));
    assert_int_equal(uakey_pki_set_revocation_check(pki, low1, 0), 1);
    assert_int_equal(uakey_pki_set_revocation_check(pki, tp1, 0), 1);
    read_all(sp(c, "uakey-pki.conf"), buf, sizeof(buf));
    assert_int_equal(strncmp(buf, before, strlen(before)), 0);
    assert_string_equal(buf + strlen(before), line1);
    assert_int_equal(mode_of(sp(c, "uakey-pki.conf")), 0644);
    assert_int_equal(temp_files(c->dir), 0);
    assert_int_equal(uakey_pki_revocation_checked(pki, tp1), 0);
    assert_int_equal(uakey_pki_revocation_checked(pki, low1), 0);
    assert_int_equal(uakey_pki_revocation_checked(pki, tp2), 1);

    /* a second CA; the list in the order of the file */
    assert_int_equal(uakey_pki_set_revocation_check(pki, tp2, 0), 1);
    assert_int_equal(uakey_pki_revocation_off(pki, &off, &n), 1);
    assert_int_equal(n, 2);
    assert_string_equal(off[0], tp1);
    assert_string_equal(off[1], tp2);
    free(off);

    /* on again: that line goes, the rest stays */
    assert_int_equal(uakey_pki_set_revocation_check(pki, tp1, 1), 1);
    read_all(sp(c, "uakey-pki.conf"), buf, sizeof(buf));
    assert_int_equal(occurrences(buf, tp1), 0);
    assert_int_equal(occurrences(buf, line2), 1);
    assert_non_null(strstr(buf, "# mine\nfuture-setting = 1\nmax-rejected = 7\n"));
    assert_int_equal(uakey_pki_revocation_checked(pki, tp1), 1);
    assert_int_equal(uakey_pki_revocation_checked(pki, tp2), 0);

    /* setting what is set writes nothing */
    assert_int_equal(stat(sp(c, "uakey-pki.conf"), &st1), 0);
    assert_int_equal(uakey_pki_set_revocation_check(pki, tp1, 1), 1);
    assert_int_equal(uakey_pki_set_revocation_check(pki, tp2, 0), 1);
    assert_int_equal(stat(sp(c, "uakey-pki.conf"), &st2), 0);
    assert_int_equal(st1.st_ino, st2.st_ino);

    /* init keeps the lines; the store still opens */
    assert_int_equal(uakey_pki_init(c->dir, 9), 1);
    read_all(sp(c, "uakey-pki.conf"), buf, sizeof(buf));
    assert_non_null(strstr(buf, "max-rejected = 9\n"));
    assert_int_equal(occurrences(buf, line2), 1);
    uakey_pki_free(pki);
    pki = uakey_pki_open(c->dir);
    assert_non_null(pki);
    assert_int_equal(uakey_pki_revocation_checked(pki, tp2), 0);

    /* duplicates written by hand (any case, spaces): one CA, collapsed on
     * the next write, all gone with "on" */
    snprintf(buf, sizeof(buf), "no-revocation=%s\n  no-revocation \t=  %s \r\n%s", low1, tp1,
             line1);
    write_raw(sp(c, "uakey-pki.conf"), buf, strlen(buf));
    assert_int_equal(uakey_pki_revocation_off(pki, &off, &n), 1);
    assert_int_equal(n, 1);
    assert_string_equal(off[0], tp1);
    free(off);
    assert_int_equal(uakey_pki_set_revocation_check(pki, tp1, 0), 1);
    read_all(sp(c, "uakey-pki.conf"), buf, sizeof(buf));
    assert_string_equal(buf, line1);
    snprintf(buf, sizeof(buf), "%s# keep\n%s", line1, line1);
    write_raw(sp(c, "uakey-pki.conf"), buf, strlen(buf));
    assert_int_equal(uakey_pki_set_revocation_check(pki, low1, 1), 1);
    read_all(sp(c, "uakey-pki.conf"), buf, sizeof(buf));
    assert_string_equal(buf, "# keep\n");
    assert_int_equal(uakey_pki_revocation_checked(pki, tp1), 1);

    /* bad thumbprints */
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(uakey_pki_set_revocation_check(pki, bad[i], 0), 0);
        expect_error(UK_R_BAD_PARAM, "40 hex digits");
        assert_int_equal(uakey_pki_revocation_checked(pki, bad[i]), -1);
        expect_error(UK_R_BAD_PARAM, "40 hex digits");
    }
    assert_int_equal(uakey_pki_set_revocation_check(pki, NULL, 0), 0);
    expect_error(UK_R_BAD_PARAM, NULL);
    assert_int_equal(uakey_pki_set_revocation_check(NULL, tp1, 0), 0);
    expect_error(UK_R_BAD_PARAM, NULL);
    assert_int_equal(uakey_pki_revocation_checked(NULL, tp1), -1);
    expect_error(UK_R_BAD_PARAM, NULL);
    assert_int_equal(uakey_pki_revocation_off(pki, NULL, &n), 0);
    expect_error(UK_R_BAD_PARAM, NULL);
    read_all(sp(c, "uakey-pki.conf"), buf, sizeof(buf));
    assert_string_equal(buf, "# keep\n");

    /* a broken line: an error naming file and line, for open, query, list
     * and set (which leaves the file alone) */
    snprintf(before, sizeof(before), "# x\n%sno-revocation = %.39s\n", line2, tp1);
    write_raw(sp(c, "uakey-pki.conf"), before, strlen(before));
    assert_null(uakey_pki_open(c->dir));
    expect_error(UK_R_BAD_CONFIG, "uakey-pki.conf line 3: no-revocation");
    assert_int_equal(uakey_pki_revocation_checked(pki, tp2), -1);
    expect_error(UK_R_BAD_CONFIG, "uakey-pki.conf line 3");
    off = NULL;
    assert_int_equal(uakey_pki_revocation_off(pki, &off, &n), 0);
    assert_null(off);
    assert_int_equal(n, 0);
    expect_error(UK_R_BAD_CONFIG, "line 3");
    assert_int_equal(uakey_pki_set_revocation_check(pki, tp1, 1), 0);
    expect_error(UK_R_BAD_CONFIG, "line 3");
    read_all(sp(c, "uakey-pki.conf"), buf, sizeof(buf));
    assert_string_equal(buf, before);
    write_raw(sp(c, "uakey-pki.conf"), "no-revocation =\n", 16);
    assert_int_equal(uakey_pki_revocation_checked(pki, tp1), -1);
    expect_error(UK_R_BAD_CONFIG, "line 1: no-revocation must be");

    /* no conf at all: the default; "on" creates nothing, "off" creates it */
    assert_int_equal(unlink(sp(c, "uakey-pki.conf")), 0);
    assert_int_equal(uakey_pki_revocation_checked(pki, tp1), 1);
    assert_int_equal(uakey_pki_set_revocation_check(pki, tp1, 1), 1);
    assert_false(exists(sp(c, "uakey-pki.conf")));
    assert_int_equal(uakey_pki_set_revocation_check(pki, tp1, 0), 1);
    read_all(sp(c, "uakey-pki.conf"), buf, sizeof(buf));
    assert_int_equal(occurrences(buf, line1), 1);
    assert_int_equal(uakey_pki_revocation_checked(pki, tp1), 0);
    assert_int_equal(ERR_peek_error(), 0);

    X509_free(ca1);
    X509_free(ca2);
    uakey_pki_free(pki);
}

static int open_denied(CTX *c)
{
    UAKEY_PKI *pki = uakey_pki_open(sp(c, "store"));
    unsigned long e = ERR_peek_last_error();
    char buf[1024];

    if (pki != NULL || ERR_GET_REASON(e) != UK_R_PERMISSION)
        return 0;
    uakey_error_string(buf, sizeof(buf));
    return strstr(buf, "Permission denied") != NULL && strstr(buf, "/store") != NULL;
}

static int open_denied_sub(CTX *c)
{
    UAKEY_PKI *pki = uakey_pki_open(sp(c, "store"));
    unsigned long e = ERR_peek_last_error();
    char buf[1024];

    if (pki != NULL || ERR_GET_REASON(e) != UK_R_PERMISSION)
        return 0;
    uakey_error_string(buf, sizeof(buf));
    return strstr(buf, "trusted/certs") != NULL && strstr(buf, "Permission denied") != NULL;
}

static void test_open_permission(void **state)
{
    CTX *c = *state;

    assert_int_equal(chmod(c->dir, 0755), 0);   /* reachable by "nobody" */
    assert_int_equal(uakey_pki_init(sp(c, "store"), 0), 1);
    assert_int_equal(chmod(sp(c, "store"), 0), 0);
    assert_true(as_nobody(open_denied, c));
    assert_int_equal(chmod(sp(c, "store"), 0755), 0);
    assert_int_equal(chmod(sp(c, "store/trusted/certs"), 0), 0);
    assert_true(as_nobody(open_denied_sub, c));
    assert_int_equal(chmod(sp(c, "store/trusted/certs"), 0755), 0);
}

/* ---- tests: naming ---------------------------------------------------------- */

/* Add a certificate with CN |cn| to trusted/ and check its file name. */
static void check_name(CTX *c, UAKEY_PKI *pki, const char *cn, long serial, const char *want_cn)
{
    X509 *x = make_cert(cn, serial);
    char tp[41], want[1024], *path = NULL;

    thumb(x, tp);
    assert_int_equal(uakey_pki_add_cert(pki, UAKEY_PKI_TRUSTED, x, &path), 1);
    assert_non_null(path);
    snprintf(want, sizeof(want), "%s/trusted/certs/%s [%s].der", c->dir, want_cn, tp);
    assert_string_equal(path, want);
    assert_true(exists(want));
    assert_int_equal(mode_of(want), 0644);
    free(path);
    X509_free(x);
}

static void test_naming(void **state)
{
    CTX *c = *state;
    UAKEY_PKI *pki = make_store(c, 0);
    char long_cn[101], want_cn[65];

    check_name(c, pki, "Plain App-1_x.y", 1, "Plain App-1_x.y");
    check_name(c, pki, "a/b", 2, "a_b");
    check_name(c, pki, "..", 3, "..");
    check_name(c, pki, "../../etc/passwd", 4, ".._.._etc_passwd");
    check_name(c, pki, "/", 5, "_");
    check_name(c, pki, "back\\slash:*?\"<>|", 6, "back_slash_______");
    check_name(c, pki, "Gr\xC3\xBC\xC3\x9F" "e \xE2\x82\xAC", 7, "Gr__e _");
    check_name(c, pki, "tab\there", 8, "tab_here");
    check_name(c, pki, NULL, 9, "cert");        /* no CN */
    check_name(c, pki, "", 10, "cert");         /* empty CN */
    memset(long_cn, 'L', 100);
    long_cn[100] = '\0';
    memset(want_cn, 'L', 64);
    want_cn[64] = '\0';
    check_name(c, pki, long_cn, 11, want_cn);
    /* everything landed in trusted/certs and nowhere else */
    assert_int_equal(count_files(sp(c, "trusted/certs")), 11);
    assert_int_equal(count_files(c->dir), 5);   /* 4 folders + uakey-pki.conf */
    assert_int_equal(c->nwarn, 0);
    uakey_pki_free(pki);
}

/* ---- tests: add, list, remove ------------------------------------------------ */

static void test_add_list_remove(void **state)
{
    CTX *c = *state;
    UAKEY_PKI *pki = make_store(c, 0);
    X509 *ca = make_cert_full("B Test CA", 1, ca_key, NULL, NULL, 1, NULL);
    X509 *leaf = make_cert_full("A leaf", 2, leaf_key, NULL, NULL, 0, "urn:test:app");
    UAKEY_CERT_INFO *info = NULL;
    char tca[41], tleaf[41], arg[41];
    size_t n = 99;
    time_t now = time(NULL);

    thumb(ca, tca);
    thumb(leaf, tleaf);
    assert_int_equal(uakey_pki_list(pki, UAKEY_PKI_TRUSTED, &info, &n), 1);
    assert_int_equal(n, 0);
    assert_null(info);
    assert_int_equal(uakey_pki_add_cert(pki, UAKEY_PKI_TRUSTED, ca, NULL), 1);
    assert_int_equal(uakey_pki_add_cert(pki, UAKEY_PKI_TRUSTED, leaf, NULL), 1);
    assert_int_equal(uakey_pki_list(pki, UAKEY_PKI_TRUSTED, &info, &n), 1);
    assert_int_equal(n, 2);
    /* sorted by file name: "A leaf [..]" before "B Test CA [..]" */
    assert_int_equal(info[0].group, UAKEY_PKI_TRUSTED);
    assert_string_equal(info[0].thumbprint, tleaf);
    assert_string_equal(info[0].subject, "CN=A leaf");
    assert_string_equal(info[0].app_uri, "urn:test:app");
    assert_int_equal(info[0].is_ca, 0);
    assert_true(info[0].not_before > now - 7200 && info[0].not_before <= now);
    assert_true(info[0].not_after > now + 86400L * 29 && info[0].not_after < now + 86400L * 31);
    assert_non_null(strstr(info[0].path, "/trusted/certs/A leaf ["));
    assert_string_equal(info[1].thumbprint, tca);
    assert_string_equal(info[1].subject, "CN=B Test CA");
    assert_null(info[1].app_uri);
    assert_int_equal(info[1].is_ca, 1);
    uakey_cert_info_free(info, n);

    /* other groups are separate */
    assert_int_equal(uakey_pki_list(pki, UAKEY_PKI_ISSUERS, &info, &n), 1);
    assert_int_equal(n, 0);
    assert_int_equal(uakey_pki_add_cert(pki, UAKEY_PKI_ISSUERS, ca, NULL), 1);
    assert_int_equal(uakey_pki_add_cert(pki, UAKEY_PKI_OWN, leaf, NULL), 1);
    assert_int_equal(uakey_pki_list(pki, UAKEY_PKI_ISSUERS, &info, &n), 1);
    assert_int_equal(n, 1);
    assert_int_equal(info[0].group, UAKEY_PKI_ISSUERS);
    uakey_cert_info_free(info, n);
    assert_int_equal(uakey_pki_list(pki, UAKEY_PKI_OWN, &info, &n), 1);
    assert_int_equal(n, 1);
    uakey_cert_info_free(info, n);

    /* remove by thumbprint, any case */
    strcpy(arg, tleaf);
    lower(arg);
    assert_int_equal(uakey_pki_remove(pki, UAKEY_PKI_TRUSTED, arg), 1);
    assert_int_equal(count_files(sp(c, "trusted/certs")), 1);
    assert_int_equal(uakey_pki_remove(pki, UAKEY_PKI_TRUSTED, arg), 0);
    expect_error(UK_R_OBJECT_NOT_FOUND, tleaf);
    assert_int_equal(count_files(sp(c, "own/certs")), 1);     /* untouched */
    assert_int_equal(uakey_pki_remove(pki, UAKEY_PKI_TRUSTED, "1234"), 0);
    expect_error(UK_R_BAD_PARAM, "40 hex digits");
    assert_int_equal(uakey_pki_remove(pki, UAKEY_PKI_TRUSTED,
                                      "ZZ34567890123456789012345678901234567890"), 0);
    expect_error(UK_R_BAD_PARAM, "40 hex digits");
    assert_int_equal(uakey_pki_remove(pki, UAKEY_PKI_TRUSTED, tca), 1);
    assert_int_equal(count_files(sp(c, "trusted/certs")), 0);

    /* a file placed by hand under another name is found by its content */
    write_der(sp(c, "trusted/certs/by-hand.der"), leaf);
    assert_int_equal(uakey_pki_remove(pki, UAKEY_PKI_TRUSTED, tleaf), 1);
    assert_false(exists(sp(c, "trusted/certs/by-hand.der")));

    assert_int_equal(uakey_pki_list(pki, (UAKEY_PKI_GROUP)9, &info, &n), 0);
    expect_error(UK_R_BAD_PARAM, NULL);
    assert_int_equal(c->nwarn, 0);
    X509_free(ca);
    X509_free(leaf);
    uakey_pki_free(pki);
}

static void test_add_duplicate(void **state)
{
    CTX *c = *state;
    UAKEY_PKI *pki = make_store(c, 0);
    X509 *x = make_cert("dup", 1);
    char *p1 = NULL, *p2 = NULL;
    struct stat a, b;

    assert_int_equal(uakey_pki_add_cert(pki, UAKEY_PKI_TRUSTED, x, &p1), 1);
    assert_int_equal(stat(p1, &a), 0);
    assert_int_equal(uakey_pki_add_cert(pki, UAKEY_PKI_TRUSTED, x, &p2), 1);
    assert_string_equal(p1, p2);
    assert_int_equal(stat(p2, &b), 0);
    assert_int_equal(a.st_ino, b.st_ino);        /* not rewritten */
    assert_int_equal(count_files(sp(c, "trusted/certs")), 1);
    assert_int_equal(ERR_peek_error(), 0);
    free(p1);
    free(p2);

    /* a damaged file under the right name is replaced */
    write_raw(sp(c, "trusted/certs/junk"), "x", 1);
    assert_int_equal(uakey_pki_add_cert(pki, UAKEY_PKI_TRUSTED, x, &p1), 1);
    write_raw(p1, "damaged", 7);
    assert_int_equal(uakey_pki_add_cert(pki, UAKEY_PKI_TRUSTED, x, &p2), 1);
    assert_string_equal(p1, p2);
    assert_int_equal(count_files(sp(c, "trusted/certs")), 2);
    {
        STACK_OF(X509) *sk = uakey_pki_certs(pki, UAKEY_PKI_TRUSTED);

        assert_non_null(sk);
        assert_int_equal(sk_X509_num(sk), 1);
        assert_int_equal(X509_cmp(sk_X509_value(sk, 0), x), 0);
        sk_X509_pop_free(sk, X509_free);
    }
    free(p1);
    free(p2);
    X509_free(x);
    uakey_pki_free(pki);
}

/* ---- tests: rejected/ --------------------------------------------------------- */

static void test_reject_and_trust(void **state)
{
    CTX *c = *state;
    UAKEY_PKI *pki = make_store(c, 0);
    X509 *x = make_cert("Peer", 1), *y = make_cert("Other", 2);
    UAKEY_CERT_INFO *info = NULL;
    char tp[41], arg[41], want[1024];
    size_t n = 0;

    thumb(x, tp);
    assert_int_equal(uakey_pki_reject(pki, x), 1);
    assert_int_equal(uakey_pki_reject(pki, x), 1);      /* not stored twice */
    assert_int_equal(uakey_pki_reject(pki, y), 1);
    assert_int_equal(count_files(sp(c, "rejected/certs")), 2);
    assert_int_equal(uakey_pki_list(pki, UAKEY_PKI_REJECTED, &info, &n), 1);
    assert_int_equal(n, 2);
    assert_string_equal(info[1].thumbprint, tp);        /* "Other" < "Peer" */
    assert_int_equal(info[1].group, UAKEY_PKI_REJECTED);
    uakey_cert_info_free(info, n);

    strcpy(arg, tp);
    lower(arg);
    assert_int_equal(uakey_pki_trust_rejected(pki, arg), 1);
    snprintf(want, sizeof(want), "trusted/certs/Peer [%s].der", tp);
    assert_true(exists(sp(c, want)));
    snprintf(want, sizeof(want), "rejected/certs/Peer [%s].der", tp);
    assert_false(exists(sp(c, want)));
    assert_int_equal(count_files(sp(c, "rejected/certs")), 1);
    assert_int_equal(count_files(sp(c, "trusted/certs")), 1);
    assert_int_equal(uakey_pki_trust_rejected(pki, tp), 0);
    expect_error(UK_R_OBJECT_NOT_FOUND, "rejected/");
    assert_int_equal(uakey_pki_trust_rejected(pki, "nothex"), 0);
    expect_error(UK_R_BAD_PARAM, NULL);

    /* add_cert to REJECTED is a rejection */
    assert_int_equal(uakey_pki_add_cert(pki, UAKEY_PKI_REJECTED, x, NULL), 1);
    assert_int_equal(count_files(sp(c, "rejected/certs")), 2);
    assert_int_equal(temp_files(c->dir), 0);
    X509_free(x);
    X509_free(y);
    uakey_pki_free(pki);
}

static void test_clear_rejected(void **state)
{
    CTX *c = *state;
    UAKEY_PKI *pki = make_store(c, 0);
    long i;

    for (i = 1; i <= 3; i++) {
        X509 *x = make_cert("clear me", i);

        assert_int_equal(uakey_pki_reject(pki, x), 1);
        X509_free(x);
    }
    write_raw(sp(c, "rejected/certs/foreign.txt"), "hello", 5);
    assert_int_equal(count_files(sp(c, "rejected/certs")), 4);
    assert_int_equal(uakey_pki_clear_rejected(pki), 1);
    assert_int_equal(count_files(sp(c, "rejected/certs")), 0);
    assert_int_equal(uakey_pki_clear_rejected(pki), 1);     /* empty: fine */
    uakey_pki_free(pki);
}

static void set_mtime(const char *path, time_t t)
{
    struct timespec ts[2];

    ts[0].tv_sec = t;
    ts[0].tv_nsec = 0;
    ts[1] = ts[0];
    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static char *reject_named(UAKEY_PKI *pki, const char *cn, long serial, char tp[41])
{
    X509 *x = make_cert(cn, serial);
    char *path = NULL;

    thumb(x, tp);
    assert_int_equal(uakey_pki_add_cert(pki, UAKEY_PKI_REJECTED, x, &path), 1);
    assert_non_null(path);
    X509_free(x);
    return path;
}

static void test_eviction_order(void **state)
{
    CTX *c = *state;
    UAKEY_PKI *pki = make_store(c, 3);
    char ta[41], tb[41], tc[41], td[41], te[41], tf[41];
    char *pa, *pb, *pc, *pd, *pe, *pf;

    assert_int_equal(uakey_pki_max_rejected(pki), 3);
    pa = reject_named(pki, "a", 1, ta);
    pb = reject_named(pki, "b", 2, tb);
    pc = reject_named(pki, "c", 3, tc);
    /* a is the newest; b and c are equally old: the name decides */
    set_mtime(pa, 1000000000);
    set_mtime(pc, 500000000);
    set_mtime(pb, 500000000);
    pd = reject_named(pki, "d", 4, td);
    assert_int_equal(count_files(sp(c, "rejected/certs")), 3);
    assert_false(exists(pb));
    assert_true(exists(pa) && exists(pc) && exists(pd));
    pe = reject_named(pki, "e", 5, te);
    assert_false(exists(pc));
    assert_true(exists(pa) && exists(pd) && exists(pe));
    pf = reject_named(pki, "f", 6, tf);
    assert_false(exists(pa));
    assert_true(exists(pd) && exists(pe) && exists(pf));
    assert_int_equal(count_files(sp(c, "rejected/certs")), 3);

    /* a file dated in the future still goes when it is the oldest of the
     * later ones: the new file always sorts after every file present */
    set_mtime(pd, time(NULL) + 86400 * 365);
    {
        char tg[41];
        char *pg = reject_named(pki, "g", 7, tg);
        char *ph;

        assert_false(exists(pe));
        ph = reject_named(pki, "h", 8, tg);
        assert_false(exists(pf));
        assert_true(exists(pd) && exists(pg) && exists(ph));
        ph = (free(ph), reject_named(pki, "i", 9, tg));
        assert_false(exists(pd));           /* d is older than g and h now */
        assert_true(exists(pg) && exists(ph));
        free(pg);
        free(ph);
    }

    /* a full folder of foreign files is made room in too */
    assert_int_equal(uakey_pki_clear_rejected(pki), 1);
    write_raw(sp(c, "rejected/certs/x1"), "1", 1);
    write_raw(sp(c, "rejected/certs/x2"), "2", 1);
    write_raw(sp(c, "rejected/certs/x3"), "3", 1);
    free(reject_named(pki, "j", 10, tf));
    assert_int_equal(count_files(sp(c, "rejected/certs")), 3);
    assert_false(exists(sp(c, "rejected/certs/x1")));

    free(pa);
    free(pb);
    free(pc);
    free(pd);
    free(pe);
    free(pf);
    uakey_pki_free(pki);
}

#define FLOOD_N 10000
#define FLOOD_MAX 100

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_reject_flood(void **state)
{
    CTX *c = *state;
    UAKEY_PKI *pki = make_store(c, FLOOD_MAX);
    static char tps[FLOOD_N][41];
    char *want[FLOOD_MAX], *got[FLOOD_MAX];
    UAKEY_CERT_INFO *info = NULL;
    X509 *x = make_cert("flood", 1);
    size_t n = 0, i;
    time_t t0 = time(NULL);
    char cn[32];

    for (i = 0; i < FLOOD_N; i++) {
        /* same key, new serial and CN: a distinct certificate each time */
        X509_NAME_ENTRY *old = X509_NAME_delete_entry(X509_get_subject_name(x), 0);

        assert_non_null(old);
        X509_NAME_ENTRY_free(old);
        snprintf(cn, sizeof(cn), "flood %05zu", i);
        assert_int_equal(X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
                                                    MBSTRING_UTF8, (const unsigned char *)cn,
                                                    -1, -1, 0), 1);
        assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), (long)i + 1), 1);
        assert_true(X509_sign(x, leaf_key, NULL) > 0);
        thumb(x, tps[i]);
        assert_int_equal(uakey_pki_reject(pki, x), 1);
    }
    X509_free(x);
    print_message("flood: %d rejections in %lds\n", FLOOD_N, (long)(time(NULL) - t0));
    assert_int_equal(count_files(sp(c, "rejected/certs")), FLOOD_MAX);
    assert_int_equal(uakey_pki_list(pki, UAKEY_PKI_REJECTED, &info, &n), 1);
    assert_int_equal(n, FLOOD_MAX);
    for (i = 0; i < FLOOD_MAX; i++) {
        want[i] = tps[FLOOD_N - FLOOD_MAX + i];
        got[i] = info[i].thumbprint;
    }
    qsort(want, FLOOD_MAX, sizeof(want[0]), cmp_str);
    qsort(got, FLOOD_MAX, sizeof(got[0]), cmp_str);
    for (i = 0; i < FLOOD_MAX; i++)
        assert_string_equal(want[i], got[i]);
    uakey_cert_info_free(info, n);
    assert_int_equal(temp_files(c->dir), 0);
    assert_int_equal(c->nwarn, 0);
    uakey_pki_free(pki);
}

/* ---- tests: damaged and foreign files ---------------------------------------- */

static void test_corrupt_and_foreign(void **state)
{
    CTX *c = *state;
    UAKEY_PKI *pki = make_store(c, 0);
    X509 *x = make_cert("good", 1), *y = make_cert("pem", 2);
    unsigned char *der = NULL;
    int len = i2d_X509(x, &der);
    UAKEY_CERT_INFO *info = NULL;
    STACK_OF(X509) *sk;
    STACK_OF(X509_CRL) *crls;
    size_t n = 0;
    BIO *b;
    char *pem;
    long pemlen;

    assert_int_equal(uakey_pki_add_cert(pki, UAKEY_PKI_TRUSTED, x, NULL), 1);
    /* a truncated DER, a text file, and a PEM certificate (readable) */
    write_raw(sp(c, "trusted/certs/broken [0000000000000000000000000000000000000000].der"),
              der, (size_t)len / 2);
    write_raw(sp(c, "trusted/certs/README.txt"), "not a certificate\n", 18);
    b = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_X509(b, y), 1);
    pemlen = BIO_get_mem_data(b, &pem);
    write_raw(sp(c, "trusted/certs/peer.pem"), pem, (size_t)pemlen);
    BIO_free(b);

    assert_int_equal(uakey_pki_list(pki, UAKEY_PKI_TRUSTED, &info, &n), 1);
    assert_int_equal(n, 2);
    assert_string_equal(info[0].subject, "CN=good");
    assert_string_equal(info[1].subject, "CN=pem");
    uakey_cert_info_free(info, n);
    assert_int_equal(c->nwarn, 2);
    assert_non_null(strstr(c->warnings, "README.txt: not a certificate"));
    assert_non_null(strstr(c->warnings, "broken [0000000000000000000000000000000000000000]"
                           ".der: not a certificate"));
    assert_int_equal(ERR_peek_error(), 0);       /* nothing left on the queue */

    c->nwarn = 0;
    sk = uakey_pki_certs(pki, UAKEY_PKI_TRUSTED);
    assert_non_null(sk);
    assert_int_equal(sk_X509_num(sk), 2);
    sk_X509_pop_free(sk, X509_free);
    assert_int_equal(c->nwarn, 2);

    /* a corrupt CRL and a folder inside trusted/crl */
    c->nwarn = 0;
    write_raw(sp(c, "trusted/crl/bad.crl"), "\x30\x03\x02\x01", 4);
    assert_int_equal(mkdir(sp(c, "trusted/crl/sub"), 0755), 0);
    crls = uakey_pki_crls(pki, UAKEY_PKI_TRUSTED);
    assert_non_null(crls);
    assert_int_equal(sk_X509_CRL_num(crls), 0);
    sk_X509_CRL_free(crls);
    assert_int_equal(c->nwarn, 2);
    assert_int_equal(ERR_peek_error(), 0);

    /* an unreadable file (a dangling link) is a warning too */
    c->nwarn = 0;
    assert_int_equal(symlink("/nonexistent/x", sp(c, "own/certs/dangling.der")), 0);
    assert_int_equal(uakey_pki_list(pki, UAKEY_PKI_OWN, &info, &n), 1);
    assert_int_equal(n, 0);
    assert_int_equal(c->nwarn, 1);

    /* no warn callback: skipped silently */
    uakey_pki_set_warn(pki, NULL, NULL);
    assert_int_equal(uakey_pki_list(pki, UAKEY_PKI_TRUSTED, &info, &n), 1);
    assert_int_equal(n, 2);
    uakey_cert_info_free(info, n);

    /* own/ and rejected/ hold no CRLs: an empty stack */
    crls = uakey_pki_crls(pki, UAKEY_PKI_OWN);
    assert_non_null(crls);
    assert_int_equal(sk_X509_CRL_num(crls), 0);
    sk_X509_CRL_free(crls);

    OPENSSL_free(der);
    X509_free(x);
    X509_free(y);
    uakey_pki_free(pki);
}

static void test_issuer_folder(void **state)
{
    CTX *c = *state;
    UAKEY_PKI *pki = make_store(c, 0);
    X509 *ca1 = make_ca("CA one", ca_key), *ca2 = make_ca("CA two", other_key);
    X509_CRL *crl;
    UAKEY_CERT_INFO *info = NULL;
    STACK_OF(X509) *sk;
    STACK_OF(X509_CRL) *crls;
    char tp2[41];
    size_t n = 0;

    thumb(ca2, tp2);
    assert_int_equal(uakey_pki_add_cert(pki, UAKEY_PKI_ISSUERS, ca1, NULL), 1);
    /* an open62541-style folder: "issuer", name without extension */
    assert_int_equal(mkdir(sp(c, "issuer"), 0755), 0);
    assert_int_equal(mkdir(sp(c, "issuer/certs"), 0755), 0);
    assert_int_equal(mkdir(sp(c, "issuer/crl"), 0755), 0);
    write_der(sp(c, "issuer/certs/CA two[x]"), ca2);

    assert_int_equal(uakey_pki_list(pki, UAKEY_PKI_ISSUERS, &info, &n), 1);
    assert_int_equal(n, 2);
    assert_string_equal(info[0].subject, "CN=CA one");
    assert_string_equal(info[1].subject, "CN=CA two");
    assert_non_null(strstr(info[1].path, "/issuer/certs/"));
    uakey_cert_info_free(info, n);
    sk = uakey_pki_certs(pki, UAKEY_PKI_ISSUERS);
    assert_int_equal(sk_X509_num(sk), 2);
    sk_X509_pop_free(sk, X509_free);

    /* a CRL of the CA that sits only in issuer/ is accepted; one dropped
     * into issuer/crl is read */
    crl = make_crl(X509_get_subject_name(ca2), other_key);
    assert_int_equal(uakey_pki_add_crl(pki, UAKEY_PKI_ISSUERS, crl), 1);
    {
        unsigned char *der = NULL;
        int len = i2d_X509_CRL(crl, &der);

        write_raw(sp(c, "issuer/crl/old.crl"), der, (size_t)len);
        OPENSSL_free(der);
    }
    crls = uakey_pki_crls(pki, UAKEY_PKI_ISSUERS);
    assert_non_null(crls);
    assert_int_equal(sk_X509_CRL_num(crls), 2);
    sk_X509_CRL_pop_free(crls, X509_CRL_free);
    X509_CRL_free(crl);

    /* remove reaches issuer/ as well */
    assert_int_equal(uakey_pki_remove(pki, UAKEY_PKI_ISSUERS, tp2), 1);
    assert_false(exists(sp(c, "issuer/certs/CA two[x]")));
    /* trusted/ is not affected by issuer/ */
    assert_int_equal(uakey_pki_list(pki, UAKEY_PKI_TRUSTED, &info, &n), 1);
    assert_int_equal(n, 0);
    assert_int_equal(c->nwarn, 0);
    X509_free(ca1);
    X509_free(ca2);
    uakey_pki_free(pki);
}

/* ---- tests: CRLs ----------------------------------------------------------------- */

static void test_add_crl(void **state)
{
    CTX *c = *state;
    UAKEY_PKI *pki = make_store(c, 0);
    X509 *ca = make_ca("Root/CA", ca_key), *stranger = make_ca("Stranger", other_key);
    X509 *notca = make_cert_full("Root/CA", 5, other_key, NULL, NULL, 0, NULL);
    X509_CRL *crl, *bad;
    unsigned char *der = NULL, md[20];
    const unsigned char *p;
    char hex[41], want[1024];
    STACK_OF(X509_CRL) *crls;
    int len, i;

    crl = make_crl(X509_get_subject_name(ca), ca_key);
    /* no CA in the store yet */
    assert_int_equal(uakey_pki_add_crl(pki, UAKEY_PKI_TRUSTED, crl), 0);
    expect_error(UK_R_BAD_CRL, "no CA certificate with that subject");
    assert_int_equal(uakey_pki_add_cert(pki, UAKEY_PKI_TRUSTED, ca, NULL), 1);
    assert_int_equal(uakey_pki_add_crl(pki, UAKEY_PKI_TRUSTED, crl), 1);
    assert_int_equal(uakey_pki_add_crl(pki, UAKEY_PKI_TRUSTED, crl), 1);   /* again */
    len = i2d_X509_CRL(crl, &der);
    assert_true(len > 0);
    assert_int_equal(EVP_Digest(der, (size_t)len, md, NULL, EVP_sha1(), NULL), 1);
    for (i = 0; i < 20; i++)
        snprintf(hex + 2 * i, 3, "%02X", md[i]);
    snprintf(want, sizeof(want), "trusted/crl/Root_CA [%s].crl", hex);
    assert_true(exists(sp(c, want)));
    assert_int_equal(mode_of(sp(c, want)), 0644);
    assert_int_equal(count_files(sp(c, "trusted/crl")), 1);
    crls = uakey_pki_crls(pki, UAKEY_PKI_TRUSTED);
    assert_int_equal(sk_X509_CRL_num(crls), 1);
    assert_int_equal(X509_CRL_cmp(sk_X509_CRL_value(crls, 0), crl), 0);
    sk_X509_CRL_pop_free(crls, X509_CRL_free);

    /* the same CRL into issuers/crl */
    assert_int_equal(uakey_pki_add_crl(pki, UAKEY_PKI_ISSUERS, crl), 1);
    assert_int_equal(count_files(sp(c, "issuers/crl")), 1);

    /* wrong issuer: a CRL of a CA the store does not know */
    bad = make_crl(X509_get_subject_name(stranger), other_key);
    assert_int_equal(uakey_pki_add_crl(pki, UAKEY_PKI_TRUSTED, bad), 0);
    expect_error(UK_R_BAD_CRL, "CN=Stranger");
    X509_CRL_free(bad);

    /* the right issuer name, signed by another key */
    bad = make_crl(X509_get_subject_name(ca), other_key);
    assert_int_equal(uakey_pki_add_crl(pki, UAKEY_PKI_TRUSTED, bad), 0);
    expect_error(UK_R_BAD_CRL, "does not verify");
    X509_CRL_free(bad);

    /* a tampered signature */
    der[len - 3] ^= 0x5a;
    p = der;
    bad = d2i_X509_CRL(NULL, &p, len);
    assert_non_null(bad);
    assert_int_equal(uakey_pki_add_crl(pki, UAKEY_PKI_TRUSTED, bad), 0);
    expect_error(UK_R_BAD_CRL, "does not verify");
    X509_CRL_free(bad);
    /* a tampered body (a revoked entry changed) */
    der[len - 3] ^= 0x5a;
    {
        X509_CRL *t;
        X509_REVOKED *r;
        ASN1_INTEGER *s = ASN1_INTEGER_new();

        p = der;
        t = d2i_X509_CRL(NULL, &p, len);
        assert_non_null(t);
        r = sk_X509_REVOKED_value(X509_CRL_get_REVOKED(t), 0);
        assert_int_equal(ASN1_INTEGER_set(s, 8), 1);
        assert_int_equal(X509_REVOKED_set_serialNumber(r, s), 1);
        ASN1_INTEGER_free(s);
        /* re-encode with the old signature */
        OPENSSL_free(der);
        der = NULL;
        len = i2d_re_X509_CRL_tbs(t, NULL);
        assert_true(len > 0);
        assert_int_equal(uakey_pki_add_crl(pki, UAKEY_PKI_TRUSTED, t), 0);
        expect_error(UK_R_BAD_CRL, "does not verify");
        X509_CRL_free(t);
    }
    assert_int_equal(count_files(sp(c, "trusted/crl")), 1);

    /* a certificate with the issuer's name that is not a CA */
    assert_int_equal(uakey_pki_remove(pki, UAKEY_PKI_TRUSTED,
                                      (thumb(ca, hex), hex)), 1);
    assert_int_equal(uakey_pki_add_cert(pki, UAKEY_PKI_TRUSTED, notca, NULL), 1);
    bad = make_crl(X509_get_subject_name(notca), other_key);
    assert_int_equal(uakey_pki_add_crl(pki, UAKEY_PKI_TRUSTED, bad), 0);
    expect_error(UK_R_BAD_CRL, "not a CA");
    X509_CRL_free(bad);

    /* only trusted/ and issuers/ take CRLs */
    assert_int_equal(uakey_pki_add_crl(pki, UAKEY_PKI_OWN, crl), 0);
    expect_error(UK_R_BAD_PARAM, NULL);
    assert_int_equal(uakey_pki_add_crl(pki, UAKEY_PKI_REJECTED, crl), 0);
    expect_error(UK_R_BAD_PARAM, NULL);

    assert_int_equal(temp_files(c->dir), 0);
    OPENSSL_free(der);
    X509_CRL_free(crl);
    X509_free(ca);
    X509_free(stranger);
    X509_free(notca);
    uakey_pki_free(pki);
}

/* ---- tests: atomic writes --------------------------------------------------- */

static int write_denied(CTX *c)
{
    UAKEY_PKI *pki = uakey_pki_open(c->dir);
    X509 *x;
    int ok;

    if (pki == NULL)
        return 0;
    x = make_cert("replacement", 77);
    ok = !uakey_pki_write_own(pki, "app", x, NULL)
         && ERR_GET_REASON(ERR_peek_last_error()) == UK_R_PERMISSION;
    ERR_clear_error();
    /* nothing new in trusted/certs either */
    ok = ok && !uakey_pki_add_cert(pki, UAKEY_PKI_TRUSTED, x, NULL)
         && ERR_GET_REASON(ERR_peek_last_error()) == UK_R_PERMISSION;
    ERR_clear_error();
    X509_free(x);
    uakey_pki_free(pki);
    return ok;
}

static void test_atomic_write(void **state)
{
    CTX *c = *state;
    UAKEY_PKI *pki = make_store(c, 0);
    X509 *x = make_cert("first", 1), *y = make_cert("second", 2), *got;
    unsigned char *der = NULL;
    int len = i2d_X509(x, &der);
    char tp[41], path[1024], buf[4096];
    size_t n;

    /* success leaves no temporary file */
    assert_int_equal(uakey_pki_write_own(pki, "app", x, NULL), 1);
    assert_int_equal(uakey_pki_add_cert(pki, UAKEY_PKI_TRUSTED, x, NULL), 1);
    assert_int_equal(uakey_pki_reject(pki, y), 1);
    assert_int_equal(temp_files(c->dir), 0);

    /* the target is a folder: rename fails even for root */
    thumb(y, tp);
    snprintf(path, sizeof(path), "%s/trusted/certs/second [%s].der", c->dir, tp);
    assert_int_equal(mkdir(path, 0755), 0);
    assert_int_equal(uakey_pki_add_cert(pki, UAKEY_PKI_TRUSTED, y, NULL), 0);
    expect_error(UK_R_IO, "second");
    assert_int_equal(temp_files(c->dir), 0);
    assert_int_equal(rmdir(path), 0);

    /* a failed write leaves the previous file intact: an unwritable folder
     * (as an unprivileged user when running as root) */
    assert_int_equal(chmod(c->dir, 0755), 0);
    if (geteuid() != 0) {
        assert_int_equal(chmod(sp(c, "own/certs"), 0555), 0);
        assert_int_equal(chmod(sp(c, "trusted/certs"), 0555), 0);
    }
    assert_true(as_nobody(write_denied, c));
    assert_int_equal(chmod(sp(c, "own/certs"), 0755), 0);
    assert_int_equal(chmod(sp(c, "trusted/certs"), 0755), 0);
    assert_int_equal(temp_files(c->dir), 0);
    n = read_all(sp(c, "own/certs/app.der"), buf, sizeof(buf));
    assert_int_equal(n, (size_t)len);
    assert_memory_equal(buf, der, (size_t)len);
    got = uakey_pki_own_cert(pki, "app");
    assert_non_null(got);
    assert_int_equal(X509_cmp(got, x), 0);
    X509_free(got);
    OPENSSL_free(der);
    X509_free(x);
    X509_free(y);
    uakey_pki_free(pki);
}

/* ---- tests: own identities ----------------------------------------------------- */

static void test_name_valid(void **state)
{
    static const char *const good[] = { "app", "my-app_1.0", "A", "a.b.c", "x-" };
    static const char *const bad[] = { "", "a/b", "/abs", "..", "a..b", "../x", ".hidden",
                                       ".", "a\nb", "tab\tx", "a b", "caf\xC3\xA9", "a\\b",
                                       "a:b", "a*b", "del\x7f" };
    char name[80];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_int_equal(uakey_pki_name_valid(good[i]), 1);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (uakey_pki_name_valid(bad[i]) != 0)
            fail_msg("\"%s\" was accepted", bad[i]);
        expect_error(UK_R_BAD_NAME, NULL);
    }
    assert_int_equal(uakey_pki_name_valid(NULL), 0);
    expect_error(UK_R_BAD_NAME, "empty");
    memset(name, 'n', 64);
    name[64] = '\0';
    assert_int_equal(uakey_pki_name_valid(name), 1);
    name[64] = 'n';
    name[65] = '\0';
    assert_int_equal(uakey_pki_name_valid(name), 0);
    expect_error(UK_R_BAD_NAME, "64");
    assert_int_equal(uakey_pki_name_valid("a\x01"), 0);
    expect_error(UK_R_BAD_NAME, "control character");
}

static void test_write_own(void **state)
{
    CTX *c = *state;
    UAKEY_PKI *pki = make_store(c, 0);
    X509 *x = make_cert("own app", 1), *y = make_cert("renewed", 2), *got;
    X509 *z = make_cert_full("other key", 3, other_key, NULL, NULL, 0, NULL);
    char *kp, buf[256];

    /* key == NULL: the certificate only */
    assert_int_equal(uakey_pki_write_own(pki, "app", x, NULL), 1);
    assert_int_equal(keyref_calls, 0);
    assert_true(exists(sp(c, "own/certs/app.der")));
    assert_int_equal(mode_of(sp(c, "own/certs/app.der")), 0644);
    assert_false(exists(sp(c, "own/private/app.pem")));
    got = uakey_pki_own_cert(pki, "app");
    assert_non_null(got);
    assert_int_equal(X509_cmp(got, x), 0);
    X509_free(got);
    kp = uakey_pki_own_key_path(pki, "app");
    assert_non_null(kp);
    assert_string_equal(kp, sp(c, "own/private/app.pem"));
    free(kp);

    /* an existing reference is kept when key == NULL */
    write_raw(sp(c, "own/private/app.pem"), "KEYREF OLD\n", 11);
    assert_int_equal(uakey_pki_write_own(pki, "app", y, NULL), 1);
    read_all(sp(c, "own/private/app.pem"), buf, sizeof(buf));
    assert_string_equal(buf, "KEYREF OLD\n");

    /* a software key: uakey_keyref_write refuses, nothing is written */
    keyref_mode = 0;
    assert_int_equal(uakey_pki_write_own(pki, "app", x, leaf_key), 0);
    expect_error(UK_R_WRONG_KEY_TYPE, "not a token key");
    assert_int_equal(keyref_calls, 1);
    got = uakey_pki_own_cert(pki, "app");
    assert_int_equal(X509_cmp(got, y), 0);             /* still the previous one */
    X509_free(got);
    read_all(sp(c, "own/private/app.pem"), buf, sizeof(buf));
    assert_string_equal(buf, "KEYREF OLD\n");
    assert_int_equal(uakey_pki_write_own(pki, "fresh", x, leaf_key), 0);
    ERR_clear_error();
    assert_false(exists(sp(c, "own/certs/fresh.der")));
    assert_false(exists(sp(c, "own/private/fresh.pem")));

    /* a certificate of another key: refused before anything */
    keyref_calls = 0;
    assert_int_equal(uakey_pki_write_own(pki, "app", z, leaf_key), 0);
    expect_error(UK_R_KEY_MISMATCH, NULL);
    assert_int_equal(keyref_calls, 0);

    /* a token key (the stand-in writes): both files */
    keyref_mode = 1;
    assert_int_equal(uakey_pki_write_own(pki, "fresh", x, leaf_key), 1);
    assert_true(exists(sp(c, "own/certs/fresh.der")));
    read_all(sp(c, "own/private/fresh.pem"), buf, sizeof(buf));
    assert_string_equal(buf, "KEYREF NEW\n");

    /* the certificate cannot be written: the old reference comes back */
    assert_int_equal(mkdir(sp(c, "own/certs/app2.der"), 0755), 0);
    write_raw(sp(c, "own/private/app2.pem"), "KEYREF OLD\n", 11);
    assert_int_equal(uakey_pki_write_own(pki, "app2", x, leaf_key), 0);
    expect_error(UK_R_IO, "app2.der");
    read_all(sp(c, "own/private/app2.pem"), buf, sizeof(buf));
    assert_string_equal(buf, "KEYREF OLD\n");
    /* ... or goes away when there was none */
    assert_int_equal(mkdir(sp(c, "own/certs/app3.der"), 0755), 0);
    assert_int_equal(uakey_pki_write_own(pki, "app3", x, leaf_key), 0);
    ERR_clear_error();
    assert_false(exists(sp(c, "own/private/app3.pem")));
    assert_int_equal(temp_files(c->dir), 0);

    /* names */
    assert_int_equal(uakey_pki_write_own(pki, "../evil", x, NULL), 0);
    expect_error(UK_R_BAD_NAME, NULL);
    assert_false(exists(sp(c, "own/evil.der")));
    assert_null(uakey_pki_own_cert(pki, "a/b"));
    expect_error(UK_R_BAD_NAME, NULL);
    assert_null(uakey_pki_own_key_path(pki, ".."));
    expect_error(UK_R_BAD_NAME, NULL);
    assert_null(uakey_pki_own_cert(pki, "missing"));
    expect_error(UK_R_OBJECT_NOT_FOUND, "missing");
    write_raw(sp(c, "own/certs/junk.der"), "junk", 4);
    assert_null(uakey_pki_own_cert(pki, "junk"));
    expect_error(UK_R_BAD_CERT, "junk.der");
    assert_int_equal(uakey_pki_write_own(pki, "app", NULL, NULL), 0);
    expect_error(UK_R_BAD_PARAM, NULL);

    X509_free(x);
    X509_free(y);
    X509_free(z);
    uakey_pki_free(pki);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_init_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_init_twice_keeps_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_not_a_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revocation_conf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_permission, setup, teardown),
        cmocka_unit_test_setup_teardown(test_naming, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_list_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_duplicate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reject_and_trust, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clear_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eviction_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reject_flood, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_and_foreign, setup, teardown),
        cmocka_unit_test_setup_teardown(test_issuer_folder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_crl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_atomic_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_name_valid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_own, setup, teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
