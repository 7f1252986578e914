#!/usr/bin/env bash
# Dojang known-answer test data generator.
#
# Uses the real `openssl` CLI (OpenSSL 3.0) as an independent implementation of
# the NPKI formats described in design.md section 2.  Every cryptographic step
# (hashing, KDF, encryption, key generation, signing, certificate and DER
# building) is done by openssl; bash only moves bytes and hex around.
#
# Usage:  tests/data/pki/gen.sh          (regenerates everything in place)
#
# Outputs (all wiped and regenerated on every run; README.md and gen.sh are
# left alone):  root.pem root.key.pem ca.pem ca.key.pem cred/ bad/
#
# The keys and random values change on every run; the structure does not.
set -euo pipefail
export LC_ALL=C

OUT=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dojang-pki.XXXXXX")
trap '[[ -n ${KEEP_TMP:-} ]] && echo "kept $TMP" >&2 || rm -rf "$TMP"' EXIT

# Never read the system openssl.cnf: every openssl process gets this minimal
# (empty) configuration; commands that need a config get one written below.
: >"$TMP/openssl.cnf"
export OPENSSL_CONF="$TMP/openssl.cnf"

LEGACY=(-provider legacy -provider default)
FIXED_IV_HEX=30313233343536373839303132333435   # ASCII "0123456789012345"

# Validity of the test PKI (20 years).
CA_START=20200101000000Z
CA_END=20400101000000Z
# Validity of the "expired" credential.
EXPIRED_START=20240101000000Z
EXPIRED_END=20250101000000Z

die() { echo "gen.sh: ERROR: $*" >&2; exit 1; }
log() { echo "gen.sh: $*" >&2; }

# Run a command quietly; on failure show its stderr and abort.
q() {
    local err
    err=$(mktemp "$TMP/err.XXXXXX")
    if ! "$@" >"$err.out" 2>"$err"; then
        cat "$err.out" "$err" >&2
        die "command failed: $*"
    fi
    rm -f "$err" "$err.out"
}

hexof()    { xxd -p "$1" | tr -d '\n'; }                 # file -> lowercase hex
unhex()    { printf '%s' "$1" | xxd -r -p >"$2"; }        # hex -> file
randhex()  { openssl rand -hex "$1"; }                    # n random bytes, hex
sha256f()  { openssl dgst -sha256 -r "$1" | cut -d' ' -f1; }
tolower()  { printf '%s' "$1" | tr 'A-F' 'a-f'; }

