/* uakey bench: the time of one full OPC UA connect with the token key vs the
 * same key in memory (the number issue 5's closing note asks for).
 * `make bench` runs it on the throwaway SoftHSM2 token against a node-opcua
 * server that bench/run-bench.sh starts (tests/interop/ua_server.mjs).
 *
 *   uk_bench_connect -m MODULE -f PIN-FILE -c CERT-OUT -r READY-FILE -d PKI-DIR
 *                    [-T TOKEN] [-n CONNECTS] [-w WARM-UP] [-p POLICY]...
 *                    [-W SECONDS] [-D TEXT] [-v]
 *
 * Set-up: an RSA-2048 key pair is generated in memory by OpenSSL's default
 * provider and put into the token as a sensitive, non-extractable object
 * (bench/uk_bench_token.c, shared with uk_bench), then loaded back through
 * libuakey with a pkcs11: URI and the PIN file.  One application instance
 * certificate (uakey_appcert_create, signed in the token) serves both keys:
 * they are the same key.  It is written (DER, public) to CERT-OUT, where
 * run-bench.sh picks it up and puts it into the server's trusted/certs
 * before it starts the server; this program then waits for the server's
 * READY-FILE (url=, cert=), makes a client PKI store in PKI-DIR that trusts
 * the server certificate, and connects.  No key or PIN byte is printed or
 * written by this program.
 *
 * A connect is one uakey_connect() call, all of it: GetEndpoints on a None
 * channel, the server certificate checked against the PKI store, TCP +
 * Hello/Acknowledge, OpenSecureChannel (signed with our key, the response
 * decrypted with our key), CreateSession, ActivateSession (clientSignature
 * made with our key), Read of ns=0;i=2258, CloseSession,
 * CloseSecureChannel.  First -w warm-up rounds for every policy, not
 * counted (with fewer, the policy measured first comes out slower: the
 * server is still warming up); then, for each policy (SignAndEncrypt), -n
 * rounds of one connect with the token key and one with the memory key
 * (the order swaps every round).  Every connect must end in Good, or the run stops (exit 1)
 * with the StatusCode and what the client said.  The time of each phase
 * comes from the moment uakey_connect() reports it through its output
 * callback.
 *
 * Private-key operations are counted where they happen: this program
 * defines uakey_policy_sign() and uakey_policy_decrypt(), the adapter
 * functions the client calls for them (through the PLT of libuakey.so, so
 * ours are found first), counts each call and the key it was given, and
 * passes it on to libuakey's own (dlsym RTLD_NEXT).  Every one must use the
 * key of the path (the token key or the memory key), or the run fails.
 * The count is checked against libuakey's own ("done: N private-key
 * operations").
 *
 * Exit: 0 measured, 1 a connect failed or used another key, 2 usage or
 * set-up error. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "uakey/uakey.h"
#include "uk_bench_token.h"

#define BENCH_TOKEN     "uakey-bench"
#define KEY_LABEL       "bench-connect-rsa"
#define KEY_ID          0x11
#define APP_URI         "urn:uakey:bench:connect-client"
#define MAX_POLICIES    8
#define MAX_CONNECTS    1000
#define LOG_CAP         8192

enum cpath { C_TOKEN, C_MEMORY, NCPATH };
static const char *const cpath_name[NCPATH] = { "token", "memory" };

/* A connect in phases, each ended by the first line uakey_connect() says
 * with that prefix (the last one by the return). */
enum phase { PH_DISCOVER, PH_OPN, PH_CREATE, PH_ACTIVATE, PH_REST, NPHASE };
static const char *const phase_line[NPHASE - 1] = {
    "server certificate ", "OpenSecureChannel: ", "CreateSession: ", "ActivateSession: "
};
static const char *const phase_short[NPHASE] = {
    "discover", "OPN", "Create", "Activate", "rest"
};
static const char phase_legend[] =
    "discover: GetEndpoints on a None channel, server certificate check; OPN: TCP,\n"
    "  HEL/ACK, OpenSecureChannel (our signature and decryption); Create: CreateSession;\n"
    "  Activate: ActivateSession (our clientSignature); rest: Read, CloseSession,\n"
    "  CloseSecureChannel.";

