#!/bin/sh
# uakey tests: create the SoftHSM2 template token and the test variables.
#
#   setup-softhsm.sh DIR
#
# Writes, in DIR (created; an existing DIR/template is replaced):
#   template/tokens/   SoftHSM2 token "uakey-test" (never used directly by a
#                      test: tests/run-test.sh gives each test a private copy)
#   softhsm2.conf      points at template/tokens (for poking at it by hand)
#   *-pub.pem          public keys exported by pkcs11-tool (not by uakey)
#   *-cert.pem         self-signed certificates made with libp11's engine
#                      (not by uakey) and also stored in the token
#   openssl.cnf        default provider, then uakey (PIN in the config)
#   openssl-uakey-first.cnf / openssl-uakey-last.cnf   both load orders
#   testvars           sh-sourceable variables, written last
#
# Tools come from the environment (make passes configure's results) or PATH:
#   SOFTHSM2_UTIL PKCS11_TOOL SOFTHSM2_MODULE OPENSSL LIBP11_ENGINE
#   UK_PROVIDER_MODULE  absolute path of uakey.so for the "module =" line
#                       (empty: no module line, OPENSSL_MODULES decides)
# Without softhsm2-util / pkcs11-tool / the module, testvars says
# UK_TOKEN=none and token tests skip (or fail under UK_REQUIRE_SOFTHSM=1).
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
mkdir -p "$1"
DIR=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)

SOFTHSM2_UTIL=${SOFTHSM2_UTIL:-$(command -v softhsm2-util || true)}
PKCS11_TOOL=${PKCS11_TOOL:-$(command -v pkcs11-tool || true)}
OPENSSL=${OPENSSL:-$(command -v openssl || echo openssl)}
if [ -z "${SOFTHSM2_MODULE-}" ]; then
    for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/*/softhsm/libsofthsm2.so \
             /usr/local/lib/softhsm/libsofthsm2.so; do
        if [ -f "$m" ]; then SOFTHSM2_MODULE=$m; break; fi
    done
fi
SOFTHSM2_MODULE=${SOFTHSM2_MODULE-}
if [ -z "${LIBP11_ENGINE-}" ]; then
    for e in "$("$OPENSSL" version -e 2>/dev/null | sed -n 's/^ENGINESDIR: "\(.*\)"$/\1/p')/pkcs11.so" \
             /usr/lib/*/engines-3/pkcs11.so; do
        if [ -f "$e" ]; then LIBP11_ENGINE=$e; break; fi
    done
fi
LIBP11_ENGINE=${LIBP11_ENGINE-}
UK_PROVIDER_MODULE=${UK_PROVIDER_MODULE-}

PIN=12345678
SO_PIN=87654321
LABEL=uakey-test
BASEURI="pkcs11:token=$LABEL"

log() { echo "setup-softhsm: $*"; }
die() { echo "setup-softhsm: ERROR: $*" >&2; exit 1; }

# Runs a command with a timeout, showing it; output goes to DIR/setup.log.
run() {
    echo "+ $*" >>"$DIR/setup.log"
    if ! timeout -k 5 120 "$@" >>"$DIR/setup.log" 2>&1; then
        echo "setup-softhsm: command failed: $*" >&2
        echo "---- $DIR/setup.log (last 30 lines) ----" >&2
        tail -n 30 "$DIR/setup.log" >&2
        exit 1
    fi
}

# The libp11 engine, with no openssl.cnf (uakey stays out of it).
engine_ossl() {
    run env OPENSSL_CONF=/dev/null PKCS11_MODULE_PATH="$SOFTHSM2_MODULE" \
        OPENSSL_ENGINES="$(dirname "${LIBP11_ENGINE:-/nonexistent/x}")" \
        "$OPENSSL" "$@"
}

rm -f "$DIR/testvars" "$DIR/setup.log"
: >"$DIR/setup.log"

