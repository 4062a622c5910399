#!/bin/bash
# Faults injected between uakey and SoftHSM by tests/p11shim (a pass-through
# PKCS#11 module): a device removed in the middle of signing, a session
# closed under us, a token that says we are not logged in, a wrong PIN
# counted at the module boundary.  Each must give a clear error naming the
# CKR_ code, never a crash, and the next operation must work again.
. "$(dirname "$0")/helpers.sh"

[ -n "${UK_SHIM-}" ] && [ -f "$UK_SHIM" ] || fail "the p11shim module is missing ($UK_SHIM)"
export UK_TEST_TARGET=$UK_MODULE
make_cnf shim.cnf uakey-last "p11module=$UK_SHIM"
export OPENSSL_CONF=$T/shim.cnf
LOOP="$UK_BUILDDIR/tests/tools/uk_signloop"
printf 'fault injection\n' >msg
host_digest sha256 msg msg.sha256

step "through the shim with no fault, everything works"
run_ok "sign through the shim" ossl pkeyutl -sign -inkey "$UK_RSA_URI" -in msg.sha256 \
    -out plain.sig -pkeyopt digest:sha256
host_verify "signature through the shim" "$UK_RSA_PUB" msg.sha256 plain.sig -pkeyopt digest:sha256

step "device removed during C_Sign"
UK_TEST_FAULT=C_Sign:1:CKR_DEVICE_REMOVED should_fail "sign with the device gone" \
    ossl pkeyutl -sign -inkey "$UK_RSA_URI" -in msg.sha256 -out gone.sig -pkeyopt digest:sha256
expect_msg 'C_Sign.*CKR_DEVICE_REMOVED' "the error names C_Sign and CKR_DEVICE_REMOVED"
expect_no_msg 'Segmentation|Aborted|core dumped' "no crash"
[ ! -s gone.sig ] || fail "a signature file was written although signing failed"
ok "nothing written"

step "a failed operation, then the next one in the same process works"
for fault in C_Sign:2:CKR_DEVICE_ERROR C_Sign:2:CKR_SESSION_HANDLE_INVALID \
             C_Sign:2:CKR_SESSION_CLOSED C_SignInit:2:CKR_USER_NOT_LOGGED_IN; do
    rc=${fault##*:}
    UK_TEST_FAULT=$fault run_ok "4 signatures, the 2nd gets $rc" $UK_CHECKER "$LOOP" "$UK_RSA_URI" 4
    expect_msg '^op 1: ok' "$rc: op 1 ok"
    expect_msg "^op 2: FAIL .*$rc" "$rc: op 2 fails naming $rc"
    expect_msg '^op 3: ok' "$rc: op 3 works again"
    expect_msg '^op 4: ok' "$rc: op 4 works"
done

step "the session pool recovers from a closed session on ECDSA too"
UK_TEST_FAULT=C_Sign:1:CKR_SESSION_CLOSED run_ok "ECDSA, 3 signatures" $UK_CHECKER "$LOOP" "$UK_EC_URI" 3
expect_msg '^op 1: FAIL .*CKR_SESSION_CLOSED' "op 1 fails naming CKR_SESSION_CLOSED"
expect_msg '^op 2: ok' "op 2 works"
expect_msg '^op 3: ok' "op 3 works"

step "decryption with the device gone"
head -c 32 /dev/urandom >pt
host_ossl pkeyutl -encrypt -pubin -inkey "$UK_RSA_PUB" -in pt -out ct -pkeyopt rsa_padding_mode:oaep
UK_TEST_FAULT=C_Decrypt:1:CKR_DEVICE_REMOVED should_fail "decrypt with the device gone" \
    ossl pkeyutl -decrypt -inkey "$UK_RSA_URI" -in ct -out pt.out -pkeyopt rsa_padding_mode:oaep
expect_msg 'CKR_DEVICE_REMOVED' "the error names CKR_DEVICE_REMOVED"
[ ! -s pt.out ] || fail "plaintext was written although decryption failed"
ok "no plaintext written"

step "token not present"
UK_TEST_FAULT=C_GetTokenInfo:-1:CKR_TOKEN_NOT_PRESENT should_fail "load with the token gone" \
    ossl pkey -in "$UK_RSA_URI" -pubout -out absent.pub
expect_msg 'CKR_TOKEN_NOT_PRESENT|no token|not present' "the error says the token is absent"

step "a wrong PIN reaches the module exactly once"
make_cnf shim-nopin.cnf uakey-last "p11module=$UK_SHIM" pin=
rm -f calls.txt
UK_TEST_COUNT_FILE=$T/calls.txt OPENSSL_CONF=$T/shim-nopin.cnf should_fail "wrong PIN" \
    ossl pkeyutl -sign -inkey "$UK_RSA_URI;pin-value=99999999" -in msg.sha256 -out wrong.sig \
    -pkeyopt digest:sha256
expect_msg 'CKR_PIN_INCORRECT' "the error names CKR_PIN_INCORRECT"
nonempty calls.txt "the shim counted the calls"
capture cat calls.txt
expect_msg '(^| )C_Login=1( |$)' "exactly one C_Login reached the module"
run_ok "the right PIN still works" env OPENSSL_CONF="$T/shim-nopin.cnf" "$OPENSSL" pkeyutl -sign \
    -inkey "$UK_RSA_URI;pin-value=$UK_PIN" -in msg.sha256 -out right.sig -pkeyopt digest:sha256
host_verify "signature after the wrong PIN" "$UK_RSA_PUB" msg.sha256 right.sig -pkeyopt digest:sha256
finish
