/* uakey key generate|list, uakey keyref: keys in the token, through
 * libuakey. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include <unistd.h>

#include "cli.h"

static void key_help(FILE *f)
{
    fprintf(f,
            "Usage: uakey key generate --token URI --label NAME [--type TYPE]\n"
            "       uakey key list --token URI [--json]\n"
            "\n"
            "generate  make a key pair in the token (sensitive, never extractable)\n"
            "          and print its URI.  TYPE: rsa2048 (default), rsa3072, rsa4096,\n"
            "          ec-p256, ec-p384, ec-brainpoolp256r1, ec-brainpoolp384r1\n"
            "list      the private keys in the token\n"
            "\n"
            "  --token URI    the token, e.g. 'pkcs11:token=T' (may carry pin-source,\n"
            "                 module-path)\n"
            "  --label NAME   CKA_LABEL of the new key\n"
            "  --pin-file F   token PIN from the first line of F\n");
}

/* Run |op| once; when it failed only because no PIN was at hand and a
 * terminal is there, ask for the PIN and run it once more with the PIN in
 * the URI (in memory only).  The token never saw a wrong PIN in between. */
typedef int key_op_fn(const char *token_uri, void *arg);

static int with_pin_prompt(const char *token_uri, key_op_fn *op, void *arg)
{
    char *pin, *uri;
    int ok;

    if (op(token_uri, arg))
        return 1;
    if (cli_global.pin_file != NULL || cli_uri_has_pin(token_uri)
        || !cli_error_is_pin_required() || !isatty(STDIN_FILENO))
        return 0;
    ERR_clear_error();
    pin = cli_prompt_pin("token");
    if (pin == NULL) {
        cli_fail(CLI_FAIL, "PIN required but none given");
        return -1;
    }
    uri = cli_uri_with_pin(token_uri, pin);
    cli_secret_free(pin);
    if (uri == NULL) {
        cli_fail(CLI_FAIL, "out of memory");
        return -1;
    }
    ok = op(uri, arg);
    cli_secret_free(uri);
    return ok;
}

typedef struct {
    const char *label, *type;
    char *key_uri;
} GEN_ARGS;

static int gen_op(const char *token_uri, void *arg)
{
    GEN_ARGS *g = arg;

    return uakey_key_generate(NULL, token_uri, g->label, g->type, cli_global.pin_file,
                              &g->key_uri);
}

