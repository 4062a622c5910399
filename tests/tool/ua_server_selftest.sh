#!/bin/bash
# The node-opcua test server harness proves itself with node-opcua's own
# client (tests/interop/ua_client_check.mjs), before uakey's client is
# measured against it:
#   - the server starts on 127.0.0.1 with an OS-chosen port, writes its ready
#     file, its certificate carries the ApplicationUri, DNS:localhost and
#     IP:127.0.0.1 (read by the host's openssl)
#   - GetEndpoints over a None channel lists None and the three policies in
#     Sign and SignAndEncrypt
#   - the trust story: an unknown client certificate is refused with
#     BadSecurityChecksFailed at OpenSecureChannel and lands in rejected/;
#     moved to trusted/certs while the server runs, the next attempts read
#     the server's CurrentTime in 3 policies x 2 modes
#   - a UserName login (secured and over None), a wrong password
#     (BadUserAccessDenied), a requested token lifetime of 4000 ms honoured
#     and renewed, the floor (--min-token-lifetime), the test variable
#   - a certificate added to trusted/certs directly; a restart keeps the
#     server certificate; SIGTERM stops the server; --watch-pid stops it when
#     the watched process is gone; nothing is left running
# Several policy/mode pairs run in one ua_client_check.mjs process: loading
# node-opcua costs about a second per process.
# Skipped (77) without node or tests/interop/node_modules/node-opcua, a hard
# error (99) under UK_REQUIRE_NODE=1.
. "$(dirname "$0")/helpers.sh"
. "$UK_HELPER_DIR/tool/ua_server_lib.sh"

T_START=$(date +%s)
say "node $(node --version), node-opcua $(sed -n 's/^ *"version": "\(.*\)",*$/\1/p' \
    "$UA_INTEROP_DIR/node_modules/node-opcua/package.json" | head -n1)"

# check NAME ARGS...: the reference client must succeed and read a value.
check_ok() {
    local desc=$1
    shift
    capture "$UA_CHECK" "$UA_URL" "$@"
    local rc=$?
    if [ $rc != 0 ]; then
        say "  ua_client_check failed (exit $rc):"
        show "$LAST_OUT"
        ua_server_log_tail 20
        fail "$desc"
    fi
    expect_msg '^ok$' "$desc: ok"
    VALUE=$(sed -n 's/^value=//p' "$LAST_OUT" | head -n1)
    say "    ($(grep -E '^(value|user|revised_lifetime|token_renewals)=' "$LAST_OUT" | sort | uniq -c |
        awk '{ printf "%s%s ", $2, ($1 > 1 ? " x" $1 : "") }'))"
}

# check_refused DESC STATUS ARGS...: exit 1 with error=STATUS.
check_refused() {
    local desc=$1 status=$2 rc
    shift 2
    capture "$UA_CHECK" "$UA_URL" "$@"
    rc=$?
    if [ $rc != 1 ]; then
        say "  expected exit 1, got $rc:"
        show "$LAST_OUT"
        ua_server_log_tail 20
        fail "$desc: exit $rc"
    fi
    expect_msg "^error=$status " "$desc: $status"
}

