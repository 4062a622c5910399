/* uakey command line: shared declarations.  The CLI is thin: it parses
 * options, calls libuakey (pkcs11/ only for "token list") and prints. */
#ifndef UAKEY_CLI_H
#define UAKEY_CLI_H

#include <getopt.h>
#include <stdio.h>

#include <openssl/ui.h>

#include "uakey/uakey.h"

/* Exit codes (documented in docs/uakey.1). */
#define CLI_OK 0
#define CLI_FAIL 1      /* the operation failed, or a certificate is not Good */
#define CLI_USAGE 2     /* bad command line */

/* Options every command takes, before or after the command name. */
typedef struct {
    const char *pin_file;   /* --pin-file */
    int json;               /* --json */
    int debug;              /* --debug */
} CLI_GLOBAL;

extern CLI_GLOBAL cli_global;

/* Long option values shared by every command (above any short option). */
enum {
    OPT_HELP = 'h',
    OPT_PIN_FILE = 1000,
    OPT_JSON,
    OPT_DEBUG,
    OPT_FIRST_LOCAL         /* commands number their own options from here */
};

/* The shared options, for a command's option table. */
#define CLI_COMMON_OPTIONS                                      \
    { "help", no_argument, NULL, OPT_HELP },                    \
    { "pin-file", required_argument, NULL, OPT_PIN_FILE },      \
    { "json", no_argument, NULL, OPT_JSON },                    \
    { "debug", no_argument, NULL, OPT_DEBUG }

/* Handle one of the shared options; returns 1 when |c| was one of them
 * (OPT_HELP is left to the caller). */
int cli_common_option(int c, const char *arg);
/* The message for getopt_long's '?' / ':' (or an option the command does
 * not take); returns CLI_USAGE. */
int cli_bad_option(const char *cmd, int ch, char **argv);
/* Start getopt_long over a fresh argument vector (getopt's own messages
 * off: every error is one "uakey: ..." line). */
void cli_getopt_reset(void);

/* "uakey: <message>" on stderr (one line); returns |rc|. */
int cli_fail(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The cause from the error queue, "uakey: <cause>"; returns CLI_FAIL. */
int cli_fail_lib(void);
/* "uakey: <message>" plus "Try 'uakey HELP --help'."; returns CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Load the uakey provider into the default library context (commands that
 * touch keys).  Returns 1, or 0 with the cause printed. */
int cli_provider(void);

/* The UI for a PIN prompt: one that answers from --pin-file when given,
 * else OpenSSL's terminal UI (echo off) when stdin is a terminal, else
 * NULL. */
const UI_METHOD *cli_ui(void);
/* Free what cli_ui() made (end of main). */
void cli_cleanup(void);
/* Ask for the token PIN on the terminal (echo off).  Returns a malloc'd
 * PIN (wipe and free with cli_secret_free) or NULL when there is no
 * terminal or the user gave none. */
char *cli_prompt_pin(const char *what);
/* The same for any secret: |kind| ("PIN", "password") for |what|, from
 * |min| to |max| characters, in a buffer of max + 1 bytes. */
char *cli_prompt_secret(const char *kind, const char *what, int min, int max);
void cli_secret_free(char *s);
/* 1 when the URI carries pin-value or pin-source. */
int cli_uri_has_pin(const char *uri);
/* |uri| with "pin-value=<pin, percent-encoded>" in its query; malloc'd
 * (wipe and free with cli_secret_free). */
char *cli_uri_with_pin(const char *uri, const char *pin);
/* 1 when the error queue's last entry says no PIN was available (the
 * token was never asked, so a prompt and one more try cost nothing). */
int cli_error_is_pin_required(void);

/* A private key by URI / key-reference file, with --pin-file and a prompt
 * on a terminal.  NULL with the cause printed. */
EVP_PKEY *cli_load_key(const char *ref);
/* A certificate file (DER or PEM).  NULL with the cause printed. */
X509 *cli_load_cert(const char *path);
/* Open a PKI store with warnings on stderr.  NULL with the cause printed. */
UAKEY_PKI *cli_pki_open(const char *dir);

/* Write bytes to |path| via a temporary file in the same directory and a
 * rename (mode |mode|).  Returns 1, or 0 with the cause printed. */
int cli_write_file(const char *path, const void *data, size_t len, unsigned int mode);

/* A decimal number from |min| to |max| (the whole string; no sign when
 * min >= 0) into *out.  Returns 1, or 0 when it is not one. */
int cli_parse_long(const char *s, long min, long max, long *out);

/* 1 when |s| is 40 hexadecimal digits. */
int cli_is_thumbprint(const char *s);
/* A thumbprint from a 40-hex-digit argument or a certificate file (upper
 * case, into hex).  Returns 1, or 0 with the cause printed. */
int cli_thumbprint_arg(const char *arg, char hex[41]);

/* JSON output: a string with every needed escape (NULL prints null). */
void json_str(FILE *f, const char *s);
/* Time as "YYYY-MM-DDTHH:MM:SSZ" (UTC) into buf. */
const char *cli_time(time_t t, char *buf, size_t len);

/* Print a certificate list (store listings), text or JSON. */
void cli_print_cert_list(const UAKEY_CERT_INFO *certs, size_t n);

/* Commands: argv[0] is the command name ("key", "cert", ...). */
int cmd_token(int argc, char **argv);
int cmd_key(int argc, char **argv);
int cmd_pki(int argc, char **argv);
int cmd_trust(int argc, char **argv);
int cmd_issuer(int argc, char **argv);
int cmd_crl(int argc, char **argv);
int cmd_rejected(int argc, char **argv);
int cmd_cert(int argc, char **argv);
int cmd_keyref(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_discover(int argc, char **argv);
int cmd_connect(int argc, char **argv);

#endif
