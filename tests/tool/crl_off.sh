#!/bin/bash
# Revocation checks turned off per CA (OPC 10000-4 6.1.3 step 10: no error
# when the administrator disabled revocation for that CA): uakey crl off,
# crl on, crl list.  A leaf whose CA has no CRL is Good once that CA's
# revocation is off, still RevocationUnknown under another CA; "off" means
# the CA's CRLs are not looked at, so a CRL revoking the leaf does not
# count until crl on; an intermediate under a root without a CRL
# (IssuerRevocationUnknown) is Good once the root's revocation is off.  The
# setting lives in uakey-pki.conf; bad input fails with one line.  The test
# CAs are made here with openssl (keys in ca/, ca2/, root/, inter/).
. "$(dirname "$0")/helpers.sh"

ca_cnf() { # dir: the openssl ca settings for CRLs of dir/ca.pem
    : >"$1/index.txt"
    echo 01 >"$1/crlnumber"
    cat >"$1/ca.cnf" <<CNF
[ca]
default_ca = ca_sect
[ca_sect]
database = $T/$1/index.txt
crlnumber = $T/$1/crlnumber
certificate = $T/$1/ca.pem
private_key = $T/$1/ca.key
default_md = sha256
default_crl_days = 7
CNF
}
make_ca() { # dir CN
    mkdir -p "$1"
    host_ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1/ca.key" \
        -subj "/CN=$2/O=uakey tests" -days 30 \
        -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' \
        -addext 'subjectKeyIdentifier=hash' -out "$1/ca.pem" >/dev/null 2>&1 || fail "CA $2"
    host_ossl x509 -in "$1/ca.pem" -outform der -out "$1.der" || fail "CA $2 to DER"
    ca_cnf "$1"
}
make_sub_ca() { # dir CN parent-dir
    mkdir -p "$1"
    host_ossl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1/ca.key" \
        -subj "/CN=$2/O=uakey tests" -out "$1/ca.csr" >/dev/null 2>&1 || fail "CA $2 request"
    printf '%s\n' 'basicConstraints = critical, CA:TRUE' \
        'keyUsage = critical, keyCertSign, cRLSign' 'subjectKeyIdentifier = hash' \
        'authorityKeyIdentifier = keyid' >"$1/ca.ext"
    host_ossl x509 -req -in "$1/ca.csr" -CA "$3/ca.pem" -CAkey "$3/ca.key" -CAcreateserial \
        -days 25 -extfile "$1/ca.ext" -out "$1/ca.pem" >/dev/null 2>&1 || fail "$3 signs CA $2"
    host_ossl x509 -in "$1/ca.pem" -outform der -out "$1.der" || fail "CA $2 to DER"
    ca_cnf "$1"
}
make_leaf() { # name CA-dir (its software key goes to /dev/null)
    host_ossl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
        -subj "/CN=$1/O=uakey tests" -out "$1.csr" >/dev/null 2>&1 || fail "$1 request"
    printf '%s\n' 'basicConstraints = critical, CA:FALSE' \
        'keyUsage = critical, digitalSignature, nonRepudiation, keyEncipherment' \
        'extendedKeyUsage = serverAuth, clientAuth' 'subjectKeyIdentifier = hash' \
        'authorityKeyIdentifier = keyid' "subjectAltName = URI:urn:uakey:test:$1" >"$1.ext"
    host_ossl x509 -req -in "$1.csr" -CA "$2/ca.pem" -CAkey "$2/ca.key" -CAcreateserial -days 20 \
        -extfile "$1.ext" -out "$1.pem" >/dev/null 2>&1 || fail "$2 signs $1"
    host_ossl x509 -in "$1.pem" -outform der -out "$1.der" || fail "$1 to DER"
}
gen_crl() { # dir out.crl
    host_ossl ca -config "$1/ca.cnf" -gencrl -out "$2.pem" >/dev/null 2>&1 || fail "CRL of $1"
    host_ossl crl -in "$2.pem" -outform der -out "$2" || fail "CRL to DER"
}
conf_lines() { # thumbprint: how many no-revocation lines name it
    grep -ci "^no-revocation *= *$1\$" store/uakey-pki.conf
}

