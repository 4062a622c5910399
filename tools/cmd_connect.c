/* uakey discover / uakey connect: check that the token-held identity works
 * against a real OPC UA server (libuakey's client). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "cli.h"

#define PASSWORD_MAX 256

static void print_line(void *arg, const char *line)
{
    (void)arg;
    printf("%s\n", line);
    fflush(stdout);
}

/* A one-line failure naming the StatusCode. */
static int status_fail(const char *cmd, uint32_t st, const char *detail)
{
    return cli_fail(CLI_FAIL, "%s: %s 0x%08X%s%s", cmd, uakey_status_name(st),
                    (unsigned int)st, detail ? ": " : "", detail ? detail : "");
}

static void discover_help(FILE *f)
{
    fprintf(f,
            "Usage: uakey discover [--save-cert FILE] [--timeout MS] opc.tcp://HOST:PORT[/PATH]\n"
            "\n"
            "Hello, a SecureChannel with policy None and GetEndpoints: prints each\n"
            "endpoint (URL, SecurityPolicy, mode, user token types) and the server\n"
            "certificate (subject, ApplicationUri, thumbprint, validity).\n"
            "\n"
            "  --save-cert FILE   write the server certificate (DER) to FILE\n"
            "  --timeout MS       limit for every wait (default 10000)\n");
}

int cmd_discover(int argc, char **argv)
{
    enum { OPT_SAVE = OPT_FIRST_LOCAL, OPT_TIMEOUT };
    static const struct option opts[] = {
        CLI_COMMON_OPTIONS,
        { "save-cert", required_argument, NULL, OPT_SAVE },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { NULL, 0, NULL, 0 }
    };
    UAKEY_DISCOVER_OPTS o;
    long v;
    char *detail = NULL;
    uint32_t st;
    int ch;

    memset(&o, 0, sizeof(o));
    o.out = print_line;
    cli_getopt_reset();
    while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (cli_common_option(ch, optarg))
            continue;
        switch (ch) {
        case OPT_HELP:
            discover_help(stdout);
            return CLI_OK;
        case OPT_SAVE: o.save_cert = optarg; break;
        case OPT_TIMEOUT:
            if (!cli_parse_long(optarg, 1, 3600000, &v))
                return cli_usage_error("discover ", "--timeout wants milliseconds, 1..3600000");
            o.timeout_ms = (unsigned int)v;
            break;
        default:
            return cli_bad_option("discover ", ch, argv);
        }
    }
    if (argc - optind != 1)
        return cli_usage_error("discover ", "give exactly one endpoint URL");
    st = uakey_discover(argv[optind], &o, &detail);
    if (st != UAKEY_Good) {
        status_fail("discover", st, detail);
        free(detail);
        return CLI_FAIL;
    }
    free(detail);
    return CLI_OK;
}

static void connect_help(FILE *f)
{
    fprintf(f,
            "Usage: uakey connect opc.tcp://HOST:PORT[/PATH] --pki DIR --name NAME [options]\n"
            "\n"
            "Open a SecureChannel and a session with the identity NAME of the store\n"
            "(own/certs/NAME.der, key own/private/NAME.pem: a token key signs and\n"
            "decrypts), read a node, close.  The server certificate is validated against\n"
            "the store; an unknown one is put into rejected/ and the command ends with\n"
            "BadCertificateUntrusted and the command that trusts it.\n"
            "\n"
            "  --policy NAME       Basic256Sha256 (default), Aes128_Sha256_RsaOaep,\n"
            "                      Aes256_Sha256_RsaPss, Basic256, Basic128Rsa15\n"
            "  --mode MODE         SignAndEncrypt (default) or Sign\n"
            "  --read NODEID       node whose Value to read (default ns=0;i=2258)\n"
            "  --user NAME         UserName identity (password from --password-file or a\n"
            "                      prompt); default anonymous\n"
            "  --password-file F   the first line of F is the password\n"
            "  --trust-server      trust an unknown server certificate right away\n"
            "  --watch SECONDS     keep reading for SECONDS (token renewed as needed)\n"
            "  --interval MS       between reads with --watch (default 1000)\n"
            "  --lifetime MS       requested SecureChannel token lifetime (default 3600000)\n"
            "  --timeout MS        limit for every wait (default 10000)\n"
            "  --key REF           another key (file or pkcs11: URI) than own/private/NAME.pem\n"
            "  --no-revocation     skip the CRL steps for the server certificate\n"
            "  --suppress-host     do not check the host name in the server certificate\n"
            "  --pin-file FILE     the token PIN (else a prompt on a terminal)\n"
            "\n"
            "Every result line names the key that did the work (its pkcs11: URI).\n"
            "UAKEY_TEST_CORRUPT_CLIENT_SIGNATURE=1 (tests only) spoils the\n"
            "ActivateSession clientSignature so the server must refuse it.\n");
}

