/* uakey pki init, trust, issuer, crl, rejected: the PKI directory store. */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "cli.h"

/* ---- uakey pki init ---------------------------------------------------------------- */

static void pki_help(FILE *f)
{
    fprintf(f,
            "Usage: uakey pki init DIR [--max-rejected N]\n"
            "\n"
            "Create the OPC UA PKI layout under DIR (own/{certs,private},\n"
            "trusted/{certs,crl}, issuers/{certs,crl}, rejected/certs; own/private\n"
            "mode 0700).  Existing files are left alone.\n"
            "\n"
            "  --max-rejected N  keep at most N certificates in rejected/ (default %d;\n"
            "                    the oldest go first)\n", UAKEY_PKI_DEFAULT_MAX_REJECTED);
}

static int pki_init(int argc, char **argv)
{
    enum { OPT_MAX = OPT_FIRST_LOCAL };
    static const struct option opts[] = {
        CLI_COMMON_OPTIONS,
        { "max-rejected", required_argument, NULL, OPT_MAX },
        { NULL, 0, NULL, 0 }
    };
    int ch, max = 0;
    long num;

    cli_getopt_reset();
    while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (cli_common_option(ch, optarg))
            continue;
        switch (ch) {
        case OPT_HELP:
            pki_help(stdout);
            return CLI_OK;
        case OPT_MAX:
            if (!cli_parse_long(optarg, 1, INT_MAX, &num))
                return cli_usage_error("pki ", "--max-rejected needs a positive number, "
                                       "not '%s'", optarg);
            max = (int)num;
            break;
        default:
            return cli_bad_option("pki ", ch, argv);
        }
    }
    if (argc - optind != 1)
        return cli_usage_error("pki ", "give exactly one directory");
    if (!uakey_pki_init(argv[optind], max))
        return cli_fail_lib();
    printf("%s\n", argv[optind]);
    return CLI_OK;
}

int cmd_pki(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        if (argc < 2)
            return cli_usage_error("pki ", "no subcommand given");
        pki_help(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "init") == 0)
        return pki_init(argc - 1, argv + 1);
    return cli_usage_error("pki ", "unknown subcommand '%s'", argv[1]);
}

/* ---- shared by trust / issuer / crl / rejected ------------------------------------ */

typedef struct {
    const char *pki;        /* --pki */
    int issuers;            /* crl add --issuers */
    int first;              /* index of the first operand */
} STORE_ARGS;

/* Options of the store commands.  Returns -1 to go on, else an exit code. */
static int store_options(int argc, char **argv, const char *cmd, void (*help)(FILE *),
                         int allow_issuers, STORE_ARGS *a)
{
    enum { OPT_PKI = OPT_FIRST_LOCAL, OPT_ISSUERS };
    static const struct option opts[] = {
        CLI_COMMON_OPTIONS,
        { "pki", required_argument, NULL, OPT_PKI },
        { "issuers", no_argument, NULL, OPT_ISSUERS },
        { NULL, 0, NULL, 0 }
    };
    int ch;

    memset(a, 0, sizeof(*a));
    cli_getopt_reset();
    while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (cli_common_option(ch, optarg))
            continue;
        switch (ch) {
        case OPT_HELP:
            help(stdout);
            return CLI_OK;
        case OPT_PKI:
            a->pki = optarg;
            break;
        case OPT_ISSUERS:
            if (allow_issuers) {
                a->issuers = 1;
                break;
            }
            /* fall through */
        default:
            return cli_bad_option(cmd, ch, argv);
        }
    }
    if (a->pki == NULL)
        return cli_usage_error(cmd, "missing --pki DIR");
    a->first = optind;
    return -1;
}

static int list_group(UAKEY_PKI *pki, UAKEY_PKI_GROUP group)
{
    UAKEY_CERT_INFO *certs = NULL;
    size_t n = 0;

    if (!uakey_pki_list(pki, group, &certs, &n))
        return cli_fail_lib();
    cli_print_cert_list(certs, n);
    uakey_cert_info_free(certs, n);
    return CLI_OK;
}