/* ---- private-key operations, counted at the adapter ------------------------- */

struct kops {
    EVP_PKEY *expect;           /* the key of this connect */
    unsigned int opn_sign;      /* signatures before the decryption: OPN */
    unsigned int decrypt;       /* decryptions: the OPN response */
    unsigned int blocks;        /* ... in RSA blocks */
    unsigned int late_sign;     /* signatures after it: clientSignature */
    unsigned int foreign;       /* operations with another key */
};
static struct kops kops;

typedef int adapter_fn(const UAKEY_POLICY *pol, EVP_PKEY *key, const unsigned char *in,
                       size_t inlen, unsigned char *out, size_t *outlen);

static adapter_fn *next_fn(const char *name)
{
    adapter_fn *fn = (adapter_fn *)dlsym(RTLD_NEXT, name);

    if (fn == NULL)
        ukb_die("uk_bench_connect: dlsym(RTLD_NEXT, %s): %s", name, dlerror());
    return fn;
}

int uakey_policy_sign(const UAKEY_POLICY *pol, EVP_PKEY *key, const unsigned char *data,
                      size_t len, unsigned char *sig, size_t *siglen)
{
    static adapter_fn *real;

    if (real == NULL)
        real = next_fn("uakey_policy_sign");
    if (key != kops.expect)
        kops.foreign++;
    else if (kops.decrypt == 0)
        kops.opn_sign++;
    else
        kops.late_sign++;
    return real(pol, key, data, len, sig, siglen);
}

int uakey_policy_decrypt(const UAKEY_POLICY *pol, EVP_PKEY *key, const unsigned char *in,
                         size_t inlen, unsigned char *out, size_t *outlen)
{
    static adapter_fn *real;
    size_t bs;

    if (real == NULL)
        real = next_fn("uakey_policy_decrypt");
    if (key != kops.expect) {
        kops.foreign++;
    } else {
        kops.decrypt++;
        bs = uakey_policy_cipher_block_size(pol, key);
        kops.blocks += bs > 0 ? (unsigned int)(inlen / bs) : 0;
    }
    return real(pol, key, in, inlen, out, outlen);
}

/* ---- one connect ------------------------------------------------------------- */

struct conn {
    double t0, t1, mark[NPHASE - 1];
    int have[NPHASE - 1];
    unsigned int lib_ops;       /* libuakey's own count ("done: N ...") */
    int lib_seen;
    char log[LOG_CAP];          /* what uakey_connect() said */
    size_t loglen;
};

static void on_line(void *arg, const char *line)
{
    struct conn *c = arg;
    double t = ukb_now();
    size_t i, n;

    for (i = 0; i < NPHASE - 1; i++) {
        if (!c->have[i] && strncmp(line, phase_line[i], strlen(phase_line[i])) == 0) {
            c->mark[i] = t;
            c->have[i] = 1;
        }
    }
    if (sscanf(line, "done: %u private-key operations", &c->lib_ops) == 1)
        c->lib_seen = 1;
    n = strlen(line);
    if (c->loglen + n + 6 < sizeof(c->log)) {
        memcpy(c->log + c->loglen, "    | ", 6);
        memcpy(c->log + c->loglen + 6, line, n);
        c->loglen += n + 6;
        c->log[c->loglen++] = '\n';
        c->log[c->loglen] = '\0';
    }
}

/* One policy's results. */
struct row {
    const char *policy;
    double total[NCPATH][MAX_CONNECTS];         /* ms */
    double phase[NCPATH][NPHASE][MAX_CONNECTS]; /* ms */
    int phases_ok;                  /* every connect reported every phase */
    struct kops kops[NCPATH];       /* of the first connect (all must agree) */
    unsigned int lib_ops[NCPATH];
    int lib_seen[NCPATH];
    int kops_vary;
};