static int key_generate(int argc, char **argv)
{
    enum { OPT_TOKEN = OPT_FIRST_LOCAL, OPT_LABEL, OPT_TYPE };
    static const struct option opts[] = {
        CLI_COMMON_OPTIONS,
        { "token", required_argument, NULL, OPT_TOKEN },
        { "label", required_argument, NULL, OPT_LABEL },
        { "type", required_argument, NULL, OPT_TYPE },
        { NULL, 0, NULL, 0 }
    };
    const char *token = NULL;
    GEN_ARGS g = { NULL, "rsa2048", NULL };
    int ch, ok;

    cli_getopt_reset();
    while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (cli_common_option(ch, optarg))
            continue;
        switch (ch) {
        case OPT_HELP:
            key_help(stdout);
            return CLI_OK;
        case OPT_TOKEN:
            token = optarg;
            break;
        case OPT_LABEL:
            g.label = optarg;
            break;
        case OPT_TYPE:
            g.type = optarg;
            break;
        default:
            return cli_bad_option("key ", ch, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("key ", "unexpected argument '%s'", argv[optind]);
    if (token == NULL)
        return cli_usage_error("key ", "missing --token URI");
    if (g.label == NULL || g.label[0] == '\0')
        return cli_usage_error("key ", "missing --label NAME");
    if (!uakey_key_type_valid(g.type))
        return cli_usage_error("key ", "unknown key type '%s' (rsa2048, rsa3072, rsa4096, "
                               "ec-p256, ec-p384, ec-brainpoolp256r1, ec-brainpoolp384r1)",
                               g.type);
    if (!cli_provider())
        return CLI_FAIL;
    ok = with_pin_prompt(token, gen_op, &g);
    if (ok < 0)
        return CLI_FAIL;
    if (!ok)
        return cli_fail_lib();
    printf("%s\n", g.key_uri);
    free(g.key_uri);
    return CLI_OK;
}

typedef struct {
    UAKEY_KEY_INFO *keys;
    size_t n;
} LIST_ARGS;

static int list_op(const char *token_uri, void *arg)
{
    LIST_ARGS *l = arg;

    return uakey_key_list(NULL, token_uri, cli_global.pin_file, &l->keys, &l->n);
}

static void print_keys(const UAKEY_KEY_INFO *k, size_t n)
{
    size_t i;

    if (cli_global.json) {
        printf("[");
        for (i = 0; i < n; i++) {
            printf("%s\n  {\"uri\": ", i == 0 ? "" : ",");
            json_str(stdout, k[i].uri);
            printf(", \"label\": ");
            json_str(stdout, k[i].label);
            printf(", \"type\": ");
            json_str(stdout, k[i].type);
            printf(", \"bits\": %d, \"curve\": ", k[i].bits);
            json_str(stdout, k[i].curve);
            printf("}");
        }
        printf("%s]\n", n > 0 ? "\n" : "");
        return;
    }
    for (i = 0; i < n; i++) {
        printf("%s\n", k[i].uri);
        printf("    label: %s\n", k[i].label != NULL ? k[i].label : "");
        printf("    type: %s %d%s%s\n", k[i].type != NULL ? k[i].type : "?", k[i].bits,
               k[i].curve != NULL ? " " : "", k[i].curve != NULL ? k[i].curve : "");
    }
}

static int key_list(int argc, char **argv)
{
    enum { OPT_TOKEN = OPT_FIRST_LOCAL };
    static const struct option opts[] = {
        CLI_COMMON_OPTIONS,
        { "token", required_argument, NULL, OPT_TOKEN },
        { NULL, 0, NULL, 0 }
    };
    const char *token = NULL;
    LIST_ARGS l = { NULL, 0 };
    int ch, ok;

    cli_getopt_reset();
    while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (cli_common_option(ch, optarg))
            continue;
        switch (ch) {
        case OPT_HELP:
            key_help(stdout);
            return CLI_OK;
        case OPT_TOKEN:
            token = optarg;
            break;
        default:
            return cli_bad_option("key ", ch, argv);
        }
    }
    /* "uakey key list URI" is accepted too */
    if (token == NULL && optind < argc)
        token = argv[optind++];
    if (optind < argc)
        return cli_usage_error("key ", "unexpected argument '%s'", argv[optind]);
    if (token == NULL)
        return cli_usage_error("key ", "missing --token URI");
    if (!cli_provider())
        return CLI_FAIL;
    ok = with_pin_prompt(token, list_op, &l);
    if (ok < 0)
        return CLI_FAIL;
    if (!ok)
        return cli_fail_lib();
    print_keys(l.keys, l.n);
    uakey_key_info_free(l.keys, l.n);
    return CLI_OK;
}

int cmd_key(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        if (argc < 2)
            return cli_usage_error("key ", "no subcommand given");
        key_help(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "generate") == 0)
        return key_generate(argc - 1, argv + 1);
    if (strcmp(argv[1], "list") == 0)
        return key_list(argc - 1, argv + 1);
    return cli_usage_error("key ", "unknown subcommand '%s'", argv[1]);
}

/* ---- uakey keyref ---------------------------------------------------------------- */

static void keyref_help(FILE *f)
{
    fprintf(f,
            "Usage: uakey keyref --key URI --out FILE.pem\n"
            "\n"
            "Write a key-reference file (PEM \"PKCS#11 PROVIDER URI\") for a key in the\n"
            "token.  It holds the key's URI only: no key material, no PIN.\n");
}

int cmd_keyref(int argc, char **argv)
{
    enum { OPT_KEY = OPT_FIRST_LOCAL, OPT_OUT };
    static const struct option opts[] = {
        CLI_COMMON_OPTIONS,
        { "key", required_argument, NULL, OPT_KEY },
        { "out", required_argument, NULL, OPT_OUT },
        { NULL, 0, NULL, 0 }
    };
    const char *keyuri = NULL, *out = NULL;
    EVP_PKEY *key;
    int ch, ok;

    cli_getopt_reset();
    while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (cli_common_option(ch, optarg))
            continue;
        switch (ch) {
        case OPT_HELP:
            keyref_help(stdout);
            return CLI_OK;
        case OPT_KEY:
            keyuri = optarg;
            break;
        case OPT_OUT:
            out = optarg;
            break;
        default:
            return cli_bad_option("keyref ", ch, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("keyref ", "unexpected argument '%s'", argv[optind]);
    if (keyuri == NULL)
        return cli_usage_error("keyref ", "missing --key URI");
    if (out == NULL)
        return cli_usage_error("keyref ", "missing --out FILE.pem");
    if (!cli_provider())
        return CLI_FAIL;
    key = cli_load_key(keyuri);
    if (key == NULL)
        return CLI_FAIL;
    ok = uakey_keyref_write(key, out);
    EVP_PKEY_free(key);
    if (!ok)
        return cli_fail_lib();
    printf("%s\n", out);
    return CLI_OK;
}
