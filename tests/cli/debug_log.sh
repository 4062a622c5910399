#!/bin/bash
# UAKEY_DEBUG / UAKEY_DEBUG_FILE: the log is written (mode 0600), traces
# Cryptoki calls, and never holds the PIN -- whether the PIN came from the
# config, a URI pin-value, or a pin-source file, and also on a failed login.
. "$(dirname "$0")/helpers.sh"

export UAKEY_DEBUG=all UAKEY_DEBUG_FILE=$T/debug.log
rm -f debug.log
printf 'debug\n' >msg
host_digest sha256 msg msg.sha256
printf '%s' "$UK_PIN" >pinfile
head -c 32 /dev/urandom >pt
host_ossl pkeyutl -encrypt -pubin -inkey "$UK_RSA_PUB" -in pt -out ct \
    -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256

step "operations with the debug log on"
run_ok "pubout" ossl pkey -in "$UK_RSA_URI" -pubout -out p.pub
run_ok "sign (PIN from the config)" ossl pkeyutl -sign -inkey "$UK_RSA_URI" -in msg.sha256 -out s1 -pkeyopt digest:sha256
run_ok "decrypt OAEP SHA-256 (fallback path)" ossl pkeyutl -decrypt -inkey "$UK_RSA_URI" -in ct -out pt.out \
    -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256
same_bytes pt pt.out "plaintext"
make_cnf nopin.cnf uakey-last pin=
export OPENSSL_CONF=$T/nopin.cnf
run_ok "sign (PIN in the URI)" ossl pkeyutl -sign -inkey "$UK_RSA_URI;pin-value=$UK_PIN" -in msg.sha256 -out s2 -pkeyopt digest:sha256
run_ok "sign (pin-source file)" ossl pkeyutl -sign -inkey "$UK_RSA_URI;pin-source=file:$T/pinfile" \
    -in msg.sha256 -out s3 -pkeyopt digest:sha256
should_fail "wrong PIN" ossl pkeyutl -sign -inkey "$UK_RSA_URI;pin-value=87654329" -in msg.sha256 -out s4 -pkeyopt digest:sha256
run_ok "genpkey" ossl genpkey -propquery provider=uakey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -pkeyopt "pkcs11_uri:$UK_BASEURI;object=dbg-key;pin-value=$UK_PIN" -out dbg.ref

step "the log"
nonempty debug.log "debug log written"
capture stat -c %a debug.log
expect_msg '^600$' "debug log mode 0600"
capture cat debug.log
expect_msg 'calling C_Login' "Cryptoki calls are traced"
expect_msg 'C_Sign|C_SignInit' "signing is traced"
expect_msg 'CKR_PIN_INCORRECT' "the failed login is in the log"
expect_no_msg "(^|[^0-9])$UK_PIN([^0-9]|\$)" "the PIN ($UK_PIN) is nowhere in the log"
expect_no_msg "87654329" "the wrong PIN is nowhere in the log"
expect_no_msg "(^|[^0-9])$UK_SO_PIN([^0-9]|\$)" "the SO PIN is nowhere in the log"
expect_no_msg 'pin-value=' "no pin-value attribute in the log"
lines=$(wc -l <debug.log)
say "  ($lines log lines; first 15:)"
show debug.log | sed -n 1,15p

step "categories"
export OPENSSL_CONF=$UK_OPENSSL_CNF
rm -f debug2.log
UAKEY_DEBUG=provider UAKEY_DEBUG_FILE=$T/debug2.log run_ok "provider only" ossl pkey -in "$UK_RSA_URI" -pubout -out p2.pub
capture cat debug2.log
expect_no_msg 'calling C_' "UAKEY_DEBUG=provider: no Cryptoki trace"
unset UAKEY_DEBUG UAKEY_DEBUG_FILE
run_ok "debug off" ossl pkey -in "$UK_RSA_URI" -pubout -out p3.pub
expect_no_msg 'calling C_|pkcs11|provider' "no debug output when UAKEY_DEBUG is unset"
finish
