// Independent cross-check of libuakey's security-policy adapter with
// node-opcua's crypto code (node-opcua-crypto, pinned in package-lock.json).
// Called by tests/tool/interop_node_policy.sh; the uakey side of each check
// is tests/tools/uk_policy.
//
//   node policy_check.js verify  POLICY CERT IN SIG    exit 0 valid, 1 invalid
//   node policy_check.js encrypt POLICY CERT IN OUT    multi-block, to CERT's key
//   node policy_check.js decrypt POLICY KEY.pem IN OUT multi-block, node-side key
//   node policy_check.js sign    POLICY KEY.pem IN OUT node-side key
//   node policy_check.js psha    SHA1|SHA256 SECRET SEED LEN OUT
//   node policy_check.js derivekeys POLICY SECRET SEED OUT
//
// What each policy means is written down here from OPC 10000-7 (the
// SecurityPolicy profiles), not taken from uakey, so a wrong row in uakey's
// table shows up as a mismatch.  Every subcommand prints "impl: ..." naming
// the code that did the work: node-opcua-crypto where it can, node:crypto
// (said so, with the reason) where node-opcua-crypto 6.0.0 has no such
// operation.  Exit 0 on success, 1 on a failed check, 2 on usage errors.
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import {
    PaddingAlgorithm,
    computeDerivedKeys,
    decryptLongSync,
    extractPublicKeyFromCertificateSync,
    keyOperationsFromPrivateKey,
    makeMessageChunkSignature,
    makePseudoRandomBuffer,
    publicEncrypt_long,
    readCertificate,
    readPrivateKey,
    rsaLengthPublicKey,
    verifyMessageChunkSignature,
} from "node-opcua-crypto";

// sign: rsa-pkcs1 | rsa-pss | ecdsa; hash: node-opcua-crypto's names.
// enc: pkcs1 (k - 11) | oaep-sha1 (k - 42) | oaep-sha256 (k - 66).
// kdf + derived key lengths (signing key, encrypting key, IV) for the RSA
// policies' P_SHA.
const POLICIES = {
    Basic128Rsa15: { sign: "rsa-pkcs1", hash: "SHA1", enc: "pkcs1", kdf: "SHA1", derived: [16, 16, 16] },
    Basic256: { sign: "rsa-pkcs1", hash: "SHA1", enc: "oaep-sha1", kdf: "SHA1", derived: [24, 32, 16] },
    Basic256Sha256: { sign: "rsa-pkcs1", hash: "SHA256", enc: "oaep-sha1", kdf: "SHA256", derived: [32, 32, 16] },
    Aes128_Sha256_RsaOaep: { sign: "rsa-pkcs1", hash: "SHA256", enc: "oaep-sha1", kdf: "SHA256", derived: [32, 16, 16] },
    Aes256_Sha256_RsaPss: { sign: "rsa-pss", hash: "SHA256", enc: "oaep-sha256", kdf: "SHA256", derived: [32, 32, 16] },
    ECC_nistP256: { sign: "ecdsa", hash: "SHA256", coord: 32 },
    ECC_nistP384: { sign: "ecdsa", hash: "SHA384", coord: 48 },
};
const OVERHEAD = { pkcs1: 11, "oaep-sha1": 42, "oaep-sha256": 66 };
const PKCS1_REVERT = "--security-revert=CVE-2023-46809";

class Usage extends Error {}

function policy(name) {
    const key = String(name).replace(/^.*#/, "");
    const p = POLICIES[key];
    if (!p) throw new Usage(`unknown policy ${name}`);
    return { name: key, ...p };
}

function rsaOnly(p) {
    if (p.sign === "ecdsa") throw new Usage(`${p.name} has no asymmetric encryption`);
}

function readIn(file) {
    return fs.readFileSync(file);
}

// The public key of a certificate (DER or PEM file), as node-opcua gets it.
function certPublicKey(file) {
    return extractPublicKeyFromCertificateSync(readCertificate(file));
}

// ---- ECDSA encodings: OPC UA puts raw r||s on the wire, OpenSSL and
// node:crypto's default want DER (SEQUENCE { INTEGER r, INTEGER s }).
// Written here from X.690 so the conversion owes nothing to uakey.
function derLength(n) {
    if (n < 0x80) return Buffer.from([n]);
    if (n < 0x100) return Buffer.from([0x81, n]);
    return Buffer.from([0x82, n >> 8, n & 0xff]);
}

function derInteger(unsigned) {
    let i = 0;
    while (i < unsigned.length - 1 && unsigned[i] === 0) i++;
    let v = unsigned.subarray(i);
    if (v[0] & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
    return Buffer.concat([Buffer.from([0x02]), derLength(v.length), v]);
}

function rawToDer(raw, coord) {
    if (raw.length !== 2 * coord) {
        throw new Error(`raw ECDSA signature is ${raw.length} bytes, want ${2 * coord} (r||s, ${coord} each)`);
    }
    const body = Buffer.concat([derInteger(raw.subarray(0, coord)), derInteger(raw.subarray(coord))]);
    return Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]);
}

