/* uakey token list: the one command that talks to the pkcs11/ backend
 * directly (libuakey has no token listing: it reaches keys through
 * OpenSSL). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ukp11.h"

/* The backend reports one message per failure; keep the first. */
typedef struct {
    int reason;
    char msg[512];
} TOKEN_ERR;

static void token_err(void *arg, int reason, const char *msg)
{
    TOKEN_ERR *e = arg;

    if (e->reason != 0)
        return;
    e->reason = reason;
    snprintf(e->msg, sizeof(e->msg), "%s", msg);
}

static void token_help(FILE *f)
{
    fprintf(f,
            "Usage: uakey token list [--module PATH] [--json] [URI]\n"
            "\n"
            "List the tokens of the PKCS#11 module (and their URIs for --token).\n"
            "URI (e.g. 'pkcs11:token=T') lists only the tokens it matches.\n"
            "\n"
            "  --module PATH  PKCS#11 module; default: UAKEY_PKCS11_MODULE, else\n"
            "                 the p11-kit proxy (every module registered with p11-kit)\n"
            "  --json         JSON array\n");
}

static void flag_words(CK_FLAGS f, char *buf, size_t len)
{
    static const struct {
        CK_FLAGS bit;
        const char *name;
    } names[] = {
        { CKF_TOKEN_INITIALIZED, "initialized" },
        { CKF_LOGIN_REQUIRED, "login-required" },
        { CKF_USER_PIN_INITIALIZED, "user-pin-set" },
        { CKF_PROTECTED_AUTHENTICATION_PATH, "protected-auth-path" },
        { CKF_WRITE_PROTECTED, "write-protected" },
        { CKF_RNG, "rng" },
        { CKF_USER_PIN_LOCKED, "user-pin-locked" },
        { CKF_USER_PIN_FINAL_TRY, "user-pin-final-try" },
    };
    size_t i, o = 0;

    buf[0] = '\0';
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if ((f & names[i].bit) != 0 && o < len)
            o += (size_t)snprintf(buf + o, len - o, "%s%s", o > 0 ? "," : "", names[i].name);
    }
}

static void print_tokens(const UKP11_TOKEN_INFO *t, size_t n)
{
    char flags[256];
    size_t i;

    if (cli_global.json) {
        printf("[");
        for (i = 0; i < n; i++) {
            flag_words(t[i].flags, flags, sizeof(flags));
            printf("%s\n  {\"label\": ", i == 0 ? "" : ",");
            json_str(stdout, t[i].label);
            printf(", \"uri\": ");
            json_str(stdout, t[i].uri);
            printf(", \"manufacturer\": ");
            json_str(stdout, t[i].manufacturer);
            printf(", \"model\": ");
            json_str(stdout, t[i].model);
            printf(", \"serial\": ");
            json_str(stdout, t[i].serial);
            printf(", \"slot\": %lu, \"module\": ", (unsigned long)t[i].slot);
            json_str(stdout, t[i].module);
            printf(", \"flags\": ");
            json_str(stdout, flags);
            printf("}");
        }
        printf("%s]\n", n > 0 ? "\n" : "");
        return;
    }
    for (i = 0; i < n; i++) {
        flag_words(t[i].flags, flags, sizeof(flags));
        printf("%s\n", t[i].uri);
        printf("    label: %s\n", t[i].label);
        printf("    manufacturer: %s\n", t[i].manufacturer);
        printf("    model: %s\n", t[i].model);
        printf("    serial: %s\n", t[i].serial);
        printf("    slot: %lu\n", (unsigned long)t[i].slot);
        printf("    module: %s\n", t[i].module);
        printf("    flags: %s\n", flags);
    }
}

static int token_list(int argc, char **argv)
{
    enum { OPT_MODULE = OPT_FIRST_LOCAL };
    static const struct option opts[] = {
        CLI_COMMON_OPTIONS,
        { "module", required_argument, NULL, OPT_MODULE },
        { NULL, 0, NULL, 0 }
    };
    UKP11_CONFIG cfg;
    UKP11_CTX *ctx;
    UKP11_URI *filter = NULL;
    UKP11_TOKEN_INFO *infos = NULL;
    TOKEN_ERR err;
    size_t n = 0;
    CK_RV rv;
    int ch;

    memset(&cfg, 0, sizeof(cfg));
    memset(&err, 0, sizeof(err));
    cli_getopt_reset();
    while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (cli_common_option(ch, optarg))
            continue;
        switch (ch) {
        case OPT_HELP:
            token_help(stdout);
            return CLI_OK;
        case OPT_MODULE:
            cfg.module_path = optarg;
            break;
        default:
            return cli_bad_option("token list ", ch, argv);
        }
    }
    if (argc - optind > 1)
        return cli_usage_error("token list ", "at most one URI");

    ctx = ukp11_ctx_new(&cfg, token_err, &err);
    if (ctx == NULL)
        return cli_fail(CLI_FAIL, "out of memory");
    if (optind < argc && ukp11_uri_parse(ctx, argv[optind], &filter) != CKR_OK) {
        ukp11_ctx_free(ctx);
        return cli_fail(CLI_FAIL, "%s: %s", uk_reason_string(err.reason), err.msg);
    }
    rv = ukp11_list_tokens(ctx, filter, &infos, &n);
    ukp11_uri_free(filter);
    if (rv != CKR_OK) {
        ukp11_ctx_free(ctx);
        if (err.reason != 0)
            return cli_fail(CLI_FAIL, "%s: %s", uk_reason_string(err.reason), err.msg);
        return cli_fail(CLI_FAIL, "cannot list tokens: %s", ukp11_rv_name(rv));
    }
    print_tokens(infos, n);
    free(infos);
    ukp11_ctx_free(ctx);
    return CLI_OK;
}

int cmd_token(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        if (argc < 2)
            return cli_usage_error("token ", "no subcommand given");
        token_help(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "list") == 0)
        return token_list(argc - 1, argv + 1);
    return cli_usage_error("token ", "unknown subcommand '%s'", argv[1]);
}
