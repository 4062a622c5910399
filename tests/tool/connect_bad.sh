#!/bin/bash
# uakey discover / uakey connect against servers that misbehave
# (tests/interop/bad_server.mjs, one misbehaviour per start) and against
# input that never reaches a server: every case must end with exactly one
# stderr line "uakey: ..." naming the OPC UA StatusCode, exit 1 (2 for a
# usage error), no crash, no hang.
#
#   no server on the port        BadNotConnected
#   close-after-hello            BadConnectionClosed
#   garbage instead of an ACK    BadTcpMessageTypeInvalid
#   short-ack (size < header)    BadTcpMessageTypeInvalid
#   truncated OPN chunk          BadConnectionClosed
#   stall (--timeout 2000)       BadTimeout, in < 10 s
#   oversized (100 MB header)    BadTcpMessageTooLarge
#   too-many-chunks (300)        BadEncodingLimitsExceeded
#   big-message (> 4 MiB)        BadResponseTooLarge
#   wrong-cert                   BadCertificateInvalid, before any decryption
#   err                          BadTcpServerTooBusy (the server's own code)
#   --policy ECC_nistP256|None|Bogus   BadSecurityPolicyRejected
#   malformed URLs               BadTcpEndpointUrlInvalid
#   --mode Foo                   usage error, exit 2
# After each server case the server is stopped by its PID and must be gone.
. "$(dirname "$0")/helpers.sh"
# node and node-opcua (skip, or 99 under UK_REQUIRE_NODE=1); sets UA_NODE and
# UA_INTEROP_DIR.  Its server functions are not used here.
. "$UK_HELPER_DIR/tool/ua_server_lib.sh"

BAD_SERVER=$UA_INTEROP_DIR/bad_server.mjs
[ -f "$BAD_SERVER" ] || fail "missing $BAD_SERVER"

BAD_PID='' BAD_PORT='' BAD_URL='' BAD_DIR=''

# bad_stop: SIGTERM by PID, up to 5 s, then SIGKILL; reaps it.  Never fails;
# safe to call twice (also the EXIT trap).
bad_stop() {
    local pid=$BAD_PID
    [ -n "$pid" ] || return 0
    BAD_PID=
    kill "$pid" 2>/dev/null
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        say "  bad_server pid $pid still there after 5 s: SIGKILL"
        kill -9 "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    return 0
}
trap 'bad_stop' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP

# bad_start MODE [bad_server.mjs options]: in the background, port chosen by
# the OS; waits (20 s at most) for its ready file.  Sets BAD_PID, BAD_PORT,
# BAD_URL, BAD_DIR ($T/bad-MODE: ready file, server.log).
bad_start() {
    local mode=$1 ready maxrt
    shift
    [ -z "$BAD_PID" ] || fail "bad_start: a server is already running (pid $BAD_PID)"
    # backstops: our PID, and a little longer than run-test.sh lets us run
    maxrt=$(( ${UK_TEST_TIMEOUT:-300} + 60 ))
    [ -n "${UK_CHECKER-}" ] && maxrt=$(( ${UK_TEST_TIMEOUT:-300} * 10 + 60 ))
    BAD_DIR=$T/bad-$mode
    mkdir -p "$BAD_DIR" || fail "mkdir $BAD_DIR"
    ready=$BAD_DIR/ready
    rm -f "$ready"
    "$UA_NODE" "$BAD_SERVER" --mode "$mode" --port 0 --ready "$ready" --log "$BAD_DIR/server.log" \
        --watch-pid $$ --max-runtime "$maxrt" "$@" >>"$BAD_DIR/server.out" 2>&1 </dev/null &
    BAD_PID=$!
    for _ in $(seq 200); do
        [ -f "$ready" ] && break
        if ! kill -0 "$BAD_PID" 2>/dev/null; then
            wait "$BAD_PID" 2>/dev/null
            say "  bad_server exited (status $?) before it was ready:"
            BAD_PID=
            cat "$BAD_DIR/server.out" "$BAD_DIR/server.log" 2>/dev/null | sed 's/^/    | /'
            fail "bad_server --mode $mode did not start"
        fi
        sleep 0.1
    done
    if [ ! -f "$ready" ]; then
        bad_stop
        fail "bad_server --mode $mode: no ready file after 20 s"
    fi
    BAD_PORT=$(sed -n 's/^port=//p' "$ready")
    case $BAD_PORT in
    '' | *[!0-9]*) bad_stop; fail "bad_server: bad port '$BAD_PORT' in $ready" ;;
    esac
    if [ "$(sed -n 's/^pid=//p' "$ready")" != "$BAD_PID" ]; then
        bad_stop
        fail "bad_server: the ready file names another PID than $BAD_PID"
    fi
    BAD_URL=opc.tcp://127.0.0.1:$BAD_PORT
    say "  bad_server --mode $mode: $BAD_URL (pid $BAD_PID)"
}