static int confirm_tty(void *arg, const char *question)
{
    char line[16];

    (void)arg;
    fprintf(stderr, "%s [y/N] ", question);
    fflush(stderr);
    if (fgets(line, sizeof(line), stdin) == NULL)
        return 0;
    return line[0] == 'y' || line[0] == 'Y';
}

/* The password: first line of a file, or a prompt (echo off). */
static char *read_password(const char *file, const char *user)
{
    char *buf;
    FILE *f;

    if (file == NULL) {
        /* an empty password is a password */
        buf = cli_prompt_secret("password", user, 0, PASSWORD_MAX);
        if (buf == NULL)
            cli_fail(CLI_FAIL, "--user needs a password: give --password-file FILE");
        return buf;
    }
    buf = OPENSSL_secure_zalloc(PASSWORD_MAX + 1);
    if (buf == NULL)
        return NULL;
    f = fopen(file, "r");
    if (f == NULL) {
        cli_fail(CLI_FAIL, "cannot read the password file %s: %s", file, strerror(errno));
        OPENSSL_secure_clear_free(buf, PASSWORD_MAX + 1);
        return NULL;
    }
    if (fgets(buf, PASSWORD_MAX + 1, f) == NULL)
        buf[0] = '\0';
    fclose(f);
    buf[strcspn(buf, "\r\n")] = '\0';
    return buf;
}

