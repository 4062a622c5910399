/* uakey cert create|csr|install|show: application instance certificates. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "cli.h"

static void cert_help(FILE *f)
{
    fprintf(f,
            "Usage: uakey cert create --pki DIR --key URI --name NAME --app-uri URI\n"
            "                         [--dns HOST]... [--ip ADDR]... [--cn CN] [--org O]\n"
            "                         [--days N]\n"
            "       uakey cert csr --key URI --app-uri URI [--dns HOST]... [--ip ADDR]...\n"
            "                      [--cn CN] [--org O] --out FILE.der\n"
            "       uakey cert install --pki DIR --name NAME [--key URI] CERT.der\n"
            "                          [--issuer CA.der]...\n"
            "       uakey cert renew --pki DIR --name NAME --token URI --label LABEL\n"
            "                        [--type TYPE] --out FILE.der\n"
            "       uakey cert show [--json] FILE\n"
            "\n"
            "create   a self-signed application instance certificate (OPC 10000-6\n"
            "         6.2.2), signed in the token; writes own/certs/NAME.der and\n"
            "         own/private/NAME.pem (a key reference, no key material)\n"
            "csr      a PKCS#10 request (DER) with the same subject and subjectAltName\n"
            "install  an issued certificate as own identity NAME, after checking it\n"
            "         against the key (default own/private/NAME.pem); --issuer\n"
            "         certificates go to issuers/\n"
            "renew    key renewal: a new (pending) key LABEL in the token, recorded as\n"
            "         own/private/NAME.pending.pem, and a request (DER) with the\n"
            "         subject and subjectAltName of own/certs/NAME.der; 'cert install'\n"
            "         of the issued certificate then makes the pending key current and\n"
            "         retires the old one (no longer referenced; it stays in the token)\n"
            "show     the certificate as text, its ApplicationUri, thumbprint and the\n"
            "         OPC UA checklist (ok / MISSING)\n"
            "\n"
            "  --key URI      pkcs11: URI of the token key, or a key-reference file\n"
            "  --name NAME    letters, digits, '-', '_', '.' (no '/' or '..')\n"
            "  --app-uri URI  the ApplicationUri (first subjectAltName entry)\n"
            "  --dns HOST     a host name for subjectAltName (repeatable)\n"
            "  --ip ADDR      an IPv4/IPv6 address for subjectAltName (repeatable)\n"
            "  --cn CN        subject CN (default: the first --dns name, else \"uakey\")\n"
            "  --org O        subject O (default \"uakey\")\n"
            "  --days N       validity in days (default 365)\n"
            "  --token URI    renew: the token for the new key (pkcs11:token=...)\n"
            "  --label LABEL  renew: CKA_LABEL of the new key\n"
            "  --type TYPE    renew: rsa2048|rsa3072|rsa4096|ec-p256|ec-p384|\n"
            "                 ec-brainpoolp256r1|ec-brainpoolp384r1 (default: as the\n"
            "                 current key)\n"
            "  --pin-file F   token PIN from the first line of F\n");
}

/* Options shared by create, csr and install. */
typedef struct {
    const char *pki, *key, *name, *out, *token, *label, *type;
    const char **dns, **ips, **issuers;
    size_t ndns, nips, nissuers;
    UAKEY_CERT_PARAMS p;
} CERT_ARGS;

static void cert_args_free(CERT_ARGS *a)
{
    free(a->dns);
    free(a->ips);
    free(a->issuers);
}

