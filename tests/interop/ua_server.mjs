#!/usr/bin/env node
// uakey test OPC UA server (node-opcua), started and stopped by the tests
// through tests/tool/ua_server_lib.sh.  Listens on 127.0.0.1 only.
//
//   node ua_server.mjs --pki DIR --ready FILE [--port N] [--user NAME:PASS]...
//        [--log FILE] [--verbose] [--min-token-lifetime MS]
//        [--max-token-lifetime MS] [--none full|discovery] [--no-anonymous]
//        [--app-uri URI] [--path /RESOURCE] [--variable] [--watch-pid PID]
//        [--max-runtime SECONDS]
//
// What node-opcua 2.186.4 (node-opcua-pki 7.0.0) does, found by reading its
// code and checked by tests/tool/ua_server_selftest.sh:
//
// PKI folder (--pki DIR = OPCUACertificateManager rootFolder):
//   DIR/own/certs/certificate.pem    the server certificate (PEM; made here at
//                                    the first start, self-signed, RSA 2048,
//                                    SAN: URI (--app-uri, default
//                                    urn:uakey:test:node-opcua-server),
//                                    DNS:localhost + this host's name,
//                                    IP:127.0.0.1; valid 1 year)
//   DIR/server_certificate.der       a DER copy (the ready file's cert=)
//   DIR/own/private/private_key.pem  its key
//   DIR/trusted/certs/               trusted client certificates
//   DIR/trusted/crl/, DIR/issuers/certs/, DIR/issuers/crl/
//   DIR/rejected/                    unknown client certificates land here
//   DIR/user/...                     a second store for X.509 *user* tokens
//                                    (kept inside DIR so nothing goes to ~/.config)
//   A rejected certificate is written as PEM, named
//     "<CN>[<sha1 thumbprint, 40 lower-case hex>].pem"
//   e.g. rejected/uakey-client[0a1b...].pem (CN reduced to [A-Za-z0-9._ -],
//   other characters become "_").  Any file name works in trusted/certs (PEM or
//   DER, one certificate), the index is by thumbprint, not by name.
//
// Trust at run time: the store keeps an in-memory index that chokidar
// (inotify) keeps in step with trusted/certs and rejected/.  Moving the file
// from rejected/ to trusted/certs/ (mv, same name) while the server runs is
// enough: the next OpenSecureChannel succeeds, no restart, no signal.  But
// not at once: chokidar reports the removal from rejected/ ~100 ms late (its
// "atomic" write detection), and a certificate in BOTH indexes counts as
// rejected.  Measured: an OpenSecureChannel 0-50 ms after the mv is still
// refused, from ~80 ms on it passes.  So wait for the server to log the move
// (always logged, see below: "pki: trusted += <sha1>" and
// "pki: rejected -= <sha1>"); ua_server_trust_client in
// tests/tool/ua_server_lib.sh does that.  Put new files in with a rename too
// (write elsewhere, then mv): a file written in place is first seen empty and
// only indexed at the "change" event that follows ("pki: trusted ~= ...").
// OPCUA_PKI_USE_POLLING=true switches to polling (every 5 s, see
// OPCUA_PKI_POLLING_INTERVAL) for file systems without inotify.
//
// Untrusted client certificate: refused at OpenSecureChannel, never later.
// The answer is an OPN message (signed with the server key; encrypted to the
// client's public key in SignAndEncrypt) whose body is a ServiceFault with
// serviceResult BadSecurityChecksFailed (0x80130000); the socket is closed
// ~1 s later (ServerSecureChannelLayer.closeDelayAfterRefusal).  node-opcua
// narrows every verdict to BadSecurityChecksFailed except
// BadCertificateTimeInvalid, BadCertificateUseNotAllowed (also given when the
// client certificate lacks keyUsage digitalSignature or dataEncipherment) and
// BadCertificateRevocationUnknown, which pass through.  Only when the reply
// cannot be secured (unknown policy, no such endpoint, unusable certificate
// key) is it a plain ERR message.  A second attempt with the same certificate
// is refused the same way as long as it stays in rejected/.
// CreateSession does not look at trust again: it checks the ApplicationUri in
// the CreateSession request against the certificate's SAN URI
// (BadCertificateUriInvalid), the client nonce (>= 32 bytes, BadNonceInvalid)
// and the endpoint; a refusal is a ServiceFault in a MSG.  ActivateSession
// checks the clientSignature (BadApplicationSignatureInvalid) and the user
// token (a wrong password or unknown user: BadUserAccessDenied); a refusal is
// an ActivateSessionResponse whose ResponseHeader.ServiceResult is the Bad
// code (not a ServiceFault); the channel stays open.
//
// Security token lifetime: revisedLifetime = requested, clamped to
// [ServerSecureChannelLayer.g_MinimumSecureTokenLifetime (2500 ms in
// node-opcua), defaultSecureTokenLifetime (600000 ms)]; a request of 0 gets
// the default.  So 4000 or 5000 ms is honoured as it is; --min-token-lifetime
// lowers the floor (default here: 1000 ms), --max-token-lifetime sets the
// default/ceiling.  The server keeps a token's keys for 125 % of its
// lifetime: a message secured with an older token finds no keys and the
// channel is closed with an ERR.  (node-opcua's own client renews at 75 %.)
//
// Endpoints: Basic256Sha256, Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss, each
// Sign and SignAndEncrypt, plus None.  --none full (default): a None endpoint
// listed by GetEndpoints on which sessions also work; --none discovery: None
// only for discovery (GetEndpoints/FindServers over a None channel), hidden
// from the endpoint list.  User tokens: Anonymous (unless --no-anonymous),
// UserName (the --user pairs; on secured endpoints the token policy has no
// SecurityPolicyUri: the password is encrypted per the channel's policy; on
// the None endpoint node-opcua lists UserName policies for Basic256Sha256 and
// Aes128_Sha256_RsaOaep, password encrypted for the server certificate), X509
// (listed by node-opcua, not used by the tests).
//
// Ready file (--ready FILE, written with tmp + rename once the server
// accepts connections):
//   port=N  url=opc.tcp://127.0.0.1:N/uakey  pid=PID
//   cert=PATH (DER copy of the server certificate)  app_uri=URI
//   thumbprint=SHA1 (upper-case hex)  pki=DIR  trusted=DIR/trusted/certs
//   rejected=DIR/rejected
//
// SIGTERM/SIGINT: server.shutdown(), exit 0; exit 1 after 3 s if the
// shutdown hangs.  --watch-pid PID: shut down when PID is gone (checked every
// second).  --max-runtime S: shut down after S seconds.  The server starts no
// child processes.
//
// Logging: lines go to stderr (or --log FILE).  Quiet by default: our own
// start/stop lines, the trust store's index changes ("pki: ...") and
// node-opcua errors; --verbose adds node-opcua warnings (rejected
// certificates, refused channels) and one line per channel (with its policy,
// mode and the number of security tokens issued) and session event.