int cmd_connect(int argc, char **argv)
{
    enum {
        OPT_PKI = OPT_FIRST_LOCAL, OPT_NAME, OPT_POLICY, OPT_MODE, OPT_READ, OPT_USER,
        OPT_PASSWORD_FILE, OPT_TRUST, OPT_WATCH, OPT_INTERVAL, OPT_LIFETIME, OPT_TIMEOUT,
        OPT_KEY, OPT_NO_REVOCATION, OPT_SUPPRESS_HOST
    };
    static const struct option opts[] = {
        CLI_COMMON_OPTIONS,
        { "pki", required_argument, NULL, OPT_PKI },
        { "name", required_argument, NULL, OPT_NAME },
        { "policy", required_argument, NULL, OPT_POLICY },
        { "mode", required_argument, NULL, OPT_MODE },
        { "read", required_argument, NULL, OPT_READ },
        { "user", required_argument, NULL, OPT_USER },
        { "password-file", required_argument, NULL, OPT_PASSWORD_FILE },
        { "trust-server", no_argument, NULL, OPT_TRUST },
        { "watch", required_argument, NULL, OPT_WATCH },
        { "interval", required_argument, NULL, OPT_INTERVAL },
        { "lifetime", required_argument, NULL, OPT_LIFETIME },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "key", required_argument, NULL, OPT_KEY },
        { "no-revocation", no_argument, NULL, OPT_NO_REVOCATION },
        { "suppress-host", no_argument, NULL, OPT_SUPPRESS_HOST },
        { NULL, 0, NULL, 0 }
    };
    UAKEY_CONNECT_OPTS o;
    const char *pkidir = NULL, *name = NULL, *keyref = NULL, *pwfile = NULL;
    char *keypath = NULL, *password = NULL, *detail = NULL;
    UAKEY_PKI *pki = NULL;
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    long v;
    uint32_t st;
    int ch, rc = CLI_FAIL;

    memset(&o, 0, sizeof(o));
    o.out = print_line;
    cli_getopt_reset();
    while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (cli_common_option(ch, optarg))
            continue;
        switch (ch) {
        case OPT_HELP:
            connect_help(stdout);
            return CLI_OK;
        case OPT_PKI: pkidir = optarg; break;
        case OPT_NAME: name = optarg; break;
        case OPT_POLICY: o.policy = optarg; break;
        case OPT_MODE:
            if (strcmp(optarg, "Sign") == 0)
                o.mode = 2;
            else if (strcmp(optarg, "SignAndEncrypt") == 0)
                o.mode = 3;
            else
                return cli_usage_error("connect ", "--mode is Sign or SignAndEncrypt, not '%s'",
                                       optarg);
            break;
        case OPT_READ: o.read_node = optarg; break;
        case OPT_USER: o.user = optarg; break;
        case OPT_PASSWORD_FILE: pwfile = optarg; break;
        case OPT_TRUST: o.trust_server = 1; break;
        case OPT_WATCH:
            if (!cli_parse_long(optarg, 0, 86400, &v))
                return cli_usage_error("connect ", "--watch wants seconds, 0..86400");
            o.watch_s = (unsigned int)v;
            break;
        case OPT_INTERVAL:
            if (!cli_parse_long(optarg, 10, 3600000, &v))
                return cli_usage_error("connect ", "--interval wants milliseconds, 10..3600000");
            o.interval_ms = (unsigned int)v;
            break;
        case OPT_LIFETIME:
            if (!cli_parse_long(optarg, 1000, 86400000, &v))
                return cli_usage_error("connect ", "--lifetime wants milliseconds, 1000..86400000");
            o.lifetime_ms = (uint32_t)v;
            break;
        case OPT_TIMEOUT:
            if (!cli_parse_long(optarg, 1, 3600000, &v))
                return cli_usage_error("connect ", "--timeout wants milliseconds, 1..3600000");
            o.timeout_ms = (unsigned int)v;
            break;
        case OPT_KEY: keyref = optarg; break;
        case OPT_NO_REVOCATION: o.verify_flags |= UAKEY_NO_REVOCATION_CHECK; break;
        case OPT_SUPPRESS_HOST: o.verify_flags |= UAKEY_SUPPRESS_HOST_NAME_INVALID; break;
        default:
            return cli_bad_option("connect ", ch, argv);
        }
    }
    if (argc - optind != 1)
        return cli_usage_error("connect ", "give exactly one endpoint URL");
    if (pkidir == NULL || name == NULL)
        return cli_usage_error("connect ", "--pki DIR and --name NAME are required");
    if (!uakey_pki_name_valid(name))
        return cli_usage_error("connect ", "'%s' is not a valid identity name", name);
    if (pwfile != NULL && o.user == NULL)
        return cli_usage_error("connect ", "--password-file goes with --user");
    o.url = argv[optind];
    o.own_name = name;

    pki = cli_pki_open(pkidir);
    if (pki == NULL)
        goto out;
    cert = uakey_pki_own_cert(pki, name);
    if (cert == NULL) {
        cli_fail_lib();
        goto out;
    }
    if (keyref == NULL) {
        keypath = uakey_pki_own_key_path(pki, name);
        if (keypath == NULL) {
            cli_fail_lib();
            goto out;
        }
        keyref = keypath;
    }
    if (!cli_provider())
        goto out;
    key = cli_load_key(keyref);
    if (key == NULL)
        goto out;
    if (o.user != NULL) {
        password = read_password(pwfile, o.user);
        if (password == NULL)
            goto out;
        o.password = password;
    }
    if (isatty(STDIN_FILENO) && isatty(STDERR_FILENO))
        o.confirm = confirm_tty;
    o.pki = pki;
    o.key = key;
    o.cert = cert;
    st = uakey_connect(&o, &detail);
    if (st != UAKEY_Good) {
        status_fail("connect", st, detail);
        goto out;
    }
    rc = CLI_OK;
out:
    if (password != NULL)
        OPENSSL_secure_clear_free(password, PASSWORD_MAX + 1);
    free(detail);
    free(keypath);
    EVP_PKEY_free(key);
    X509_free(cert);
    uakey_pki_free(pki);
    return rc;
}