missing=
[ -n "$SOFTHSM2_UTIL" ] && [ -x "$SOFTHSM2_UTIL" ] || missing="$missing softhsm2-util"
[ -n "$PKCS11_TOOL" ] && [ -x "$PKCS11_TOOL" ] || missing="$missing pkcs11-tool"
[ -n "$SOFTHSM2_MODULE" ] && [ -f "$SOFTHSM2_MODULE" ] || missing="$missing libsofthsm2.so"
if [ -n "$missing" ]; then
    log "missing:$missing; token tests will skip (UK_TOKEN=none)"
    cat >"$DIR/testvars.tmp" <<EOF
# written by tests/setup-softhsm.sh: no token available
UK_TOKEN=none
UK_TOKEN_MISSING='$missing'
export UK_TOKEN UK_TOKEN_MISSING
EOF
    mv "$DIR/testvars.tmp" "$DIR/testvars"
    exit 0
fi

# ---- token ------------------------------------------------------------------
rm -rf "$DIR/template"
mkdir -p "$DIR/template/tokens"
cat >"$DIR/softhsm2.conf" <<EOF
# uakey test token (template; tests use private copies)
directories.tokendir = $DIR/template/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOF
SOFTHSM2_CONF=$DIR/softhsm2.conf
export SOFTHSM2_CONF

log "token '$LABEL' in $DIR/template/tokens"
run "$SOFTHSM2_UTIL" --init-token --free --label "$LABEL" --pin "$PIN" --so-pin "$SO_PIN"

P11="$PKCS11_TOOL --module $SOFTHSM2_MODULE --token-label $LABEL --login --pin $PIN"
# shellcheck disable=SC2086
keygen() { run $P11 --keypairgen "$@"; }

log "keys: rsa-key (01), ec-key (02), ec384-key (03), bp256-key (04), bp384-key (06)"
keygen --key-type rsa:2048 --label rsa-key --id 01 --usage-sign --usage-decrypt
keygen --key-type EC:prime256v1 --label ec-key --id 02 --usage-sign --usage-derive
keygen --key-type EC:secp384r1 --label ec384-key --id 03 --usage-sign --usage-derive
keygen --key-type EC:brainpoolP256r1 --label bp256-key --id 04 --usage-sign --usage-derive
keygen --key-type EC:brainpoolP384r1 --label bp384-key --id 06 --usage-sign --usage-derive

ED_URI=
ED_NOTE=
# Ed25519 lives in a second token: libp11 0.4.12 cannot enumerate a token
# holding an EdDSA key ("Unable to enumerate private keys"), which would
# break every libp11 cross-check on uakey-test.
ED_LABEL=uakey-ed
run "$SOFTHSM2_UTIL" --init-token --free --label "$ED_LABEL" --pin "$PIN" --so-pin "$SO_PIN"
P11ED="$PKCS11_TOOL --module $SOFTHSM2_MODULE --token-label $ED_LABEL --login --pin $PIN"
# shellcheck disable=SC2086
if timeout 60 $P11ED --keypairgen --key-type EC:edwards25519 --label ed-key --id 05 \
        --usage-sign >>"$DIR/setup.log" 2>&1; then
    ED_URI="pkcs11:token=$ED_LABEL;object=ed-key;type=private"
    log "key: ed-key (05, Ed25519) in token '$ED_LABEL'"
else
    ED_NOTE="pkcs11-tool/SoftHSM could not generate Ed25519 (see setup.log)"
    log "Ed25519: unsupported here ($ED_NOTE)"
fi

