#!/bin/bash
# uakey discover / uakey connect against a node-opcua server (an OPC UA stack
# nobody here wrote), with the client key in the SoftHSM2 token.
#
# The seed's first-connection story, end to end:
#   1. connect: the server certificate is unknown -> BadCertificateUntrusted,
#      the certificate lands in our rejected/, the message gives the command
#   2. uakey rejected trust
#   3. connect: the server has put OUR certificate into its rejected folder ->
#      BadSecurityChecksFailed, the message names our thumbprint
#   4. move our certificate to the server's trusted folder
#   5. connect: session, Read of the current time; the PKCS#11 trace shows
#      C_Sign and C_Decrypt with the token key and the output names its URI
# Then every policy x mode, a request and a response in several chunks, a
# UserName login (and a wrong password), a --watch long enough to renew the
# security token, and a clientSignature spoiled by the test hook that
# node-opcua must refuse.
. "$(dirname "$0")/helpers.sh"
. "$UK_HELPER_DIR/tool/ua_server_lib.sh"

ua_server_start srv --user alice:secret --min-token-lifetime 1000 --variable

step "our identity: a token key and its certificate"
gen_key ua-client rsa2048
new_pki pki
tool_ok "cert create" "$UAKEY" --pin-file "$PIN_FILE" cert create --pki pki --key "$KEY_URI" \
    --name client --app-uri urn:uakey:test:connect-client --dns localhost --ip 127.0.0.1