static int add_cert(UAKEY_PKI *pki, UAKEY_PKI_GROUP group, const char *file)
{
    X509 *cert = cli_load_cert(file);
    char *path = NULL, tp[41];
    int ok;

    if (cert == NULL)
        return CLI_FAIL;
    ok = uakey_pki_add_cert(pki, group, cert, &path) && uakey_cert_thumbprint(cert, tp);
    X509_free(cert);
    if (!ok) {
        free(path);
        return cli_fail_lib();
    }
    printf("%s  %s\n", tp, path != NULL ? path : "");
    free(path);
    return CLI_OK;
}

static int remove_cert(UAKEY_PKI *pki, UAKEY_PKI_GROUP group, const char *arg)
{
    char tp[41];

    if (!cli_thumbprint_arg(arg, tp))
        return CLI_FAIL;
    if (!uakey_pki_remove(pki, group, tp))
        return cli_fail_lib();
    printf("removed %s\n", tp);
    return CLI_OK;
}

/* trust and issuer: add CERT... | remove CERT|THUMBPRINT... | list */
static int cert_group_cmd(int argc, char **argv, const char *cmd, UAKEY_PKI_GROUP group,
                          void (*help)(FILE *))
{
    STORE_ARGS a;
    UAKEY_PKI *pki;
    const char *sub;
    int rc, i, nops;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        if (argc < 2)
            return cli_usage_error(cmd, "no subcommand given");
        help(stdout);
        return CLI_OK;
    }
    sub = argv[1];
    if (strcmp(sub, "add") != 0 && strcmp(sub, "remove") != 0 && strcmp(sub, "list") != 0)
        return cli_usage_error(cmd, "unknown subcommand '%s'", sub);
    rc = store_options(argc - 1, argv + 1, cmd, help, 0, &a);
    if (rc >= 0)
        return rc;
    nops = argc - 1 - a.first;
    if (strcmp(sub, "list") == 0 ? nops != 0 : nops < 1)
        return cli_usage_error(cmd, strcmp(sub, "list") == 0 ? "list takes no operand"
                               : "give a certificate file (or a thumbprint to remove)");
    pki = cli_pki_open(a.pki);
    if (pki == NULL)
        return CLI_FAIL;
    rc = CLI_OK;
    if (strcmp(sub, "list") == 0) {
        rc = list_group(pki, group);
    } else {
        for (i = a.first + 1; i < argc && rc == CLI_OK; i++)
            rc = strcmp(sub, "add") == 0 ? add_cert(pki, group, argv[i])
                                         : remove_cert(pki, group, argv[i]);
    }
    uakey_pki_free(pki);
    return rc;
}

static void trust_help(FILE *f)
{
    fprintf(f,
            "Usage: uakey trust add --pki DIR CERT.der...\n"
            "       uakey trust remove --pki DIR CERT.der|THUMBPRINT...\n"
            "       uakey trust list --pki DIR [--json]\n"
            "\n"
            "The trust list (trusted/certs): application certificates or CAs whose\n"
            "certificates are accepted.  THUMBPRINT: SHA-1, 40 hex digits.\n");
}

int cmd_trust(int argc, char **argv)
{
    return cert_group_cmd(argc, argv, "trust ", UAKEY_PKI_TRUSTED, trust_help);
}

static void issuer_help(FILE *f)
{
    fprintf(f,
            "Usage: uakey issuer add --pki DIR CA.der...\n"
            "       uakey issuer remove --pki DIR CA.der|THUMBPRINT...\n"
            "       uakey issuer list --pki DIR [--json]\n"
            "\n"
            "CA certificates that only help build chains (issuers/certs; issuer/ is\n"
            "read too).  They are not trusted by themselves.\n");
}

int cmd_issuer(int argc, char **argv)
{
    return cert_group_cmd(argc, argv, "issuer ", UAKEY_PKI_ISSUERS, issuer_help);
}

/* ---- uakey crl add|off|on|list --------------------------------------------------- */

