#!/usr/bin/env bash
# Test PKI for relying-party verification, made with the openssl CLI alone.
#
# Usage: mkpki.sh OUTDIR OCSP_PORT CRL_PORT
#
# The tests run this at set-up (the OCSP and CRL URLs in the certificates
# name loopback ports chosen then). Everything is written to OUTDIR:
#   root.pem                 trust anchor ("Dojang RP Test Root")
#   ca.pem ca.key.pem        issuing CA (signs users, CRLs; OCSP signer too)
#   ocsp.pem ocsp.key.pem    delegated OCSP responder (id-kp-OCSPSigning, ocsp-nocheck)
#   rogue.pem rogue.key.pem  self-signed "responder" nobody trusts
#   otherroot.pem            another root (for a bad chain)
#   oldca.pem                issuing CA that expired in 2021
#   users/NAME.{pem,key.pem,der}, users/NAME.random (R, hex), users/NAME.idn
#       good      범용 (1.2.410.200005.1.1.1), partition 1, VID of IDN 8001011234567
#       revoked   범용, partition 1, revoked keyCompromise
#       held      범용, partition 2, suspended (certificateHold)
#       bank      은행/보험용 (1.2.410.200005.1.1.4), partition 2
#       expired   범용, valid 2020-2021
#       unknown   signed by the CA, never entered in its database (OCSP: unknown)
#       oldca     leaf of oldca (valid now; its CA expired)
#       foreign   leaf of otherroot
#       km        key-management certificate (keyUsage keyEncipherment only)
#   index.txt                the CA database (openssl ocsp -index)
#   crl/full.crl             every revocation, no issuingDistributionPoint
#   crl/p1.crl crl/p2.crl    partition CRLs (issuingDistributionPoint = their CDP)
#   crl/expired.crl          partition 1 CRL whose nextUpdate was 2021-01-02
#   crl/root.crl             the root's CRL (for completeness)
set -euo pipefail
export LC_ALL=C
OUT=$1
OCSP_PORT=$2
CRL_PORT=$3
mkdir -p "$OUT/users" "$OUT/crl" "$OUT/work/users"
W=$OUT/work
: >"$W/empty.cnf"
export OPENSSL_CONF=$W/empty.cnf

IDN=8001011234567
OCSP_URL=http://127.0.0.1:$OCSP_PORT/
crl_url() { echo "http://127.0.0.1:$CRL_PORT/crl/p$1.crl"; }

die() { echo "mkpki.sh: $*" >&2; exit 1; }
q() { "$@" >"$W/last.out" 2>&1 || { cat "$W/last.out" >&2; die "failed: $*"; }; }