/* Returns -1 to go on, else an exit code. */
static int cert_options(int argc, char **argv, CERT_ARGS *a)
{
    enum {
        OPT_PKI = OPT_FIRST_LOCAL, OPT_KEY, OPT_NAME, OPT_APP_URI, OPT_DNS, OPT_IP,
        OPT_ORG, OPT_CN, OPT_DAYS, OPT_OUT, OPT_ISSUER, OPT_TOKEN, OPT_LABEL, OPT_TYPE
    };
    static const struct option opts[] = {
        CLI_COMMON_OPTIONS,
        { "pki", required_argument, NULL, OPT_PKI },
        { "key", required_argument, NULL, OPT_KEY },
        { "name", required_argument, NULL, OPT_NAME },
        { "app-uri", required_argument, NULL, OPT_APP_URI },
        { "dns", required_argument, NULL, OPT_DNS },
        { "ip", required_argument, NULL, OPT_IP },
        { "org", required_argument, NULL, OPT_ORG },
        { "cn", required_argument, NULL, OPT_CN },
        { "days", required_argument, NULL, OPT_DAYS },
        { "out", required_argument, NULL, OPT_OUT },
        { "issuer", required_argument, NULL, OPT_ISSUER },
        { "token", required_argument, NULL, OPT_TOKEN },
        { "label", required_argument, NULL, OPT_LABEL },
        { "type", required_argument, NULL, OPT_TYPE },
        { NULL, 0, NULL, 0 }
    };
    size_t cap = (size_t)argc + 1;
    long num;
    int ch;

    memset(a, 0, sizeof(*a));
    a->dns = calloc(cap, sizeof(*a->dns));
    a->ips = calloc(cap, sizeof(*a->ips));
    a->issuers = calloc(cap, sizeof(*a->issuers));
    if (a->dns == NULL || a->ips == NULL || a->issuers == NULL)
        return cli_fail(CLI_FAIL, "out of memory");
    cli_getopt_reset();
    while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (cli_common_option(ch, optarg))
            continue;
        switch (ch) {
        case OPT_HELP:
            cert_help(stdout);
            return CLI_OK;
        case OPT_PKI: a->pki = optarg; break;
        case OPT_KEY: a->key = optarg; break;
        case OPT_NAME: a->name = optarg; break;
        case OPT_OUT: a->out = optarg; break;
        case OPT_APP_URI: a->p.app_uri = optarg; break;
        case OPT_DNS: a->dns[a->ndns++] = optarg; break;
        case OPT_IP: a->ips[a->nips++] = optarg; break;
        case OPT_ISSUER: a->issuers[a->nissuers++] = optarg; break;
        case OPT_TOKEN: a->token = optarg; break;
        case OPT_LABEL: a->label = optarg; break;
        case OPT_TYPE: a->type = optarg; break;
        case OPT_ORG: a->p.organization = optarg; break;
        case OPT_CN: a->p.common_name = optarg; break;
        case OPT_DAYS:
            if (!cli_parse_long(optarg, 1, 36500, &num))
                return cli_usage_error("cert ", "--days needs a number from 1 to 36500, "
                                       "not '%s'", optarg);
            a->p.days = (int)num;
            break;
        default:
            return cli_bad_option("cert ", ch, argv);
        }
    }
    a->p.dns = a->dns;
    a->p.ndns = a->ndns;
    a->p.ips = a->ips;
    a->p.nips = a->nips;
    return -1;
}

static int check_name(const char *name)
{
    if (name == NULL)
        return cli_usage_error("cert ", "missing --name NAME");
    if (!uakey_pki_name_valid(name))
        return cli_fail(CLI_USAGE, "invalid --name '%s': use letters, digits, '-', '_', '.' "
                        "(no '/' or '..')", name);
    return -1;
}

static int check_app_uri(const char *uri)
{
    if (uri == NULL || uri[0] == '\0')
        return cli_usage_error("cert ", "missing --app-uri URI (the ApplicationUri, "
                               "e.g. urn:host:company:product)");
    return -1;
}

/* ---- create ------------------------------------------------------------------------ */

