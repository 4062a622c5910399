/* uakey verify: OPC UA certificate validation (OPC 10000-4 6.1.3) against a
 * PKI store; prints the StatusCode. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct {
    const char *name;
    unsigned int flag;
} suppress_names[] = {
    { "chain-incomplete", UAKEY_SUPPRESS_CHAIN_INCOMPLETE },
    { "policy-check", UAKEY_SUPPRESS_POLICY_CHECK },
    { "time-invalid", UAKEY_SUPPRESS_TIME_INVALID },
    { "issuer-time-invalid", UAKEY_SUPPRESS_ISSUER_TIME_INVALID },
    { "host-name-invalid", UAKEY_SUPPRESS_HOST_NAME_INVALID },
    { "use-not-allowed", UAKEY_SUPPRESS_USE_NOT_ALLOWED },
    { "revocation-unknown", UAKEY_SUPPRESS_REVOCATION_UNKNOWN },
};

#define N_SUPPRESS (sizeof(suppress_names) / sizeof(suppress_names[0]))

static void verify_help(FILE *f)
{
    size_t i;

    fprintf(f,
            "Usage: uakey verify --pki DIR [options] CERT.der\n"
            "\n"
            "Validate CERT as OPC UA does (OPC 10000-4 6.1.3, steps in order) against\n"
            "the store and print the StatusCode of the first failing step, e.g.\n"
            "\"BadCertificateUntrusted 0x801A0000\", or \"Good 0x00000000\".\n"
            "Exit status 0 only for Good.\n"
            "\n"
            "  --app-uri URI       the ApplicationUri the peer claims (URI check)\n"
            "  --host HOST         the host name or address used (host name check)\n"
            "  --policy URI        SecurityPolicy URI, or the part after '#'\n"
            "  --chain CA.der      a certificate the peer sent with it (repeatable)\n"
            "  --store-rejected    put a certificate that is not Good into rejected/\n"
            "  --no-revocation     skip the CRL steps\n"
            "  --suppress NAME     ignore a suppressible failure (repeatable):\n");
    for (i = 0; i < N_SUPPRESS; i++)
        fprintf(f, "                        %s\n", suppress_names[i].name);
    fprintf(f, "  --json              JSON output\n");
}

/* The detail without the status name it starts with (already printed). */
static const char *detail_rest(uint32_t code, const char *detail)
{
    const char *name = uakey_status_name(code);
    size_t n = strlen(name);

    if (detail == NULL)
        return "";
    if (strncmp(detail, name, n) == 0) {
        detail += n;
        while (*detail == ' ' || *detail == ':')
            detail++;
    }
    return detail;
}

static void print_result(uint32_t code, const char *detail)
{
    const char *name = uakey_status_name(code);
    char hex[16];

    snprintf(hex, sizeof(hex), "0x%08X", (unsigned int)code);
    if (cli_global.json) {
        printf("{\"status\": ");
        json_str(stdout, name);
        printf(", \"code\": ");
        json_str(stdout, hex);
        printf(", \"good\": %s, \"detail\": ", code == UAKEY_Good ? "true" : "false");
        json_str(stdout, detail);
        printf("}\n");
        return;
    }
    printf("%s %s\n", name, hex);
    if (*detail_rest(code, detail) != '\0')
        printf("    %s\n", detail_rest(code, detail));
}