# hex2dec HEX -> decimal string (plain base conversion, no crypto).
hex2dec() {
    local hex=${1^^} i d limb carry n out
    local -a limbs=(0)                      # base 10^9, little endian
    for ((i = 0; i < ${#hex}; i++)); do
        d=$((16#${hex:i:1}))
        carry=$d
        for ((n = 0; n < ${#limbs[@]}; n++)); do
            limb=$((limbs[n] * 16 + carry))
            limbs[n]=$((limb % 1000000000))
            carry=$((limb / 1000000000))
        done
        while ((carry > 0)); do
            limbs+=($((carry % 1000000000)))
            carry=$((carry / 1000000000))
        done
    done
    out=${limbs[${#limbs[@]} - 1]}
    for ((n = ${#limbs[@]} - 2; n >= 0; n--)); do
        out+=$(printf '%09d' "${limbs[n]}")
    done
    printf '%s' "$out"
}

# genconf CNF OUT : build DER with `openssl asn1parse -genconf`.
genconf() { q openssl asn1parse -genconf "$1" -noout -out "$2"; }

# asn1 FILE [extra args] : asn1parse listing of a DER file.
asn1() { local f=$1; shift; openssl asn1parse -inform DER -in "$f" "$@"; }

# asn1_field FILE LINE_REGEX -> "offset hl len" of the first matching line
asn1_field() {
    asn1 "$1" | grep -E -m1 "$2" |
        sed -E 's/^ *([0-9]+):d=[0-9]+ +hl= *([0-9]+) +l= *([0-9]+).*/\1 \2 \3/'
}

# asn1_content FILE OFFSET HL LEN OUT : raw content octets of one element
asn1_content() { tail -c +$(($2 + $3 + 1)) "$1" | head -c "$4" >"$5"; }

# flip_bit FILE BYTE_OFFSET BIT : xor one bit in place
flip_bit() {
    local b
    b=$(xxd -s "$2" -l 1 -p "$1")
    # shellcheck disable=SC2059  # the format IS the escape we build
    printf "\\x$(printf '%02x' $((16#$b ^ (1 << $3))))" |
        dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# ---------------------------------------------------------------------------
# KDFs
# ---------------------------------------------------------------------------

# pbkdf1_sha1 PWFILE SALTHEX ITER OUTFILE : PKCS#5 PBKDF1 with SHA-1, 20 bytes
# T1 = SHA1(P || S), Ti = SHA1(T(i-1)), DK = T_iter.
pbkdf1_sha1() {
    local pw=$1 salt=$2 iter=$3 out=$4 a b t i saltf
    # Memoised: the self-checks re-derive keys that were derived moments ago,
    # and every openssl start costs a few milliseconds.
    local cache
    cache="$TMP/pbkdf1-cache/$(hexof "$pw")-$salt-$iter"
    mkdir -p "$TMP/pbkdf1-cache"
    if [[ -f $cache ]]; then cp "$cache" "$out"; return 0; fi
    a=$(mktemp "$TMP/kdf.XXXXXX"); b=$(mktemp "$TMP/kdf.XXXXXX")
    saltf=$a.salt
    unhex "$salt" "$saltf"
    cat "$pw" "$saltf" | openssl dgst -sha1 -binary >"$a"
    for ((i = 1; i < iter; i++)); do
        openssl dgst -sha1 -binary -out "$b" "$a"
        t=$a; a=$b; b=$t
    done
    [[ $(stat -c %s "$a") == 20 ]] || die "pbkdf1 output size"
    cp "$a" "$out"
    cp "$a" "$cache"
    rm -f "$a" "$b" "$saltf"
}

# pbkdf2 PWFILE SALTHEX ITER KEYLEN DIGEST OUTFILE
pbkdf2() {
    q openssl kdf -binary -out "$6" -keylen "$4" -kdfopt "digest:$5" \
        -kdfopt "hexpass:$(hexof "$1")" -kdfopt "hexsalt:$2" \
        -kdfopt "iter:$3" PBKDF2
    [[ $(stat -c %s "$6") == "$4" ]] || die "pbkdf2 output size"
}

# seed_pbkdf1_keyiv PWFILE SALTHEX ITER -> sets KEY_HEX / SEEDSHA1_IV_HEX
# key = DK[0..16]; IV (seedCBCWithSHA1) = SHA1(DK[16..20])[0..16]
seed_pbkdf1_keyiv() {
    local dk
    dk=$(mktemp "$TMP/dk.XXXXXX")
    pbkdf1_sha1 "$1" "$2" "$3" "$dk"
    KEY_HEX=$(head -c 16 "$dk" | xxd -p | tr -d '\n')
    SEEDSHA1_IV_HEX=$(tail -c 4 "$dk" | openssl dgst -sha1 -binary | head -c 16 | xxd -p | tr -d '\n')
    rm -f "$dk"
}

# ---------------------------------------------------------------------------
# DER structures
# ---------------------------------------------------------------------------

# make_pki KEYPEM RHEX OUT : PrivateKeyInfo (RFC 5208) with optional randomNum
make_pki() {
    local key=$1 r=$2 out=$3 cnf=$3.cnf rsa=$3.rsa
    q openssl rsa -in "$key" -traditional -outform DER -out "$rsa"
    {
        echo "asn1 = SEQUENCE:pki"
        echo "[pki]"
        echo "version = INTEGER:0"
        echo "algorithm = SEQUENCE:rsa_alg"
        echo "privateKey = FORMAT:HEX,OCTETSTRING:$(hexof "$rsa")"
        [[ -n $r ]] && echo "attributes = IMPLICIT:0,SET:attr_set"
        echo "[rsa_alg]"
        echo "oid = OID:rsaEncryption"
        echo "params = NULL"
        if [[ -n $r ]]; then
            echo "[attr_set]"
            echo "attr = SEQUENCE:attr_random"
            echo "[attr_random]"
            echo "type = OID:1.2.410.200004.10.1.1.3"
            echo "values = SET:attr_random_values"
            echo "[attr_random_values]"
            echo "value = FORMAT:HEX,BITSTRING:$r"
        fi
    } >"$cnf"
    genconf "$cnf" "$out"
    # Shape check: version, alg, key, and (if R) attribute with 20-byte R.
    local shape
    shape=$(asn1 "$out" | sed -E 's/^ *[0-9]+:(d=[0-9]+) +hl= *[0-9]+ +l= *([0-9]+) +(prim|cons): *([][A-Za-z0-9 ]*[]A-Za-z0-9]).*/\1 \2 \4/' | tail -n +2)
    grep -q '^d=1 1 INTEGER$' <<<"$shape" || die "pki version"
    grep -q 'rsaEncryption' <(asn1 "$out") || die "pki alg"
    if [[ -n $r ]]; then
        grep -q '^d=1 [0-9]* cont \[ 0 \]$' <<<"$shape" || die "pki attributes [0]: $shape"
        grep -q '^d=4 21 BIT STRING$' <<<"$shape" || die "pki randomNum BIT STRING: $shape"
        [[ $(tail -c 21 "$out" | xxd -p | tr -d '\n') == "00$r" ]] || die "pki R bytes"
    else
        ! grep -q 'cont \[ 0 \]' <<<"$shape" || die "pki has attributes"
    fi
    # openssl must accept it as a private key.
    q openssl pkey -inform DER -in "$out" -noout
}

# make_epki OUT CTFILE : EncryptedPrivateKeyInfo.
# The caller writes the [alg] section (and its sub-sections) into $OUT.alg.
make_epki() {
    local out=$1 ct=$2 cnf=$1.cnf
    {
        echo "asn1 = SEQUENCE:epki"
        echo "[epki]"
        echo "encryptionAlgorithm = SEQUENCE:alg"
        echo "encryptedData = FORMAT:HEX,OCTETSTRING:$(hexof "$ct")"
        cat "$out.alg"
    } >"$cnf"
    genconf "$cnf" "$out"
}

# alg section for the "salt + iterations" family (seedCBCWithSHA1 / seedCBC /
# any PBES1-shaped OID).
alg_salt_iter() { # OID SALTHEX ITER
    cat <<EOF
[alg]
algorithm = OID:$1
parameters = SEQUENCE:alg_params
[alg_params]
salt = FORMAT:HEX,OCTETSTRING:$2
iterationCount = INTEGER:$3
EOF
}

# alg section for PBES2 (PRF: none|hmacWithSHA256; KEYLEN: ""|16)
alg_pbes2() { # SALTHEX ITER PRF KEYLEN SCHEME_OID IVHEX
    cat <<EOF
[alg]
algorithm = OID:1.2.840.113549.1.5.13
parameters = SEQUENCE:pbes2_params
[pbes2_params]
keyDerivationFunc = SEQUENCE:kdf
encryptionScheme = SEQUENCE:scheme
[kdf]
algorithm = OID:1.2.840.113549.1.5.12
parameters = SEQUENCE:pbkdf2_params
[pbkdf2_params]
salt = FORMAT:HEX,OCTETSTRING:$1
iterationCount = INTEGER:$2
EOF
    [[ -n $4 ]] && echo "keyLength = INTEGER:$4"
    [[ $3 == hmacWithSHA256 ]] && echo "prf = SEQUENCE:prf"
    cat <<EOF
[scheme]
algorithm = OID:$5
iv = FORMAT:HEX,OCTETSTRING:$6
EOF
    [[ $3 == hmacWithSHA256 ]] && printf '[prf]\nalgorithm = OID:1.2.840.113549.2.9\nparameters = NULL\n'
    return 0
}

# make_vid IDN RHEX HASH(sha256|sha1) -> prints VID hex
make_vid() {
    local cnf der
    cnf=$(mktemp "$TMP/hc.XXXXXX"); der=$cnf.der
    cat >"$cnf" <<EOF
asn1 = SEQUENCE:hash_content
[hash_content]
idn = PRINTABLESTRING:$1
randomNum = FORMAT:HEX,BITSTRING:$2
EOF
    genconf "$cnf" "$der"
    [[ $(stat -c %s "$der") == $((2 + 2 + ${#1} + 2 + 21)) ]] || die "HashContent size"
    openssl dgst "-$3" -binary "$der" | openssl dgst "-$3" -binary | xxd -p | tr -d '\n'
}

# ---------------------------------------------------------------------------
# Configs
# ---------------------------------------------------------------------------

# req_cnf FILE STRING_MASK
req_cnf() {
    cat >"$1" <<EOF
[req]
distinguished_name = req_dn
string_mask = $2
utf8 = yes
[req_dn]
EOF
}

# ca_cnf DIR CERT KEY SERIALHEX : minimal `openssl ca` setup in DIR
ca_cnf() {
    mkdir -p "$1"
    : >"$1/index.txt"
    echo "$4" >"$1/serial"
    cat >"$1/ca.cnf" <<EOF
[ca]
default_ca = ca_default
[ca_default]
dir = $1
database = $1/index.txt
new_certs_dir = $1
serial = $1/serial
certificate = $2
private_key = $3
default_md = sha256
policy = policy_any
unique_subject = no
preserve = yes
email_in_dn = no
copy_extensions = none
utf8 = yes
[policy_any]
countryName = optional
organizationName = optional
organizationalUnitName = optional
commonName = supplied
EOF
}

# ---------------------------------------------------------------------------
# Test PKI
# ---------------------------------------------------------------------------

make_pki_root_ca() {
    local w=$TMP/pki
    mkdir -p "$w"
    req_cnf "$w/req.cnf" utf8only
    cat >"$w/ext.cnf" <<EOF
[v3_root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[v3_ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
    log "root CA (RSA-3072)"
    q openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$OUT/root.key.pem"
    q openssl req -new -config "$w/req.cnf" -key "$OUT/root.key.pem" -utf8 \
        -subj "/C=KR/O=Dojang Test/OU=Dojang Test PKI/CN=Dojang Test Root CA" -out "$w/root.csr"
    ca_cnf "$w/root" /dev/null "$OUT/root.key.pem" 01
    q openssl ca -batch -config "$w/root/ca.cnf" -selfsign -keyfile "$OUT/root.key.pem" \
        -in "$w/root.csr" -out "$w/root.pem" -notext -md sha256 -preserveDN \
        -startdate "$CA_START" -enddate "$CA_END" -extfile "$w/ext.cnf" -extensions v3_root
    q openssl x509 -in "$w/root.pem" -out "$OUT/root.pem"

    log "issuing CA (RSA-2048)"
    q openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$OUT/ca.key.pem"
    q openssl req -new -config "$w/req.cnf" -key "$OUT/ca.key.pem" -utf8 \
        -subj "/C=KR/O=Dojang Test/OU=Dojang Test PKI/CN=Dojang Test Issuing CA" -out "$w/ca.csr"
    ca_cnf "$w/ca" "$OUT/root.pem" "$OUT/root.key.pem" 02
    q openssl ca -batch -config "$w/ca/ca.cnf" -in "$w/ca.csr" -out "$w/ca.pem" -notext \
        -md sha256 -preserveDN -startdate "$CA_START" -enddate "$CA_END" -extfile "$w/ext.cnf" -extensions v3_ca
    q openssl x509 -in "$w/ca.pem" -out "$OUT/ca.pem"
    q openssl verify -CAfile "$OUT/root.pem" "$OUT/ca.pem"
}

# ---------------------------------------------------------------------------
# Encryption variants.  Each sets (globals) ENC_INFO lines for expected.txt.
# encrypt VARIANT PWFILE ITER PKI_DER KEYPEM OUT
# ---------------------------------------------------------------------------
encrypt() {
    local variant=$1 pw=$2 iter=$3 pki=$4 keypem=$5 out=$6
    local salt iv key ct=$6.ct
    ENC_INFO=()
    case $variant in
    seedsha1 | seedcbc-pbkdf1)
        salt=${ENC_SALT:-$(randhex 8)}
        seed_pbkdf1_keyiv "$pw" "$salt" "$iter"
        key=$KEY_HEX
        if [[ $variant == seedsha1 ]]; then
            iv=$SEEDSHA1_IV_HEX
            alg_salt_iter 1.2.410.200004.1.15 "$salt" "$iter" >"$out.alg"
        else
            iv=$FIXED_IV_HEX
            alg_salt_iter 1.2.410.200004.1.4 "$salt" "$iter" >"$out.alg"
        fi
        q openssl enc -seed-cbc "${LEGACY[@]}" -K "$key" -iv "$iv" -in "$pki" -out "$ct"
        make_epki "$out" "$ct"
        ENC_INFO=("kdf=pbkdf1-sha1" "prf=" "cipher=seed-128-cbc" "salt=$salt" "key=$key" "iv=$iv")
        ;;
    seedcbc-pbkdf2)
        # Retry until the PBKDF1-derived key does NOT give valid padding, so a
        # reader really has to fall back to PBKDF2.
        local tries=0 k1
        while :; do
            tries=$((tries + 1)); ((tries < 20)) || die "seedcbc-pbkdf2: no good salt"
            salt=$(randhex 8)
            pbkdf2 "$pw" "$salt" "$iter" 16 SHA1 "$out.k"
            key=$(hexof "$out.k")
            q openssl enc -seed-cbc "${LEGACY[@]}" -K "$key" -iv "$FIXED_IV_HEX" -in "$pki" -out "$ct"
            seed_pbkdf1_keyiv "$pw" "$salt" "$iter"
            k1=$KEY_HEX
            if ! openssl enc -d -seed-cbc "${LEGACY[@]}" -K "$k1" -iv "$FIXED_IV_HEX" \
                -in "$ct" -out /dev/null 2>/dev/null; then
                break
            fi
            log "  (PBKDF1 key happened to give valid padding; new salt)"
        done
        iv=$FIXED_IV_HEX
        alg_salt_iter 1.2.410.200004.1.4 "$salt" "$iter" >"$out.alg"
        make_epki "$out" "$ct"
        ENC_INFO=("kdf=pbkdf2" "prf=hmacWithSHA1" "cipher=seed-128-cbc" "salt=$salt" "key=$key" "iv=$iv" "pbkdf1_key=$k1")
        ;;
    pbes2-seed-sha1 | pbes2-seed-sha256 | pbes2-aria)
        local digest prf keylen scheme cipher cname
        case $variant in
        pbes2-seed-sha1)   salt=$(randhex 8);  digest=SHA1;   prf=none;           keylen=16; scheme=1.2.410.200004.1.4;    cipher=seed-cbc;     cname=seed-128-cbc ;;
        pbes2-seed-sha256) salt=$(randhex 16); digest=SHA256; prf=hmacWithSHA256; keylen=;   scheme=1.2.410.200004.1.4;    cipher=seed-cbc;     cname=seed-128-cbc ;;
        pbes2-aria)        salt=$(randhex 16); digest=SHA256; prf=hmacWithSHA256; keylen=;   scheme=1.2.410.200046.1.1.2;  cipher=aria-128-cbc; cname=aria-128-cbc ;;
        esac
        iv=$(randhex 16)
        pbkdf2 "$pw" "$salt" "$iter" 16 "$digest" "$out.k"
        key=$(hexof "$out.k")
        q openssl enc "-$cipher" "${LEGACY[@]}" -K "$key" -iv "$iv" -in "$pki" -out "$ct"
        alg_pbes2 "$salt" "$iter" "$prf" "$keylen" "$scheme" "$iv" >"$out.alg"
        make_epki "$out" "$ct"
        [[ $prf == none ]] && prf=hmacWithSHA1
        ENC_INFO=("kdf=pbkdf2" "prf=$prf" "cipher=$cname" "salt=$salt" "key=$key" "iv=$iv")
        ;;
    pbes2-aes-openssl)
        q openssl pkcs8 -topk8 -in "$keypem" -v2 aes-256-cbc -v2prf hmacWithSHA256 -iter "$iter" \
            -outform DER -passout "file:$pw" -out "$out"
        ENC_INFO=("kdf=pbkdf2")   # the rest is read back from the file
        ;;
    pbes2-seed-openssl)
        q openssl pkcs8 -topk8 -in "$keypem" -v2 seed-cbc "${LEGACY[@]}" -iter "$iter" \
            -outform DER -passout "file:$pw" -out "$out"
        ENC_INFO=("kdf=pbkdf2")   # the rest is read back from the file
        ;;
    *) die "unknown variant $variant" ;;
    esac
    rm -f "$ct" "$out.k" "$out.cnf" "$out.alg"
}

# decrypt_check VARIANT PWFILE EPKI OUT_PKI : independent decryption from the
# file's own fields (salt, iterations, IV and ciphertext are read back from the
# DER with asn1parse), leaving the PrivateKeyInfo DER in OUT_PKI.
decrypt_check() {
    local variant=$1 pw=$2 f=$3 out=$4 off hl len salt iter iv key
    case $variant in
    seedsha1 | seedcbc-pbkdf1 | seedcbc-pbkdf2)
        read -r off hl len < <(asn1_field "$f" 'd=3 .*OCTET STRING')
        asn1_content "$f" "$off" "$hl" "$len" "$out.salt"; salt=$(hexof "$out.salt")
        iter=$((16#$(asn1 "$f" | grep -m1 'd=3 .*INTEGER' | sed -E 's/.*://')))
        read -r off hl len < <(asn1_field "$f" 'd=1 .*OCTET STRING')
        asn1_content "$f" "$off" "$hl" "$len" "$out.ct"
        if [[ $variant == seedcbc-pbkdf2 ]]; then
            pbkdf2 "$pw" "$salt" "$iter" 16 SHA1 "$out.k"; key=$(hexof "$out.k")
            iv=$FIXED_IV_HEX
        else
            seed_pbkdf1_keyiv "$pw" "$salt" "$iter"; key=$KEY_HEX
            if [[ $variant == seedsha1 ]]; then iv=$SEEDSHA1_IV_HEX; else iv=$FIXED_IV_HEX; fi
        fi
        q openssl enc -d -seed-cbc "${LEGACY[@]}" -K "$key" -iv "$iv" -in "$out.ct" -out "$out"
        rm -f "$out.salt" "$out.ct" "$out.k"
        ;;
    pbes2-*)
        local prf digest cipher keylen
        read -r off hl len < <(asn1_field "$f" 'd=5 .*OCTET STRING')
        asn1_content "$f" "$off" "$hl" "$len" "$out.salt"; salt=$(hexof "$out.salt")
        iter=$((16#$(asn1 "$f" | grep -m1 'd=5 .*INTEGER' | sed -E 's/.*://')))
        prf=$(asn1 "$f" | grep -m1 'd=6 .*OBJECT' | sed -E 's/.*://' || true)
        case $prf in
        '') digest=SHA1 ;;
        hmacWithSHA256) digest=SHA256 ;;
        *) die "unexpected prf $prf" ;;
        esac
        cipher=$(asn1 "$f" | grep 'd=4 .*OBJECT' | sed -n 2p | sed -E 's/.*://')
        case $cipher in
        seed-cbc | aria-128-cbc) keylen=16 ;;
        aes-256-cbc) keylen=32 ;;
        *) die "unexpected cipher $cipher" ;;
        esac
        read -r off hl len < <(asn1_field "$f" 'd=4 .*OCTET STRING')
        asn1_content "$f" "$off" "$hl" "$len" "$out.iv"; iv=$(hexof "$out.iv")
        read -r off hl len < <(asn1_field "$f" 'd=1 .*OCTET STRING')
        asn1_content "$f" "$off" "$hl" "$len" "$out.ct"
        pbkdf2 "$pw" "$salt" "$iter" "$keylen" "$digest" "$out.k"
        DC_SALT=$salt DC_IV=$iv DC_KEY=$(hexof "$out.k") DC_PRF=${prf:-hmacWithSHA1}
        DC_CIPHER=${cipher/seed-cbc/seed-128-cbc}
        q openssl enc -d "-$cipher" "${LEGACY[@]}" -K "$(hexof "$out.k")" -iv "$iv" -in "$out.ct" -out "$out"
        # ... and openssl's own PBES2 reader must agree (it outputs the
        # inner RSAPrivateKey).
        q openssl pkcs8 -inform DER -in "$f" -passin "file:$pw" "${LEGACY[@]}" -outform DER -out "$out.trad"
        read -r off hl len < <(asn1_field "$out" 'd=1 .*OCTET STRING')
        asn1_content "$out" "$off" "$hl" "$len" "$out.rsa"
        cmp -s "$out.rsa" "$out.trad" || die "openssl pkcs8 disagrees on $f"
        rm -f "$out.salt" "$out.iv" "$out.ct" "$out.k" "$out.trad" "$out.rsa"
        ;;
    esac
}

# pub_of_cert CERTDER OUT / pub_of_pki PKIDER OUT : DER SubjectPublicKeyInfo
pub_of_cert() { openssl x509 -inform DER -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER -out "$2"; }
pub_of_pki() { q openssl pkey -inform DER -in "$1" -pubout -outform DER -out "$2"; }

# ---------------------------------------------------------------------------
# One credential.  Arguments are key=value pairs:
#   name enc iter random(yes|no) san(yes|no) vid_hash o ou(kind-dependent)
#   policy holder password idn cn_digits kind(personal|corporate)
#   serial_bytes high_bit(yes: serial needs a 00 sign octet in DER)
#   r_last(force the last byte of R, hex) expired(yes|no) crl_part
# ---------------------------------------------------------------------------
make_cred() {
    local -A c=([random]=yes [san]=yes [vid_hash]=sha256 [kind]=personal [serial_bytes]=16
        [high_bit]=no [r_last]='' [expired]=no [ou]=WOORI [o]=yessign [crl_part]=1)
    local kv
    for kv in "$@"; do c[${kv%%=*}]=${kv#*=}; done
    local name=${c[name]}
    local d=$OUT/cred/$name w=$TMP/cred-$name
    mkdir -p "$d" "$w"
    log "credential $name (${c[enc]})"

    printf '%s' "${c[password]}" >"$w/pw"

    # --- key, R, VID
    q openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$w/key.pem"
    local r='' vid='' vid_oid=''
    if [[ ${c[random]} == yes ]]; then
        r=$(randhex 20)
        [[ -n ${c[r_last]} ]] && r=${r:0:38}${c[r_last]}
    fi
    if [[ ${c[san]} == yes ]]; then
        [[ -n $r ]] || die "$name: SAN needs R"
        vid=$(make_vid "${c[idn]}" "$r" "${c[vid_hash]}")
        case ${c[vid_hash]} in
        sha256) vid_oid=2.16.840.1.101.3.4.2.1 ;;
        sha1) vid_oid=1.3.14.3.2.26 ;;
        esac
    fi

    # --- subject
    local cn="${c[holder]}()${c[cn_digits]}" subj mask
    if [[ ${c[kind]} == corporate ]]; then
        subj="/C=kr/O=${c[o]}/OU=corporation4EC/CN=$cn"
        mask=default        # Korean CN -> BMPString, ASCII -> PrintableString
    else
        subj="/C=kr/O=${c[o]}/OU=personal4IB/OU=${c[ou]}/CN=$cn"
        mask=utf8only       # everything but C as UTF8String
    fi
    req_cnf "$w/req.cnf" "$mask"
    q openssl req -new -config "$w/req.cnf" -utf8 -key "$w/key.pem" -subj "$subj" -out "$w/req.pem"

    # --- extensions
    local crl="http://crl.test.dojang.example/${c[o]}/dp1p${c[crl_part]}.crl"
    local ocsp="http://ocsp.test.dojang.example:4612/${c[o]}"
    local cps="https://www.test.dojang.example/${c[o]}/cps.html"
    {
        echo "[usr_cert]"
        echo "keyUsage = critical, digitalSignature, nonRepudiation"
        echo "certificatePolicies = critical, @policy"
        echo "subjectKeyIdentifier = hash"
        echo "authorityKeyIdentifier = keyid:always, issuer:always"
        echo "crlDistributionPoints = URI:$crl"
        echo "authorityInfoAccess = OCSP;URI:$ocsp"
        [[ ${c[san]} == yes ]] && echo "subjectAltName = otherName:1.2.410.200004.10.1.1;SEQUENCE:identify_data"
        echo "[policy]"
        echo "policyIdentifier = ${c[policy]}"
        echo "CPS.1 = \"$cps\""
        if [[ ${c[san]} == yes ]]; then
            cat <<EOF
[identify_data]
realName = FORMAT:UTF8,UTF8:${c[holder]}
userInfos = SEQUENCE:user_infos
[user_infos]
userInfo = SEQUENCE:user_info
[user_info]
idType = OID:1.2.410.200004.10.1.1.1
vid = SEQUENCE:vid
[vid]
hashAlg = SEQUENCE:vid_hash_alg
virtualID = EXPLICIT:0,FORMAT:HEX,OCTETSTRING:$vid
[vid_hash_alg]
algorithm = OID:$vid_oid
EOF
        fi
    } >"$w/ext.cnf"

    # --- serial
    local serial
    serial=$(randhex "${c[serial_bytes]}")
    local top=$((16#${serial:0:2}))
    if [[ ${c[high_bit]} == yes ]]; then top=$((top | 0x80)); else top=$(((top & 0x7f) | 0x10)); fi
    serial=$(printf '%02x' "$top")${serial:2}

    # --- issue
    local dates=(-days 365)
    [[ ${c[expired]} == yes ]] && dates=(-startdate "$EXPIRED_START" -enddate "$EXPIRED_END")
    ca_cnf "$w/ca" "$OUT/ca.pem" "$OUT/ca.key.pem" "$serial"
    q openssl ca -batch -config "$w/ca/ca.cnf" -in "$w/req.pem" -out "$w/cert.pem" -notext \
        -md sha256 -preserveDN "${dates[@]}" -extfile "$w/ext.cnf" -extensions usr_cert
    q openssl x509 -in "$w/cert.pem" -outform DER -out "$d/signCert.der"

    # --- key file
    local iter=${c[iter]}
    if [[ ${c[enc]} == pbes2-*-openssl ]]; then
        [[ -z $r ]] || die "$name: openssl-made files cannot carry R"
        encrypt "${c[enc]}" "$w/pw" "$iter" "" "$w/key.pem" "$d/signPri.key"
        # The iteration count is whatever openssl wrote; read it back.
        iter=$((16#$(asn1 "$d/signPri.key" | grep -m1 'd=5 .*INTEGER' | sed -E 's/.*://')))
        q openssl pkcs8 -topk8 -nocrypt -in "$w/key.pem" -outform DER -out "$w/pki.der"
    else
        make_pki "$w/key.pem" "$r" "$w/pki.der"
        encrypt "${c[enc]}" "$w/pw" "$iter" "$w/pki.der" "$w/key.pem" "$d/signPri.key"
    fi
    local enc_info=("${ENC_INFO[@]}")
    DC_SALT='' DC_IV='' DC_KEY='' DC_PRF='' DC_CIPHER=''

    # =================== self checks ===================
    # 1. decrypt independently and compare with the plaintext we encrypted
    decrypt_check "${c[enc]}" "$w/pw" "$d/signPri.key" "$w/dec.der"
    cmp -s "$w/dec.der" "$w/pki.der" || die "$name: decrypted PrivateKeyInfo differs"
    # 2. key matches certificate
    pub_of_pki "$w/dec.der" "$w/pub.key.der"
    pub_of_cert "$d/signCert.der" "$w/pub.cert.der"
    cmp -s "$w/pub.key.der" "$w/pub.cert.der" || die "$name: key does not match certificate"
    # (openssl-made files: report what openssl chose, as read back above)
    if [[ ${c[enc]} == pbes2-*-openssl ]]; then
        enc_info+=("prf=$DC_PRF" "cipher=$DC_CIPHER" "salt=$DC_SALT" "key=$DC_KEY" "iv=$DC_IV")
    fi
    # 3. chain
    local vflags=()
    [[ ${c[expired]} == yes ]] && vflags=(-no_check_time)
    q openssl verify "${vflags[@]}" -CAfile "$OUT/root.pem" -untrusted "$OUT/ca.pem" "$w/cert.pem"
    if [[ ${c[expired]} == yes ]]; then
        if openssl verify -CAfile "$OUT/root.pem" -untrusted "$OUT/ca.pem" "$w/cert.pem" >/dev/null 2>&1; then
            die "$name: expired certificate verifies"
        fi
    fi
    # 4. subject CN string type
    local cn_type
    cn_type=$(asn1 "$d/signCert.der" | grep -A1 ':commonName' | tail -1 | sed -E 's/.*prim: ([A-Z0-9]+).*/\1/')
    if [[ ${c[kind]} == corporate ]]; then
        [[ $cn_type == BMPSTRING ]] || die "$name: CN is $cn_type, want BMPSTRING"
    else
        [[ $cn_type == UTF8STRING ]] || die "$name: CN is $cn_type, want UTF8STRING"
    fi
    # 5. SAN shape
    check_san "$d/signCert.der" "$vid" "$vid_oid" "${c[holder]}" "$w"
    # 6. the R attribute in the encrypted file is the R we used for the VID
    if [[ -n $r ]]; then
        [[ $(tail -c 21 "$w/dec.der" | xxd -p | tr -d '\n') == "00$r" ]] || die "$name: R mismatch"
        [[ $(asn1 "$w/dec.der" | grep -c 'BIT STRING') == 1 ]] || die "$name: R attr"
    fi

    # =================== expected.txt ===================
    local serial_hex subject nb na
    serial_hex=$(tolower "$(openssl x509 -inform DER -in "$d/signCert.der" -noout -serial | sed 's/^serial=//')")
    [[ $serial_hex == "$serial" ]] || die "$name: serial $serial_hex != $serial"
    subject=$(openssl x509 -inform DER -in "$d/signCert.der" -noout -subject -nameopt RFC2253,-esc_msb | sed 's/^subject=//')
    nb=$(date -u -d "$(openssl x509 -inform DER -in "$d/signCert.der" -noout -startdate | sed 's/^notBefore=//')" +%s)
    na=$(date -u -d "$(openssl x509 -inform DER -in "$d/signCert.der" -noout -enddate | sed 's/^notAfter=//')" +%s)
    local issuer
    issuer=$(openssl x509 -inform DER -in "$d/signCert.der" -noout -issuer -nameopt RFC2253,-esc_msb | sed 's/^issuer=//')

    {
        echo "password=${c[password]}"
        echo "password_hex=$(hexof "$w/pw")"
        echo "idn=${c[idn]}"
        echo "randomnum=$r"
        echo "vid=$vid"
        echo "vid_hash=$([[ -n $vid ]] && echo "${c[vid_hash]}")"
        echo "serial_hex=$serial_hex"
        echo "serial_dec=$(hex2dec "$serial_hex")"
        echo "subject=$subject"
        echo "issuer=$issuer"
        echo "cn=$cn"
        echo "cn_type=$cn_type"
        echo "real_name=$([[ -n $vid ]] && echo "${c[holder]}")"
        echo "holder=${c[holder]}"
        echo "ca_o=${c[o]}"
        echo "kind=${c[kind]}"
        echo "policy_oid=${c[policy]}"
        echo "cps_uri=$cps"
        echo "crl_uri=$crl"
        echo "ocsp_uri=$ocsp"
        echo "not_before=$nb"
        echo "not_after=$na"
        echo "expired=${c[expired]}"
        echo "enc=${c[enc]}"
        echo "iterations=$iter"
        local e
        for e in "${enc_info[@]}"; do echo "$e"; done
        echo "has_random=${c[random]}"
        echo "has_san=${c[san]}"
        echo "rsa_bits=2048"
        echo "modulus_sha256=$(sha256f "$w/pub.cert.der")"
        echo "private_key_info_sha256=$(sha256f "$w/pki.der")"
    } >"$d/expected.txt"

    # keep a few work files for the negative-file generation
    if [[ $name == yessign-general ]]; then
        cp "$w/pki.der" "$TMP/cred1.pki.der"
        cp "$w/pw" "$TMP/cred1.pw"
        echo "$r" >"$TMP/cred1.r"
    fi
    rm -rf "$w"
}

# check_san CERTDER VIDHEX VIDOID REALNAME WORKDIR
check_san() {
    local cert=$1 vid=$2 oid=$3 real=$4 w=$5 off
    if [[ -z $vid ]]; then
        ! asn1 "$cert" | grep -q 'X509v3 Subject Alternative Name' || die "unexpected SAN"
        return 0
    fi
    off=$(asn1 "$cert" | grep -A2 'X509v3 Subject Alternative Name' | grep 'OCTET STRING' | sed -E 's/^ *([0-9]+):.*/\1/')
    [[ -n $off ]] || die "no SAN"
    # Shape, depth by depth (offsets and lengths stripped).
    local got want
    got=$(asn1 "$cert" -strparse "$off" | sed -E 's/^ *[0-9]+:d=([0-9]+) +hl= *[0-9]+ +l= *[0-9]+ +(prim|cons): */\1 \2 /; s/ +$//; s/(\[HEX DUMP\]:).*/\1/' | tr -s ' ')
    want=$(cat <<EOF
0 cons SEQUENCE
1 cons cont [ 0 ]
2 prim OBJECT            :1.2.410.200004.10.1.1
2 cons cont [ 0 ]
3 cons SEQUENCE
4 prim UTF8STRING        :$real
4 cons SEQUENCE
5 cons SEQUENCE
6 prim OBJECT            :1.2.410.200004.10.1.1.1
6 cons SEQUENCE
7 cons SEQUENCE
8 prim OBJECT            :$([[ $oid == 1.3.14.3.2.26 ]] && echo sha1 || echo sha256)
7 cons cont [ 0 ]
8 prim OCTET STRING      [HEX DUMP]:
EOF
)
    want=$(tr -s ' ' <<<"$want")
    [[ $got == "$want" ]] || die "SAN shape mismatch:
--- got
$got
--- want
$want"
    asn1 "$cert" -strparse "$off" | grep -q "OCTET STRING *\[HEX DUMP\]:${vid^^}\$" || die "SAN VID value"
}

# ---------------------------------------------------------------------------
# Negative files (from credential 1 = yessign-general unless noted)
# ---------------------------------------------------------------------------
make_bad() {
    local b=$OUT/bad c1=$OUT/cred/yessign-general w=$TMP/bad
    mkdir -p "$b" "$w"
    log "negative files"
    local key=$c1/signPri.key size
    size=$(stat -c %s "$key")

    : >"$b/empty.key"
    head -c $((size / 2)) "$key" >"$b/truncated.key"
    cp "$c1/signCert.der" "$b/cert-as-key.key"

    # recover cred 1's salt/iterations/key/IV from the file itself
    local off hl len salt iter ctoff ctlen
    read -r off hl len < <(asn1_field "$key" 'd=3 .*OCTET STRING')
    asn1_content "$key" "$off" "$hl" "$len" "$w/salt"; salt=$(hexof "$w/salt")
    iter=$((16#$(asn1 "$key" | grep -m1 'd=3 .*INTEGER' | sed -E 's/.*://')))
    read -r off hl len < <(asn1_field "$key" 'd=1 .*OCTET STRING')
    ctoff=$((off + hl)); ctlen=$len
    asn1_content "$key" "$off" "$hl" "$len" "$w/ct"
    ((ctoff + ctlen == size)) || die "ciphertext is not at the end of the key file"
    seed_pbkdf1_keyiv "$TMP/cred1.pw" "$salt" "$iter"
    local k=$KEY_HEX iv=$SEEDSHA1_IV_HEX

    # bitflip in the last ciphertext block: choose a bit for which the padding
    # check really fails.
    local pos bit ok=no
    for pos in $((size - 16)) $((size - 12)) $((size - 8)) $((size - 4)); do
        for bit in 0 3 5 7; do
            cp "$key" "$b/bitflip-ciphertext.key"
            flip_bit "$b/bitflip-ciphertext.key" "$pos" "$bit"
            tail -c "$ctlen" "$b/bitflip-ciphertext.key" >"$w/ct2"
            if ! openssl enc -d -seed-cbc "${LEGACY[@]}" -K "$k" -iv "$iv" -in "$w/ct2" -out /dev/null 2>/dev/null; then
                ok=yes; break 2
            fi
        done
    done
    [[ $ok == yes ]] || die "could not make a padding failure"
    BITFLIP_LAST="byte $((pos - ctoff)) of the ciphertext (file offset $pos), bit $bit"

    # bitflip in a middle block that lies inside the RSA modulus: plaintext
    # block 10 (bytes 160..175) becomes garbage, block 11 gets one flipped bit;
    # padding stays valid, the DER still parses, the modulus no longer matches.
    pos=$((ctoff + 16 * 10 + 5))
    cp "$key" "$b/bitflip-middle.key"
    flip_bit "$b/bitflip-middle.key" "$pos" 2
    tail -c "$ctlen" "$b/bitflip-middle.key" >"$w/ct3"
    q openssl enc -d -seed-cbc "${LEGACY[@]}" -K "$k" -iv "$iv" -in "$w/ct3" -out "$w/pki3.der"
    [[ $(stat -c %s "$w/pki3.der") == $(stat -c %s "$TMP/cred1.pki.der") ]] || die "bitflip-middle size"
    pub_of_cert "$c1/signCert.der" "$w/pubc.der"
    if openssl pkey -inform DER -in "$w/pki3.der" -pubout -outform DER -out "$w/pub3.der" 2>/dev/null; then
        ! cmp -s "$w/pub3.der" "$w/pubc.der" || die "bitflip-middle still matches"
    fi
    BITFLIP_MID="file offset $pos (ciphertext byte $((pos - ctoff)), block 10), bit 2"

    # outer algorithm OID replaced, same parameters and ciphertext
    alg_salt_iter 1.2.3.4 "$salt" "$iter" >"$w/wrong.alg"
    make_epki "$w/wrong" "$w/ct"; cp "$w/wrong" "$b/wrong-oid.key"
    alg_salt_iter 1.2.840.113549.1.5.3 "$salt" "$iter" >"$w/pbes1.alg"
    make_epki "$w/pbes1" "$w/ct"; cp "$w/pbes1" "$b/unsupported-oid.key"

    # 200 random bytes that do not start like a DER SEQUENCE
    openssl rand -out "$w/rnd" 200
    if [[ $(xxd -l 1 -p "$w/rnd") == 30 ]]; then flip_bit "$w/rnd" 0 7; fi
    cp "$w/rnd" "$b/not-der.key"

    # a different RSA key, same format/password/salt/iterations/R as credential 1
    q openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$w/other.pem"
    make_pki "$w/other.pem" "$(cat "$TMP/cred1.r")" "$w/other.pki"
    # (same salt too, so that the PBKDF1 result is reused)
    ENC_SALT=$salt encrypt seedsha1 "$TMP/cred1.pw" "$iter" "$w/other.pki" "$w/other.pem" "$b/other-key.key"
    decrypt_check seedsha1 "$TMP/cred1.pw" "$b/other-key.key" "$w/other.dec"
    cmp -s "$w/other.dec" "$w/other.pki" || die "other-key decrypt"
    pub_of_pki "$w/other.dec" "$w/other.pub"
    ! cmp -s "$w/other.pub" "$w/pubc.der" || die "other-key matches"

    # certificates
    local csize
    csize=$(stat -c %s "$c1/signCert.der")
    head -c $((csize / 2)) "$c1/signCert.der" >"$b/truncated-cert.der"
    { printf '\x30\x82\x01\x00'; openssl rand 256; } >"$b/garbage-cert.der"

    # sanity: none of the bad certificates parses
    local f
    for f in truncated-cert.der garbage-cert.der; do
        if openssl x509 -inform DER -in "$b/$f" -noout 2>/dev/null; then die "$f parses"; fi
    done

    cat >"$b/expected.txt" <<EOF
source=cred/yessign-general
bitflip_ciphertext=$BITFLIP_LAST
bitflip_middle=$BITFLIP_MID
other_key_password=$(cat "$TMP/cred1.pw")
other_key_modulus_sha256=$(sha256f "$w/other.pub")
EOF
}

# ---------------------------------------------------------------------------
# Credentials are independent of each other: run them NJOBS at a time.  Each
# job leaves $TMP/ok.<name> behind when (and only when) it completed.
NJOBS=$(nproc 2>/dev/null || echo 2)
((NJOBS < 2)) && NJOBS=2
((NJOBS > 6)) && NJOBS=6
CRED_NAMES=()
spawn_cred() {
    local name=${1#name=}
    CRED_NAMES+=("$name")
    while (($(jobs -rp | wc -l) >= NJOBS)); do wait -n || true; done
    (
        make_cred "$@"
        touch "$TMP/ok.$name"
    ) &
}
wait_creds() {
    wait || true
    local n
    for n in "${CRED_NAMES[@]}"; do
        [[ -f $TMP/ok.$n ]] || die "credential $n failed (see messages above)"
    done
}

main() {
    command -v openssl >/dev/null || die "openssl not found"
    openssl version | grep -q '^OpenSSL 3\.' || die "need OpenSSL 3.x"
    openssl list "${LEGACY[@]}" -cipher-algorithms 2>/dev/null | grep -qi seed ||
        die "SEED not available from the legacy provider"

    rm -rf "$OUT/root.pem" "$OUT/root.key.pem" "$OUT/ca.pem" "$OUT/ca.key.pem" "$OUT/cred" "$OUT/bad"
    mkdir -p "$OUT/cred"

    make_pki_root_ca

    spawn_cred name=yessign-general enc=seedsha1 iter=2048 o=yessign ou=WOORI \
        policy=1.2.410.200005.1.1.1 holder=홍길동 'password=Dojang!test2048' \
        idn=8001011234567 cn_digits=0012345678901234 crl_part=1
    spawn_cred name=yessign-bank enc=seedsha1 iter=1024 o=yessign ou=KMB \
        policy=1.2.410.200005.1.1.4 holder=김철수 'password=Bank#Only1024x' \
        idn=8502152345678 cn_digits=0012345678901235 high_bit=yes r_last=00 crl_part=2
    # shellcheck disable=SC2016  # the '$' is part of the password
    spawn_cred name=signgate-old enc=seedcbc-pbkdf1 iter=2048 vid_hash=sha1 o=signGATE ou=KICA \
        policy=1.2.410.200004.5.2.1.2 holder=이영희 'password=Gate$old7391' \
        idn=7203032345671 cn_digits=001104220080401001 serial_bytes=4 crl_part=3
    spawn_cred name=signkorea-pbkdf2 enc=seedcbc-pbkdf2 iter=2048 o=SignKorea ou=SHB \
        policy=1.2.410.200004.5.1.1.5 holder=박민수 'password=Korea%pb2k96' \
        idn=9011111234568 cn_digits=0012345678901237 crl_part=4
    spawn_cred name=crosscert-pbes2 enc=pbes2-seed-sha1 iter=2048 o=CrossCert ou=HNB \
        policy=1.2.410.200004.5.4.1.1 holder=최지우 'password=Cross^cert581' \
        idn=8807072345679 cn_digits=0012345678901238 crl_part=5
    spawn_cred name=tradesign-pbes2 enc=pbes2-seed-sha256 iter=10000 o=TradeSign ou=IBK \
        policy=1.2.410.200012.1.1.1 holder=정수빈 'password=Trade&sign470' \
        idn=9512251234560 cn_digits=0012345678901239 crl_part=6
    spawn_cred name=aria enc=pbes2-aria iter=10000 o=yessign ou=NACF \
        policy=1.2.410.200005.1.1.1 holder=강하늘 'password=비밀번호Test!739' \
        idn=0001013234561 cn_digits=0012345678901240 crl_part=7
    spawn_cred name=aes-openssl enc=pbes2-aes-openssl iter=10000 random=no san=no o=yessign ou=WOORI \
        policy=1.2.410.200005.1.1.1 holder=윤서연 'password=Aes-openssl58' \
        idn=9203042234562 cn_digits=0012345678901241 crl_part=8
    spawn_cred name=seed-openssl enc=pbes2-seed-openssl iter=2048 random=no san=no o=yessign ou=WOORI \
        policy=1.2.410.200005.1.1.1 holder=임도윤 'password=Seed+openssl6' \
        idn=8708081234563 cn_digits=0012345678901242 crl_part=9
    spawn_cred name=norandom enc=seedsha1 iter=2048 random=no san=no o=yessign ou=WOORI \
        policy=1.2.410.200005.1.1.1 holder=한예슬 'password=No*random2048' \
        idn=7912122234564 cn_digits=0012345678901243 crl_part=10
    spawn_cred name=corporate enc=seedsha1 iter=2048 kind=corporate o=SignKorea \
        policy=1.2.410.200004.5.1.1.7 'holder=(주)도장테스트' 'password=Corp@dojang95' \
        idn=1101111234565 cn_digits=0012345678901234 crl_part=11
    spawn_cred name=expired enc=seedsha1 iter=2048 o=yessign ou=WOORI expired=yes \
        policy=1.2.410.200005.1.1.1 holder=오세훈 'password=Expired~2024x' \
        idn=6506061234566 cn_digits=0012345678901245 crl_part=12
    spawn_cred name=unknown-policy enc=seedsha1 iter=2048 o=yessign ou=WOORI \
        policy=1.2.3.4.5.6 holder=서지훈 'password=Unknown=pol83' \
        idn=8304042234567 cn_digits=0012345678901246 crl_part=13

    wait_creds
    make_bad

    log "done: $(du -sk "$OUT" | cut -f1) KiB in $OUT"
}

main "$@"