static int cert_create(int argc, char **argv)
{
    CERT_ARGS a;
    UAKEY_PKI *pki = NULL;
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    char tp[41], *keypath = NULL;
    int rc;

    rc = cert_options(argc, argv, &a);
    if (rc >= 0)
        goto out;
    if (optind < argc) {
        rc = cli_usage_error("cert ", "unexpected argument '%s'", argv[optind]);
        goto out;
    }
    if (a.pki == NULL) {
        rc = cli_usage_error("cert ", "missing --pki DIR");
        goto out;
    }
    if (a.key == NULL) {
        rc = cli_usage_error("cert ", "missing --key URI");
        goto out;
    }
    if ((rc = check_name(a.name)) >= 0 || (rc = check_app_uri(a.p.app_uri)) >= 0)
        goto out;
    rc = CLI_FAIL;
    pki = cli_pki_open(a.pki);
    if (pki == NULL || !cli_provider())
        goto out;
    key = cli_load_key(a.key);
    if (key == NULL)
        goto out;
    cert = uakey_appcert_create(NULL, key, &a.p);
    if (cert == NULL || !uakey_pki_write_own(pki, a.name, cert, key)
        || !uakey_cert_thumbprint(cert, tp)) {
        cli_fail_lib();
        goto out;
    }
    keypath = uakey_pki_own_key_path(pki, a.name);
    printf("certificate: %s/own/certs/%s.der\n", uakey_pki_dir(pki), a.name);
    printf("key reference: %s\n", keypath != NULL ? keypath : "");
    printf("thumbprint: %s\n", tp);
    rc = CLI_OK;
out:
    free(keypath);
    X509_free(cert);
    EVP_PKEY_free(key);
    uakey_pki_free(pki);
    cert_args_free(&a);
    return rc;
}

/* ---- csr ------------------------------------------------------------------------------ */

static int cert_csr(int argc, char **argv)
{
    CERT_ARGS a;
    EVP_PKEY *key = NULL;
    X509_REQ *req = NULL;
    unsigned char *der = NULL;
    int rc, len;

    rc = cert_options(argc, argv, &a);
    if (rc >= 0)
        goto out;
    if (optind < argc) {
        rc = cli_usage_error("cert ", "unexpected argument '%s'", argv[optind]);
        goto out;
    }
    if (a.key == NULL) {
        rc = cli_usage_error("cert ", "missing --key URI");
        goto out;
    }
    if (a.out == NULL) {
        rc = cli_usage_error("cert ", "missing --out FILE.der");
        goto out;
    }
    if ((rc = check_app_uri(a.p.app_uri)) >= 0)
        goto out;
    rc = CLI_FAIL;
    if (!cli_provider())
        goto out;
    key = cli_load_key(a.key);
    if (key == NULL)
        goto out;
    req = uakey_appcert_csr(NULL, key, &a.p);
    if (req == NULL) {
        cli_fail_lib();
        goto out;
    }
    len = i2d_X509_REQ(req, &der);
    if (len <= 0) {
        cli_fail(CLI_FAIL, "cannot encode the request");
        goto out;
    }
    if (!cli_write_file(a.out, der, (size_t)len, 0644))
        goto out;
    printf("%s\n", a.out);
    rc = CLI_OK;
out:
    OPENSSL_free(der);
    X509_REQ_free(req);
    EVP_PKEY_free(key);
    cert_args_free(&a);
    return rc;
}

/* ---- install -------------------------------------------------------------------------- */

/* own/private/NAME.pending.pem beside own/private/NAME.pem (malloc'd). */
static char *pending_path(const char *keyref)
{
    size_t n = strlen(keyref);
    char *p = malloc(n + 16);

    if (p == NULL || n < 4) {
        free(p);
        return NULL;
    }
    memcpy(p, keyref, n - 4);
    strcpy(p + n - 4, ".pending.pem");
    return p;
}

