#!/bin/bash
# Wrong PIN: the error names CKR_PIN_INCORRECT, exactly one C_Login is made
# (no automatic retry that could lock a token), and the right PIN works
# afterwards.  PIN from the URI, a pin-source file and the config.
. "$(dirname "$0")/helpers.sh"

printf 'pin test\n' >msg
host_digest sha256 msg msg.sha256
make_cnf nopin.cnf uakey-last pin=
export OPENSSL_CONF=$T/nopin.cnf

step "wrong pin-value in the URI"
export UAKEY_DEBUG=pkcs11 UAKEY_DEBUG_FILE=$T/wrong.log
rm -f wrong.log s.bad
should_fail "sign with pin-value=00000000" ossl pkeyutl -sign -inkey "$UK_RSA_URI;pin-value=00000000" \
    -in msg.sha256 -out s.bad -pkeyopt digest:sha256
expect_msg 'CKR_PIN_INCORRECT' "message names CKR_PIN_INCORRECT"
expect_msg 'uakey' "error from uakey"
expect_msg 'C_Login' "message names C_Login"
[ ! -s s.bad ] || fail "signature written despite the failed login"
ok "nothing written"
nonempty wrong.log "debug log written"
n=$(count_calls wrong.log C_Login)
if [ "$n" != 1 ]; then
    say "  expected: exactly 1 C_Login call in wrong.log; got: $n"
    grep -n 'C_Login' wrong.log | sed 's/^/    | /'
    fail "C_Login attempts with a wrong PIN: $n, want 1"
fi
ok "exactly one C_Login"
unset UAKEY_DEBUG UAKEY_DEBUG_FILE

step "the right PIN still works"
run_ok "sign with the right pin-value" ossl pkeyutl -sign -inkey "$UK_RSA_URI;pin-value=$UK_PIN" \
    -in msg.sha256 -out s.good -pkeyopt digest:sha256
host_verify "after a wrong PIN" "$UK_RSA_PUB" msg.sha256 s.good -pkeyopt digest:sha256

step "wrong PIN from a pin-source file"
printf '11111111\n' >badpin
should_fail "pin-source=file:badpin" ossl pkeyutl -sign -inkey "$UK_RSA_URI;pin-source=file:$T/badpin" \
    -in msg.sha256 -out s.bad2 -pkeyopt digest:sha256
expect_msg 'CKR_PIN_INCORRECT' "message names CKR_PIN_INCORRECT"
should_fail "pin-source file that does not exist" \
    ossl pkeyutl -sign -inkey "$UK_RSA_URI;pin-source=file:$T/no-such-pin" -in msg.sha256 -pkeyopt digest:sha256
expect_msg 'no-such-pin|pin-source|PIN' "the message is about the PIN source"

step "wrong PIN in the config"
make_cnf badpin.cnf uakey-last pin=22222222
OPENSSL_CONF=$T/badpin.cnf should_fail "pkcs11-module-token-pin = 22222222" \
    ossl pkeyutl -sign -inkey "$UK_RSA_URI" -in msg.sha256 -out s.bad3 -pkeyopt digest:sha256
expect_msg 'CKR_PIN_INCORRECT' "message names CKR_PIN_INCORRECT"
expect_no_msg '22222222' "the wrong PIN is not echoed"

step "the token is not locked"
run_ok "pkcs11-tool logs in with the right PIN" "$UK_PKCS11_TOOL" --module "$UK_MODULE" \
    --token-label "$UK_TOKEN_LABEL" --login --pin "$UK_PIN" -O -y privkey
expect_no_msg 'LOCKED' "not locked"
finish