# bad_done: stop the server, check its process is gone, show its log.
bad_done() {
    local pid=$BAD_PID
    bad_stop
    if kill -0 "$pid" 2>/dev/null; then
        fail "bad_server pid $pid is still there after bad_stop"
    fi
    ok "bad_server pid $pid is gone"
    sed 's/^/    server| /' "$BAD_DIR/server.log"
}

# a port nobody listens on: bound by node, closed again
free_port() {
    "$UA_NODE" -e 'const s = require("net").createServer();
        s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# host openssl: a self-signed RSA-2048 application certificate (the key to
# /dev/null: nothing can decrypt for it, nothing needs to)
host_rsa_cert() { # out.der CN URI
    host_ossl req -x509 -newkey rsa:2048 -nodes -keyout /dev/null -sha256 \
        -subj "/CN=$2/O=uakey tests" -days 30 \
        -addext "subjectAltName=URI:$3,DNS:localhost,IP:127.0.0.1" \
        -addext 'basicConstraints=critical,CA:FALSE' \
        -addext 'keyUsage=critical,digitalSignature,nonRepudiation,keyEncipherment,dataEncipherment,keyCertSign' \
        -addext 'extendedKeyUsage=serverAuth,clientAuth' \
        -outform der -out "$1" >/dev/null 2>&1 || fail "host certificate $2"
}

# seconds since T0 (one decimal)
T0=0
t_start() { T0=$(date +%s.%N); }
t_secs() { awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

T_BEGIN=$(date +%s.%N)

step "our identity: a token key and its certificate"
gen_key ua-client rsa2048
new_pki pki
tool_ok "cert create" "$UAKEY" --pin-file "$PIN_FILE" cert create --pki pki --key "$KEY_URI" \
    --name client --app-uri urn:uakey:test:bad-client --dns localhost --ip 127.0.0.1
CLIENT_THUMB=$(host_thumbprint pki/own/certs/client.der)
DISCOVER=("$UAKEY" discover --timeout 5000)
# connect URL [options] with our identity; a script, not a function: capture2
# runs programs under timeout(1)
CONNECT=("$T/connect")
{
    printf '#!/bin/sh\n'
    printf 'url=$1; shift\n'
    printf 'exec "%s" --pin-file "%s" connect "$url" --pki "%s" --name client --timeout 5000 "$@"\n' \
        "$UAKEY" "$PIN_FILE" "$T/pki"
} >"$T/connect"
chmod +x "$T/connect"

step "no server on the port"
port=$(free_port)
case $port in '' | *[!0-9]*) fail "free port: '$port'" ;; esac
tool_fail "discover, connection refused" \
    "^uakey: discover: BadNotConnected 0x808A0000: .*127\\.0\\.0\\.1 port $port" \
    "${DISCOVER[@]}" "opc.tcp://127.0.0.1:$port"
tool_fail "connect, connection refused" "^uakey: connect: BadNotConnected 0x808A0000: " \
    "${CONNECT[@]}" "opc.tcp://127.0.0.1:$port"

step "the server closes the connection after the Hello"
bad_start close-after-hello
tool_fail "discover" "^uakey: discover: BadConnectionClosed 0x80AE0000: .*waiting for Acknowledge" \
    "${DISCOVER[@]}" "$BAD_URL"
bad_done

step "garbage instead of an Acknowledge"
bad_start garbage
tool_fail "discover" \
    "^uakey: discover: BadTcpMessageTypeInvalid 0x807E0000: .*not an OPC UA TCP message" \
    "${DISCOVER[@]}" "$BAD_URL"
bad_done

step "an Acknowledge header claiming fewer bytes than the header"
bad_start short-ack
tool_fail "discover" \
    "^uakey: discover: BadTcpMessageTypeInvalid 0x807E0000: .*chunk of 4 bytes is too short" \
    "${DISCOVER[@]}" "$BAD_URL"
bad_done

step "a truncated OpenSecureChannel response"
bad_start truncated
tool_fail "discover" \
    "^uakey: discover: BadConnectionClosed 0x80AE0000: OpenSecureChannel \\(None\\): .*closed" \
    "${DISCOVER[@]}" "$BAD_URL"
bad_done

step "a server that never answers the OpenSecureChannel"
bad_start stall
for cmd in discover connect; do
    t_start
    if [ $cmd = discover ]; then
        tool_fail "discover --timeout 2000" \
            "^uakey: discover: BadTimeout 0x800A0000: .*within 2000 ms" \
            "$UAKEY" discover --timeout 2000 "$BAD_URL"
    else
        tool_fail "connect --timeout 2000" \
            "^uakey: connect: BadTimeout 0x800A0000: .*within 2000 ms" \
            "${CONNECT[@]}" "$BAD_URL" --timeout 2000
    fi
    s=$(t_secs)
    awk -v s="$s" 'BEGIN { exit !(s >= 1.9 && s < 10) }' ||
        fail "$cmd returned after $s s (want 2 s, < 10 s)"
    ok "$cmd returned after $s s"
done
bad_done

step "an OpenSecureChannel response header claiming 100 MB"
bad_start oversized
tool_fail "discover" \
    "^uakey: discover: BadTcpMessageTooLarge 0x80800000: .*104857600 bytes, more than the 65536" \
    "${DISCOVER[@]}" "$BAD_URL"
tool_fail "connect" "^uakey: connect: BadTcpMessageTooLarge 0x80800000: .*104857600 bytes" \
    "${CONNECT[@]}" "$BAD_URL"
bad_done

step "a GetEndpoints response in 300 chunks"
bad_start too-many-chunks
tool_fail "discover" \
    "^uakey: discover: BadEncodingLimitsExceeded 0x80080000: GetEndpoints: .*more than 256 chunks" \
    "${DISCOVER[@]}" "$BAD_URL"
grep -q 'answered GetEndpoints with 300 chunks' "$BAD_DIR/server.log" ||
    fail "the server did not send its 300 chunks"
ok "the server sent 300 chunks"
bad_done

step "a GetEndpoints response of more than 4 MiB"
bad_start big-message
tool_fail "discover" \
    "^uakey: discover: BadResponseTooLarge 0x80B90000: GetEndpoints: .*larger than 4194304 bytes" \
    "${DISCOVER[@]}" "$BAD_URL"
grep -q 'answered GetEndpoints with 73 chunks of 65536 bytes' "$BAD_DIR/server.log" ||
    fail "the server did not send its 73 chunks"
ok "the server sent 73 chunks of 65536 bytes (4.6 MiB of body, under the 256-chunk limit)"
bad_done

step "a server that signs with another certificate than its endpoint's"
host_rsa_cert A.der "bad server A" urn:uakey:test:bad-server-a
host_rsa_cert B.der "bad server B" urn:uakey:test:bad-server-b
A_THUMB=$(host_thumbprint A.der)
tool_ok "trust certificate A" "$UAKEY" trust add --pki pki A.der
bad_start wrong-cert --cert "$T/A.der" --other-cert "$T/B.der"
tool_ok "discover (the endpoint description is well-formed)" "${DISCOVER[@]}" "$BAD_URL"
expect_msg '^  SecurityPolicy: Basic256Sha256$' "discover: one Basic256Sha256 endpoint"
expect_msg "thumbprint: +$A_THUMB" "discover: its certificate is A"
dbg=$T/p11-wrong-cert.log
rm -f "$dbg"
tool_fail "connect" \
    "^uakey: connect: BadCertificateInvalid 0x80120000: .*other than the one of its endpoint description" \
    env UAKEY_DEBUG=pkcs11 UAKEY_DEBUG_FILE="$dbg" "$T/connect" "$BAD_URL"
expect_msg "server certificate $A_THUMB: Good" "certificate A passed the validation first"
grep -q 'OpenSecureChannel request: .*Basic256Sha256' "$BAD_DIR/server.log" ||
    fail "the secured OpenSecureChannel request did not reach the server"
ok "the secured OpenSecureChannel request reached the server"
tp=$(printf '%s' "$CLIENT_THUMB" | tr 'A-F' 'a-f')
grep -q "receiver thumbprint $tp, 512 random bytes" "$BAD_DIR/server.log" ||
    fail "the bad OPN response does not name our certificate ($tp) as the receiver"
ok "the bad OPN response names our certificate as the receiver: only the sender is wrong"
signs=$(grep -c 'C_Sign\b' "$dbg" || true)
decs=$(grep -c 'C_Decrypt\b' "$dbg" || true)
if [ "$signs" -lt 1 ] || [ "$decs" != 0 ]; then
    show "$dbg"
    fail "PKCS#11 trace: $signs C_Sign, $decs C_Decrypt"
fi
ok "the token signed the request ($signs C_Sign) and decrypted nothing (0 C_Decrypt)"
bad_done

step "an Error message instead of the OpenSecureChannel response"
bad_start err
tool_fail "discover" \
    "^uakey: discover: BadTcpServerTooBusy 0x807D0000: .*Error: BadTcpServerTooBusy: busy\$" \
    "${DISCOVER[@]}" "$BAD_URL"
bad_done

step "unsupported SecurityPolicy (no server needed)"
for p in ECC_nistP256 None Bogus; do
    tool_fail "connect --policy $p" "^uakey: connect: BadSecurityPolicyRejected 0x80550000: " \
        "${CONNECT[@]}" "opc.tcp://127.0.0.1:$port" --policy "$p"
done

step "malformed endpoint URLs (no server needed)"
for u in http://x opc.tcp://:1 opc.tcp://h:99999; do
    tool_fail "discover $u" "^uakey: discover: BadTcpEndpointUrlInvalid 0x80830000: " \
        "${DISCOVER[@]}" "$u"
    tool_fail "connect $u" "^uakey: connect: BadTcpEndpointUrlInvalid 0x80830000: " \
        "${CONNECT[@]}" "$u"
done

step "a usage error"
tool_rc 2 "connect --mode Foo" "${CONNECT[@]}" "opc.tcp://127.0.0.1:$port" --mode Foo
if [ "$(wc -l <"$T/last.stderr")" != 1 ] || ! grep -q "^uakey: .*--mode .*'Foo'" "$T/last.stderr"; then
    show "$T/last.stderr"
    fail "--mode Foo: not one 'uakey: ...' line naming the mode"
fi
ok "--mode Foo: $(cat "$T/last.stderr")"

no_private_keys pki
say "  whole test: $(awk -v a="$T_BEGIN" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
finish
