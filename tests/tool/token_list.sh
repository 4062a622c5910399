#!/bin/bash
# uakey token list: the test token with its URI (module from
# UAKEY_PKCS11_MODULE or --module), a filter URI, --json; a missing module
# is one line.
. "$(dirname "$0")/helpers.sh"

tool_ok "token list" "$UAKEY" token list
expect_msg "^pkcs11:.*token=$UK_TOKEN_LABEL" "the test token's URI"
expect_msg "^ +label: $UK_TOKEN_LABEL\$" "its label"
expect_msg "^ +model: SoftHSM" "its model"
expect_msg "login-required" "its flags"
tool_ok "token list --module" env -u UAKEY_PKCS11_MODULE OPENSSL_CONF=/dev/null "$UAKEY_BIN" \
    token list --module "$UK_MODULE"
expect_msg "label: $UK_TOKEN_LABEL" "--module finds the token"
tool_ok "token list with a filter" "$UAKEY" token list "pkcs11:token=$UK_TOKEN_LABEL"
expect_msg "label: $UK_TOKEN_LABEL" "filter keeps the test token"
tool_ok "token list with a filter that matches nothing" "$UAKEY" token list 'pkcs11:token=none-such'
[ ! -s "$T/last.stdout" ] || { show "$T/last.stdout"; fail "tokens listed for token=none-such"; }
ok "nothing listed"
tool_ok "token list --json" "$UAKEY" token list --json
cp "$T/last.stdout" tokens.json
json_ok tokens.json "token list --json"
expect_msg "\"label\": \"$UK_TOKEN_LABEL\"" "JSON label"
tool_fail "a module that does not exist" 'module|no-such-module' \
    env OPENSSL_CONF=/dev/null "$UAKEY_BIN" token list --module /nonexistent/no-such-module.so
tool_fail "a bad filter URI" 'URI' "$UAKEY" token list 'pkcs11:token=%zz'
finish
