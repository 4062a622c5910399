#!/usr/bin/env node
// uakey test: a misbehaving OPC UA TCP server, for the bad-input cases of
// `uakey discover` / `uakey connect` (tests/tool/connect_bad.sh).  Plain
// node:net; the service messages it does answer properly (the None
// OpenSecureChannel response, GetEndpoints) are encoded with node-opcua's
// own encoders (node-opcua-types, the packages node-opcua is made of), the
// UA TCP framing (OPC 10000-6 7.1.2 Hello/Acknowledge/Error, 6.7.2 chunks)
// is written here.  Listens on 127.0.0.1 only.
//
//   node bad_server.mjs --mode MODE --ready FILE [--port N] [--log FILE]
//        [--cert A.der] [--other-cert B.der] [--watch-pid PID]
//        [--max-runtime SECONDS]
//
// --mode picks one misbehaviour for every connection:
//   close-after-hello  reads the Hello, closes the socket
//   garbage            answers the Hello with random bytes that are not a UA
//                      TCP message (never starting with HEL/ACK/ERR/OPN/MSG/
//                      CLO/RHE), then closes
//   short-ack          answers the Hello with an "ACKF" header whose
//                      MessageSize claims 4 bytes (less than the header), then
//                      200 bytes, then closes (the client once trusted that
//                      size: size - 8 wrapped around)
//   truncated          Acknowledge; to the OPN a chunk header "OPNF" claiming
//                      1000 bytes, 30 bytes in all, then closes
//   stall              Acknowledge; then never answers (the socket stays open)
//   oversized          Acknowledge; to the OPN a header whose MessageSize
//                      claims 100 MB (and a few bytes); the socket stays open
//   too-many-chunks    Acknowledge, a valid None OPN response (channel 1,
//                      token 1), then GetEndpoints answered with 300 valid
//                      None MSG chunks (299 'C' + a final 'F'; channel 1,
//                      token 1, sequence numbers counting up, the request's
//                      request id), 100 body bytes each
//   big-message        like too-many-chunks, but 73 chunks of 65536 bytes
//                      (the ReceiveBufferSize the client announces): a
//                      message of 4.6 MiB in fewer than 256 chunks
//   wrong-cert         a None OPN + a GetEndpoints response with ONE endpoint:
//                      Basic256Sha256 SignAndEncrypt, server certificate
//                      --cert A.der (ApplicationUri = its SAN URI), an
//                      Anonymous user token; to a secured OPN (Basic256Sha256)
//                      an OPN chunk whose asymmetric security header has the
//                      right policy URI and the SHA-1 of the client's
//                      certificate as ReceiverCertificateThumbprint, but
//                      --other-cert B.der as SenderCertificate, followed by
//                      512 random bytes
//   err                Acknowledge; to the OPN an Error message
//                      BadTcpServerTooBusy (0x807D0000), reason "busy", then
//                      closes
// A CLO (CloseSecureChannel) closes the connection.  Anything the mode does
// not expect is logged and answered with an Error message
// (BadTcpMessageTypeInvalid / BadSecurityPolicyRejected /
// BadServiceUnsupported).
//
// Ready file (--ready FILE, tmp + rename, once listening):
//   port=N  url=opc.tcp://127.0.0.1:N  pid=PID  mode=MODE
// SIGTERM/SIGINT/SIGHUP: close every socket, exit 0.  --watch-pid PID: exit
// when PID is gone (checked every second).  --max-runtime S: exit after S
// seconds.  Log lines (one per connection event) go to --log FILE or stderr.

import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import crypto from "node:crypto";
import { format } from "node:util";

const MODES = ["close-after-hello", "garbage", "short-ack", "truncated", "stall", "oversized",
    "too-many-chunks", "big-message", "wrong-cert", "err"];
const usage = `usage: node bad_server.mjs --mode MODE --ready FILE [--port N] [--log FILE]
  [--cert A.der] [--other-cert B.der] [--watch-pid PID] [--max-runtime SECONDS]
MODE: ${MODES.join(" ")}`;

function die(msg) {
    process.stderr.write(`bad_server: ${msg}\n`);
    process.exit(2);
}