static int cert_install(int argc, char **argv)
{
    CERT_ARGS a;
    UAKEY_PKI *pki = NULL;
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    STACK_OF(X509) *issuers = NULL;
    char *keyref = NULL, *pending = NULL, *old_uri = NULL, tp[41];
    size_t i;
    int rc, renewing = 0;

    rc = cert_options(argc, argv, &a);
    if (rc >= 0)
        goto out;
    if (a.pki == NULL) {
        rc = cli_usage_error("cert ", "missing --pki DIR");
        goto out;
    }
    if ((rc = check_name(a.name)) >= 0)
        goto out;
    if (argc - optind != 1) {
        rc = cli_usage_error("cert ", "give exactly one certificate file");
        goto out;
    }
    rc = CLI_FAIL;
    pki = cli_pki_open(a.pki);
    if (pki == NULL)
        goto out;
    cert = cli_load_cert(argv[optind]);
    if (cert == NULL)
        goto out;
    issuers = sk_X509_new_null();
    if (issuers == NULL) {
        cli_fail(CLI_FAIL, "out of memory");
        goto out;
    }
    for (i = 0; i < a.nissuers; i++) {
        X509 *ca = cli_load_cert(a.issuers[i]);

        if (ca == NULL)
            goto out;
        if (!sk_X509_push(issuers, ca)) {
            X509_free(ca);
            cli_fail(CLI_FAIL, "out of memory");
            goto out;
        }
    }
    if (!cli_provider())
        goto out;
    if (a.key == NULL) {
        keyref = uakey_pki_own_key_path(pki, a.name);
        if (keyref == NULL || (pending = pending_path(keyref)) == NULL) {
            cli_fail_lib();
            goto out;
        }
        /* a renewal in progress: the certificate is for the pending key */
        if (access(pending, F_OK) == 0) {
            key = cli_load_key(pending);
            if (key == NULL)
                goto out;
            if (X509_check_private_key(cert, key) == 1) {
                EVP_PKEY *old = NULL;

                ERR_set_mark();
                if (access(keyref, F_OK) == 0)
                    old = uakey_load_key(NULL, keyref, cli_global.pin_file, cli_ui(), NULL);
                ERR_pop_to_mark();
                old_uri = old != NULL ? uakey_key_uri(old) : NULL;
                EVP_PKEY_free(old);
                renewing = 1;
            } else {
                ERR_clear_error();
                EVP_PKEY_free(key);
                key = NULL;
            }
        }
    }
    if (key == NULL && (key = cli_load_key(a.key != NULL ? a.key : keyref)) == NULL)
        goto out;
    if (!uakey_appcert_install(pki, a.name, cert, issuers, key)
        || !uakey_cert_thumbprint(cert, tp)) {
        cli_fail_lib();
        goto out;
    }
    printf("certificate: %s/own/certs/%s.der\n", uakey_pki_dir(pki), a.name);
    printf("thumbprint: %s\n", tp);
    if (renewing) {
        /* own/private/NAME.pem now refers to the new key */
        if (unlink(pending) != 0)
            fprintf(stderr, "uakey: warning: cannot remove %s: %s\n", pending, strerror(errno));
        printf("renewed: the pending key is now the current key\n");
        if (old_uri != NULL)
            printf("retired key: %s\n  (no longer referenced by the PKI store; it stays in "
                   "the token until you delete it)\n", old_uri);
    }
    rc = CLI_OK;
out:
    free(old_uri);
    free(pending);
    free(keyref);
    sk_X509_pop_free(issuers, X509_free);
    X509_free(cert);
    EVP_PKEY_free(key);
    uakey_pki_free(pki);
    cert_args_free(&a);
    return rc;
}

/* ---- renew ------------------------------------------------------------------------------ */

/* The key type of the current key, as uakey_key_generate names it. */
static const char *same_type(EVP_PKEY *pub)
{
    static char buf[32];
    char group[64];
    size_t len = 0;

    if (EVP_PKEY_is_a(pub, "RSA")) {
        snprintf(buf, sizeof(buf), "rsa%d", EVP_PKEY_get_bits(pub));
        return buf;
    }
    if (EVP_PKEY_get_group_name(pub, group, sizeof(group), &len) == 1) {
        if (strcmp(group, "prime256v1") == 0)
            return "ec-p256";
        if (strcmp(group, "secp384r1") == 0)
            return "ec-p384";
        if (strcmp(group, "brainpoolP256r1") == 0)
            return "ec-brainpoolp256r1";
        if (strcmp(group, "brainpoolP384r1") == 0)
            return "ec-brainpoolp384r1";
    }
    return NULL;
}