struct bench {
    struct ukb_token tk;
    int n, warmup, verbose;
    double ready_wait;
    const char *cert_out, *ready_file, *pki_dir, *server_desc;
    const char *policies[MAX_POLICIES];
    int npolicies;
    char url[512], server_cert_path[1024];
    EVP_PKEY *mem, *tok;
    X509 *cert;
    UAKEY_PKI *pki;
    struct row *rows;
};

/* One uakey_connect() with |path|'s key; a counted one goes into round |k|
 * of |r| (total and phase times in ms, the key operations). */
static void connect_once(struct bench *b, struct row *r, enum cpath path, int counted, int k)
{
    UAKEY_CONNECT_OPTS o;
    struct conn *c = calloc(1, sizeof(*c));
    EVP_PKEY *key = path == C_TOKEN ? b->tok : b->mem;
    char *detail = NULL;
    uint32_t st;
    int i;

    if (c == NULL)
        ukb_die("uk_bench_connect: out of memory");
    memset(&o, 0, sizeof(o));
    o.url = b->url;
    o.pki = b->pki;
    o.key = key;
    o.cert = b->cert;
    o.own_name = "bench";
    o.policy = r->policy;
    o.mode = 3;                 /* SignAndEncrypt */
    o.timeout_ms = 15000;
    o.out = on_line;
    o.out_arg = c;

    memset(&kops, 0, sizeof(kops));
    kops.expect = key;
    ERR_clear_error();
    c->t0 = ukb_now();
    st = uakey_connect(&o, &detail);
    c->t1 = ukb_now();
    kops.expect = NULL;

    if (b->verbose)
        fprintf(stderr, "uk_bench_connect: %s, %s key, %s: %s\n%s", r->policy, cpath_name[path],
                counted ? "measured" : "warm-up", uakey_status_name(st), c->log);
    if (st != UAKEY_Good) {
        fprintf(stderr, "uk_bench_connect: FAILED: %s SignAndEncrypt with the %s key: %s "
                "0x%08X: %s\n", r->policy, cpath_name[path], uakey_status_name(st),
                (unsigned int)st, detail != NULL ? detail : "(no detail)");
        if (!b->verbose)
            fprintf(stderr, "  uakey_connect() said:\n%s",
                    c->loglen > 0 ? c->log : "    (nothing)\n");
        exit(1);
    }
    if (kops.foreign > 0) {
        fprintf(stderr, "uk_bench_connect: FAILED: %s with the %s key: %u private-key "
                "operation%s with another key\n", r->policy, cpath_name[path], kops.foreign,
                kops.foreign == 1 ? "" : "s");
        exit(1);
    }
    free(detail);
    if (!counted) {
        free(c);
        return;
    }

    r->total[path][k] = (c->t1 - c->t0) * 1000;
    for (i = 0; i < NPHASE - 1; i++) {
        if (!c->have[i])
            r->phases_ok = 0;
    }
    if (r->phases_ok) {
        r->phase[path][PH_DISCOVER][k] = (c->mark[0] - c->t0) * 1000;
        for (i = 1; i < NPHASE - 1; i++)
            r->phase[path][i][k] = (c->mark[i] - c->mark[i - 1]) * 1000;
        r->phase[path][PH_REST][k] = (c->t1 - c->mark[NPHASE - 2]) * 1000;
    }
    if (k == 0) {
        r->kops[path] = kops;
        r->lib_ops[path] = c->lib_ops;
        r->lib_seen[path] = c->lib_seen;
    } else if (kops.opn_sign != r->kops[path].opn_sign || kops.decrypt != r->kops[path].decrypt
               || kops.blocks != r->kops[path].blocks
               || kops.late_sign != r->kops[path].late_sign
               || c->lib_ops != r->lib_ops[path]) {
        r->kops_vary = 1;
    }
    free(c);
}

/* Warm-up, not counted: every policy with both keys (node-opcua's code
 * gets compiled, caches on both sides filled). */
static void warm_up(struct bench *b)
{
    int k, p;

    for (p = 0; p < b->npolicies; p++) {
        for (k = 0; k < b->warmup; k++) {
            connect_once(b, &b->rows[p], C_TOKEN, 0, 0);
            connect_once(b, &b->rows[p], C_MEMORY, 0, 0);
        }
    }
}

