#!/bin/bash
# Independent check with node-opcua: node-opcua-crypto (tests/interop,
# installed by "npm ci" from its lockfile) reads certificates made by
# "uakey cert create" (RSA and EC) and finds the ApplicationUri, the host
# names, the OPC UA key usages and a valid self-signature.  Skipped (77)
# without node/npm or tests/interop/node_modules, except under
# UK_REQUIRE_NODE=1 (then a hard error, 99).
. "$(dirname "$0")/helpers.sh"

interop=${UK_INTEROP_DIR:-${UK_SRCDIR:-$UK_HELPER_DIR/..}/tests/interop}
missing=
command -v node >/dev/null 2>&1 || missing="$missing node"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -d "$interop/node_modules/node-opcua-crypto" ] ||
    missing="$missing $interop/node_modules (run: cd tests/interop && npm ci)"
if [ -n "$missing" ]; then
    if [ "${UK_REQUIRE_NODE:-0}" = 1 ]; then
        say "UK_REQUIRE_NODE=1 but missing:$missing"
        exit 99
    fi
    skip "missing:$missing"
fi
say "node $(node --version), node-opcua-crypto $(sed -n 's/^ *"version": "\(.*\)",*$/\1/p' \
    "$interop/node_modules/node-opcua-crypto/package.json" | head -n1)"

new_pki pki
check() { # name kind app-uri
    local der=pki/own/certs/$1.der
    run_ok "node-opcua reads $1" node "$interop/check_cert.js" "$der"
    expect_msg "^applicationUri: $3\$" "$1: node-opcua finds ApplicationUri $3"
    expect_msg '^dns: .*opcua.example.com' "$1: node-opcua finds the DNS name"
    expect_msg '^extKeyUsage: .*serverAuth.*clientAuth|^extKeyUsage: .*clientAuth.*serverAuth' \
        "$1: serverAuth and clientAuth"
    expect_msg '^basicConstraints.cA: false$' "$1: CA false"
    expect_msg "^thumbprint: $(host_thumbprint "$der")\$" "$1: same SHA-1 thumbprint as the host"
    expect_msg '^selfSignatureValid: true$' "$1: node-opcua verifies the self-signature"
    case $2 in
    rsa) expect_msg '^keyUsage: digitalSignature,nonRepudiation,keyEncipherment,dataEncipherment,keyCertSign$' \
        "$1: RSA key usage as OPC 10000-6 asks" ;;
    ec) expect_msg '^keyUsage: digitalSignature,nonRepudiation,keyCertSign$' \
        "$1: EC key usage as OPC 10000-6 asks" ;;
    esac
}

step "RSA"
gen_key node-rsa rsa2048
tool_ok "cert create (RSA)" "$UAKEY" --pin-file "$PIN_FILE" cert create --pki pki --key "$KEY_URI" \
    --name rsa-app --app-uri 'urn:uakey:interop:rsa-app' --dns opcua.example.com --ip 127.0.0.1
check rsa-app rsa 'urn:uakey:interop:rsa-app'

step "EC P-256"
gen_key node-ec ec-p256
tool_ok "cert create (EC)" "$UAKEY" --pin-file "$PIN_FILE" cert create --pki pki --key "$KEY_URI" \
    --name ec-app --app-uri 'http://opcua.example.com/UA/ec-app' --dns opcua.example.com
check ec-app ec 'http://opcua.example.com/UA/ec-app'

step "the checker is not blind"
host_selfsigned other.der other
run_ok "node-opcua reads a host certificate" node "$interop/check_cert.js" other.der
expect_no_msg '^applicationUri: urn:uakey:interop' "a different ApplicationUri is reported"
finish