// ---- arguments ----------------------------------------------------------------
const opt = { mode: null, ready: null, port: 0, log: null, cert: null, otherCert: null, watchPid: 0, maxRuntime: 0 };
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
            case "--mode": opt.mode = v(); if (!MODES.includes(opt.mode)) die(`--mode: unknown mode '${opt.mode}'\n${usage}`); break;
            case "--ready": opt.ready = path.resolve(v()); break;
            case "--port": opt.port = num(k, v(), 0); if (opt.port > 65535) die("--port: > 65535"); break;
            case "--log": opt.log = path.resolve(v()); break;
            case "--cert": opt.cert = path.resolve(v()); break;
            case "--other-cert": opt.otherCert = path.resolve(v()); break;
            case "--watch-pid": opt.watchPid = num(k, v(), 1); break;
            case "--max-runtime": opt.maxRuntime = num(k, v(), 1); break;
            case "-h": case "--help": process.stdout.write(usage + "\n"); process.exit(0); break;
            default: die(`unknown argument '${k}'\n${usage}`);
        }
    }
    if (!opt.mode) die(`--mode MODE is required\n${usage}`);
    if (!opt.ready) die(`--ready FILE is required\n${usage}`);
    if (opt.mode === "wrong-cert" && (!opt.cert || !opt.otherCert)) die("--mode wrong-cert needs --cert A.der and --other-cert B.der");
}

// ---- logging --------------------------------------------------------------------
let logFd = 2;
if (opt.log) {
    try {
        logFd = fs.openSync(opt.log, "a");
    } catch (e) {
        die(`--log ${opt.log}: ${e.message}`);
    }
}
function log(...args) {
    const stamp = new Date().toISOString().substring(11, 23);
    try {
        fs.writeSync(logFd, `${stamp} bad_server[${process.pid}] ${format(...args)}\n`);
    } catch {
        /* the log is gone: nothing to do */
    }
}

// ---- node-opcua's encoders (only the small packages: fast to load) ---------------
const types = await import("node-opcua-types");
const { encodeExpandedNodeId, decodeExpandedNodeId } = await import("node-opcua-basic-types");
const { BinaryStream } = await import("node-opcua-binary-stream");

const POLICY_NONE = "http://opcfoundation.org/UA/SecurityPolicy#None";
const POLICY_B256SHA256 = "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256";
const TRANSPORT_PROFILE = "http://opcfoundation.org/UA-Profile/Transport/uatcp-uasc-uabinary";
const BadTcpServerTooBusy = 0x807d0000;
const BadTcpMessageTypeInvalid = 0x807e0000;
const BadSecurityPolicyRejected = 0x80550000;
const BadServiceUnsupported = 0x800b0000;
const RECV_BUFFER = 65536;
const CHANNEL_ID = 1;
const TOKEN_ID = 1;

let certA = null, certB = null, appUriA = null;
if (opt.cert) {
    try {
        certA = fs.readFileSync(opt.cert);
        const san = new crypto.X509Certificate(certA).subjectAltName || "";
        const m = /(?:^|,\s*)URI:([^,]+)/.exec(san);
        if (!m) die(`--cert ${opt.cert}: no URI in the subjectAltName ('${san}')`);
        appUriA = m[1].trim();
    } catch (e) {
        die(`--cert ${opt.cert}: ${e.message}`);
    }
}
if (opt.otherCert) {
    try {
        certB = fs.readFileSync(opt.otherCert);
        new crypto.X509Certificate(certB);
    } catch (e) {
        die(`--other-cert ${opt.otherCert}: ${e.message}`);
    }
}

// ---- encoding helpers -------------------------------------------------------------
function u32(n) {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n >>> 0);
    return b;
}
function uaString(s) {           // String / ByteString: Int32 length, -1 = null
    if (s === null || s === undefined) return u32(0xffffffff);
    const b = Buffer.isBuffer(s) ? s : Buffer.from(s, "utf8");
    return Buffer.concat([u32(b.length), b]);
}
// A service message body: its type NodeId (DefaultBinary encoding) + the body.
function encodeBody(obj) {
    const stream = new BinaryStream(obj.binaryStoreSize() + 16);
    encodeExpandedNodeId(obj.schema.encodingDefaultBinary, stream);
    obj.encode(stream);
    return Buffer.from(stream.buffer.subarray(0, stream.length));
}
// A chunk: MessageType(3) ChunkType(1) MessageSize(4) + rest.
function chunk(type, rest) {
    return Buffer.concat([Buffer.from(type, "ascii"), u32(8 + rest.length), rest]);
}
function errMessage(code, reason) {
    return chunk("ERRF", Buffer.concat([u32(code), uaString(reason)]));
}

