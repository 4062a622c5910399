/* uakey: OPC UA application identity with the private key in a PKCS#11
 * token.  Entry point: global options, then a command. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} CLI_COMMAND;

static const CLI_COMMAND commands[] = {
    { "token", cmd_token, "list             the tokens the PKCS#11 module offers" },
    { "key", cmd_key, "generate|list    key pairs in a token" },
    { "pki", cmd_pki, "init             create an OPC UA PKI directory" },
    { "cert", cmd_cert, "create|csr|install|show   application instance certificates" },
    { "trust", cmd_trust, "add|remove|list  the trust list (trusted/)" },
    { "issuer", cmd_issuer, "add|remove|list  CA certificates for chains (issuers/)" },
    { "crl", cmd_crl, "add|off|on|list  revocation lists, revocation checks per CA" },
    { "rejected", cmd_rejected, "list|trust|clear certificates that were rejected" },
    { "verify", cmd_verify, "                 validate a certificate as OPC UA does" },
    { "keyref", cmd_keyref, "                 write a key-reference file for a token key" },
    { "discover", cmd_discover, "URL             the endpoints and certificate of an OPC UA server" },
    { "connect", cmd_connect, "URL              a session with the token-held identity, read a node" },
    { NULL, NULL, NULL }
};

static void usage(FILE *f)
{
    const CLI_COMMAND *c;

    fprintf(f,
            "Usage: uakey [--pin-file FILE] [--json] [--debug] COMMAND [ARGS]\n"
            "       uakey --help | --version | COMMAND --help\n"
            "\n"
            "OPC UA application identity with the private key in a PKCS#11 token.\n"
            "\n"
            "Commands:\n");
    for (c = commands; c->name != NULL; c++)
        fprintf(f, "  %-9s %s\n", c->name, c->summary);
    fprintf(f,
            "\n"
            "Options (before or after the command):\n"
            "  --pin-file FILE  read the token PIN from the first line of FILE\n"
            "  --json           JSON output for list, show and verify\n"
            "  --debug          debug log on stderr (UAKEY_DEBUG=all; never shows a PIN)\n"
            "  --help           this text\n"
            "  --version        the version\n"
            "\n"
            "Exit status: 0 success, 1 failure (or a certificate that is not Good), 2 usage.\n"
            "See uakey(1).\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        CLI_COMMON_OPTIONS,
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 }
    };
    const CLI_COMMAND *c;
    int ch;

    cli_getopt_reset();
    /* "+": stop at the command name, its options are its own */
    while ((ch = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
        if (cli_common_option(ch, optarg))
            continue;
        switch (ch) {
        case OPT_HELP:
            usage(stdout);
            return CLI_OK;
        case 'V':
            printf("uakey %s (%s)\n", PACKAGE_VERSION, OpenSSL_version(OPENSSL_VERSION));
            return CLI_OK;
        default:
            return cli_bad_option(NULL, ch, argv);
        }
    }
    if (optind >= argc)
        return cli_usage_error(NULL, "no command given");
    if (strcmp(argv[optind], "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    for (c = commands; c->name != NULL; c++) {
        if (strcmp(argv[optind], c->name) == 0) {
            int rc = c->run(argc - optind, argv + optind);

            cli_cleanup();
            return rc;
        }
    }
    return cli_usage_error(NULL, "unknown command '%s'", argv[optind]);
}
