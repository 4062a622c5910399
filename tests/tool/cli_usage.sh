#!/bin/bash
# The command line itself: --help, COMMAND --help, --version, unknown
# commands and options (exit 2, one line), a missing option value.
. "$(dirname "$0")/helpers.sh"

tool_ok "--help" "$UAKEY" --help
expect_msg '^Usage: uakey' "usage line"
for c in token key pki cert trust issuer crl rejected verify keyref; do
    expect_msg "^  $c " "--help lists $c"
done
tool_ok "--version" "$UAKEY" --version
expect_msg '^uakey [0-9]+\.[0-9]+' "version number"
for c in "token list" "key generate" "key list" "pki init" "cert create" "cert csr" "cert install" \
         "cert show" "trust list" "issuer add" "crl add" "rejected list" "verify" "keyref"; do
    # shellcheck disable=SC2086
    tool_ok "$c --help" "$UAKEY" $c --help
    expect_msg '^Usage: uakey' "$c --help prints a usage text"
done
tool_ok "help after the options" "$UAKEY" cert create --pki x --help
tool_fail "no command" 'no command' "$UAKEY"
tool_rc 2 "no command: exit 2" "$UAKEY"
tool_fail "unknown command" "unknown command 'frob'" "$UAKEY" frob
tool_fail "unknown subcommand" "unknown subcommand 'frob'" "$UAKEY" cert frob
tool_fail "unknown global option" "unknown option '--frob'" "$UAKEY" --frob trust list
tool_fail "unknown command option" "unknown option '--frob'" "$UAKEY" trust list --pki x --frob
tool_fail "missing option value" "option '--pki' needs a value" "$UAKEY" trust list --pki
tool_fail "bad --days" "--days" "$UAKEY" cert create --days tomorrow
tool_fail "extra operand" "takes no operand" "$UAKEY" trust list --pki x y
finish