# ---- start ----------------------------------------------------------------------
step "start"
ua_server_start srv --user alice:secret --variable
ok "server started in ${UA_SERVER_START_SECONDS} s (first start: makes its certificate)"
case $UA_URL in
"opc.tcp://127.0.0.1:$UA_PORT/uakey") ok "endpoint URL $UA_URL" ;;
*) fail "endpoint URL '$UA_URL' is not opc.tcp://127.0.0.1:$UA_PORT/uakey" ;;
esac
# Listening on 127.0.0.1 only: /proc/net/tcp has the port bound to 0100007F.
hexport=$(printf '%04X' "$UA_PORT")
binds=$(awk -v p=":$hexport" '$4 == "0A" && substr($2, length($2) - 4) == p { print $2 }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null | sort -u | tr '\n' ' ')
[ "$binds" = "0100007F:$hexport " ] || fail "port $UA_PORT listens on '$binds', want 127.0.0.1 only"
ok "listens on 127.0.0.1:$UA_PORT only"
nonempty "$UA_SERVER_CERT" "server certificate (DER) from the ready file"
[ "$(host_thumbprint "$UA_SERVER_CERT")" = "$UA_SERVER_THUMBPRINT" ] ||
    fail "ready file thumbprint $UA_SERVER_THUMBPRINT is not the certificate's"
ok "ready file thumbprint matches the certificate"
run_ok "host openssl reads the server certificate" host_ossl x509 -inform der -in "$UA_SERVER_CERT" -noout -text
expect_msg "URI:$UA_SERVER_APP_URI" "SAN holds the ApplicationUri $UA_SERVER_APP_URI"
expect_msg 'DNS:localhost' "SAN holds DNS:localhost"
expect_msg 'IP Address:127\.0\.0\.1' "SAN holds IP:127.0.0.1"
expect_msg 'Public-Key: \(2048 bit\)' "RSA 2048"
for d in "$UA_SERVER_TRUSTED" "$UA_SERVER_REJECTED"; do
    [ -d "$d" ] || fail "$d missing"
done
ok "PKI folders: $UA_SERVER_TRUSTED, $UA_SERVER_REJECTED"

# ---- discovery --------------------------------------------------------------------
step "GetEndpoints over a None channel"
check_ok "GetEndpoints" --endpoints
expect_msg '^endpoints=7$' "7 endpoints"
expect_msg "^endpoint=$UA_URL None None " "None endpoint"
for pol in Basic256Sha256 Aes128_Sha256_RsaOaep Aes256_Sha256_RsaPss; do
    for mode in Sign SignAndEncrypt; do
        expect_msg "^endpoint=$UA_URL $pol $mode tokens=.*UserName.*Anonymous" "endpoint $pol $mode (UserName, Anonymous)"
    done
done
expect_msg "^server_thumbprint=$UA_SERVER_THUMBPRINT\$" "endpoints carry the server certificate"
expect_msg "^server_app_uri=$UA_SERVER_APP_URI\$" "ApplicationUri $UA_SERVER_APP_URI"

# ---- the trust story ----------------------------------------------------------------
step "first connection: the server does not know our certificate"
check_refused "unknown client certificate" BadSecurityChecksFailed --pki cpki
expect_msg '^error=BadSecurityChecksFailed .*OpenSecureChannel' "refused at OpenSecureChannel"
CLIENT_TP=$(sed -n 's/^client_thumbprint=//p' "$LAST_OUT")
[ ${#CLIENT_TP} = 40 ] || fail "no client thumbprint"
rf=$(ua_server_rejected_file "$CLIENT_TP") || fail "client certificate $CLIENT_TP not in $UA_SERVER_REJECTED"
ok "client certificate landed in rejected/: $(basename "$rf")"
case $(basename "$rf") in
"uakey-check-client[$(printf %s "$CLIENT_TP" | tr A-F a-f)].pem") ok "named <CN>[<sha1 lower-case>].pem" ;;
*) fail "unexpected name $(basename "$rf")" ;;
esac
[ -z "$(ls -A "$UA_SERVER_TRUSTED")" ] || fail "trusted/certs is not empty"
ua_server_trust_client "$CLIENT_TP"
[ -z "$(ls -A "$UA_SERVER_REJECTED")" ] || fail "rejected/ is not empty after the move"

# ---- policies x modes ---------------------------------------------------------------
step "after the move: 3 policies x 2 modes, session and Read of CurrentTime"
check_ok "3 x 2 in one client run" --pki cpki \
    --policy Basic256Sha256,Aes128_Sha256_RsaOaep,Aes256_Sha256_RsaPss --mode Sign,SignAndEncrypt
for pol in Basic256Sha256 Aes128_Sha256_RsaOaep Aes256_Sha256_RsaPss; do
    for mode in Sign SignAndEncrypt; do
        expect_msg "^passed=$pol $mode\$" "$pol $mode: session, Read, close"
    done
done
for v in $(sed -n 's/^value=//p' "$LAST_OUT"); do
    case $v in
    20[0-9][0-9]-[01][0-9]-[0-3][0-9]T*Z) ;;
    *) fail "CurrentTime '$v' is not a timestamp" ;;
    esac
done
ok "6 reads of ns=0;i=2258, e.g. $VALUE"

step "user tokens"
check_ok "UserName alice on Aes256_Sha256_RsaPss SignAndEncrypt and on the None endpoint" --pki cpki \
    --policy Aes256_Sha256_RsaPss,None --mode SignAndEncrypt,None --user alice:secret
expect_msg '^passed=Aes256_Sha256_RsaPss SignAndEncrypt$' "alice over Aes256_Sha256_RsaPss"
expect_msg '^passed=None None$' "alice over None (password encrypted for the server certificate)"
[ "$(grep -c '^user=alice$' "$LAST_OUT")" = 2 ] || fail "not two sessions as alice"
ok "two sessions as alice"
check_refused "wrong password" BadUserAccessDenied --pki cpki --user alice:wrong
expect_msg '^error=BadUserAccessDenied .*ActivateSession' "refused at ActivateSession"