import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import os from "node:os";
import { format } from "node:util";

const t0 = Date.now();
const usage = `usage: node ua_server.mjs --pki DIR --ready FILE [--port N] [--user NAME:PASS]...
  [--log FILE] [--verbose] [--min-token-lifetime MS] [--max-token-lifetime MS]
  [--none full|discovery] [--no-anonymous] [--app-uri URI] [--path /RES] [--variable]
  [--watch-pid PID] [--max-runtime SECONDS]`;

function die(msg) {
    process.stderr.write(`ua_server: ${msg}\n`);
    process.exit(2);
}

// ---- arguments ----------------------------------------------------------------
const opt = {
    port: 0,
    pki: null,
    ready: null,
    users: [],
    log: null,
    verbose: false,
    minLifetime: 1000,
    maxLifetime: 600000,
    none: "full",
    anonymous: true,
    appUri: "urn:uakey:test:node-opcua-server",
    resourcePath: "/uakey",
    variable: false,
    watchPid: 0,
    maxRuntime: 0
};
{
    const a = process.argv.slice(2);
    const num = (name, v, min) => {
        if (v === undefined || !/^[0-9]+$/.test(v) || Number(v) < min) die(`${name}: expected an integer >= ${min}, got '${v}'`);
        return Number(v);
    };
    for (let i = 0; i < a.length; i++) {
        const k = a[i];
        const v = () => {
            if (i + 1 >= a.length) die(`${k} needs a value\n${usage}`);
            return a[++i];
        };
        switch (k) {
            case "--port": opt.port = num(k, v(), 0); if (opt.port > 65535) die("--port: > 65535"); break;
            case "--pki": opt.pki = path.resolve(v()); break;
            case "--ready": opt.ready = path.resolve(v()); break;
            case "--user": {
                const s = v();
                const c = s.indexOf(":");
                if (c <= 0) die(`--user: expected NAME:PASSWORD, got '${s}'`);
                opt.users.push({ name: s.slice(0, c), password: s.slice(c + 1) });
                break;
            }
            case "--log": opt.log = path.resolve(v()); break;
            case "--verbose": opt.verbose = true; break;
            case "--min-token-lifetime": opt.minLifetime = num(k, v(), 100); break;
            case "--max-token-lifetime": opt.maxLifetime = num(k, v(), 100); break;
            case "--none": opt.none = v(); if (!["full", "discovery"].includes(opt.none)) die("--none: full or discovery"); break;
            case "--no-anonymous": opt.anonymous = false; break;
            case "--app-uri": opt.appUri = v(); break;
            case "--path": opt.resourcePath = v(); if (opt.resourcePath !== "" && !opt.resourcePath.startsWith("/")) die("--path must start with /"); break;
            case "--variable": opt.variable = true; break;
            case "--watch-pid": opt.watchPid = num(k, v(), 1); break;
            case "--max-runtime": opt.maxRuntime = num(k, v(), 1); break;
            case "-h": case "--help": process.stdout.write(usage + "\n"); process.exit(0); break;
            default: die(`unknown argument '${k}'\n${usage}`);
        }
    }
    if (!opt.pki) die(`--pki DIR is required\n${usage}`);
    if (!opt.ready) die(`--ready FILE is required\n${usage}`);
    if (opt.minLifetime > opt.maxLifetime) die("--min-token-lifetime > --max-token-lifetime");
}

