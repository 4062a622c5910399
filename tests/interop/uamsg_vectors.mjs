// Cross-check of uakey's OPC UA service message codec (opcua-glue/client/uamsg.c)
// against node-opcua's own encoders and decoders.
//
//   node uamsg_vectors.mjs encode
//       Encodes a fixed set of responses with node-opcua (type NodeId + body, what
//       uamsg_get_* starts at) and prints one line per message: NAME HEX.  The unit
//       test tests/unit/test_uamsg.c carries the output of node-opcua 2.186.4 as
//       its "node-opcua vectors" and decodes each of them.
//   node uamsg_vectors.mjs decode < lines
//       Reads lines "NAME HEX" (requests as uamsg_put_* wrote them, e.g. from
//       UK_TEST_UAMSG_DUMP=1 tests/unit/test_uamsg), decodes each with node-opcua
//       and prints it as JSON; exit 1 when one does not decode or bytes are left.
import * as ua from "node-opcua";

const T0 = new Date(Date.UTC(2026, 10, 26, 10, 0, 0, 123));
const T1 = new Date(Date.UTC(2026, 10, 26, 10, 0, 1, 456));

function hdr(handle, extra = {}) {
    return { timestamp: T0, requestHandle: handle, serviceResult: ua.StatusCodes.Good, ...extra };
}

function appDesc() {
    return {
        applicationUri: "urn:test:server",
        productUri: "urn:test:product",
        applicationName: { text: "Test Server" },
        applicationType: ua.ApplicationType.Server,
        gatewayServerUri: null,
        discoveryProfileUri: null,
        discoveryUrls: ["opc.tcp://127.0.0.1:4840"],
    };
}

function endpoint(mode, policy, level) {
    return {
        endpointUrl: "opc.tcp://127.0.0.1:4840",
        server: appDesc(),
        serverCertificate: Buffer.from([0x30, 0x82, 0x01, 0x02, 0xaa, 0xbb]),
        securityMode: mode,
        securityPolicyUri: policy,
        userIdentityTokens: [
            { policyId: "anon", tokenType: ua.UserTokenType.Anonymous },
            {
                policyId: "user",
                tokenType: ua.UserTokenType.UserName,
                securityPolicyUri: "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256",
            },
        ],
        transportProfileUri: "http://opcfoundation.org/UA-Profile/Transport/uatcp-uasc-uabinary",
        securityLevel: level,
    };
}