function derToRaw(der, coord) {
    let pos = 0;
    const len = () => {
        let n = der[pos++];
        if (n & 0x80) {
            const k = n & 0x7f;
            n = 0;
            for (let j = 0; j < k; j++) n = (n << 8) | der[pos++];
        }
        return n;
    };
    if (der[pos++] !== 0x30) throw new Error("ECDSA signature: not a SEQUENCE");
    len();
    const out = Buffer.alloc(2 * coord);
    for (let part = 0; part < 2; part++) {
        if (der[pos++] !== 0x02) throw new Error("ECDSA signature: not an INTEGER");
        const n = len();
        let v = der.subarray(pos, pos + n);
        pos += n;
        while (v.length > coord && v[0] === 0) v = v.subarray(1);
        if (v.length > coord) throw new Error("ECDSA signature: integer wider than the field");
        v.copy(out, part * coord + coord - v.length);
    }
    return out;
}

// ---- subcommands -------------------------------------------------------------

function cmdVerify([pname, certFile, inFile, sigFile]) {
    const p = policy(pname);
    const pub = certPublicKey(certFile);
    const data = readIn(inFile);
    const sig = readIn(sigFile);
    let valid;
    if (p.sign === "ecdsa") {
        console.log(`impl: node-opcua-crypto verifyMessageChunkSignature (${p.hash}, EC key); raw r||s -> DER in policy_check.js`);
        let der;
        try {
            der = rawToDer(sig, p.coord);
        } catch (e) {
            console.log(`signature INVALID (${e.message})`);
            return 1;
        }
        valid = verifyMessageChunkSignature(data, der, { algorithm: p.hash, publicKey: pub });
    } else {
        const k = rsaLengthPublicKey(pub);
        if (sig.length !== k) {
            console.log(`signature INVALID (${sig.length} bytes, key is ${k})`);
            return 1;
        }
        if (p.sign === "rsa-pss") {
            // verifyMessageChunkSignature takes no padding: it is PKCS#1 v1.5
            // only.  node-opcua-crypto can make PSS signatures
            // (LocalKeyOperations) but not check them.
            console.log("impl: node:crypto verify, RSA-PSS SHA-256, MGF1-SHA256, salt 32"
                + " (node-opcua-crypto 6.0.0 has no RSA-PSS verification)");
            valid = crypto.verify("sha256", data, {
                key: pub,
                padding: crypto.constants.RSA_PKCS1_PSS_PADDING,
                saltLength: 32,
            }, sig);
        } else {
            console.log(`impl: node-opcua-crypto verifyMessageChunkSignature (RSA-${p.hash})`);
            valid = verifyMessageChunkSignature(data, sig, { algorithm: `RSA-${p.hash}`, publicKey: pub });
        }
    }
    console.log(valid ? "signature valid" : "signature INVALID");
    return valid ? 0 : 1;
}

function cmdEncrypt([pname, certFile, inFile, outFile]) {
    const p = policy(pname);
    rsaOnly(p);
    const pub = certPublicKey(certFile);
    const data = readIn(inFile);
    const k = rsaLengthPublicKey(pub);
    let out;
    if (p.enc === "oaep-sha256") {
        // publicEncrypt_long takes a padding but no OAEP hash: SHA-1 only.
        console.log("impl: node:crypto publicEncrypt per block, OAEP SHA-256/MGF1-SHA256"
            + " (node-opcua-crypto 6.0.0 publicEncrypt_long has no OAEP-SHA256)");
        const chunk = k - OVERHEAD[p.enc];
        const blocks = [];
        for (let i = 0; i < data.length; i += chunk) {
            blocks.push(crypto.publicEncrypt({
                key: pub,
                padding: crypto.constants.RSA_PKCS1_OAEP_PADDING,
                oaepHash: "sha256",
            }, data.subarray(i, i + chunk)));
        }
        out = Buffer.concat(blocks);
    } else {
        const alg = p.enc === "pkcs1" ? PaddingAlgorithm.RSA_PKCS1_PADDING : PaddingAlgorithm.RSA_PKCS1_OAEP_PADDING;
        console.log(`impl: node-opcua-crypto publicEncrypt_long (${p.enc}, block ${k}, plain ${k - OVERHEAD[p.enc]})`);
        out = publicEncrypt_long(data, pub, k, OVERHEAD[p.enc], alg);
    }
    const blocks = Math.ceil(data.length / (k - OVERHEAD[p.enc]));
    if (out.length !== blocks * k) throw new Error(`ciphertext is ${out.length} bytes, want ${blocks} x ${k}`);
    fs.writeFileSync(outFile, out);
    console.log(`encrypted ${data.length} bytes into ${blocks} blocks of ${k}`);
    return 0;
}