static void run_policy(struct bench *b, struct row *r)
{
    int k, i;

    r->phases_ok = 1;
    for (k = 0; k < b->n; k++) {
        /* the order swaps every round */
        for (i = 0; i < NCPATH; i++)
            connect_once(b, r, (enum cpath)((i + k) % NCPATH), 1, k);
    }
    for (i = 0; i < NCPATH; i++) {
        fprintf(stderr, "uk_bench_connect: %s SignAndEncrypt, %-6s key (ms):", r->policy,
                cpath_name[i]);
        for (k = 0; k < b->n; k++)
            fprintf(stderr, " %.1f", r->total[i][k]);
        fputc('\n', stderr);
    }
}

/* ---- statistics and the report ------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double mean_of(const double *v, int n)
{
    double s = 0;
    int i;

    for (i = 0; i < n; i++)
        s += v[i];
    return n > 0 ? s / n : 0;
}

static double median_of(const double *v, int n)
{
    double *s = malloc((size_t)n * sizeof(*s)), m;

    if (s == NULL)
        ukb_die("uk_bench_connect: out of memory");
    memcpy(s, v, (size_t)n * sizeof(*s));
    qsort(s, (size_t)n, sizeof(*s), cmp_double);
    m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    free(s);
    return m;
}

static void fmt_kops(char *buf, size_t cap, const struct row *r)
{
    const struct kops *t = &r->kops[C_TOKEN], *m = &r->kops[C_MEMORY];
    unsigned int calls = t->opn_sign + t->decrypt + t->late_sign;

    if (calls == 0 && r->lib_seen[C_TOKEN])
        snprintf(buf, cap, "%u", r->lib_ops[C_TOKEN]);
    else if (t->opn_sign != m->opn_sign || t->decrypt != m->decrypt || t->blocks != m->blocks
             || t->late_sign != m->late_sign || r->kops_vary)
        snprintf(buf, cap, "varies");
    else
        snprintf(buf, cap, "%u (%u RSA)", calls, t->opn_sign + t->blocks + t->late_sign);
}

/* ---- set-up ------------------------------------------------------------------- */

/* The certificate (DER, public) to |path| through a temporary name, so the
 * script never sees half of it. */
static void write_cert(X509 *cert, const char *path)
{
    unsigned char *der = NULL;
    int len = i2d_X509(cert, &der);
    char tmp[1100];
    FILE *f;

    if (len <= 0)
        ukb_die_ossl("uk_bench_connect: cannot encode our certificate");
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "wb");
    if (f == NULL || fwrite(der, 1, (size_t)len, f) != (size_t)len || fclose(f) != 0
        || rename(tmp, path) != 0)
        ukb_die("uk_bench_connect: cannot write %s: %s", path, strerror(errno));
    OPENSSL_free(der);
}

static void set_field(char *dst, size_t cap, const char *v, const char *file)
{
    size_t n = strlen(v);

    if (n >= cap)
        ukb_die("uk_bench_connect: %s: a value of %zu bytes is too long", file, n);
    memcpy(dst, v, n + 1);
}

/* Wait for the server's ready file (written with tmp + rename) and take
 * url= and cert= from it. */
static void wait_ready(struct bench *b)
{
    double end = ukb_now() + b->ready_wait;
    char line[2048];
    FILE *f;

    while ((f = fopen(b->ready_file, "r")) == NULL) {
        struct timespec ts = { 0, 20 * 1000000L };

        if (errno != ENOENT)
            ukb_die("uk_bench_connect: %s: %s", b->ready_file, strerror(errno));
        if (ukb_now() > end)
            ukb_die("uk_bench_connect: no server ready file %s after %.0f s", b->ready_file,
                    b->ready_wait);
        nanosleep(&ts, NULL);
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strncmp(line, "url=", 4) == 0)
            set_field(b->url, sizeof(b->url), line + 4, b->ready_file);
        else if (strncmp(line, "cert=", 5) == 0)
            set_field(b->server_cert_path, sizeof(b->server_cert_path), line + 5,
                      b->ready_file);
    }
    fclose(f);
    if (b->url[0] == '\0' || b->server_cert_path[0] == '\0')
        ukb_die("uk_bench_connect: %s has no url= or no cert= line", b->ready_file);
}