/* The subject and subjectAltName of |cert| as certificate parameters; the
 * strings live in |a| and |strs| (freed by the caller). */
static int params_from_cert(X509 *cert, CERT_ARGS *a, STACK_OF(OPENSSL_STRING) *strs)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    X509_NAME *subj = X509_get_subject_name(cert);
    char txt[INET6_ADDRSTRLEN], *copy;
    int i, n = sk_GENERAL_NAME_num(gens);
    int idx;

    for (i = 0; i < n; i++) {
        GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        const unsigned char *d;
        int len;

        copy = NULL;
        if (g->type == GEN_URI && a->p.app_uri == NULL) {
            d = ASN1_STRING_get0_data(g->d.uniformResourceIdentifier);
            copy = OPENSSL_strndup((const char *)d,
                                   (size_t)ASN1_STRING_length(g->d.uniformResourceIdentifier));
            a->p.app_uri = copy;
        } else if (g->type == GEN_DNS) {
            d = ASN1_STRING_get0_data(g->d.dNSName);
            copy = OPENSSL_strndup((const char *)d, (size_t)ASN1_STRING_length(g->d.dNSName));
            a->dns[a->ndns++] = copy;
        } else if (g->type == GEN_IPADD) {
            d = ASN1_STRING_get0_data(g->d.iPAddress);
            len = ASN1_STRING_length(g->d.iPAddress);
            if ((len == 4 && inet_ntop(AF_INET, d, txt, sizeof(txt)) != NULL)
                || (len == 16 && inet_ntop(AF_INET6, d, txt, sizeof(txt)) != NULL)) {
                copy = OPENSSL_strdup(txt);
                a->ips[a->nips++] = copy;
            }
        } else {
            continue;
        }
        if (copy == NULL || !sk_OPENSSL_STRING_push(strs, copy)) {
            OPENSSL_free(copy);
            GENERAL_NAMES_free(gens);
            return 0;
        }
    }
    GENERAL_NAMES_free(gens);
    a->p.dns = a->dns;
    a->p.ndns = a->ndns;
    a->p.ips = a->ips;
    a->p.nips = a->nips;
    /* keep the subject's CN and O (other RDNs fall back to the defaults) */
    if ((idx = X509_NAME_get_index_by_NID(subj, NID_commonName, -1)) >= 0
        && a->p.common_name == NULL) {
        unsigned char *u = NULL;

        if (ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, idx))) < 0
            || !sk_OPENSSL_STRING_push(strs, (char *)u)) {
            OPENSSL_free(u);
            return 0;
        }
        a->p.common_name = (char *)u;
    }
    if ((idx = X509_NAME_get_index_by_NID(subj, NID_organizationName, -1)) >= 0
        && a->p.organization == NULL) {
        unsigned char *u = NULL;

        if (ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, idx))) < 0
            || !sk_OPENSSL_STRING_push(strs, (char *)u)) {
            OPENSSL_free(u);
            return 0;
        }
        a->p.organization = (char *)u;
    }
    return a->p.app_uri != NULL;
}

static void str_free(char *s)
{
    OPENSSL_free(s);
}