function cmdDecrypt(args) {
    const [pname, keyFile, inFile, outFile] = args;
    const p = policy(pname);
    rsaOnly(p);
    if (p.enc === "pkcs1" && !process.execArgv.includes(PKCS1_REVERT)) {
        // Node 20 refuses PKCS#1 v1.5 private decryption on OpenSSL 3.0
        // (Marvin attack mitigation) unless this revert flag is given.
        console.log(`note: re-running under node ${PKCS1_REVERT} (Node refuses RSA PKCS#1 v1.5 decryption otherwise)`);
        const r = spawnSync(process.execPath, [PKCS1_REVERT, process.argv[1], "decrypt", ...args],
            { stdio: ["ignore", "inherit", "pipe"] });
        const err = (r.stderr || Buffer.alloc(0)).toString()
            .split("\n").filter((l) => l && !/SECURITY WARNING/.test(l)).join("\n");
        if (err) console.error(err);
        return r.status === null ? 1 : r.status;
    }
    const ops = keyOperationsFromPrivateKey(readPrivateKey(keyFile));
    const k = ops.getKeyMetadataSync().modulusLength;
    const params = p.enc === "pkcs1" ? { padding: "RSA-PKCS1-v1_5" }
        : { padding: "RSA-OAEP", oaepHash: p.enc === "oaep-sha256" ? "SHA-256" : "SHA-1" };
    console.log(`impl: node-opcua-crypto decryptLongSync + LocalKeyOperations (${JSON.stringify(params)}, block ${k})`);
    const data = readIn(inFile);
    let out;
    try {
        out = decryptLongSync(ops, data, params, k);
    } catch (e) {
        console.log(`decryption FAILED: ${e.message}`);
        return 1;
    }
    fs.writeFileSync(outFile, out);
    console.log(`decrypted ${data.length / k} blocks into ${out.length} bytes`);
    return 0;
}

function cmdSign([pname, keyFile, inFile, outFile]) {
    const p = policy(pname);
    const key = readPrivateKey(keyFile);
    const data = readIn(inFile);
    let sig;
    if (p.sign === "ecdsa") {
        console.log(`impl: node-opcua-crypto makeMessageChunkSignature (${p.hash}, EC key); DER -> raw r||s in policy_check.js`);
        sig = derToRaw(makeMessageChunkSignature(data, { algorithm: p.hash, privateKey: key, signatureLength: 0 }), p.coord);
    } else {
        const params = { padding: p.sign === "rsa-pss" ? "RSA-PSS" : "RSA-PKCS1-v1_5",
            hash: p.hash === "SHA1" ? "SHA-1" : "SHA-256" };
        console.log(`impl: node-opcua-crypto LocalKeyOperations.signSync (${JSON.stringify(params)})`);
        sig = keyOperationsFromPrivateKey(key).signSync(data, params);
    }
    fs.writeFileSync(outFile, sig);
    console.log(`signature ${sig.length} bytes`);
    return 0;
}

function cmdPsha([hash, secretFile, seedFile, lenStr, outFile]) {
    if (hash !== "SHA1" && hash !== "SHA256") throw new Usage(`hash must be SHA1 or SHA256, not ${hash}`);
    const len = Number.parseInt(lenStr, 10);
    if (!(len > 0)) throw new Usage(`bad length ${lenStr}`);
    console.log(`impl: node-opcua-crypto makePseudoRandomBuffer (P_${hash}, ${len} bytes)`);
    const out = makePseudoRandomBuffer(readIn(secretFile), readIn(seedFile), len, hash);
    if (out.length !== len) throw new Error(`got ${out.length} bytes, want ${len}`);
    fs.writeFileSync(outFile, out);
    return 0;
}

function cmdDeriveKeys([pname, secretFile, seedFile, outFile]) {
    const p = policy(pname);
    rsaOnly(p);
    const [sk, ek, iv] = p.derived;
    console.log(`impl: node-opcua-crypto computeDerivedKeys (P_${p.kdf})`);
    const keys = computeDerivedKeys(readIn(secretFile), readIn(seedFile), {
        signatureLength: p.kdf === "SHA1" ? 20 : 32,
        signingKeyLength: sk,
        encryptingKeyLength: ek,
        encryptingBlockSize: iv,
        algorithm: ek === 16 ? "aes-128-cbc" : "aes-256-cbc",
        sha1or256: p.kdf,
    });
    fs.writeFileSync(outFile, Buffer.concat([keys.signingKey, keys.encryptingKey, keys.initializationVector]));
    console.log(`derived: ${sk} ${ek} ${iv}`);
    return 0;
}

const COMMANDS = {
    verify: [cmdVerify, 4],
    encrypt: [cmdEncrypt, 4],
    decrypt: [cmdDecrypt, 4],
    sign: [cmdSign, 4],
    psha: [cmdPsha, 5],
    derivekeys: [cmdDeriveKeys, 4],
};

const [cmd, ...rest] = process.argv.slice(2);
let rc;
try {
    const entry = COMMANDS[cmd];
    if (!entry || rest.length !== entry[1]) throw new Usage("usage: see the head of policy_check.js");
    rc = entry[0](rest);
} catch (e) {
    console.error(`policy_check: ${cmd || ""}: ${e.message}`);
    rc = e instanceof Usage ? 2 : 1;
}
process.exitCode = rc;