// ---- logging: everything, node-opcua's console output included, to one sink --
let logFd = 2;
if (opt.log) {
    try {
        logFd = fs.openSync(opt.log, "a");
    } catch (e) {
        die(`--log ${opt.log}: ${e.message}`);
    }
}
function log(...args) {
    const line = format(...args).replace(/\u001b\[[0-9;]*m/g, "");
    const stamp = new Date().toISOString().substring(11, 23);
    try {
        fs.writeSync(logFd, line.split("\n").map((l) => `${stamp} ua_server[${process.pid}] ${l}`).join("\n") + "\n");
    } catch {
        /* the log is gone: nothing to do */
    }
}
for (const k of ["log", "info", "warn", "error", "debug", "trace"]) console[k] = log;
const vlog = (...args) => opt.verbose && log(...args);

// ---- node-opcua ----------------------------------------------------------------
// node-opcua-debug reads its level when it loads (a warning is printed at load
// time on this Node version): set it before the import.
process.env.NODEOPCUA_LOG_LEVEL = opt.verbose ? "4" : "3";
const opcua = await import("node-opcua");
const {
    OPCUAServer, OPCUACertificateManager, ServerSecureChannelLayer, MessageSecurityMode,
    SecurityPolicy, DataType, StatusCodes, Variant, setLogLevel, LogLevel
} = opcua;
setLogLevel(opt.verbose ? LogLevel.Warning : LogLevel.Error);

// The floor node-opcua applies to RequestedLifetime (2500 ms by default).
if (typeof ServerSecureChannelLayer.g_MinimumSecureTokenLifetime !== "number") {
    die("node-opcua changed: ServerSecureChannelLayer.g_MinimumSecureTokenLifetime is gone");
}
ServerSecureChannelLayer.g_MinimumSecureTokenLifetime = opt.minLifetime;

function pemToDer(pem) {
    const m = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(pem);
    if (!m) throw new Error("no CERTIFICATE block");
    return Buffer.from(m[1].replace(/\s+/g, ""), "base64");
}

function writeAtomic(file, data) {
    const tmp = `${file}.tmp.${process.pid}`;
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
}

let server = null;
let stopping = false;
async function stop(why, code) {
    if (stopping) return;
    stopping = true;
    log(`stopping (${why})`);
    setTimeout(() => {
        log("shutdown did not finish within 3 s: hard exit");
        process.exit(1);
    }, 3000).unref();
    try {
        if (server) await server.shutdown(0);
    } catch (e) {
        log(`shutdown error: ${e.message}`);
    }
    log(`stopped after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    process.exit(code);
}
process.on("SIGTERM", () => stop("SIGTERM", 0));
process.on("SIGINT", () => stop("SIGINT", 0));
process.on("SIGHUP", () => stop("SIGHUP", 0));
process.on("uncaughtException", (e) => {
    log(`uncaught exception: ${e.stack || e}`);
    stop("uncaught exception", 1);
});
process.on("unhandledRejection", (e) => {
    log(`unhandled rejection: ${(e && e.stack) || e}`);
});

try {
    fs.mkdirSync(opt.pki, { recursive: true });

    const certificateManager = new OPCUACertificateManager({
        rootFolder: opt.pki,
        automaticallyAcceptUnknownCertificate: false
    });
    await certificateManager.initialize();
    // What the store's in-memory index learns from its file watchers, always
    // logged: ua_server_lib.sh waits for these lines after moving a file.
    certificateManager.on("certificateAdded", (e) => log(`pki: ${e.store} += ${e.fingerprint} ${path.basename(e.filename)}`));
    certificateManager.on("certificateRemoved", (e) => log(`pki: ${e.store} -= ${e.fingerprint} ${path.basename(e.filename)}`));
    // A file copied in place is seen while still empty: then the index gets
    // it from the "change" that follows, not from the "add".
    certificateManager.on("certificateChange", (e) => log(`pki: ${e.store} ~= ${e.fingerprint} ${path.basename(e.filename)}`));
    const userCertificateManager = new OPCUACertificateManager({
        rootFolder: path.join(opt.pki, "user"),
        automaticallyAcceptUnknownCertificate: false
    });
    await userCertificateManager.initialize();

    // Our own certificate, made once: ApplicationUri in the SAN with
    // DNS:localhost (and this machine's host name, which node-opcua checks at
    // start) and IP:127.0.0.1 (node-opcua's default would carry every local
    // address).
    const certPem = path.join(opt.pki, "own/certs/certificate.pem");
    if (!fs.existsSync(certPem)) {
        const tc = Date.now();
        await certificateManager.createSelfSignedCertificate({
            applicationUri: opt.appUri,
            dns: [...new Set(["localhost", os.hostname()])],
            ip: ["127.0.0.1"],
            subject: "/CN=uakey test server/O=uakey tests",
            startDate: new Date(Date.now() - 60 * 1000),
            validity: 365,
            outputFile: certPem
        });
        log(`made the server certificate ${certPem} in ${Date.now() - tc} ms`);
    }
    const certDer = pemToDer(fs.readFileSync(certPem, "ascii"));
    const certDerFile = path.join(opt.pki, "server_certificate.der");
    writeAtomic(certDerFile, certDer);
    const thumbprint = crypto.createHash("sha1").update(certDer).digest("hex").toUpperCase();

    const users = new Map(opt.users.map((u) => [u.name, u.password]));
    const policies = [SecurityPolicy.Basic256Sha256, SecurityPolicy.Aes128_Sha256_RsaOaep, SecurityPolicy.Aes256_Sha256_RsaPss];
    const modes = [MessageSecurityMode.Sign, MessageSecurityMode.SignAndEncrypt];
    if (opt.none === "full") modes.unshift(MessageSecurityMode.None);

    server = new OPCUAServer({
        port: opt.port,
        host: "127.0.0.1", // bind address
        hostname: "127.0.0.1", // in the endpoint URLs
        resourcePath: opt.resourcePath,
        serverCertificateManager: certificateManager,
        userCertificateManager,
        serverInfo: {
            applicationUri: opt.appUri,
            productUri: "urn:uakey:test:node-opcua-server",
            applicationName: { text: "uakey test server", locale: "en" }
        },
        buildInfo: { productName: "uakey test server", manufacturerName: "uakey tests" },
        securityPolicies: policies,
        securityModes: modes,
        disableDiscovery: false, // a None channel for GetEndpoints even with --none discovery
        allowAnonymous: opt.anonymous,
        userManager: {
            isValidUser: (name, password) => users.has(name) && users.get(name) === password
        },
        defaultSecureTokenLifetime: opt.maxLifetime,
        registerServerMethod: 0 /* RegisterServerMethod.HIDDEN: no LDS, no mDNS */
    });

    await server.initialize();

    if (opt.variable) {
        const addressSpace = server.engine.addressSpace;
        const ns = addressSpace.getOwnNamespace();
        let counter = 0;
        ns.addVariable({
            organizedBy: addressSpace.rootFolder.objects,
            browseName: "uakey.Counter",
            nodeId: "s=uakey.Counter",
            dataType: "Int32",
            minimumSamplingInterval: 100,
            accessLevel: "CurrentRead | CurrentWrite",
            userAccessLevel: "CurrentRead | CurrentWrite",
            value: {
                get: () => new Variant({ dataType: DataType.Int32, value: counter }),
                set: (variant) => {
                    counter = Number(variant.value) | 0;
                    return StatusCodes.Good;
                }
            }
        });
        setInterval(() => { counter = (counter + 1) | 0; }, 1000).unref();
        log(`variable ns=${ns.index};s=uakey.Counter (Int32, read/write, +1 per second)`);
        // A value larger than the client's receive buffer (64 KiB): its Read
        // response comes in several chunks, each signed (and encrypted).
        const big = Array.from({ length: 200000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join("");
        ns.addVariable({
            organizedBy: addressSpace.rootFolder.objects,
            browseName: "uakey.Big",
            nodeId: "s=uakey.Big",
            dataType: "String",
            accessLevel: "CurrentRead",
            userAccessLevel: "CurrentRead",
            value: { get: () => new Variant({ dataType: DataType.String, value: big }) }
        });
        log(`variable ns=${ns.index};s=uakey.Big (String, 200000 characters a..z repeated)`);
    }

    // A channel's policy and mode are known once its OpenSecureChannel has
    // been handled, after "newChannel": both are logged when it closes.
    server.on("newChannel", (ch) => vlog(`channel ${ch.channelId} connected from ${ch.remoteAddress}:${ch.remotePort}`));
    server.on("closeChannel", (ch) =>
        vlog(`channel ${ch.channelId} closed: ${String(ch.securityPolicy).replace(/.*#/, "")} ${MessageSecurityMode[ch.securityMode]}, ` +
            `${ch.securityTokenCount} security token(s) issued`));
    server.on("openSecureChannelFailure", (sock) =>
        vlog(`OpenSecureChannel refused: ${sock && sock.remoteAddress}:${sock && sock.remotePort}`));
    server.on("create_session", (s) => vlog(`session created: ${s.sessionName}`));
    server.on("session_activated", (s, tok) =>
        vlog(`session activated: ${s.sessionName} identity=${tok && tok.constructor ? tok.constructor.name : "?"}${tok && tok.userName ? ` user=${tok.userName}` : ""}`));
    server.on("session_closed", (s) => vlog(`session closed: ${s.sessionName}`));

    await server.start();

    const port = server.endpoints[0].port;
    const url = server.getEndpointUrl();
    const m = /^opc\.tcp:\/\/127\.0\.0\.1:(\d+)/.exec(url || "");
    if (!m || Number(m[1]) !== port) throw new Error(`endpoint URL '${url}' does not carry the port ${port}`);

    const ready = [
        `port=${port}`,
        `url=${url}`,
        `pid=${process.pid}`,
        `cert=${certDerFile}`,
        `app_uri=${opt.appUri}`,
        `thumbprint=${thumbprint}`,
        `pki=${opt.pki}`,
        `trusted=${certificateManager.trustedFolder}`,
        `rejected=${certificateManager.rejectedFolder}`,
        ""
    ].join("\n");
    writeAtomic(opt.ready, ready);
    log(`ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${url} (node ${process.version}, node-opcua ${server.buildInfo?.softwareVersion || "?"}, ` +
        `token lifetime ${opt.minLifetime}..${opt.maxLifetime} ms, None: ${opt.none}, users: ${opt.users.length})`);
} catch (e) {
    log(`cannot start: ${e.stack || e}`);
    await stop("start failed", 1);
}

if (opt.watchPid) {
    setInterval(() => {
        try {
            process.kill(opt.watchPid, 0);
        } catch (e) {
            if (e.code === "ESRCH") stop(`watched pid ${opt.watchPid} is gone`, 0);
        }
    }, 1000);
}
if (opt.maxRuntime) {
    setTimeout(() => stop(`--max-runtime ${opt.maxRuntime} s reached`, 0), opt.maxRuntime * 1000);
}