CLIENT_THUMB=$(host_thumbprint pki/own/certs/client.der)
[ ${#CLIENT_THUMB} = 40 ] || fail "client thumbprint '$CLIENT_THUMB'"
# the object label in the URI the output must name
KEY_RE='pkcs11:[^ ]*object=ua-client'

CONNECT=("$UAKEY" --pin-file "$PIN_FILE" connect "$UA_URL" --pki pki --name client --timeout 15000)

step "discover"
tool_ok "discover $UA_URL" "$UAKEY" discover --save-cert server.der "$UA_URL"
for p in Basic256Sha256 Aes128_Sha256_RsaOaep Aes256_Sha256_RsaPss; do
    n=$(grep -A1 -E "^  SecurityPolicy: $p\$" "$T/last.stdout" | grep -cE '^  SecurityMode: +(Sign|SignAndEncrypt)$')
    [ "$n" = 2 ] || { show "$T/last.stdout"; fail "discover: $p in Sign and SignAndEncrypt ($n)"; }
done
ok "discover lists the 3 policies in Sign and SignAndEncrypt"
expect_msg "thumbprint: +$UA_SERVER_THUMBPRINT" "discover shows the server thumbprint"
expect_msg "ApplicationUri: $UA_SERVER_APP_URI" "discover shows the server ApplicationUri"
expect_msg 'UserTokens: .*Anonymous' "discover shows the user token types"
expect_msg 'valid: +[0-9]{4}-[0-9]{2}-[0-9]{2}T.* to [0-9]{4}-' "discover shows the validity"
cmp -s server.der "$UA_SERVER_CERT" || fail "--save-cert wrote another certificate"
ok "--save-cert wrote the server certificate"

step "1st attempt: the server is not trusted yet"
tool_fail "connect, unknown server" \
    "BadCertificateUntrusted 0x801A0000.*uakey rejected trust --pki pki $UA_SERVER_THUMBPRINT" \
    "${CONNECT[@]}"
expect_msg "subject: .*CN=uakey test server" "the server certificate's details are printed"
ls pki/rejected/certs | grep -qF "[$UA_SERVER_THUMBPRINT].der" ||
    fail "the server certificate is not in our rejected/"
ok "the server certificate is in our rejected/"

step "trust it"
tool_ok "rejected trust" "$UAKEY" rejected trust --pki pki "$UA_SERVER_THUMBPRINT"

step "2nd attempt: the server has not trusted us yet"
tool_fail "connect, client unknown to the server" \
    "BadSecurityChecksFailed 0x80130000.*our certificate \\(thumbprint $CLIENT_THUMB\\) into its rejected list" \
    "${CONNECT[@]}"
expect_msg "own/certs/client.der thumbprint $CLIENT_THUMB" "our certificate is named"
ua_server_rejected_file "$CLIENT_THUMB" >/dev/null || fail "our certificate is not in the server's rejected folder"
ok "our certificate is in the server's rejected folder"
ua_server_trust_client "$CLIENT_THUMB"

step "3rd attempt: a session, every asymmetric operation in the token"
dbg=$T/p11-trace.log
rm -f "$dbg"
tool_ok "connect" env UAKEY_DEBUG=pkcs11 UAKEY_DEBUG_FILE="$dbg" "${CONNECT[@]}"
expect_msg "OpenSecureChannel: Basic256Sha256 SignAndEncrypt.*signed and response decrypted by $KEY_RE" \
    "OpenSecureChannel names the token key"
expect_msg "ActivateSession: user anonymous; clientSignature made by $KEY_RE" \
    "ActivateSession names the token key"
expect_msg 'CreateSession: .*server signature verified' "the server signature was checked"
expect_msg '^Read ns=0;i=2258: [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z' "the current time was read"
t_read=$(sed -n 's/^Read ns=0;i=2258: \([0-9T:.-]*\)Z.*/\1/p' "$T/last.stdout" | head -n1)
d=$(( $(date -u +%s) - $(date -u -d "${t_read%.*}" +%s) ))
[ "${d#-}" -le 120 ] || fail "the time read ($t_read) is $d s off"
ok "the time read is the server's current time ($t_read, $d s off)"
expect_msg 'CloseSession: Good' "CloseSession"
signs=$(grep -c 'C_Sign\b' "$dbg" || true)
decs=$(grep -c 'C_Decrypt\b' "$dbg" || true)
[ "$signs" -ge 2 ] && [ "$decs" -ge 1 ] || { show "$dbg"; fail "PKCS#11 trace: $signs C_Sign, $decs C_Decrypt"; }
ok "the token signed ($signs C_Sign: OpenSecureChannel, clientSignature) and decrypted ($decs C_Decrypt)"
if grep -q -- "$UK_PIN" "$dbg"; then fail "the PIN is in the debug log"; fi
ok "the PIN is not in the debug log"

step "trust on first use: --trust-server, or a yes on a terminal"
for d in pki-tofu pki-tty pki-no; do
    cp -r pki "$d" && rm -f "$d"/trusted/certs/* "$d"/rejected/certs/* || fail "copy of pki to $d"
done
tool_ok "connect --trust-server" "$UAKEY" --pin-file "$PIN_FILE" connect "$UA_URL" --pki pki-tofu \
    --name client --timeout 15000 --trust-server
expect_msg "now trusted" "--trust-server trusts the unknown server certificate"
ls pki-tofu/trusted/certs | grep -qF "[$UA_SERVER_THUMBPRINT].der" || fail "not in pki-tofu/trusted/certs"
ok "the server certificate is in trusted/certs"
if command -v script >/dev/null 2>&1; then
    tty_cmd=$(printf '%q ' "$UAKEY" --pin-file "$PIN_FILE" connect "$UA_URL" --pki pki-tty \
        --name client --timeout 15000)
    (sleep 1; printf 'y\n') | timeout -k 5 60 script -qec "$tty_cmd" /dev/null >tty.out 2>&1 ||
        { show tty.out; fail "connect on a terminal, answer yes"; }
    grep -q "Trust the server certificate $UA_SERVER_THUMBPRINT? \[y/N\]" tty.out &&
        grep -q '^Read ns=0;i=2258: ' tty.out || { show tty.out; fail "prompt, then a session"; }
    ok "on a terminal uakey asks, a yes trusts the server and the session follows"
    tty_cmd=$(printf '%q ' "$UAKEY" --pin-file "$PIN_FILE" connect "$UA_URL" --pki pki-no \
        --name client --timeout 15000)
    (sleep 1; printf 'n\n') | timeout -k 5 60 script -qec "$tty_cmd" /dev/null >tty.out 2>&1 &&
        { show tty.out; fail "connect on a terminal, answer no: it succeeded"; }
    grep -q 'BadCertificateUntrusted 0x801A0000' tty.out || { show tty.out; fail "answer no"; }
    ok "a no leaves the server untrusted (BadCertificateUntrusted)"
else
    say "  (no script(1): the terminal prompt is not tested)"
fi

step "every policy and mode"
for p in Basic256Sha256 Aes128_Sha256_RsaOaep Aes256_Sha256_RsaPss; do
    for m in Sign SignAndEncrypt; do
        tool_ok "connect $p $m" "${CONNECT[@]}" --policy "$p" --mode "$m"
        expect_msg "OpenSecureChannel: $p $m, .*decrypted by $KEY_RE" "$p $m: channel through the token"
        expect_msg '^Read ns=0;i=2258: [0-9]{4}-' "$p $m: Read"
    done
done

step "messages in several chunks, both ways"
# the client announces a 64 KiB receive buffer, node-opcua too
trace=$T/opcua-trace.log
tool_ok "read a 200000-character value" env UAKEY_DEBUG=opcua UAKEY_DEBUG_FILE="$trace" \
    "${CONNECT[@]}" --read 'ns=1;s=uakey.Big'
expect_msg '^Read ns=1;s=uakey.Big: "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz' \
    "the value arrived whole"
grep -Eq 'response to request [0-9]+: 2000[0-9][0-9] bytes in [2-9] chunks' "$trace" ||
    { show "$trace"; fail "the response did not come in several chunks"; }
ok "the Read response came in $(sed -n 's/.*bytes in \([0-9]*\) chunks.*/\1/p' "$trace" | tail -n1) signed and encrypted chunks"
rm -f "$trace"
long=$(head -c 100000 /dev/zero | tr '\0' q)
tool_fail "a 100 kB request reaches the server" 'BadNodeIdUnknown 0x80340000: Read ns=1;s=q+\.\.\.' \
    env UAKEY_DEBUG=opcua UAKEY_DEBUG_FILE="$trace" "${CONNECT[@]}" --read "ns=1;s=$long"
grep -Eq 'MSG request [0-9]+: 1000[0-9][0-9] bytes in [2-9] chunks' "$trace" ||
    { show "$trace"; fail "the request was not sent in several chunks"; }
ok "the 100 kB Read request went out in several chunks and node-opcua answered it"

step "UserName identity"
( umask 077; printf 'secret\n' >pw.txt; printf 'wrong\n' >badpw.txt )
tool_ok "connect --user alice" "${CONNECT[@]}" --user alice --password-file pw.txt
expect_msg "ActivateSession: user alice; clientSignature made by $KEY_RE" "UserName login"
tool_fail "wrong password" 'BadUserAccessDenied 0x801F0000' \
    "${CONNECT[@]}" --user alice --password-file badpw.txt
if grep -q secret "$T/last.stdout" "$T/last.stderr"; then fail "the password was printed"; fi
ok "the password is never printed"

step "--watch renews the security token"
tool_ok "connect --watch 5 --lifetime 3000" "${CONNECT[@]}" --lifetime 3000 --watch 5 --interval 500
expect_msg "SecureChannel token renewed: channel [0-9]+ token [0-9]+.*decrypted by $KEY_RE" \
    "token renewed through the token key"
reads=$(grep -c '^Read ' "$T/last.stdout")
[ "$reads" -ge 6 ] || fail "only $reads reads during --watch 5"
ok "$reads reads during the watch, across the renewal"
expect_msg 'done: .*[1-9][0-9]* token renewal' "the summary counts the renewal"

step "a spoiled clientSignature is refused by node-opcua"
tool_fail "corrupt clientSignature" 'BadApplicationSignatureInvalid 0x80580000.*clientSignature' \
    env UAKEY_TEST_CORRUPT_CLIENT_SIGNATURE=1 "${CONNECT[@]}"

step "seeds for the fuzz target"
cap=$UK_BUILDDIR/tests/tmp/fuzz-capture
mkdir -p "$cap"
tool_ok "discover (captured)" env UAKEY_CAPTURE_DIR="$cap" "$UAKEY" discover "$UA_URL"
tool_ok "connect (captured)" env UAKEY_CAPTURE_DIR="$cap" "${CONNECT[@]}" --mode Sign \
    --user alice --password-file pw.txt
n=$(find "$cap" -name '*.bin' | wc -l)
[ "$n" -ge 8 ] || fail "only $n captured responses"
ok "$n chunks and responses captured in $cap"

# (the node-opcua server's own key in srv/ is the server's business)
no_private_keys pki "$cap"
hits=$(grep -rl --exclude-dir=srv -- 'PRIVATE KEY' "$T" 2>/dev/null || true)
[ -z "$hits" ] || { printf '%s\n' "$hits"; fail "private key material written under $T"; }
ok "no file in the test directory (but the server's srv/) holds 'PRIVATE KEY'"
finish