# key PATH: a fresh RSA-2048 key. With MKPKI_KEY_CACHE set (the tests set it to
# a folder of the build tree), a key made once is reused by later runs under the
# same name: RSA key generation is most of this script's time, and CTest runs
# it once per test process.
key() {
    local cached
    if [[ -n ${MKPKI_KEY_CACHE:-} ]]; then
        cached=${1#"$OUT"/}; cached=$MKPKI_KEY_CACHE/${cached//\//_}
        cached=${cached%.tmp}
        if [[ -f $cached ]]; then cp "$cached" "$1"; return; fi
    fi
    q openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1"
    if [[ -n ${cached:-} ]]; then
        mkdir -p "$MKPKI_KEY_CACHE"
        cp "$1" "$cached.$$" && mv "$cached.$$" "$cached"
    fi
}

# ca_dir NAME CERT KEY : an `openssl ca` database in $W/NAME
ca_dir() {
    local d=$W/$1
    mkdir -p "$d"
    : >"$d/index.txt"
    echo "unique_subject = no" >"$d/index.txt.attr"
    [[ -f $d/serial ]] || openssl rand -hex 8 | sed 's/^./1/' >"$d/serial"
    echo 01 >"$d/crlnumber"
    cat >"$d/ca.cnf" <<CNF
[ca]
default_ca = ca_default
[ca_default]
dir = $d
database = \$dir/index.txt
new_certs_dir = \$dir
serial = \$dir/serial
crlnumber = \$dir/crlnumber
certificate = $2
private_key = $3
default_md = sha256
default_crl_days = 7
policy = policy_any
unique_subject = no
email_in_dn = no
copy_extensions = none
utf8 = yes
[policy_any]
countryName = optional
organizationName = optional
organizationalUnitName = optional
commonName = supplied
[req]
distinguished_name = dn
string_mask = utf8only
utf8 = yes
[dn]
CNF
}

cat >"$W/ext.cnf" <<CNF
[v3_root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[v3_ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[v3_ocsp]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = OCSPSigning
noCheck = ignored
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[v3_rogue]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = OCSPSigning
[idp_p1]
issuingDistributionPoint = critical, @idp1
[idp1]
fullname = URI:$(crl_url 1)
onlyuser = TRUE
[idp_p2]
issuingDistributionPoint = critical, @idp2
[idp2]
fullname = URI:$(crl_url 2)
onlyuser = TRUE
[crl_full]
authorityKeyIdentifier = keyid:always
CNF

# selfsigned NAME CN EXT
selfsigned() {
    key "$OUT/$1.key.pem"
    ca_dir "$1" /dev/null "$OUT/$1.key.pem"
    q openssl req -new -config "$W/$1/ca.cnf" -key "$OUT/$1.key.pem" -subj "/C=KR/O=Dojang RP Test/CN=$2" -out "$W/$1.csr"
    q openssl ca -batch -config "$W/$1/ca.cnf" -selfsign -keyfile "$OUT/$1.key.pem" -in "$W/$1.csr" \
        -out "$W/$1.crt" -notext -startdate 20200101000000Z -enddate 20400101000000Z \
        -extfile "$W/ext.cnf" -extensions "$3"
    q openssl x509 -in "$W/$1.crt" -out "$OUT/$1.pem"
}

# issue CADB CACERT CAKEY OUTNAME SUBJ EXT START END [EXTFILE]
issue() {
    local db=$1 name=$4
    key "$OUT/$name.key.pem.tmp"
    q openssl req -new -config "$W/$db/ca.cnf" -key "$OUT/$name.key.pem.tmp" -subj "$5" -out "$W/$name.csr"
    q openssl ca -batch -config "$W/$db/ca.cnf" -cert "$2" -keyfile "$3" -in "$W/$name.csr" \
        -out "$W/$name.crt" -notext -startdate "$7" -enddate "$8" -extfile "${9:-$W/ext.cnf}" -extensions "$6"
    q openssl x509 -in "$W/$name.crt" -out "$OUT/$name.pem"
    mv "$OUT/$name.key.pem.tmp" "$OUT/$name.key.pem"
}

selfsigned root "Dojang RP Test Root" v3_root
selfsigned otherroot "Some Other Root" v3_root
selfsigned rogue "Rogue OCSP Responder" v3_rogue
issue root "$OUT/root.pem" "$OUT/root.key.pem" ca "/C=KR/O=Dojang RP Test/CN=Dojang RP Test Issuing CA" v3_ca 20200101000000Z 20400101000000Z
issue root "$OUT/root.pem" "$OUT/root.key.pem" oldca "/C=KR/O=Dojang RP Test/CN=Dojang RP Old CA" v3_ca 20200101000000Z 20210101000000Z
ca_dir ca "$OUT/ca.pem" "$OUT/ca.key.pem"
ca_dir oldcadb "$OUT/oldca.pem" "$OUT/oldca.key.pem"
ca_dir scratch "$OUT/ca.pem" "$OUT/ca.key.pem"
issue ca "$OUT/ca.pem" "$OUT/ca.key.pem" ocsp "/C=KR/O=Dojang RP Test/CN=Dojang RP Test OCSP Responder" v3_ocsp 20200101000000Z 20400101000000Z

# user NAME POLICY PARTITION START END [CADB CACERT CAKEY [KEYUSAGE]]
user() {
    local name=$1 policy=$2 part=$3 r vid ku=${9:-digitalSignature, nonRepudiation}
    r=$(openssl rand -hex 20)
    cat >"$W/hc-$name.cnf" <<CNF
asn1 = SEQUENCE:hc
[hc]
idn = PRINTABLESTRING:$IDN
randomNum = FORMAT:HEX,BITSTRING:$r
CNF
    q openssl asn1parse -genconf "$W/hc-$name.cnf" -noout -out "$W/hc-$name.der"
    vid=$(openssl dgst -sha256 -binary "$W/hc-$name.der" | openssl dgst -sha256 -binary | xxd -p | tr -d '\n')
    cat >"$W/ext-$name.cnf" <<CNF
[usr]
basicConstraints = critical, CA:FALSE
keyUsage = critical, $ku
certificatePolicies = critical, @pol
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
crlDistributionPoints = URI:$(crl_url "$part")
authorityInfoAccess = OCSP;URI:$OCSP_URL
subjectAltName = otherName:1.2.410.200004.10.1.1;SEQUENCE:identify_data
[pol]
policyIdentifier = $policy
CPS.1 = "https://www.test.dojang.example/cps.html"
[identify_data]
realName = FORMAT:UTF8,UTF8:홍길동
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
algorithm = OID:2.16.840.1.101.3.4.2.1
CNF
    issue "${6:-ca}" "${7:-$OUT/ca.pem}" "${8:-$OUT/ca.key.pem}" "users/$name" \
        "/C=kr/O=yessign/OU=personal4IB/OU=WOORI/CN=홍길동()00$name" usr "$4" "$5" "$W/ext-$name.cnf"
    q openssl x509 -in "$OUT/users/$name.pem" -outform DER -out "$OUT/users/$name.der"
    echo "$r" >"$OUT/users/$name.random"
    echo "$IDN" >"$OUT/users/$name.idn"
    echo "$part" >"$OUT/users/$name.partition"
}

NOW_START=$(date -u -d '-1 day' +%Y%m%d%H%M%SZ)
NOW_END=$(date -u -d '+365 days' +%Y%m%d%H%M%SZ)
user good 1.2.410.200005.1.1.1 1 "$NOW_START" "$NOW_END"
user revoked 1.2.410.200005.1.1.1 1 "$NOW_START" "$NOW_END"
user held 1.2.410.200005.1.1.1 2 "$NOW_START" "$NOW_END"
user bank 1.2.410.200005.1.1.4 2 "$NOW_START" "$NOW_END"
user expired 1.2.410.200005.1.1.1 1 20200101000000Z 20210101000000Z
user unknown 1.2.410.200005.1.1.1 1 "$NOW_START" "$NOW_END" scratch "$OUT/ca.pem" "$OUT/ca.key.pem"
user oldca 1.2.410.200005.1.1.1 1 "$NOW_START" "$NOW_END" oldcadb "$OUT/oldca.pem" "$OUT/oldca.key.pem"
user km 1.2.410.200005.1.1.1 1 "$NOW_START" "$NOW_END" ca "$OUT/ca.pem" "$OUT/ca.key.pem" keyEncipherment
ca_dir otherdb "$OUT/otherroot.pem" "$OUT/otherroot.key.pem"
user foreign 1.2.410.200005.1.1.1 1 "$NOW_START" "$NOW_END" otherdb "$OUT/otherroot.pem" "$OUT/otherroot.key.pem"

q openssl ca -config "$W/ca/ca.cnf" -revoke "$OUT/users/revoked.pem" -crl_reason keyCompromise
q openssl ca -config "$W/ca/ca.cnf" -revoke "$OUT/users/held.pem" -crl_hold holdInstructionNone
cp "$W/ca/index.txt" "$OUT/index.txt"

cat "$W/ext.cnf" >>"$W/ca/ca.cnf"  # -crlexts sections are read from -config
crl() { # OUT EXTSECTION [extra args]
    local out=$1 ext=$2
    shift 2
    q openssl ca -config "$W/ca/ca.cnf" -gencrl -crlexts "$ext" -out "$W/crl.pem" "$@"
    q openssl crl -in "$W/crl.pem" -outform DER -out "$out"
}
crl "$OUT/crl/full.crl" crl_full
crl "$OUT/crl/p1.crl" idp_p1
crl "$OUT/crl/p2.crl" idp_p2
crl "$OUT/crl/expired.crl" idp_p1 -crl_lastupdate 20210101000000Z -crl_nextupdate 20210102000000Z
q openssl ca -config "$W/root/ca.cnf" -cert "$OUT/root.pem" -keyfile "$OUT/root.key.pem" -gencrl -out "$W/rootcrl.pem"
q openssl crl -in "$W/rootcrl.pem" -outform DER -out "$OUT/crl/root.crl"

# Self-checks with openssl itself.
q openssl verify -CAfile "$OUT/root.pem" -untrusted "$OUT/ca.pem" "$OUT/users/good.pem"
q openssl verify -CAfile "$OUT/root.pem" -untrusted "$OUT/ca.pem" -CRLfile "$OUT/crl/p2.crl" -crl_check "$OUT/users/bank.pem"
! openssl verify -CAfile "$OUT/root.pem" -untrusted "$OUT/ca.pem" -CRLfile "$OUT/crl/p1.crl" -crl_check "$OUT/users/revoked.pem" >/dev/null 2>&1 || die "revoked passes"
echo ok