// A reader for the chunks the client sends.
class Reader {
    constructor(buf, pos = 0) { this.b = buf; this.p = pos; }
    u32() {
        if (this.p + 4 > this.b.length) throw new Error("truncated");
        const v = this.b.readUInt32LE(this.p);
        this.p += 4;
        return v;
    }
    bytes() {
        const n = this.b.readInt32LE(this.p);
        this.p += 4;
        if (n < 0) return null;
        if (this.p + n > this.b.length) throw new Error("truncated");
        const v = this.b.subarray(this.p, this.p + n);
        this.p += n;
        return v;
    }
}

function decodeRequest(body) {
    const stream = new BinaryStream(body);
    const id = decodeExpandedNodeId(stream);
    const cls = { 446: types.OpenSecureChannelRequest, 428: types.GetEndpointsRequest,
        452: types.CloseSecureChannelRequest }[id.namespace === 0 ? id.value : -1];
    if (!cls) return { typeId: id.toString(), req: null };
    const req = new cls();
    req.decode(stream);
    return { typeId: id.toString(), req };
}

function responseHeader(req, extra = {}) {
    return { timestamp: new Date(), requestHandle: req?.requestHeader?.requestHandle ?? 0, serviceResult: 0, ...extra };
}

// "random bytes that are not a UA TCP message"
function garbage(n) {
    const known = ["HEL", "ACK", "ERR", "OPN", "MSG", "CLO", "RHE"];
    for (;;) {
        const b = crypto.randomBytes(n);
        if (!known.includes(b.subarray(0, 3).toString("latin1"))) return b;
    }
}

// ---- one connection ---------------------------------------------------------------
let connCount = 0;
const sockets = new Set();