# ---- public keys, exported without uakey ---------------------------------------
# pkcs11-tool first (it writes DER, or PEM for Ed25519; OpenSSL detects
# which); pkcs11-tool 0.23 fails on P-384 ("cannot create EVP_PKEY"), then
# libp11's engine exports it.
export_pub() { # tool-args id name uri
    p11=$1 id=$2 name=$3 uri=$4
    rm -f "$DIR/$name-pub.raw" "$DIR/$name-pub.pem"
    echo "+ export public key $name" >>"$DIR/setup.log"
    # shellcheck disable=SC2086
    if timeout 60 $p11 --read-object --type pubkey --id "$id" -o "$DIR/$name-pub.raw" \
            >>"$DIR/setup.log" 2>&1 \
        && "$OPENSSL" pkey -pubin -in "$DIR/$name-pub.raw" -out "$DIR/$name-pub.pem" \
            >>"$DIR/setup.log" 2>&1; then
        :
    elif [ -n "$LIBP11_ENGINE" ]; then
        engine_ossl pkey -engine pkcs11 -inform engine -pubin \
            -in "$uri;type=public" -pubout -out "$DIR/$name-pub.pem"
    fi
    rm -f "$DIR/$name-pub.raw"
    [ -s "$DIR/$name-pub.pem" ]
}
export_pub "$P11" 01 rsa "$BASEURI;object=rsa-key" || die "cannot export rsa-key public key"
export_pub "$P11" 02 ec "$BASEURI;object=ec-key" || die "cannot export ec-key public key"
export_pub "$P11" 03 ec384 "$BASEURI;object=ec384-key" || die "cannot export ec384-key public key"
export_pub "$P11" 04 bp256 "$BASEURI;object=bp256-key" || die "cannot export bp256-key public key"
export_pub "$P11" 06 bp384 "$BASEURI;object=bp384-key" || die "cannot export bp384-key public key"
if [ -n "$ED_URI" ] && ! export_pub "$P11ED" 05 ed "pkcs11:token=$ED_LABEL;object=ed-key"; then
    ED_NOTE="Ed25519 key made but its public key could not be exported"
    ED_URI=
fi

# ---- certificates, signed through libp11's engine (not uakey) ---------------
UK_CERTS=none
if [ -n "$LIBP11_ENGINE" ]; then
    mkcert() { # name id digest
        engine_ossl req -new -x509 -engine pkcs11 -keyform engine \
            -key "$BASEURI;object=$1;type=private;pin-value=$PIN" \
            -"$3" -days 3650 -subj "/O=uakey tests/CN=$1" \
            -addext "subjectAltName=URI:urn:uakey:test:$1" \
            -out "$DIR/$1-cert.pem"
        run "$OPENSSL" x509 -in "$DIR/$1-cert.pem" -outform DER -out "$DIR/$1-cert.der"
        # shellcheck disable=SC2086
        run $P11 --write-object "$DIR/$1-cert.der" --type cert --id "$2" --label "$1"
        rm -f "$DIR/$1-cert.der"
    }
    log "certificates for rsa-key and ec-key (libp11 engine)"
    mkcert rsa-key 01 sha256
    mkcert ec-key 02 sha256
    # The certificate's key must be the token's key.
    for k in rsa ec; do
        a=$("$OPENSSL" x509 -in "$DIR/$k-key-cert.pem" -noout -pubkey)
        b=$(cat "$DIR/$k-pub.pem")
        [ "$a" = "$b" ] || die "$k-key-cert.pem does not hold the token's $k public key"
    done
    mv "$DIR/rsa-key-cert.pem" "$DIR/rsa-cert.pem"
    mv "$DIR/ec-key-cert.pem" "$DIR/ec-cert.pem"
    UK_CERTS=token
else
    log "libp11 engine missing: no certificates in the token"
fi

# ---- openssl.cnf variants ------------------------------------------------------
export UK_PROVIDER_MODULE
UK_MODULE=$SOFTHSM2_MODULE UK_PIN=$PIN sh "$HERE/write-cnf.sh" "$DIR/openssl-uakey-last.cnf" uakey-last
UK_MODULE=$SOFTHSM2_MODULE UK_PIN=$PIN sh "$HERE/write-cnf.sh" "$DIR/openssl-uakey-first.cnf" uakey-first
cp "$DIR/openssl-uakey-last.cnf" "$DIR/openssl.cnf"