static void crl_help(FILE *f)
{
    fprintf(f,
            "Usage: uakey crl add --pki DIR [--issuers] FILE.crl...\n"
            "       uakey crl off --pki DIR CA.der|THUMBPRINT...\n"
            "       uakey crl on --pki DIR CA.der|THUMBPRINT...\n"
            "       uakey crl list --pki DIR [--json]\n"
            "\n"
            "add stores a CRL (DER or PEM) in trusted/crl, or with --issuers in\n"
            "issuers/crl.  Its signature must verify with a CA certificate of the store.\n"
            "\n"
            "off turns revocation checks off for the certificates a CA issued: the\n"
            "CA's CRL is then not required and not looked at (a certificate it lists\n"
            "is not found revoked either).  on restores the default.  list prints the\n"
            "CAs with revocation off.  The setting is kept in uakey-pki.conf.\n"
            "THUMBPRINT: the CA's SHA-1, 40 hex digits.\n");
}

/* The thumbprint of a CA given as a file (which must hold a CA
 * certificate) or as 40 hex digits.  0 with the cause printed. */
static int ca_thumbprint_arg(const char *arg, char tp[41])
{
    X509 *cert;
    uint32_t f;
    int ok;

    if (cli_is_thumbprint(arg))
        return cli_thumbprint_arg(arg, tp);
    cert = cli_load_cert(arg);
    if (cert == NULL)
        return 0;
    f = X509_get_extension_flags(cert);
    if ((f & EXFLAG_BCONS) == 0 || (f & EXFLAG_CA) == 0) {
        X509_free(cert);
        return cli_fail(0, "%s is not a CA certificate (basicConstraints cA=TRUE): "
                        "revocation is turned off per CA", arg);
    }
    ok = uakey_cert_thumbprint(cert, tp);
    X509_free(cert);
    if (!ok)
        cli_fail_lib();
    return ok;
}

/* crl off / crl on for one CA. */
static int crl_switch(UAKEY_PKI *pki, const char *arg, int check)
{
    char tp[41];
    int was;

    if (!ca_thumbprint_arg(arg, tp))
        return CLI_FAIL;
    was = uakey_pki_revocation_checked(pki, tp);
    if (was < 0 || !uakey_pki_set_revocation_check(pki, tp, check))
        return cli_fail_lib();
    printf("revocation check %s for %s%s\n", check ? "on" : "off", tp,
           was == check ? " (already)" : "");
    return CLI_OK;
}

/* The CA in trusted/ or issuers/ with |tp|: its subject and group. */
static const UAKEY_CERT_INFO *find_ca(const UAKEY_CERT_INFO *certs, size_t n, const char *tp)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (strcmp(certs[i].thumbprint, tp) == 0)
            return &certs[i];
    }
    return NULL;
}

static int crl_list(UAKEY_PKI *pki)
{
    UAKEY_CERT_INFO *t = NULL, *s = NULL;
    size_t nt = 0, ns = 0, n = 0, i;
    char (*off)[41] = NULL;
    int rc = CLI_FAIL;

    if (!uakey_pki_revocation_off(pki, &off, &n)
        || !uakey_pki_list(pki, UAKEY_PKI_TRUSTED, &t, &nt)
        || !uakey_pki_list(pki, UAKEY_PKI_ISSUERS, &s, &ns)) {
        cli_fail_lib();
        goto end;
    }
    if (cli_global.json)
        printf("[");
    for (i = 0; i < n; i++) {
        const UAKEY_CERT_INFO *c = find_ca(t, nt, off[i]);
        const char *group = "trusted";

        if (c == NULL) {
            c = find_ca(s, ns, off[i]);
            group = "issuers";
        }
        if (cli_global.json) {
            printf("%s\n  {\"thumbprint\": ", i == 0 ? "" : ",");
            json_str(stdout, off[i]);
            printf(", \"revocation_check\": false, \"subject\": ");
            json_str(stdout, c != NULL ? c->subject : NULL);
            printf(", \"group\": ");
            json_str(stdout, c != NULL ? group : NULL);
            printf("}");
        } else {
            printf("%s  %s\n", off[i],
                   c != NULL ? c->subject : "(not in trusted/ or issuers/)");
        }
    }
    if (cli_global.json)
        printf("%s]\n", n > 0 ? "\n" : "");
    rc = CLI_OK;
end:
    uakey_cert_info_free(t, nt);
    uakey_cert_info_free(s, ns);
    free(off);
    return rc;
}

