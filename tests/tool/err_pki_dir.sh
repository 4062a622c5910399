#!/bin/bash
# PKI directories that cannot be used (tests run as root, so a path below a
# regular file stands in for "no permission"): pki init, store commands and
# cert create fail with one line naming the path; a directory without the
# layout is not taken for a store.
. "$(dirname "$0")/helpers.sh"

printf 'a regular file\n' >plainfile
tool_fail "pki init below a regular file" 'plainfile' "$UAKEY" pki init "$T/plainfile/x"
tool_fail "pki init below /etc/passwd" '/etc/passwd' "$UAKEY" pki init /etc/passwd/x
tool_fail "trust list on /etc/passwd/x" '/etc/passwd' "$UAKEY" trust list --pki /etc/passwd/x
tool_fail "trust list on a missing directory" 'missing-dir' "$UAKEY" trust list --pki missing-dir
mkdir notastore
host_selfsigned c.der peer
tool_fail "trust add into a directory without the layout" 'notastore' \
    "$UAKEY" trust add --pki notastore c.der
[ -z "$(ls notastore)" ] || fail "something was created in notastore/"
ok "notastore/ left empty"
tool_fail "verify against a directory without the layout" 'notastore' \
    "$UAKEY" verify --pki notastore c.der
tool_fail "cert create into a directory without the layout" 'notastore' \
    "$UAKEY" --pin-file "$PIN_FILE" cert create --pki notastore --key "$UK_EC_URI" --name app \
    --app-uri urn:uakey:test:app
tool_fail "cert create with --pki a regular file" 'plainfile' \
    "$UAKEY" --pin-file "$PIN_FILE" cert create --pki plainfile --key "$UK_EC_URI" --name app \
    --app-uri urn:uakey:test:app
step "a store whose own/certs is a file"
new_pki broken
rmdir broken/own/certs && printf 'x\n' >broken/own/certs
tool_fail "cert create when own/certs is a file" 'own/certs|broken' \
    "$UAKEY" --pin-file "$PIN_FILE" cert create --pki broken --key "$UK_EC_URI" --name app \
    --app-uri urn:uakey:test:app
no_private_keys "$T"
finish