function handle(sock) {
    const id = ++connCount;
    let buf = Buffer.alloc(0);
    let seq = 0;
    let done = false;
    const L = (...a) => log(`conn ${id}: ${format(...a)}`);
    sockets.add(sock);
    L(`connected from ${sock.remoteAddress}:${sock.remotePort} (mode ${opt.mode})`);
    sock.on("error", (e) => L(`socket error: ${e.code || e.message}`));
    sock.on("close", () => {
        sockets.delete(sock);
        L("closed");
    });
    const send = (b) => { if (!sock.destroyed) sock.write(b); };
    const finish = (why) => {
        done = true;
        L(`closing: ${why}`);
        sock.end();
    };
    const nextSeq = () => ++seq;

    function onHello(c) {
        const r = new Reader(c, 8);
        const version = r.u32(), recvBuf = r.u32(), sendBuf = r.u32(), maxMsg = r.u32(), maxChunks = r.u32();
        const url = r.bytes();
        L(`Hello: version ${version}, ReceiveBufferSize ${recvBuf}, SendBufferSize ${sendBuf}, MaxMessageSize ${maxMsg}, ` +
            `MaxChunkCount ${maxChunks}, url ${url ? url.toString() : "(null)"}`);
        if (opt.mode === "close-after-hello") return finish("close-after-hello");
        if (opt.mode === "garbage") {
            send(garbage(64));
            return finish("sent 64 random bytes instead of an Acknowledge");
        }
        if (opt.mode === "short-ack") {
            send(Buffer.concat([Buffer.from("ACKF", "ascii"), u32(4), Buffer.alloc(200, 0x41)]));
            return finish("sent an Acknowledge header claiming 4 bytes, then 200 bytes");
        }
        // Acknowledge: ProtocolVersion, ReceiveBufferSize, SendBufferSize,
        // MaxMessageSize, MaxChunkCount
        send(chunk("ACKF", Buffer.concat([u32(0), u32(RECV_BUFFER), u32(Math.min(recvBuf, RECV_BUFFER)),
            u32(16 * 1024 * 1024), u32(0)])));
        L("sent Acknowledge");
    }

    function onOpn(c) {
        const r = new Reader(c, 8);
        const chid = r.u32();
        const uri = r.bytes()?.toString() ?? null;
        const senderCert = r.bytes();
        const thumb = r.bytes();
        L(`OpenSecureChannel request: channel ${chid}, policy ${uri}, sender certificate ${senderCert ? senderCert.length : 0} bytes, ` +
            `receiver thumbprint ${thumb ? thumb.toString("hex") : "(null)"}`);
        switch (opt.mode) {
            case "stall":
                L("stall: no answer");
                return;
            case "truncated": {
                const b = Buffer.concat([Buffer.from("OPNF", "ascii"), u32(1000), crypto.randomBytes(22)]);
                send(b);
                return finish(`sent ${b.length} bytes of a chunk claiming 1000`);
            }
            case "oversized":
                send(Buffer.concat([Buffer.from("OPNF", "ascii"), u32(100 * 1024 * 1024), u32(CHANNEL_ID), crypto.randomBytes(52)]));
                L("sent an OPN header claiming 104857600 bytes (and 56 bytes more); keeping the socket open");
                return;
            case "err":
                send(errMessage(BadTcpServerTooBusy, "busy"));
                return finish("sent Error BadTcpServerTooBusy 'busy'");
            default:
                break;
        }
        if (uri === POLICY_NONE) {
            const seqNo = r.u32(), reqId = r.u32();
            const { typeId, req } = decodeRequest(c.subarray(r.p));
            if (!(req instanceof types.OpenSecureChannelRequest)) {
                send(errMessage(BadTcpMessageTypeInvalid, `OPN carries ${typeId}`));
                return finish(`OPN carries ${typeId}`);
            }
            const resp = new types.OpenSecureChannelResponse({
                responseHeader: responseHeader(req),
                serverProtocolVersion: 0,
                securityToken: { channelId: CHANNEL_ID, tokenId: TOKEN_ID, createdAt: new Date(),
                    revisedLifetime: req.requestedLifetime || 600000 },
                serverNonce: Buffer.alloc(0)
            });
            send(chunk("OPNF", Buffer.concat([u32(CHANNEL_ID), uaString(POLICY_NONE), uaString(null), uaString(null),
                u32(nextSeq()), u32(reqId), encodeBody(resp)])));
            L(`sent the None OpenSecureChannel response (request ${reqId}, sequence ${seqNo} -> ${seq}; channel ${CHANNEL_ID} token ${TOKEN_ID})`);
            return;
        }
        if (opt.mode === "wrong-cert" && uri === POLICY_B256SHA256) {
            // the right policy, the SHA-1 of the client's certificate, but
            // certificate B as the sender; then bytes nobody can decrypt
            const clientThumb = senderCert ? crypto.createHash("sha1").update(senderCert).digest() : Buffer.alloc(20);
            send(chunk("OPNF", Buffer.concat([u32(CHANNEL_ID), uaString(POLICY_B256SHA256), uaString(certB),
                uaString(clientThumb), crypto.randomBytes(512)])));
            L(`sent an OPN response signed "by" the other certificate (${crypto.createHash("sha1").update(certB).digest("hex")}), ` +
                `receiver thumbprint ${clientThumb.toString("hex")}, 512 random bytes`);
            return;
        }
        send(errMessage(BadSecurityPolicyRejected, `policy ${uri} is not served here`));
        finish(`policy ${uri} not served`);
    }

    function msgChunks(reqId, total, bodyPerChunk) {
        const body = Buffer.alloc(bodyPerChunk);
        const out = [];
        for (let i = 0; i < total; i++) {
            body.fill(i & 0xff);
            out.push(chunk(i === total - 1 ? "MSGF" : "MSGC",
                Buffer.concat([u32(CHANNEL_ID), u32(TOKEN_ID), u32(nextSeq()), u32(reqId), body])));
        }
        return out;
    }

    function onMsg(c) {
        const r = new Reader(c, 8);
        const chid = r.u32(), tid = r.u32(), seqNo = r.u32(), reqId = r.u32();
        const { typeId, req } = decodeRequest(c.subarray(r.p));
        L(`MSG: channel ${chid} token ${tid} sequence ${seqNo} request ${reqId}: ${typeId}`);
        if (!(req instanceof types.GetEndpointsRequest)) {
            send(errMessage(BadServiceUnsupported, `${typeId} is not served here`));
            return finish(`unexpected service ${typeId}`);
        }
        if (opt.mode === "too-many-chunks" || opt.mode === "big-message") {
            // big-message: every chunk as large as the client's ReceiveBufferSize
            const [n, per] = opt.mode === "too-many-chunks" ? [300, 100] : [73, RECV_BUFFER - 24];
            const chunks = msgChunks(reqId, n, per);
            for (const ck of chunks) send(ck);
            L(`answered GetEndpoints with ${n} chunks of ${per + 24} bytes (${n * per} body bytes, sequence up to ${seq})`);
            return;
        }
        if (opt.mode === "wrong-cert") {
            const url = req.endpointUrl || `opc.tcp://127.0.0.1:${sock.localPort}`;
            const resp = new types.GetEndpointsResponse({
                responseHeader: responseHeader(req),
                endpoints: [{
                    endpointUrl: url,
                    server: {
                        applicationUri: appUriA,
                        productUri: "urn:uakey:test:bad-server",
                        applicationName: { text: "uakey bad server" },
                        applicationType: types.ApplicationType.Server,
                        discoveryUrls: [url]
                    },
                    serverCertificate: certA,
                    securityMode: types.MessageSecurityMode.SignAndEncrypt,
                    securityPolicyUri: POLICY_B256SHA256,
                    userIdentityTokens: [{ policyId: "anonymous", tokenType: types.UserTokenType.Anonymous }],
                    transportProfileUri: TRANSPORT_PROFILE,
                    securityLevel: 3
                }]
            });
            send(chunk("MSGF", Buffer.concat([u32(CHANNEL_ID), u32(TOKEN_ID), u32(nextSeq()), u32(reqId), encodeBody(resp)])));
            L(`sent GetEndpoints: one endpoint Basic256Sha256 SignAndEncrypt, certificate A ` +
                `(${crypto.createHash("sha1").update(certA).digest("hex")}, ${appUriA})`);
            return;
        }
        send(errMessage(BadServiceUnsupported, "not served in this mode"));
        finish("GetEndpoints not served in this mode");
    }

    sock.on("data", (d) => {
        if (done) return;
        buf = Buffer.concat([buf, d]);
        while (!done && buf.length >= 8) {
            const size = buf.readUInt32LE(4);
            if (size < 8 || size > 1024 * 1024) {
                send(errMessage(BadTcpMessageTypeInvalid, "bad chunk size"));
                return finish(`bad chunk size ${size} from the client`);
            }
            if (buf.length < size) return;
            const c = buf.subarray(0, size);
            buf = buf.subarray(size);
            const type = c.subarray(0, 3).toString("latin1");
            try {
                if (type === "HEL") onHello(c);
                else if (type === "OPN") onOpn(c);
                else if (type === "MSG") onMsg(c);
                else if (type === "CLO") finish("CloseSecureChannel");
                else {
                    send(errMessage(BadTcpMessageTypeInvalid, `unexpected ${type}`));
                    finish(`unexpected message type ${JSON.stringify(type)}`);
                }
            } catch (e) {
                L(`cannot handle ${type}: ${e.stack || e}`);
                finish("error");
            }
        }
    });
}