static int cert_renew(int argc, char **argv)
{
    CERT_ARGS a;
    UAKEY_PKI *pki = NULL;
    X509 *cur = NULL;
    X509_REQ *req = NULL;
    EVP_PKEY *key = NULL;
    STACK_OF(OPENSSL_STRING) *strs = NULL;
    char *keyref = NULL, *pending = NULL, *uri = NULL;
    unsigned char *der = NULL;
    const char *type;
    int rc, len;

    rc = cert_options(argc, argv, &a);
    if (rc >= 0)
        goto out;
    if (a.pki == NULL || a.token == NULL || a.label == NULL || a.out == NULL) {
        rc = cli_usage_error("cert ", "renew needs --pki DIR, --name NAME, --token URI, "
                             "--label LABEL and --out FILE.der");
        goto out;
    }
    if ((rc = check_name(a.name)) >= 0)
        goto out;
    if (a.type != NULL && !uakey_key_type_valid(a.type)) {
        rc = cli_usage_error("cert ", "unknown --type '%s'", a.type);
        goto out;
    }
    rc = CLI_FAIL;
    if ((pki = cli_pki_open(a.pki)) == NULL || !cli_provider())
        goto out;
    if ((cur = uakey_pki_own_cert(pki, a.name)) == NULL) {
        cli_fail_lib();
        goto out;
    }
    strs = sk_OPENSSL_STRING_new_null();
    if (strs == NULL || !params_from_cert(cur, &a, strs)) {
        cli_fail(CLI_FAIL, "the current certificate of '%s' has no ApplicationUri", a.name);
        goto out;
    }
    type = a.type != NULL ? a.type : same_type(X509_get0_pubkey(cur));
    if (type == NULL) {
        cli_fail(CLI_FAIL, "cannot tell the current key type: give --type");
        goto out;
    }
    if ((keyref = uakey_pki_own_key_path(pki, a.name)) == NULL
        || (pending = pending_path(keyref)) == NULL) {
        cli_fail(CLI_FAIL, "out of memory");
        goto out;
    }
    if (access(pending, F_OK) == 0) {
        cli_fail(CLI_FAIL, "a renewal of '%s' is already pending (%s): install its "
                 "certificate or remove that file", a.name, pending);
        goto out;
    }
    if (!uakey_key_generate(NULL, a.token, a.label, type, cli_global.pin_file, &uri)
        || (key = uakey_load_key(NULL, uri, cli_global.pin_file, cli_ui(), NULL)) == NULL
        || !uakey_keyref_write(key, pending)
        || (req = uakey_appcert_csr(NULL, key, &a.p)) == NULL) {
        cli_fail_lib();
        goto out;
    }
    len = i2d_X509_REQ(req, &der);
    if (len <= 0) {
        cli_fail(CLI_FAIL, "cannot encode the request");
        goto out;
    }
    if (!cli_write_file(a.out, der, (size_t)len, 0644))
        goto out;
    printf("pending key: %s\n", uri);
    printf("request: %s\n", a.out);
    rc = CLI_OK;
out:
    OPENSSL_free(der);
    X509_REQ_free(req);
    EVP_PKEY_free(key);
    free(uri);
    free(pending);
    free(keyref);
    sk_OPENSSL_STRING_pop_free(strs, str_free);
    X509_free(cur);
    uakey_pki_free(pki);
    cert_args_free(&a);
    return rc;
}

/* ---- show ------------------------------------------------------------------------------ */

typedef struct {
    const char *rule;
    int ok;
} CHECK;

#define MAX_CHECKS 20

static void add_check(CHECK *c, size_t *n, const char *rule, int ok)
{
    if (*n < MAX_CHECKS) {
        c[*n].rule = rule;
        c[*n].ok = ok != 0;
        (*n)++;
    }
}

static int ext_critical(X509 *cert, int nid)
{
    int i = X509_get_ext_by_NID(cert, nid, -1);

    return i >= 0 && X509_EXTENSION_get_critical(X509_get_ext(cert, i));
}

static int name_has(X509_NAME *nm, int nid)
{
    return X509_NAME_get_index_by_NID(nm, nid, -1) >= 0;
}

