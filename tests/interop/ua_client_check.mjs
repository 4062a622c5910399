#!/usr/bin/env node
// A node-opcua reference CLIENT for the uakey tests: proves the test server
// (ua_server.mjs) works and gives the tests something to compare uakey with.
//
//   node ua_client_check.mjs URL --pki DIR [--policy P[,P...]] [--mode M[,M...]]
//        [--user NAME:PASS] [--read NODEID] [--write NODEID=INT32]
//        [--lifetime MS] [--hold SECONDS] [--app-uri URI] [--cn NAME]
//        [--timeout SECONDS] [--verbose]
//   node ua_client_check.mjs URL --endpoints       GetEndpoints over a None channel
//   node ua_client_check.mjs --pki DIR --cert-info  make/show our certificate only
//
//   P: Basic256Sha256 (default), Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss, None
//   M: SignAndEncrypt (default), Sign, None
//   Lists run every valid pair (None goes with None only) one after the
//   other in this one process: node-opcua takes a second to load, a matrix
//   in one run saves that each time.
//
// --pki DIR is this client's own PKI (node-opcua layout: own/certs/
// client_certificate.pem, own/private/private_key.pem, trusted/certs,
// rejected).  Our certificate is made there at the first run: self-signed RSA
// 2048, CN from --cn (default uakey-check-client), ApplicationUri from
// --app-uri (default urn:uakey:test:node-opcua-check-client); a DER copy is
// written to DIR/client_certificate.der.  The server's certificate is
// accepted without asking (this client checks the SERVER's trust decisions,
// not its own).
//
// Output (stdout), one fact per line:
//   client_cert=PATH (DER)   client_thumbprint=SHA1 (upper-case hex)
//   then for each policy/mode pair:
//   check=POLICY MODE
//   revised_lifetime=MS   server_thumbprint=SHA1   user=NAME|anonymous
//   wrote=NODEID=V (--write)   value=V (--read, default ns=0;i=2258,
//   Server_ServerStatus_CurrentTime, ISO 8601)
//   reads=N token_id=N (--hold)   token_renewals=N   passed=POLICY MODE
//   or: error=<StatusCode name> <text>
//   and last: ok (every pair passed, exit 0) or failed=N (exit 1)
// Usage errors exit 2.  Nothing retries: one connection attempt per pair,
// the whole run under --timeout (default 20 s) + --hold per pair.
//
// --lifetime MS is the RequestedLifetime of the security token (node-opcua
// renews at 75 % of the revised lifetime); --hold S keeps the session for S
// seconds, reading every 500 ms, and prints how often the token was renewed.

import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import { format } from "node:util";

const usage = `usage: node ua_client_check.mjs URL --pki DIR [--policy P[,P..]] [--mode M[,M..]]
  [--user NAME:PASS] [--read NODEID] [--write NODEID=INT32] [--lifetime MS] [--hold SECONDS]
  [--app-uri URI] [--cn NAME] [--timeout SECONDS] [--verbose]
       node ua_client_check.mjs URL --endpoints [--timeout SECONDS]
       node ua_client_check.mjs --pki DIR --cert-info [--app-uri URI] [--cn NAME]`;

function die(msg) {
    process.stderr.write(`ua_client_check: ${msg}\n`);
    process.exit(2);
}

