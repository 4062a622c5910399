// Independent check of a certificate written by uakey, with node-opcua's
// certificate code (node-opcua-crypto, pinned in package-lock.json).
//
//   node check_cert.js CERT.der
//
// Prints what node-opcua finds, one "key: value" per line:
//   applicationUri, dns, ip, keyUsage, extKeyUsage, basicConstraints.cA,
//   thumbprint (SHA-1, upper case), selfSignatureValid.
// Exit 0 when the certificate was read, 1 otherwise.
import fs from "node:fs";
import {
    exploreCertificate,
    makeSHA1Thumbprint,
    verifyCertificateSignature,
} from "node-opcua-crypto";

function flags(obj) {
    if (!obj) return "(none)";
    return Object.keys(obj).filter((k) => obj[k] === true).join(",") || "(none)";
}

const file = process.argv[2];
if (!file) {
    console.error("usage: node check_cert.js CERT.der");
    process.exit(2);
}
let der;
try {
    der = fs.readFileSync(file);
    const info = exploreCertificate(der);
    const ext = info.tbsCertificate.extensions || {};
    const san = ext.subjectAltName || {};
    const uris = san.uniformResourceIdentifier || [];
    console.log(`applicationUri: ${uris.length > 0 ? uris[0] : "(none)"}`);
    console.log(`dns: ${(san.dNSName || []).join(",") || "(none)"}`);
    console.log(`ip: ${(san.iPAddress || []).join(",") || "(none)"}`);
    console.log(`keyUsage: ${flags(ext.keyUsage)}`);
    console.log(`extKeyUsage: ${flags(ext.extKeyUsage)}`);
    console.log(`basicConstraints.cA: ${ext.basicConstraints ? ext.basicConstraints.cA : "(none)"}`);
    console.log(`thumbprint: ${makeSHA1Thumbprint(der).toString("hex").toUpperCase()}`);
    let sig;
    try {
        sig = verifyCertificateSignature(der, der);
    } catch (e) {
        sig = `error (${e.message})`;
    }
    console.log(`selfSignatureValid: ${sig}`);
} catch (e) {
    console.error(`check_cert: ${file}: ${e.message}`);
    process.exit(1);
}
