#!/bin/bash
# node-opcua decodes the requests uakey's OPC UA client encodes
# (opcua-glue/client/uamsg.c, dumped by tests/unit/test_uamsg with
# UK_TEST_UAMSG_DUMP=1) with its own decoders (tests/interop/uamsg_vectors.mjs):
# every message decodes with no byte left over, and the fields hold what the
# unit test put in.  (The opposite direction, node-opcua's encodings decoded
# by uamsg.c, is in test_uamsg itself.)
. "$(dirname "$0")/helpers.sh"

interop=${UK_INTEROP_DIR:-${UK_SRCDIR:-$UK_HELPER_DIR/..}/tests/interop}
if ! command -v node >/dev/null 2>&1 || [ ! -d "$interop/node_modules/node-opcua" ]; then
    [ "${UK_REQUIRE_NODE:-0}" = 1 ] && { say "UK_REQUIRE_NODE=1 but node or node-opcua is missing"; exit 99; }
    skip "node or $interop/node_modules/node-opcua missing"
fi
bin=$UK_BUILDDIR/tests/unit/test_uamsg
[ -x "$bin" ] || skip "tests/unit/test_uamsg not built (no cmocka)"

step "encode with uakey"
UK_TEST_UAMSG_DUMP=1 timeout 60 "$bin" 2>/dev/null | grep -E '^[a-z_]+ [0-9a-f]+$' >requests.txt
n=$(wc -l <requests.txt)
[ "$n" -ge 12 ] || fail "only $n encoded requests"
ok "$n requests encoded by uamsg.c"

step "decode with node-opcua"
timeout 60 node "$interop/uamsg_vectors.mjs" decode <requests.txt >decoded.json 2>decode.err ||
    { show decode.err; fail "node-opcua could not decode every request"; }
ok "node-opcua decodes all $n, no byte left over"
expect_in decoded.json '"requestedLifetime": 600000' "OpenSecureChannel: requestedLifetime"
expect_in decoded.json '"userName": "bob"' "UserNameIdentityToken: userName"
expect_in decoded.json '"encryptionAlgorithm": "http://www.w3.org/2001/04/xmlenc#rsa-oaep"' \
    "UserNameIdentityToken: encryptionAlgorithm"
expect_in decoded.json '"nodeId": "ns=0;i=2258"' "ReadValueId: nodeId"
finish