static void make_cert(struct bench *b)
{
    static const char *const dns[] = { "localhost" };
    static const char *const ips[] = { "127.0.0.1" };
    UAKEY_CERT_PARAMS p;

    memset(&p, 0, sizeof(p));
    p.app_uri = APP_URI;
    p.dns = dns;
    p.ndns = 1;
    p.ips = ips;
    p.nips = 1;
    p.common_name = "uakey bench client";
    p.days = 2;
    p.not_before = time(NULL) - 3600;
    b->cert = uakey_appcert_create(NULL, b->tok, &p);
    if (b->cert == NULL)
        ukb_die_ossl("uk_bench_connect: uakey_appcert_create failed");
    if (X509_check_private_key(b->cert, b->mem) != 1
        || X509_check_private_key(b->cert, b->tok) != 1)
        ukb_die_ossl("uk_bench_connect: the certificate does not fit both keys");
    ERR_clear_error();
}

static void make_pki(struct bench *b)
{
    X509 *server;

    if (!uakey_pki_init(b->pki_dir, 0) || (b->pki = uakey_pki_open(b->pki_dir)) == NULL)
        ukb_die_ossl("uk_bench_connect: cannot make the client PKI store %s", b->pki_dir);
    if ((server = uakey_load_cert(NULL, b->server_cert_path)) == NULL)
        ukb_die_ossl("uk_bench_connect: cannot read the server certificate %s",
                     b->server_cert_path);
    if (!uakey_pki_add_cert(b->pki, UAKEY_PKI_TRUSTED, server, NULL))
        ukb_die_ossl("uk_bench_connect: cannot trust the server certificate");
    X509_free(server);
}

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s -m MODULE -f PIN-FILE -c CERT-OUT -r READY-FILE -d PKI-DIR [-T TOKEN]\n"
            "       [-n CONNECTS] [-w WARM-UP] [-p POLICY]... [-W SECONDS] [-D TEXT] [-v]\n"
            "  -m MODULE      PKCS#11 module (SoftHSM2: libsofthsm2.so)\n"
            "  -f PIN-FILE    file whose first line is the user PIN\n"
            "  -T TOKEN       token label (default %s; it must not hold '%s' yet)\n"
            "  -c CERT-OUT    where our certificate goes (DER) for the server's trust list\n"
            "  -r READY-FILE  the node-opcua server's ready file (url=, cert=); waited for\n"
            "  -d PKI-DIR     client PKI store to make (trusts the server certificate)\n"
            "  -n CONNECTS    measured connects per key and policy (default 10)\n"
            "  -w WARM-UP     connects per key and policy before that, not counted (default 10)\n"
            "  -p POLICY      SecurityPolicy, SignAndEncrypt (repeatable; default\n"
            "                 Basic256Sha256 and Aes256_Sha256_RsaPss)\n"
            "  -W SECONDS     how long to wait for the ready file (default 90)\n"
            "  -D TEXT        the server, for the report (\"node-opcua 2.186.4, node v20\")\n"
            "  -v             print what every connect says\n",
            prog, BENCH_TOKEN, KEY_LABEL);
    exit(2);
}

static long int_arg(const char *prog, const char *s, long lo, long hi)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        usage(prog);
    return v;
}

