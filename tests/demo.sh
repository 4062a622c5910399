#!/bin/sh
# uakey demo (make demo): on a fresh SoftHSM2 token made in a temporary
# directory, through the uakey provider only:
#   1. generate an RSA key in the token (openssl genpkey)
#   2. make a self-signed certificate with it (openssl req -x509)
#   3. sign a message, verify it on the host
#   4. encrypt with the certificate on the host, decrypt in the token
#      (OAEP SHA-256)
#   5. show that no private key file exists, only a key reference
# Exits non-zero on any failure.  UK_DEMO_KEEP=1 keeps the directory.
set -eu

OPENSSL=${OPENSSL:-openssl}
SOFTHSM2_UTIL=${SOFTHSM2_UTIL:-$(command -v softhsm2-util || true)}
if [ -z "${SOFTHSM2_MODULE-}" ]; then
    for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/*/softhsm/libsofthsm2.so; do
        [ -f "$m" ] && { SOFTHSM2_MODULE=$m; break; }
    done
fi
[ -n "$SOFTHSM2_UTIL" ] || { echo "demo: softhsm2-util not found (apt-get install softhsm2)" >&2; exit 1; }
[ -f "${SOFTHSM2_MODULE-}" ] || { echo "demo: libsofthsm2.so not found" >&2; exit 1; }

D=$(mktemp -d "${TMPDIR:-/tmp}/uakey-demo.XXXXXX")
cleanup() {
    rc=$?
    if [ "${UK_DEMO_KEEP:-0}" = 1 ] || [ $rc != 0 ]; then
        echo "demo: files kept in $D"
    else
        rm -rf "$D"
    fi
    [ $rc = 0 ] && echo "demo: all steps passed" || echo "demo: FAILED (exit $rc)"
}
trap cleanup EXIT
cd "$D"

n=0
step() { n=$((n + 1)); printf '\n[%d] %s\n' "$n" "$*"; }
show() { printf '    $ %s\n' "$*"; }
T="timeout 120"

step "fresh SoftHSM2 token 'uakey-demo' in $D/tokens"
mkdir tokens
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$D" >softhsm2.conf
export SOFTHSM2_CONF="$D/softhsm2.conf"
$T "$SOFTHSM2_UTIL" --init-token --free --label uakey-demo --pin 12345678 --so-pin 87654321 |
    sed 's/^/    /'

step "openssl.cnf: default provider + uakey (module, pkcs11-module-path, PIN)"
{
    printf 'openssl_conf = openssl_init\n[openssl_init]\nproviders = provider_sect\n'
    printf '[provider_sect]\ndefault = default_sect\nuakey = uakey_sect\n'
    printf '[default_sect]\nactivate = 1\n'
    printf '[uakey_sect]\n'
    [ -n "${UK_PROVIDER_MODULE-}" ] && printf 'module = %s\n' "$UK_PROVIDER_MODULE"
    printf 'pkcs11-module-path = %s\npkcs11-module-token-pin = 12345678\nactivate = 1\n' "$SOFTHSM2_MODULE"
} >openssl.cnf
sed 's/^/    | /' openssl.cnf
export OPENSSL_CONF="$D/openssl.cnf"
host() { OPENSSL_CONF=/dev/null $T "$OPENSSL" "$@"; }

step "generate an RSA-2048 key IN THE TOKEN (genpkey through uakey)"
show "openssl genpkey -propquery provider=uakey -algorithm RSA -pkeyopt bits:2048 -pkeyopt 'pkcs11_uri:pkcs11:token=uakey-demo;object=demo-key' -out demo-key.pem"
$T "$OPENSSL" genpkey -propquery provider=uakey -algorithm RSA -pkeyopt bits:2048 \
    -pkeyopt 'pkcs11_uri:pkcs11:token=uakey-demo;object=demo-key' -out demo-key.pem
echo "    demo-key.pem is a key reference, not a key:"
sed 's/^/    | /' demo-key.pem
KEY='pkcs11:token=uakey-demo;object=demo-key;type=private'

step "self-signed certificate with the token key (openssl req -x509)"
show "openssl req -new -x509 -key '$KEY' -subj '/CN=uakey demo' -days 30 -sha256 -out demo-cert.pem"
$T "$OPENSSL" req -new -x509 -key "$KEY" -subj "/O=uakey/CN=uakey demo" \
    -addext "subjectAltName=URI:urn:uakey:demo" -days 30 -sha256 -out demo-cert.pem
host x509 -in demo-cert.pem -noout -subject -dates | sed 's/^/    /'
host verify -CAfile demo-cert.pem demo-cert.pem | sed 's/^/    host: /'

step "sign a message in the token (RSA-PSS SHA-256), verify on the host"
echo "uakey demo message" >message.txt
show "openssl dgst -sha256 -sign demo-key.pem -sigopt rsa_padding_mode:pss -out message.sig message.txt"
$T "$OPENSSL" dgst -sha256 -sign demo-key.pem -sigopt rsa_padding_mode:pss \
    -sigopt rsa_pss_saltlen:digest -out message.sig message.txt
host x509 -in demo-cert.pem -noout -pubkey >demo-pub.pem
host dgst -sha256 -verify demo-pub.pem -sigopt rsa_padding_mode:pss \
    -sigopt rsa_pss_saltlen:digest -signature message.sig message.txt | sed 's/^/    host: /'

step "encrypt with the certificate on the host, decrypt in the token (OAEP SHA-256)"
head -c 32 /dev/urandom >secret.bin
host pkeyutl -encrypt -certin -inkey demo-cert.pem -in secret.bin -out secret.enc \
    -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256
show "openssl pkeyutl -decrypt -inkey '$KEY' -in secret.enc -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 ..."
$T "$OPENSSL" pkeyutl -decrypt -inkey "$KEY" -in secret.enc -out secret.dec \
    -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256
cmp secret.bin secret.dec
echo "    decrypted 32 bytes match the original"

step "no private key file exists"
show "find $D -type f"
find "$D" -type f | sort | sed 's/^/    /'
if grep -rl "PRIVATE KEY" "$D" --exclude-dir=tokens; then
    echo "demo: a PRIVATE KEY block was found above" >&2
    exit 1
fi
echo "    grep -r 'PRIVATE KEY' finds nothing outside the token's own store"
if grep -rl "PRIVATE KEY" "$D/tokens"; then
    echo "demo: a PEM private key inside the token store?" >&2
    exit 1
fi
echo "    (and nothing inside it either; the token store holds SoftHSM's encrypted objects)"
echo "    the only key file is the reference:"
sed 's/^/    | /' demo-key.pem
