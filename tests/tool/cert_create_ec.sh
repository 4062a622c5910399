#!/bin/bash
# uakey cert create with EC token keys: P-256 (ECDSA-SHA256) and P-384
# (ECDSA-SHA384), the EC keyUsage bits, every other OPC UA extension, the
# self-signature verified on the host, key references only.
. "$(dirname "$0")/helpers.sh"

new_pki pki
for t in p256:sha256 p384:sha384; do
    curve=${t%%:*} md=${t#*:}
    step "ec-$curve"
    gen_key "app-$curve" "ec-$curve"
    tool_ok "cert create ($curve)" "$UAKEY" --pin-file "$PIN_FILE" cert create --pki pki \
        --key "$KEY_URI" --name "client-$curve" --app-uri "urn:uakey:test:client-$curve" \
        --dns client.example.com
    check_appcert "pki/own/certs/client-$curve.der" ec "$md" "urn:uakey:test:client-$curve" \
        'DNS:client.example.com'
    expect_in "pki/own/certs/client-$curve.der.txt" "Subject: .*CN ?= ?client.example.com" "CN defaults to the first --dns name"
    check_keyref "pki/own/private/client-$curve.pem" "pki/own/certs/client-$curve.der"
done
no_private_keys pki "$T"
finish