int main(int argc, char **argv)
{
    static struct bench bench;
    struct bench *b = &bench;
    double load0[1] = { -1 }, load1[1] = { -1 }, t_start;
    int opt, i, p;

    ukb_prog = "uk_bench_connect";
    b->tk.label = BENCH_TOKEN;
    b->n = 10;
    b->warmup = 10;
    b->ready_wait = 90;
    b->server_desc = "node-opcua";
    while ((opt = getopt(argc, argv, "m:f:T:c:r:d:n:w:p:W:D:vh")) != -1) {
        switch (opt) {
        case 'm': b->tk.module = optarg; break;
        case 'f': b->tk.pin_file = optarg; break;
        case 'T': b->tk.label = optarg; break;
        case 'c': b->cert_out = optarg; break;
        case 'r': b->ready_file = optarg; break;
        case 'd': b->pki_dir = optarg; break;
        case 'n': b->n = (int)int_arg(argv[0], optarg, 1, MAX_CONNECTS); break;
        case 'w': b->warmup = (int)int_arg(argv[0], optarg, 0, 1000); break;
        case 'p':
            if (b->npolicies == MAX_POLICIES)
                usage(argv[0]);
            b->policies[b->npolicies++] = optarg;
            break;
        case 'W': b->ready_wait = (double)int_arg(argv[0], optarg, 1, 3600); break;
        case 'D': b->server_desc = optarg; break;
        case 'v': b->verbose = 1; break;
        default: usage(argv[0]);
        }
    }
    if (optind != argc || b->tk.module == NULL || b->tk.pin_file == NULL || b->cert_out == NULL
        || b->ready_file == NULL || b->pki_dir == NULL)
        usage(argv[0]);
    if (b->npolicies == 0) {
        b->policies[b->npolicies++] = "Basic256Sha256";
        b->policies[b->npolicies++] = "Aes256_Sha256_RsaPss";
    }
    for (p = 0; p < b->npolicies; p++) {
        if (uakey_policy_find(b->policies[p]) == NULL)
            ukb_die_ossl("uk_bench_connect: libuakey does not know %s", b->policies[p]);
    }
    ERR_clear_error();
    if ((b->rows = calloc((size_t)b->npolicies, sizeof(*b->rows))) == NULL)
        ukb_die("uk_bench_connect: out of memory");

    /* the memory key, made before uakey is anywhere near; the same key in
     * the token, loaded back through libuakey; one certificate for both */
    if ((b->mem = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)) == NULL)
        ukb_die_ossl("uk_bench_connect: cannot generate the memory key");
    ukb_token_open(&b->tk);
    ukb_token_import(&b->tk, b->mem, KEY_LABEL, KEY_ID);
    b->tok = ukb_token_load_key(&b->tk, KEY_LABEL, b->mem);
    if (strcmp(ukb_serving_provider(b->mem, 0), "default") != 0
        || strcmp(ukb_serving_provider(b->mem, 1), "default") != 0)
        ukb_die_ossl("uk_bench_connect: the memory key does not run in OpenSSL's default "
                     "provider");
    fprintf(stderr, "uk_bench_connect: memory key served by '%s' (sign) / '%s' (decrypt), "
            "token key by '%s' / '%s'\n", ukb_serving_provider(b->mem, 0),
            ukb_serving_provider(b->mem, 1), ukb_serving_provider(b->tok, 0),
            ukb_serving_provider(b->tok, 1));
    make_cert(b);
    write_cert(b->cert, b->cert_out);

    t_start = ukb_now();
    wait_ready(b);
    fprintf(stderr, "uk_bench_connect: server ready after %.1f s: %s\n", ukb_now() - t_start,
            b->url);
    make_pki(b);

    if (getloadavg(load0, 1) != 1)
        load0[0] = -1;
    for (p = 0; p < b->npolicies; p++)
        b->rows[p].policy = b->policies[p];
    warm_up(b);
    for (p = 0; p < b->npolicies; p++)
        run_policy(b, &b->rows[p]);
    if (getloadavg(load1, 1) != 1)
        load1[0] = -1;

    printf("\nuk_bench_connect: one full OPC UA connect, token key vs the same key in memory\n");
    printf("  a connect: uakey_connect() = GetEndpoints (None channel), server certificate "
           "check, TCP,\n  HEL/ACK, OpenSecureChannel, CreateSession, ActivateSession, "
           "Read ns=0;i=2258, CloseSession,\n  CloseSecureChannel; SignAndEncrypt, anonymous\n");
    printf("  server: %s, %s on the same machine\n", b->server_desc, b->url);
    printf("  RSA-2048 key: in token '%s' (%s)\n"
           "  and in memory (OpenSSL default provider); one certificate for both; %s\n",
           b->tk.label, b->tk.module_desc, OpenSSL_version(OPENSSL_VERSION));
    printf("  %d connect%s per key and policy after %d warm-up round%s, token and memory "
           "taking turns;\n  %ld CPUs online; 1-min load average %.2f before, %.2f after\n\n",
           b->n, b->n == 1 ? "" : "s", b->warmup, b->warmup == 1 ? "" : "s",
           sysconf(_SC_NPROCESSORS_ONLN), load0[0], load1[0]);

    printf("%-28s %17s %17s %13s %12s\n", "", "token key", "memory key", "token/memory",
           "private-key");
    printf("%-28s %8s %8s %8s %8s %6s %6s %12s\n", "ms per connect", "mean", "median", "mean",
           "median", "mean", "median", "ops/connect");
    for (p = 0; p < b->npolicies; p++) {
        struct row *r = &b->rows[p];
        double tm = mean_of(r->total[C_TOKEN], b->n), td = median_of(r->total[C_TOKEN], b->n);
        double mm = mean_of(r->total[C_MEMORY], b->n), md = median_of(r->total[C_MEMORY], b->n);
        char ko[32];

        fmt_kops(ko, sizeof(ko), r);
        printf("%-28s %8.1f %8.1f %8.1f %8.1f %6.2f %6.2f %12s\n", r->policy, tm, td, mm, md,
               mm > 0 ? tm / mm : 0, md > 0 ? td / md : 0, ko);
    }

    printf("\n%-28s", "median ms by phase");
    for (i = 0; i < NPHASE; i++)
        printf(" %9s", phase_short[i]);
    printf("\n");
    for (p = 0; p < b->npolicies; p++) {
        struct row *r = &b->rows[p];
        char name[64];
        int c;

        for (c = 0; c < NCPATH; c++) {
            snprintf(name, sizeof(name), "%s %s", r->policy, cpath_name[c]);
            printf("%-28s", name);
            for (i = 0; i < NPHASE; i++) {
                if (r->phases_ok)
                    printf(" %9.1f", median_of(r->phase[c][i], b->n));
                else
                    printf(" %9s", "n/a");
            }
            printf("\n");
        }
    }
    printf("  %s\n", phase_legend);
    printf("\n  private-key operations per connect, counted at the adapter "
           "(uakey_policy_sign/_decrypt),\n  every one with the key of the path; "
           "libuakey's own count in brackets:\n");
    for (p = 0; p < b->npolicies; p++) {
        struct row *r = &b->rows[p];
        const struct kops *t = &r->kops[C_TOKEN];
        unsigned int calls = t->opn_sign + t->decrypt + t->late_sign;

        if (calls == 0) {
            printf("  %s: not seen at the adapter (libuakey binds its calls inside the "
                   "library); libuakey counts %u\n", r->policy, r->lib_ops[C_TOKEN]);
            continue;
        }
        printf("  %s: OPN sign %u, OPN decrypt %u (%u RSA block%s), clientSignature %u "
               "[libuakey: %u]%s\n", r->policy, t->opn_sign, t->decrypt, t->blocks,
               t->blocks == 1 ? "" : "s", t->late_sign, r->lib_ops[C_TOKEN],
               r->kops_vary ? "; NOT the same in every connect" : "");
        if (r->lib_seen[C_TOKEN] && r->lib_ops[C_TOKEN] != calls)
            printf("  %s: the adapter saw %u calls, libuakey reports %u\n", r->policy, calls,
                   r->lib_ops[C_TOKEN]);
    }
    printf("  ops/connect: calls to the adapter (RSA private-key operations: a decryption "
           "takes one per\n  block); token/memory: the token key's time over the memory "
           "key's.\n");
    fflush(stdout);

    ukb_token_close(&b->tk);
    uakey_pki_free(b->pki);
    X509_free(b->cert);
    EVP_PKEY_free(b->tok);
    EVP_PKEY_free(b->mem);
    free(b->rows);
    return 0;
}