/* The OPC 10000-6 6.2.2 checklist: facts read from the certificate. */
static size_t opcua_checks(X509 *cert, CHECK *c)
{
    GENERAL_NAMES *san = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    EVP_PKEY *pub = X509_get0_pubkey(cert);
    const ASN1_INTEGER *serial = X509_get0_serialNumber(cert);
    BIGNUM *sn = serial != NULL ? ASN1_INTEGER_to_BN(serial, NULL) : NULL;
    uint32_t flags, ku, xku;
    int mdnid = NID_undef, pknid = NID_undef, is_rsa, uri_first = 0, host = 0, i;
    size_t n = 0;

    /* X509_get_extension_flags computes the cached extension facts */
    flags = X509_get_extension_flags(cert);
    ku = X509_get_key_usage(cert);
    xku = X509_get_extended_key_usage(cert);
    is_rsa = pub != NULL && EVP_PKEY_is_a(pub, "RSA");
    for (i = 0; san != NULL && i < sk_GENERAL_NAME_num(san); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(san, i);

        if (i == 0 && g->type == GEN_URI)
            uri_first = 1;
        if (g->type == GEN_DNS || g->type == GEN_IPADD)
            host = 1;
    }
    GENERAL_NAMES_free(san);

    add_check(c, &n, "X.509 version 3", X509_get_version(cert) == X509_VERSION_3);
    add_check(c, &n, "serial number positive, 15 bytes or more",
              sn != NULL && !BN_is_negative(sn) && !BN_is_zero(sn) && BN_num_bytes(sn) >= 15);
    add_check(c, &n, "subject CN present", name_has(X509_get_subject_name(cert), NID_commonName));
    add_check(c, &n, "subject O present",
              name_has(X509_get_subject_name(cert), NID_organizationName));
    add_check(c, &n, "subjectAltName URI (ApplicationUri) first", uri_first);
    add_check(c, &n, "subjectAltName DNS name or IP address", host);
    add_check(c, &n, "basicConstraints critical, CA:FALSE",
              (flags & EXFLAG_BCONS) != 0 && (flags & EXFLAG_CA) == 0
              && ext_critical(cert, NID_basic_constraints));
    add_check(c, &n, "keyUsage critical", (flags & EXFLAG_KUSAGE) != 0
              && ext_critical(cert, NID_key_usage));
    if (is_rsa)
        add_check(c, &n, "keyUsage digitalSignature, nonRepudiation, keyEncipherment, "
                  "dataEncipherment (RSA)",
                  (flags & EXFLAG_KUSAGE) != 0
                  && (ku & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION | KU_KEY_ENCIPHERMENT
                            | KU_DATA_ENCIPHERMENT))
                     == (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION | KU_KEY_ENCIPHERMENT
                         | KU_DATA_ENCIPHERMENT));
    else
        add_check(c, &n, "keyUsage digitalSignature",
                  (flags & EXFLAG_KUSAGE) != 0 && (ku & KU_DIGITAL_SIGNATURE) != 0);
    if ((flags & EXFLAG_SS) != 0)
        add_check(c, &n, "keyUsage keyCertSign (self-signed)",
                  (flags & EXFLAG_KUSAGE) != 0 && (ku & KU_KEY_CERT_SIGN) != 0);
    add_check(c, &n, "extendedKeyUsage serverAuth and clientAuth",
              (flags & EXFLAG_XKUSAGE) != 0 && (xku & XKU_SSL_SERVER) != 0
              && (xku & XKU_SSL_CLIENT) != 0);
    add_check(c, &n, "subjectKeyIdentifier", X509_get0_subject_key_id(cert) != NULL);
    add_check(c, &n, "authorityKeyIdentifier", X509_get0_authority_key_id(cert) != NULL);
    if (!X509_get_signature_info(cert, &mdnid, &pknid, NULL, NULL))
        mdnid = NID_undef;
    add_check(c, &n, "signature hash SHA-256 or stronger",
              mdnid == NID_sha256 || mdnid == NID_sha384 || mdnid == NID_sha512
              || pknid == NID_ED25519 || pknid == NID_ED448);
    BN_free(sn);
    return n;
}

static int show_text(X509 *cert, const char *uri, const char *tp, const CHECK *c, size_t n)
{
    BIO *out = BIO_new_fp(stdout, BIO_NOCLOSE);
    size_t i;
    int ok;

    if (out == NULL)
        return cli_fail(CLI_FAIL, "out of memory");
    /* the name format of "openssl x509 -text" */
    ok = X509_print_ex(out, cert, XN_FLAG_ONELINE, 0);
    BIO_free(out);
    if (!ok)
        return cli_fail(CLI_FAIL, "cannot print the certificate");
    printf("OPC UA:\n");
    printf("    ApplicationUri: %s\n", uri != NULL ? uri : "(none)");
    printf("    Thumbprint (SHA-1): %s\n", tp);
    printf("    Checks (OPC 10000-6 6.2.2):\n");
    for (i = 0; i < n; i++)
        printf("        %-8s %s\n", c[i].ok ? "ok" : "MISSING", c[i].rule);
    return CLI_OK;
}

