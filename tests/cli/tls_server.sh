#!/bin/bash
# s_server with a token key (-key URI) and the token's certificate on
# 127.0.0.1, s_client (host only, default provider) connecting with TLS 1.2
# and 1.3; the client verifies the server's handshake signature.  The
# server runs in the background, is stopped by PID, and every wait has a
# timeout.  UK_TEST_TLS_SERVER=libp11 runs the server through libp11's
# engine instead (to tell a harness problem from a uakey one).
. "$(dirname "$0")/helpers.sh"
need_token_certs

SERVER_PID=
stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null
        # wait with a deadline; PID 1 may not reap, so also poll
        for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
        SERVER_PID=
    fi
}
trap stop_server EXIT

# start_server NAME KEY-URI CERT [server options]: sets PORT, SERVER_PID.
start_server() {
    local name=$1 key=$2 cert=$3 try
    shift 3
    for try in 1 2 3 4 5; do
        PORT=$((20000 + (RANDOM % 20000)))
        : >"$name.server.log"
        say "  starting s_server on 127.0.0.1:$PORT ($name, try $try)"
        if [ "${UK_TEST_TLS_SERVER-}" = libp11 ]; then
            env OPENSSL_CONF=/dev/null PKCS11_MODULE_PATH="$UK_MODULE" \
                OPENSSL_ENGINES="$(dirname "$UK_LIBP11_ENGINE")" \
                timeout -k 5 120 "$OPENSSL" s_server -engine pkcs11 -keyform engine \
                -key "$(p11_key "$key")" -cert "$cert" -accept "127.0.0.1:$PORT" \
                -naccept 1 -www "$@" >"$name.server.log" 2>&1 </dev/null &
        else
            timeout -k 5 120 "$OPENSSL" s_server -key "$key" -cert "$cert" \
                -accept "127.0.0.1:$PORT" -naccept 1 -www "$@" \
                >"$name.server.log" 2>&1 </dev/null &
        fi
        SERVER_PID=$!
        # Wait (at most 20 s) for ACCEPT, or for the server to die.
        for _ in $(seq 200); do
            grep -q '^ACCEPT' "$name.server.log" && return 0
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        if grep -qi 'address already in use\|bind' "$name.server.log"; then
            stop_server
            continue
        fi
        say "  server did not come up; its output:"
        show "$name.server.log"
        stop_server
        fail "$name: s_server with the token key did not start"
    done
    fail "$name: no free port after 5 tries"
}

# client NAME CAFILE [client options]
client() {
    local name=$1 ca=$2
    shift 2
    capture bash -c "printf 'GET / HTTP/1.0\r\n\r\n' | \
        OPENSSL_CONF=/dev/null timeout -k 5 30 '$OPENSSL' s_client -connect 127.0.0.1:$PORT \
        -CAfile '$ca' -verify_return_error -ign_eof $*"
    local rc=$?
    if [ $rc != 0 ]; then
        say "  s_client failed (exit $rc):"; show "$LAST_OUT"
        say "  server log:"; show "$name.server.log"
        fail "$name: handshake"
    fi
    ok "$name: s_client connected"
}

session() { # name key-uri cert protocol-opts(client) -- server-opts
    local name=$1 key=$2 cert=$3 copts=$4 sopts=$5 proto=$6
    step "$name"
    # shellcheck disable=SC2086
    start_server "$name" "$key" "$cert" $sopts
    # shellcheck disable=SC2086
    client "$name" "$cert" $copts
    expect_msg 'Verify return code: 0 \(ok\)' "$name: server certificate and handshake verified"
    expect_msg "Protocol *: $proto" "$name: $proto negotiated"
    expect_msg 'HTTP/1.0 200 ok' "$name: application data exchanged"
    # -naccept 1: the server exits by itself after one connection.
    for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
        say "  server still running after the connection; stopping it"
    fi
    stop_server
    if grep -Eq 'error|ERROR' "$name.server.log"; then
        say "  server log mentions errors:"; show "$name.server.log"
    fi
}

session rsa-tls13 "$UK_RSA_URI" "$UK_RSA_CERT" "-tls1_3" "" TLSv1.3
session rsa-tls12-pss "$UK_RSA_URI" "$UK_RSA_CERT" "-tls1_2 -sigalgs rsa_pss_rsae_sha256" "" TLSv1.2
session rsa-tls12-pkcs1 "$UK_RSA_URI" "$UK_RSA_CERT" "-tls1_2 -sigalgs RSA+SHA256" "" TLSv1.2
session ec-tls13 "$UK_EC_URI" "$UK_EC_CERT" "-tls1_3" "" TLSv1.3
session ec-tls12 "$UK_EC_URI" "$UK_EC_CERT" "-tls1_2" "" TLSv1.2

# uakey listed before the default provider: the server's ephemeral P-256
# key for ECDHE then comes from uakey's EC key generation (a software key
# kept on the host); the handshake must work all the same.
if [ "${UK_TEST_TLS_SERVER-}" != libp11 ]; then
    export OPENSSL_CONF=$UK_CNF_UAKEY_FIRST
    session ec-tls13-uakey-first-p256 "$UK_EC_URI" "$UK_EC_CERT" "-tls1_3 -groups P-256" \
        "-groups P-256" TLSv1.3
    session rsa-tls12-uakey-first-p256 "$UK_RSA_URI" "$UK_RSA_CERT" "-tls1_2 -groups P-256" \
        "-groups P-256" TLSv1.2
    # A software server key and certificate (files) through the same
    # configuration: the handshake signature is made on the host by uakey.
    host_ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out soft.key
    host_ossl req -x509 -new -key soft.key -subj /CN=127.0.0.1 -days 2 -out soft.crt
    session soft-key-tls13-uakey-first "soft.key" "soft.crt" "-tls1_3 -groups P-256" \
        "-groups P-256" TLSv1.3
    # uakey-first on the client side too: its key share and the server's
    # (an EC group plus a point set afterwards) go through uakey's keymgmt.
    step "client with uakey listed first"
    start_server client-uakey-first soft.key soft.crt -groups P-256
    capture bash -c "printf 'GET / HTTP/1.0\r\n\r\n' | OPENSSL_CONF='$UK_CNF_UAKEY_FIRST' \
        timeout -k 5 30 '$OPENSSL' s_client -connect 127.0.0.1:$PORT -CAfile soft.crt \
        -verify_return_error -ign_eof -groups P-256"
    expect_msg 'Verify return code: 0 \(ok\)' "uakey-first client: handshake verified"
    expect_msg 'Server Temp Key: ECDH, prime256v1' "uakey-first client: ECDHE on P-256"
    expect_msg 'HTTP/1.0 200 ok' "uakey-first client: application data exchanged"
    stop_server
fi
finish