int cmd_verify(int argc, char **argv)
{
    enum {
        OPT_PKI = OPT_FIRST_LOCAL, OPT_APP_URI, OPT_HOST, OPT_POLICY, OPT_CHAIN,
        OPT_STORE_REJECTED, OPT_NO_REVOCATION, OPT_SUPPRESS
    };
    static const struct option opts[] = {
        CLI_COMMON_OPTIONS,
        { "pki", required_argument, NULL, OPT_PKI },
        { "app-uri", required_argument, NULL, OPT_APP_URI },
        { "host", required_argument, NULL, OPT_HOST },
        { "policy", required_argument, NULL, OPT_POLICY },
        { "chain", required_argument, NULL, OPT_CHAIN },
        { "store-rejected", no_argument, NULL, OPT_STORE_REJECTED },
        { "no-revocation", no_argument, NULL, OPT_NO_REVOCATION },
        { "suppress", required_argument, NULL, OPT_SUPPRESS },
        { NULL, 0, NULL, 0 }
    };
    UAKEY_VERIFY_OPTS vo;
    const char *pkidir = NULL, **chain;
    size_t nchain = 0, i;
    int ch, store_rejected = 0, rc = CLI_FAIL;
    UAKEY_PKI *pki = NULL;
    X509 *cert = NULL;
    STACK_OF(X509) *extra = NULL;
    char *detail = NULL;
    uint32_t code;

    memset(&vo, 0, sizeof(vo));
    chain = calloc((size_t)argc + 1, sizeof(*chain));
    if (chain == NULL)
        return cli_fail(CLI_FAIL, "out of memory");
    cli_getopt_reset();
    while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (cli_common_option(ch, optarg))
            continue;
        switch (ch) {
        case OPT_HELP:
            verify_help(stdout);
            free(chain);
            return CLI_OK;
        case OPT_PKI: pkidir = optarg; break;
        case OPT_APP_URI: vo.app_uri = optarg; break;
        case OPT_HOST: vo.host = optarg; break;
        case OPT_POLICY: vo.policy_uri = optarg; break;
        case OPT_CHAIN: chain[nchain++] = optarg; break;
        case OPT_STORE_REJECTED: store_rejected = 1; break;
        case OPT_NO_REVOCATION: vo.flags |= UAKEY_NO_REVOCATION_CHECK; break;
        case OPT_SUPPRESS:
            for (i = 0; i < N_SUPPRESS; i++) {
                if (strcmp(optarg, suppress_names[i].name) == 0)
                    break;
            }
            if (i == N_SUPPRESS) {
                free(chain);
                return cli_usage_error("verify ", "unknown --suppress name '%s'", optarg);
            }
            vo.flags |= suppress_names[i].flag;
            break;
        default:
            free(chain);
            return cli_bad_option("verify ", ch, argv);
        }
    }
    if (pkidir == NULL) {
        rc = cli_usage_error("verify ", "missing --pki DIR");
        goto out;
    }
    if (argc - optind != 1) {
        rc = cli_usage_error("verify ", "give exactly one certificate file");
        goto out;
    }
    /* an unknown policy is a usage problem, not a certificate verdict */
    if (vo.policy_uri != NULL && uakey_policy_find(vo.policy_uri) == NULL) {
        cli_fail_lib();
        goto out;
    }
    pki = cli_pki_open(pkidir);
    if (pki == NULL)
        goto out;
    cert = cli_load_cert(argv[optind]);
    if (cert == NULL)
        goto out;
    if (nchain > 0) {
        extra = sk_X509_new_null();
        if (extra == NULL) {
            cli_fail(CLI_FAIL, "out of memory");
            goto out;
        }
        for (i = 0; i < nchain; i++) {
            X509 *c = cli_load_cert(chain[i]);

            if (c == NULL)
                goto out;
            if (!sk_X509_push(extra, c)) {
                X509_free(c);
                cli_fail(CLI_FAIL, "out of memory");
                goto out;
            }
        }
    }
    code = uakey_verify(pki, cert, extra, &vo, &detail);
    print_result(code, detail);
    fflush(stdout);
    if (code == UAKEY_Good) {
        rc = CLI_OK;
        goto out;
    }
    if (store_rejected && !uakey_pki_reject(pki, cert)) {
        cli_fail_lib();
        goto out;
    }
    cli_fail(CLI_FAIL, "certificate not accepted: %s 0x%08X%s%s", uakey_status_name(code),
             (unsigned int)code, *detail_rest(code, detail) != '\0' ? " " : "",
             detail_rest(code, detail));
out:
    free(detail);
    free(chain);
    sk_X509_pop_free(extra, X509_free);
    X509_free(cert);
    uakey_pki_free(pki);
    return rc;
}