static char *name_line(X509_NAME *nm)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *s = NULL, *data;
    long len;

    if (b == NULL)
        return NULL;
    if (X509_NAME_print_ex(b, nm, 0, XN_FLAG_RFC2253) >= 0) {
        len = BIO_get_mem_data(b, &data);
        s = malloc((size_t)len + 1);
        if (s != NULL) {
            memcpy(s, data, (size_t)len);
            s[len] = '\0';
        }
    }
    BIO_free(b);
    return s;
}

static int show_json(X509 *cert, const char *uri, const char *tp, const CHECK *c, size_t n)
{
    char *subject = name_line(X509_get_subject_name(cert));
    char *issuer = name_line(X509_get_issuer_name(cert));
    char nb[32], na[32];
    time_t tnb = 0, tna = 0;
    struct tm tm;
    size_t i;

    if (ASN1_TIME_to_tm(X509_get0_notBefore(cert), &tm))
        tnb = timegm(&tm);
    if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm))
        tna = timegm(&tm);
    printf("{\"subject\": ");
    json_str(stdout, subject);
    printf(", \"issuer\": ");
    json_str(stdout, issuer);
    printf(", \"application_uri\": ");
    json_str(stdout, uri);
    printf(", \"thumbprint\": ");
    json_str(stdout, tp);
    printf(", \"not_before\": ");
    json_str(stdout, cli_time(tnb, nb, sizeof(nb)));
    printf(", \"not_after\": ");
    json_str(stdout, cli_time(tna, na, sizeof(na)));
    printf(", \"checks\": [");
    for (i = 0; i < n; i++) {
        printf("%s\n  {\"rule\": ", i == 0 ? "" : ",");
        json_str(stdout, c[i].rule);
        printf(", \"ok\": %s}", c[i].ok ? "true" : "false");
    }
    printf("%s]}\n", n > 0 ? "\n" : "");
    free(subject);
    free(issuer);
    return CLI_OK;
}

static int cert_show(int argc, char **argv)
{
    CERT_ARGS a;
    X509 *cert = NULL;
    CHECK checks[MAX_CHECKS];
    char tp[41], *uri = NULL;
    size_t n;
    int rc;

    rc = cert_options(argc, argv, &a);
    cert_args_free(&a);
    if (rc >= 0)
        return rc;
    if (argc - optind != 1)
        return cli_usage_error("cert ", "give exactly one certificate file");
    cert = cli_load_cert(argv[optind]);
    if (cert == NULL)
        return CLI_FAIL;
    if (!uakey_cert_thumbprint(cert, tp)) {
        X509_free(cert);
        return cli_fail_lib();
    }
    uri = uakey_cert_app_uri(cert);
    n = opcua_checks(cert, checks);
    rc = cli_global.json ? show_json(cert, uri, tp, checks, n)
                         : show_text(cert, uri, tp, checks, n);
    free(uri);
    X509_free(cert);
    return rc;
}

int cmd_cert(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        if (argc < 2)
            return cli_usage_error("cert ", "no subcommand given");
        cert_help(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "create") == 0)
        return cert_create(argc - 1, argv + 1);
    if (strcmp(argv[1], "csr") == 0)
        return cert_csr(argc - 1, argv + 1);
    if (strcmp(argv[1], "install") == 0)
        return cert_install(argc - 1, argv + 1);
    if (strcmp(argv[1], "show") == 0)
        return cert_show(argc - 1, argv + 1);
    if (strcmp(argv[1], "renew") == 0)
        return cert_renew(argc - 1, argv + 1);
    return cli_usage_error("cert ", "unknown subcommand '%s'", argv[1]);
}