step "security token lifetime"
check_ok "RequestedLifetime 4000 ms, session held 4 s" --pki cpki --lifetime 4000 --hold 4
expect_msg '^revised_lifetime=4000$' "revisedLifetime 4000 (honoured)"
n=$(sed -n 's/^token_renewals=//p' "$LAST_OUT")
[ "${n:-0}" -ge 1 ] || fail "no token renewal in 4 s"
ok "$n token renewal(s) at 75 % of 4000 ms, reads kept working"
ua_server_wait_log 'closed: Basic256Sha256 SignAndEncrypt, [2-9] security token\(s\)' 5 ||
    { ua_server_log_tail 20; fail "server log does not show the renewals"; }
ok "server log: $(grep -Eo 'closed: Basic256Sha256 SignAndEncrypt, [2-9] security token\(s\) issued' "$UA_SERVER_LOG" | head -n1)"
check_ok "RequestedLifetime 300 ms" --pki cpki --lifetime 300
expect_msg '^revised_lifetime=1000$' "revised up to the floor (--min-token-lifetime, default 1000 ms)"

step "test variable"
check_ok "write 41, read back" --pki cpki --write 'ns=1;s=uakey.Counter=41' --read 'ns=1;s=uakey.Counter'
case $VALUE in
4[1-3]) ok "ns=1;s=uakey.Counter reads $VALUE" ;;
*) fail "ns=1;s=uakey.Counter reads '$VALUE', want 41 (+ up to 2 s of counting)" ;;
esac

step "a certificate put into trusted/certs while the server runs"
run_ok "second client certificate" "$UA_CHECK" --pki cpki2 --cert-info --cn "second client" \
    --app-uri urn:uakey:test:second
ua_server_add_trusted cpki2/client_certificate.der
check_ok "second client connects at once" --pki cpki2 --cn "second client" --app-uri urn:uakey:test:second
[ -z "$(ls -A "$UA_SERVER_REJECTED")" ] || fail "rejected/ is not empty"
ok "nothing rejected"

# ---- stop, restart ------------------------------------------------------------------
step "stop and restart"
pid=$UA_SERVER_PID
old_port=$UA_PORT
t0=$(date +%s%N)
ua_server_stop
t1=$(date +%s%N)
kill -0 "$pid" 2>/dev/null && fail "server pid $pid still running"
ok "SIGTERM stopped the server in $(( (t1 - t0) / 1000000 )) ms"
if ! grep -q 'stopping (SIGTERM)' "$UA_SERVER_LOG" || ! grep -q 'stopped after' "$UA_SERVER_LOG"; then
    ua_server_log_tail 10
    fail "no clean shutdown in the log"
fi
ok "clean shutdown (server.shutdown) logged"
old_tp=$UA_SERVER_THUMBPRINT
ua_server_start srv --user alice:secret --none discovery
ok "restart in ${UA_SERVER_START_SECONDS} s (certificate exists)"
[ "$UA_SERVER_THUMBPRINT" = "$old_tp" ] || fail "the restart made a new certificate"
ok "same server certificate after the restart (port $old_port -> $UA_PORT)"
check_ok "trust survives the restart" --pki cpki --policy Aes128_Sha256_RsaOaep
check_ok "--none discovery: GetEndpoints still works" --endpoints
expect_msg '^endpoints=6$' "6 endpoints (None hidden)"
ua_server_stop

step "--watch-pid"
sleep 60 &
sleeper=$!
"$UA_NODE" "$UA_INTEROP_DIR/ua_server.mjs" --pki "$T/srv/pki" --ready "$T/srv/ready2" \
    --watch-pid "$sleeper" --log "$T/srv/watch.log" --max-runtime 60 >srv/watch.out 2>&1 </dev/null &
wpid=$!
for _ in $(seq 300); do [ -f srv/ready2 ] && break; sleep 0.1; done
[ -f srv/ready2 ] || { kill "$wpid" "$sleeper" 2>/dev/null; show srv/watch.log; fail "second server did not start"; }
kill "$sleeper"
wait "$sleeper" 2>/dev/null
for _ in $(seq 50); do kill -0 "$wpid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$wpid" 2>/dev/null; then
    kill -9 "$wpid"
    show srv/watch.log
    fail "server did not leave within 5 s of the watched process"
fi
wait "$wpid" 2>/dev/null
grep -q "watched pid $sleeper is gone" srv/watch.log || { show srv/watch.log; fail "no watch-pid line"; }
ok "server left when the watched process was gone"

step "nothing left behind"
left=$(ps -eo pid=,args= | grep -F -e "$T/" | grep -v -e grep -e "ps -eo" || true)
ps -o pid=,comm=,args= --ppid $$ >children.txt # (no $(...): its subshell would count)
kids=$(awk '$2 != "ps"' children.txt)
[ -z "$left$kids" ] || { say "$left"; say "$kids"; fail "processes left running"; }
ok "no process of this test is running"
ok "selftest took $(( $(date +%s) - T_START )) s"
finish