# ---- testvars -----------------------------------------------------------------
cat >"$DIR/testvars.tmp" <<EOF
# written by tests/setup-softhsm.sh; source it to work by hand:
#   . $DIR/testvars; export OPENSSL_CONF=\$UK_OPENSSL_CNF
# (tests/run-test.sh points SOFTHSM2_CONF/OPENSSL_CONF at private copies)
UK_TOKEN=softhsm
UK_SETUP_DIR='$DIR'
SOFTHSM2_CONF='$DIR/softhsm2.conf'
UK_TEMPLATE_TOKENS='$DIR/template/tokens'
UK_MODULE='$SOFTHSM2_MODULE'
UK_PIN='$PIN'
UK_SO_PIN='$SO_PIN'
UK_TOKEN_LABEL='$LABEL'
UK_BASEURI='$BASEURI'
UK_RSA_URI='$BASEURI;object=rsa-key;type=private'
UK_EC_URI='$BASEURI;object=ec-key;type=private'
UK_EC384_URI='$BASEURI;object=ec384-key;type=private'
UK_BP256_URI='$BASEURI;object=bp256-key;type=private'
UK_BP384_URI='$BASEURI;object=bp384-key;type=private'
UK_ED_URI='$ED_URI'
UK_ED_TOKEN_LABEL='$ED_LABEL'
UK_ED_NOTE='$ED_NOTE'
UK_RSA_CERT_URI='$BASEURI;object=rsa-key;type=cert'
UK_EC_CERT_URI='$BASEURI;object=ec-key;type=cert'
UK_RSA_PUB='$DIR/rsa-pub.pem'
UK_EC_PUB='$DIR/ec-pub.pem'
UK_EC384_PUB='$DIR/ec384-pub.pem'
UK_BP256_PUB='$DIR/bp256-pub.pem'
UK_BP384_PUB='$DIR/bp384-pub.pem'
UK_ED_PUB='$( [ -n "$ED_URI" ] && echo "$DIR/ed-pub.pem" )'
UK_RSA_CERT='$( [ "$UK_CERTS" = token ] && echo "$DIR/rsa-cert.pem" )'
UK_EC_CERT='$( [ "$UK_CERTS" = token ] && echo "$DIR/ec-cert.pem" )'
UK_LIBP11_ENGINE='$LIBP11_ENGINE'
UK_OPENSSL='$OPENSSL'
UK_PKCS11_TOOL='$PKCS11_TOOL'
UK_SOFTHSM2_UTIL='$SOFTHSM2_UTIL'
UK_PROVIDER_MODULE='$UK_PROVIDER_MODULE'
UK_OPENSSL_CNF='$DIR/openssl.cnf'
UK_CNF_UAKEY_FIRST='$DIR/openssl-uakey-first.cnf'
UK_CNF_UAKEY_LAST='$DIR/openssl-uakey-last.cnf'
export UK_TOKEN UK_SETUP_DIR SOFTHSM2_CONF UK_TEMPLATE_TOKENS UK_MODULE UK_PIN \\
    UK_SO_PIN UK_TOKEN_LABEL UK_BASEURI UK_RSA_URI UK_EC_URI UK_EC384_URI \\
    UK_BP256_URI UK_BP384_URI UK_ED_URI UK_ED_TOKEN_LABEL UK_ED_NOTE UK_RSA_CERT_URI UK_EC_CERT_URI \\
    UK_RSA_PUB UK_EC_PUB UK_EC384_PUB UK_BP256_PUB UK_BP384_PUB UK_ED_PUB UK_RSA_CERT \\
    UK_EC_CERT UK_LIBP11_ENGINE UK_OPENSSL UK_PKCS11_TOOL UK_SOFTHSM2_UTIL \\
    UK_PROVIDER_MODULE UK_OPENSSL_CNF UK_CNF_UAKEY_FIRST UK_CNF_UAKEY_LAST
EOF
mv "$DIR/testvars.tmp" "$DIR/testvars"
log "done; variables in $DIR/testvars"