const opt = {
    url: null, pki: null, policies: ["Basic256Sha256"], modes: ["SignAndEncrypt"], user: null,
    read: "ns=0;i=2258", write: null, lifetime: 0, hold: 0,
    appUri: "urn:uakey:test:node-opcua-check-client", cn: "uakey-check-client",
    timeout: 20, endpoints: false, certInfo: false, verbose: false
};
const POLICIES = ["None", "Basic256Sha256", "Aes128_Sha256_RsaOaep", "Aes256_Sha256_RsaPss", "Basic256", "Basic128Rsa15"];
const MODES = ["None", "Sign", "SignAndEncrypt"];
{
    const a = process.argv.slice(2);
    const num = (name, v) => {
        if (v === undefined || !/^[0-9]+$/.test(v)) die(`${name}: expected a non-negative integer, got '${v}'`);
        return Number(v);
    };
    const list = (name, v, allowed) => {
        const l = v.split(",");
        for (const x of l) if (!allowed.includes(x)) die(`${name}: unknown '${x}' (${allowed.join(", ")})`);
        return l;
    };
    for (let i = 0; i < a.length; i++) {
        const k = a[i];
        const v = () => {
            if (i + 1 >= a.length) die(`${k} needs a value\n${usage}`);
            return a[++i];
        };
        switch (k) {
            case "--pki": opt.pki = path.resolve(v()); break;
            case "--policy": opt.policies = list(k, v(), POLICIES); break;
            case "--mode": opt.modes = list(k, v(), MODES); break;
            case "--user": {
                const s = v();
                const c = s.indexOf(":");
                if (c <= 0) die(`--user: expected NAME:PASSWORD, got '${s}'`);
                opt.user = { name: s.slice(0, c), password: s.slice(c + 1) };
                break;
            }
            case "--read": opt.read = v(); break;
            case "--write": opt.write = v(); if (!/^.+=-?[0-9]+$/.test(opt.write)) die("--write NODEID=INT32"); break;
            case "--lifetime": opt.lifetime = num(k, v()); break;
            case "--hold": opt.hold = num(k, v()); break;
            case "--app-uri": opt.appUri = v(); break;
            case "--cn": opt.cn = v(); break;
            case "--timeout": opt.timeout = num(k, v()); if (opt.timeout < 1) die("--timeout >= 1"); break;
            case "--endpoints": opt.endpoints = true; break;
            case "--cert-info": opt.certInfo = true; break;
            case "--verbose": opt.verbose = true; break;
            case "-h": case "--help": process.stdout.write(usage + "\n"); process.exit(0); break;
            default:
                if (k.startsWith("-") || opt.url) die(`unknown argument '${k}'\n${usage}`);
                opt.url = k;
        }
    }
    if (!opt.certInfo && !opt.url) die(`URL is required\n${usage}`);
    if (!opt.endpoints && !opt.pki) die(`--pki DIR is required\n${usage}`);
}
const pairs = [];
for (const p of opt.policies) {
    for (const m of opt.modes) {
        if ((p === "None") === (m === "None")) pairs.push([p, m]);
    }
}
if (!opt.endpoints && !opt.certInfo && pairs.length === 0) die("no valid policy/mode pair (None goes with None only)");