// ---- life cycle ---------------------------------------------------------------------
const t0 = Date.now();
const server = net.createServer(handle);
let stopping = false;
function stop(why, code) {
    if (stopping) return;
    stopping = true;
    log(`stopping (${why}) after ${((Date.now() - t0) / 1000).toFixed(1)} s, ${connCount} connection(s)`);
    for (const s of sockets) s.destroy();
    server.close();
    process.exit(code);
}
process.on("SIGTERM", () => stop("SIGTERM", 0));
process.on("SIGINT", () => stop("SIGINT", 0));
process.on("SIGHUP", () => stop("SIGHUP", 0));
process.on("uncaughtException", (e) => {
    log(`uncaught exception: ${e.stack || e}`);
    stop("uncaught exception", 1);
});

server.on("error", (e) => {
    log(`cannot listen: ${e.message}`);
    process.exit(1);
});
server.listen(opt.port, "127.0.0.1", () => {
    const port = server.address().port;
    const ready = [`port=${port}`, `url=opc.tcp://127.0.0.1:${port}`, `pid=${process.pid}`, `mode=${opt.mode}`, ""].join("\n");
    const tmp = `${opt.ready}.tmp.${process.pid}`;
    fs.writeFileSync(tmp, ready);
    fs.renameSync(tmp, opt.ready);
    log(`ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: opc.tcp://127.0.0.1:${port} mode ${opt.mode} (node ${process.version})`);
});

if (opt.watchPid) {
    setInterval(() => {
        try {
            process.kill(opt.watchPid, 0);
        } catch (e) {
            if (e.code === "ESRCH") stop(`watched pid ${opt.watchPid} is gone`, 0);
        }
    }, 1000).unref();
}
if (opt.maxRuntime) {
    setTimeout(() => stop(`--max-runtime ${opt.maxRuntime} s reached`, 0), opt.maxRuntime * 1000).unref();
}