make_ca ca 'uakey test CA'
make_ca ca2 'other CA'
make_leaf peer ca
make_leaf peer2 ca2
TP_CA=$(host_thumbprint ca.der)
TP_CA2=$(host_thumbprint ca2.der)
[ ${#TP_CA} = 40 ] || fail "thumbprint of the CA: '$TP_CA'"

new_pki store
tool_ok "trust add both leaves" "$UAKEY" trust add --pki store peer.der peer2.der
tool_ok "issuer add both CAs" "$UAKEY" issuer add --pki store ca.der ca2.der

step "no CRL of either CA: revocation unknown"
tool_ok "crl list: nothing off" "$UAKEY" crl list --pki store
[ ! -s "$T/last.stdout" ] || { show "$T/last.stdout"; fail "crl list printed something"; }
ok "crl list is empty"
tool_rc 1 "verify peer" "$UAKEY" verify --pki store peer.der
expect_msg '^BadCertificateRevocationUnknown 0x801B0000' "peer: BadCertificateRevocationUnknown"

step "crl off for the CA (by file)"
tool_ok "crl off ca.der" "$UAKEY" crl off --pki store ca.der
expect_msg "^revocation check off for $TP_CA\$" "crl off names the CA's thumbprint"
[ "$(conf_lines "$TP_CA")" = 1 ] || { show store/uakey-pki.conf; fail "no-revocation line"; }
grep -q '^max-rejected = 100$' store/uakey-pki.conf || { show store/uakey-pki.conf; fail "max-rejected lost"; }
ok "uakey-pki.conf: no-revocation = $TP_CA, max-rejected kept"
tool_rc 0 "verify peer: Good" "$UAKEY" verify --pki store peer.der
expect_msg '^Good 0x00000000' "Good 0x00000000"
tool_rc 1 "verify peer2 (the other CA)" "$UAKEY" verify --pki store peer2.der
expect_msg '^BadCertificateRevocationUnknown 0x801B0000' "the other CA's leaf: still RevocationUnknown"

step "crl list"
tool_ok "crl list" "$UAKEY" crl list --pki store
expect_msg "^$TP_CA  .*CN=uakey test CA" "crl list: the CA's thumbprint and subject"
[ "$(wc -l <"$T/last.stdout")" = 1 ] || { show "$T/last.stdout"; fail "crl list: one line"; }
ok "crl list: one CA"
expect_no_msg "$TP_CA2" "the other CA is not listed"
tool_ok "crl list --json" "$UAKEY" crl list --pki store --json
json_ok "$T/last.stdout" "crl list --json"
expect_msg "\"thumbprint\": \"$TP_CA\"" "JSON thumbprint"
expect_msg '"group": "issuers"' "JSON: found in issuers/"

step "crl off again, by thumbprint in lower case"
tp_lower=$(printf %s "$TP_CA" | tr 'A-F' 'a-f')
tool_ok "crl off (again)" "$UAKEY" crl off --pki store "$tp_lower"
expect_msg "^revocation check off for $TP_CA \\(already\\)\$" "already off"
[ "$(conf_lines "$TP_CA")" = 1 ] || { show store/uakey-pki.conf; fail "duplicate line"; }
ok "still one no-revocation line, upper case"
tool_ok "crl off of a CA not in the store (thumbprint)" "$UAKEY" crl off --pki store \
    0123456789abcdef0123456789ABCDEF01234567
tool_ok "crl list" "$UAKEY" crl list --pki store
expect_msg '^0123456789ABCDEF0123456789ABCDEF01234567  \(not in trusted/ or issuers/\)' \
    "a CA not in the store is listed as such"
tool_ok "crl on for it" "$UAKEY" crl on --pki store 0123456789ABCDEF0123456789ABCDEF01234567

step "off means the CA's CRLs are not looked at: a CRL revoking the leaf"
host_ossl ca -config ca/ca.cnf -revoke peer.pem >/dev/null 2>&1 || fail "revoke peer"
gen_crl ca revoked.crl
tool_ok "crl add --issuers" "$UAKEY" crl add --pki store --issuers revoked.crl
tool_rc 0 "verify the revoked peer while off: Good" "$UAKEY" verify --pki store peer.der
expect_msg '^Good 0x00000000' "not reported revoked while off"

step "crl on restores the default"
tool_ok "crl on (thumbprint)" "$UAKEY" crl on --pki store "$TP_CA"
expect_msg "^revocation check on for $TP_CA\$" "crl on names the CA"
[ "$(conf_lines "$TP_CA")" = 0 ] || { show store/uakey-pki.conf; fail "line left"; }
ok "no-revocation line gone"
tool_rc 1 "verify the revoked peer" "$UAKEY" verify --pki store peer.der
expect_msg '^BadCertificateRevoked 0x801D0000' "BadCertificateRevoked 0x801D0000"
tool_ok "crl on (again)" "$UAKEY" crl on --pki store ca.der
expect_msg '\(already\)' "already on"
tool_ok "crl list" "$UAKEY" crl list --pki store
[ ! -s "$T/last.stdout" ] || { show "$T/last.stdout"; fail "crl list printed something"; }
ok "crl list is empty again"

step "an intermediate CA under a root without a CRL"
make_ca root 'uakey test root'
make_sub_ca inter 'uakey test intermediate' root
make_leaf peer3 inter
gen_crl inter inter.crl
TP_ROOT=$(host_thumbprint root.der)
new_pki store3
tool_ok "trust add root" "$UAKEY" trust add --pki store3 root.der
tool_ok "issuer add intermediate" "$UAKEY" issuer add --pki store3 inter.der
tool_ok "crl add (intermediate's)" "$UAKEY" crl add --pki store3 --issuers inter.crl
tool_rc 1 "verify peer3" "$UAKEY" verify --pki store3 peer3.der
expect_msg '^BadCertificateIssuerRevocationUnknown 0x801C0000' "BadCertificateIssuerRevocationUnknown"
tool_ok "crl off root" "$UAKEY" crl off --pki store3 root.der
tool_rc 0 "verify peer3: Good" "$UAKEY" verify --pki store3 peer3.der
expect_msg '^Good 0x00000000' "Good once the root's revocation is off"
tool_ok "crl off intermediate, crl on root" "$UAKEY" crl off --pki store3 inter.der
tool_ok "crl on root" "$UAKEY" crl on --pki store3 "$TP_ROOT"
tool_rc 1 "verify peer3" "$UAKEY" verify --pki store3 peer3.der
expect_msg '^BadCertificateIssuerRevocationUnknown 0x801C0000' "the root's CRL is required again"

step "bad input"
tool_fail "crl off of a leaf certificate" 'peer.der is not a CA certificate' \
    "$UAKEY" crl off --pki store peer.der
tool_fail "crl off of a missing file" 'nosuch.der' "$UAKEY" crl off --pki store nosuch.der
tool_fail "crl off of a short thumbprint" '0123' "$UAKEY" crl off --pki store 0123
tool_fail "crl off without a CA" 'give a CA certificate' "$UAKEY" crl off --pki store
tool_rc 2 "crl off without a CA: exit 2" "$UAKEY" crl off --pki store
tool_fail "crl list with an operand" 'takes no operand' "$UAKEY" crl list --pki store ca.der
tool_fail "crl off --issuers" 'not valid here|unknown option' \
    "$UAKEY" crl off --pki store --issuers ca.der
tool_fail "crl off without --pki" 'missing --pki' "$UAKEY" crl off ca.der
tool_fail "crl frob" "unknown subcommand 'frob'" "$UAKEY" crl frob --pki store
tool_ok "crl --help" "$UAKEY" crl --help
expect_msg '^       uakey crl off --pki DIR CA.der\|THUMBPRINT' "crl --help shows crl off"
cp store/uakey-pki.conf good.conf
printf 'no-revocation = not-a-thumbprint\n' >>store/uakey-pki.conf
n=$(wc -l <store/uakey-pki.conf)
tool_fail "crl list with a broken conf line" "uakey-pki.conf line $n: no-revocation" \
    "$UAKEY" crl list --pki store
tool_fail "crl off with a broken conf line" "uakey-pki.conf line $n" \
    "$UAKEY" crl off --pki store ca.der
tool_rc 1 "verify with a broken conf line" "$UAKEY" verify --pki store peer2.der
expect_msg "uakey-pki.conf line $n" "verify names the broken line"
cp good.conf store/uakey-pki.conf
tool_ok "crl list after the repair" "$UAKEY" crl list --pki store
finish