// node-opcua writes its warnings with console.log: keep stdout for our facts.
const out = (s) => process.stdout.write(s + "\n");
const note = (...args) => process.stderr.write(format(...args).replace(/\u001b\[[0-9;]*m/g, "") + "\n");
for (const k of ["log", "info", "warn", "error", "debug", "trace"]) console[k] = opt.verbose ? note : () => {};

// The client half of node-opcua only (the whole package loads the server
// and its address space too: slower to start).
const [{ OPCUAClient, MessageSecurityMode, SecurityPolicy, AttributeIds, DataType, UserTokenType, setLogLevel, LogLevel },
    { OPCUACertificateManager }] = await Promise.all([import("node-opcua-client"), import("node-opcua-certificate-manager")]);
setLogLevel(opt.verbose ? LogLevel.Warning : LogLevel.Emergency);

// node-opcua reports most refusals as an Error whose text carries the StatusCode.
function statusName(e) {
    if (e && e.statusCode && e.statusCode.name) return e.statusCode.name;
    const m = /\b(Bad[A-Za-z]+)\b/.exec(String(e && e.message ? e.message : e));
    return m ? m[1] : "Unknown";
}
class Refused extends Error {
    constructor(step, e) {
        super(`${step}: ${String(e && e.message ? e.message : e).split("\n")[0].trim()}`);
        this.status = statusName(e);
    }
}

let client = null;
const watchdog = setTimeout(() => {
    out(`error=BadTimeout timed out after ${opt.timeout} s + ${opt.hold} s per pair`);
    process.exit(1);
}, (opt.timeout + opt.hold * Math.max(1, pairs.length)) * 1000);
watchdog.unref();

async function exit(code) {
    setTimeout(() => process.exit(code), 2000).unref();
    try {
        if (client) await client.disconnect();
    } catch {
        /* best effort */
    }
    process.exit(code);
}

function pemToDer(pem) {
    const m = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(pem);
    if (!m) throw new Error("no CERTIFICATE block");
    return Buffer.from(m[1].replace(/\s+/g, ""), "base64");
}
const sha1 = (der) => crypto.createHash("sha1").update(der).digest("hex").toUpperCase();
const connectionStrategy = { maxRetry: 0, initialDelay: 100, maxDelay: 200 };

async function endpoints() {
    client = OPCUAClient.create({ endpointMustExist: false, connectionStrategy });
    try {
        await client.connect(opt.url);
    } catch (e) {
        throw new Refused("connect", e);
    }
    const eps = await client.getEndpoints();
    for (const e of eps) {
        const toks = (e.userIdentityTokens || []).map((t) => UserTokenType[t.tokenType]).join(",");
        out(`endpoint=${e.endpointUrl} ${e.securityPolicyUri.replace(/.*#/, "")} ${MessageSecurityMode[e.securityMode]} tokens=${toks}`);
    }
    out(`endpoints=${eps.length}`);
    if (eps.length) {
        out(`server_thumbprint=${sha1(eps[0].serverCertificate)}`);
        out(`server_app_uri=${eps[0].server.applicationUri}`);
    }
    await client.disconnect();
    client = null;
}

async function ourCertificate() {
    const cm = new OPCUACertificateManager({ rootFolder: opt.pki, automaticallyAcceptUnknownCertificate: true });
    await cm.initialize();
    const certPem = path.join(opt.pki, "own/certs/client_certificate.pem");
    if (!fs.existsSync(certPem)) {
        await cm.createSelfSignedCertificate({
            applicationUri: opt.appUri,
            dns: ["localhost"],
            subject: `/CN=${opt.cn}/O=uakey tests`,
            startDate: new Date(Date.now() - 60 * 1000),
            validity: 30,
            outputFile: certPem
        });
    }
    const der = pemToDer(fs.readFileSync(certPem, "ascii"));
    const derFile = path.join(opt.pki, "client_certificate.der");
    fs.writeFileSync(derFile, der);
    out(`client_cert=${derFile}`);
    out(`client_thumbprint=${sha1(der)}`);
    return { cm, certPem };
}

async function checkOne(cm, certPem, policy, mode) {
    let renewals = 0;
    client = OPCUAClient.create({
        applicationName: opt.cn,
        applicationUri: opt.appUri,
        clientCertificateManager: cm,
        certificateFile: certPem,
        securityMode: MessageSecurityMode[mode],
        securityPolicy: SecurityPolicy[policy],
        endpointMustExist: false,
        connectionStrategy,
        ...(opt.lifetime ? { defaultSecureTokenLifetime: opt.lifetime } : {}),
        requestedSessionTimeout: 60000,
        keepSessionAlive: false
    });
    client.on("security_token_renewed", () => {
        renewals++;
    });
    try {
        await client.connect(opt.url);
    } catch (e) {
        throw new Refused("OpenSecureChannel/connect", e);
    }
    const channel = client._secureChannel;
    const token = () => channel && (channel.activeSecurityToken || channel.securityToken);
    if (token()) out(`revised_lifetime=${token().revisedLifetime}`);
    if (client.serverCertificate) out(`server_thumbprint=${sha1(client.serverCertificate)}`);

    const identity = opt.user
        ? { type: UserTokenType.UserName, userName: opt.user.name, password: opt.user.password }
        : { type: UserTokenType.Anonymous };
    let session;
    try {
        session = await client.createSession(identity);
    } catch (e) {
        throw new Refused("CreateSession/ActivateSession", e);
    }
    out(`user=${opt.user ? opt.user.name : "anonymous"}`);

    const readOnce = async () => {
        const dv = await session.read({ nodeId: opt.read, attributeId: AttributeIds.Value });
        if (!dv.statusCode.isGood()) throw new Refused(`Read ${opt.read}`, { statusCode: dv.statusCode, message: dv.statusCode.name });
        const v = dv.value.value;
        return v instanceof Date ? v.toISOString() : String(v);
    };
    if (opt.write) {
        const eq = opt.write.lastIndexOf("=");
        const sc = await session.write({
            nodeId: opt.write.slice(0, eq), attributeId: AttributeIds.Value,
            value: { value: { dataType: DataType.Int32, value: Number(opt.write.slice(eq + 1)) } }
        });
        if (!sc.isGood()) throw new Refused(`Write ${opt.write}`, { statusCode: sc, message: sc.name });
        out(`wrote=${opt.write}`);
    }
    out(`value=${await readOnce()}`);
    if (opt.hold) {
        const end = Date.now() + opt.hold * 1000;
        let reads = 0;
        while (Date.now() < end) {
            await new Promise((r) => setTimeout(r, 500));
            await readOnce();
            reads++;
        }
        out(`reads=${reads}`);
        if (token()) out(`token_id=${token().tokenId}`);
    }
    out(`token_renewals=${renewals}`);
    await session.close();
    await client.disconnect();
    client = null;
}

try {
    if (opt.endpoints) {
        await endpoints();
        out("ok");
        await exit(0);
    }
    const { cm, certPem } = await ourCertificate();
    if (opt.certInfo) {
        out("ok");
        await exit(0);
    }
    let failed = 0;
    for (const [policy, mode] of pairs) {
        out(`check=${policy} ${mode}`);
        try {
            await checkOne(cm, certPem, policy, mode);
            out(`passed=${policy} ${mode}`);
        } catch (e) {
            failed++;
            out(`error=${e.status || statusName(e)} ${policy} ${mode}: ${e.message.split("\n")[0]}`);
            try {
                if (client) await client.disconnect();
            } catch {
                /* best effort */
            }
            client = null;
        }
    }
    if (failed) {
        out(`failed=${failed}`);
        await exit(1);
    }
    out("ok");
    await exit(0);
} catch (e) {
    out(`error=${e.status || statusName(e)} ${String(e.message).split("\n")[0]}`);
    await exit(1);
}