function responses() {
    const V = ua.Variant, DT = ua.DataType, AT = ua.VariantArrayType;
    return {
        getendpoints: new ua.GetEndpointsResponse({
            responseHeader: hdr(1),
            endpoints: [
                endpoint(ua.MessageSecurityMode.None, "http://opcfoundation.org/UA/SecurityPolicy#None", 0),
                endpoint(ua.MessageSecurityMode.SignAndEncrypt,
                    "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256", 3),
            ],
        }),
        opn: new ua.OpenSecureChannelResponse({
            responseHeader: hdr(2),
            serverProtocolVersion: 0,
            securityToken: { channelId: 7, tokenId: 9, createdAt: T0, revisedLifetime: 600000 },
            serverNonce: Buffer.alloc(32, 0x5a),
        }),
        createsession: new ua.CreateSessionResponse({
            responseHeader: hdr(3),
            sessionId: ua.coerceNodeId("ns=1;i=1001"),
            authenticationToken: ua.coerceNodeId("ns=0;b=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="),
            revisedSessionTimeout: 60000,
            serverNonce: Buffer.alloc(32, 0x11),
            serverCertificate: Buffer.from([0x30, 0x82, 0x00, 0x01]),
            serverEndpoints: [endpoint(ua.MessageSecurityMode.Sign,
                "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256", 2)],
            serverSoftwareCertificates: [{ certificateData: Buffer.from([1, 2, 3]), signature: Buffer.from([4]) }],
            serverSignature: {
                algorithm: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                signature: Buffer.from([0xde, 0xad, 0xbe, 0xef]),
            },
            maxRequestMessageSize: 0,
        }),
        activatesession: new ua.ActivateSessionResponse({
            responseHeader: hdr(4),
            serverNonce: Buffer.alloc(32, 0x22),
            results: [ua.StatusCodes.Good, ua.StatusCodes.BadNodeIdUnknown],
            diagnosticInfos: [new ua.DiagnosticInfo({ symbolicId: 1, additionalInfo: "x" })],
        }),
        read_datetime: new ua.ReadResponse({
            responseHeader: hdr(5),
            results: [new ua.DataValue({
                value: new V({ dataType: DT.DateTime, value: T1 }),
                sourceTimestamp: T1, sourcePicoseconds: 100,
                serverTimestamp: T0, serverPicoseconds: 200,
            })],
            diagnosticInfos: [],
        }),
        read_many: new ua.ReadResponse({
            responseHeader: hdr(6),
            results: [
                new ua.DataValue({ value: new V({ dataType: DT.Int32, arrayType: AT.Array,
                    value: new Int32Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) }) }),
                new ua.DataValue({ value: new V({ dataType: DT.String, value: "a\"b\\c\nd\u0007\u202e" }) }),
                new ua.DataValue({ value: new V({ dataType: DT.LocalizedText,
                    value: new ua.LocalizedText({ locale: "en", text: "Hello" }) }) }),
                new ua.DataValue({ value: new V({ dataType: DT.NodeId, value: ua.coerceNodeId("ns=1;s=Some.Name") }) }),
                new ua.DataValue({ value: new V({ dataType: DT.QualifiedName,
                    value: new ua.QualifiedName({ namespaceIndex: 2, name: "Q" }) }) }),
                new ua.DataValue({ value: new V({ dataType: DT.ByteString, value: Buffer.from([0, 1, 0xfe]) }) }),
                new ua.DataValue({ value: new V({ dataType: DT.Guid, value: "09087E75-8E5E-499B-954F-F2A9603DB28A" }) }),
                new ua.DataValue({ value: new V({ dataType: DT.StatusCode, value: ua.StatusCodes.BadNodeIdUnknown }) }),
                new ua.DataValue({ value: new V({ dataType: DT.Boolean, value: true }) }),
                new ua.DataValue({ value: new V({ dataType: DT.Double, value: 0.1 }) }),
                new ua.DataValue({ value: new V({ dataType: DT.Float, value: 1.5 }) }),
                new ua.DataValue({ value: new V({ dataType: DT.UInt64, arrayType: AT.Scalar, value: [0xffffffff, 0xffffffff] }) }),
                new ua.DataValue({ value: new V({ dataType: DT.Byte, arrayType: AT.Matrix, dimensions: [2, 3],
                    value: new Uint8Array([1, 2, 3, 4, 5, 6]) }) }),
                new ua.DataValue({ value: new V({ dataType: DT.ExtensionObject, value: new ua.BuildInfo({
                    productUri: "p", manufacturerName: "m", productName: "n", softwareVersion: "1",
                    buildNumber: "2", buildDate: T0 }) }) }),
                new ua.DataValue({ value: new V({ dataType: DT.Variant, arrayType: AT.Array,
                    value: [new V({ dataType: DT.UInt16, value: 7 }), new V({ dataType: DT.String, value: "x" })] }) }),
                new ua.DataValue({ statusCode: ua.StatusCodes.BadNodeIdUnknown }),
            ],
            diagnosticInfos: [],
        }),
        servicefault: new ua.ServiceFault({
            responseHeader: hdr(7, {
                serviceResult: ua.StatusCodes.BadSessionIdInvalid,
                serviceDiagnostics: new ua.DiagnosticInfo({
                    symbolicId: 0, localizedText: 1, additionalInfo: "gone",
                    innerStatusCode: ua.StatusCodes.BadTimeout,
                    innerDiagnosticInfo: new ua.DiagnosticInfo({ namespaceURI: 0 }),
                }),
                stringTable: ["Session", "no such session"],
            }),
        }),
        closesession: new ua.CloseSessionResponse({ responseHeader: hdr(8) }),
    };
}

function encode(obj) {
    const stream = new ua.BinaryStream(obj.binaryStoreSize() + 16);
    ua.encodeExpandedNodeId(obj.schema.encodingDefaultBinary, stream);
    obj.encode(stream);
    return stream.buffer.subarray(0, stream.length);
}

const requestClasses = {
    428: ua.GetEndpointsRequest,
    446: ua.OpenSecureChannelRequest,
    452: ua.CloseSecureChannelRequest,
    461: ua.CreateSessionRequest,
    467: ua.ActivateSessionRequest,
    473: ua.CloseSessionRequest,
    631: ua.ReadRequest,
};

async function decodeLines() {
    let input = "";
    for await (const chunk of process.stdin) input += chunk;
    let bad = 0;
    for (const line of input.split("\n")) {
        const m = line.trim().match(/^(\S+)\s+([0-9a-fA-F]+)$/);
        if (!m) continue;
        const buf = Buffer.from(m[2], "hex");
        try {
            const stream = new ua.BinaryStream(buf);
            let cls = ua.RequestHeader;   // "reqhdr*" lines: a bare RequestHeader
            if (!m[1].startsWith("reqhdr")) {
                const id = ua.decodeExpandedNodeId(stream);
                cls = requestClasses[id.value];
                if (id.namespace !== 0 || !cls) throw new Error(`unexpected type ${id.toString()}`);
            }
            const obj = new cls();
            obj.decode(stream);
            if (stream.length !== buf.length)
                throw new Error(`${buf.length - stream.length} bytes left after ${cls.name}`);
            console.log(`${m[1]}: ${cls.name}`);
            console.log(obj.toJSON ? JSON.stringify(obj.toJSON(), null, 1) : obj.toString());
        } catch (e) {
            bad++;
            console.log(`${m[1]}: FAILED ${e.message}`);
        }
    }
    process.exit(bad ? 1 : 0);
}

const mode = process.argv[2];
if (mode === "encode") {
    for (const [name, obj] of Object.entries(responses()))
        console.log(`${name} ${encode(obj).toString("hex")}`);
} else if (mode === "decode") {
    await decodeLines();
} else {
    console.error("usage: node uamsg_vectors.mjs encode | decode < lines");
    process.exit(2);
}