int cmd_crl(int argc, char **argv)
{
    STORE_ARGS a;
    UAKEY_PKI *pki;
    const char *sub;
    int rc, i, nops;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        if (argc < 2)
            return cli_usage_error("crl ", "no subcommand given");
        crl_help(stdout);
        return CLI_OK;
    }
    sub = argv[1];
    if (strcmp(sub, "add") != 0 && strcmp(sub, "off") != 0 && strcmp(sub, "on") != 0
        && strcmp(sub, "list") != 0)
        return cli_usage_error("crl ", "unknown subcommand '%s'", sub);
    rc = store_options(argc - 1, argv + 1, "crl ", crl_help, strcmp(sub, "add") == 0, &a);
    if (rc >= 0)
        return rc;
    nops = argc - 1 - a.first;
    if (strcmp(sub, "list") == 0 ? nops != 0 : nops < 1)
        return cli_usage_error("crl ", strcmp(sub, "list") == 0 ? "list takes no operand"
                               : strcmp(sub, "add") == 0 ? "give a CRL file"
                               : "give a CA certificate file or thumbprint");
    pki = cli_pki_open(a.pki);
    if (pki == NULL)
        return CLI_FAIL;
    rc = strcmp(sub, "list") == 0 ? crl_list(pki) : CLI_OK;
    for (i = a.first + 1; i < argc && rc == CLI_OK; i++) {
        X509_CRL *crl;

        if (strcmp(sub, "add") != 0) {
            rc = crl_switch(pki, argv[i], strcmp(sub, "on") == 0);
            continue;
        }
        crl = uakey_load_crl(NULL, argv[i]);
        if (crl == NULL) {
            rc = cli_fail_lib();
            break;
        }
        if (!uakey_pki_add_crl(pki, a.issuers ? UAKEY_PKI_ISSUERS : UAKEY_PKI_TRUSTED, crl))
            rc = cli_fail_lib();
        else
            printf("added %s\n", argv[i]);
        X509_CRL_free(crl);
    }
    uakey_pki_free(pki);
    return rc;
}

/* ---- uakey rejected list|trust|clear --------------------------------------------- */

static void rejected_help(FILE *f)
{
    fprintf(f,
            "Usage: uakey rejected list --pki DIR [--json]\n"
            "       uakey rejected trust --pki DIR THUMBPRINT|CERT.der...\n"
            "       uakey rejected clear --pki DIR\n"
            "\n"
            "Certificates put into rejected/certs (uakey verify --store-rejected).\n"
            "trust moves one to trusted/; clear deletes them all.\n");
}

int cmd_rejected(int argc, char **argv)
{
    STORE_ARGS a;
    UAKEY_PKI *pki;
    const char *sub;
    int rc, i, nops;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        if (argc < 2)
            return cli_usage_error("rejected ", "no subcommand given");
        rejected_help(stdout);
        return CLI_OK;
    }
    sub = argv[1];
    if (strcmp(sub, "list") != 0 && strcmp(sub, "trust") != 0 && strcmp(sub, "clear") != 0)
        return cli_usage_error("rejected ", "unknown subcommand '%s'", sub);
    rc = store_options(argc - 1, argv + 1, "rejected ", rejected_help, 0, &a);
    if (rc >= 0)
        return rc;
    nops = argc - 1 - a.first;
    if (strcmp(sub, "trust") == 0 ? nops < 1 : nops != 0)
        return cli_usage_error("rejected ", strcmp(sub, "trust") == 0
                               ? "give a thumbprint" : "%s takes no operand", sub);
    pki = cli_pki_open(a.pki);
    if (pki == NULL)
        return CLI_FAIL;
    rc = CLI_OK;
    if (strcmp(sub, "list") == 0) {
        rc = list_group(pki, UAKEY_PKI_REJECTED);
    } else if (strcmp(sub, "clear") == 0) {
        if (!uakey_pki_clear_rejected(pki))
            rc = cli_fail_lib();
    } else {
        for (i = a.first + 1; i < argc && rc == CLI_OK; i++) {
            char tp[41];

            if (!cli_thumbprint_arg(argv[i], tp))
                rc = CLI_FAIL;
            else if (!uakey_pki_trust_rejected(pki, tp))
                rc = cli_fail_lib();
            else
                printf("trusted %s\n", tp);
        }
    }
    uakey_pki_free(pki);
    return rc;
}
