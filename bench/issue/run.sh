#!/usr/bin/env bash
# bench/issue/run.sh -- end-to-end CMP issuances per second against dojangd,
# beside, in the same run and on the same machine:
#   (a) the `cfssl serve` sign API (Debian golang-cfssl) with a CA of the same
#       key type and a SQLite certdb, driven by wrk at the same concurrency
#       with one pre-made CSR body (set up as in shared/peers/baselines.sh);
#   (b) that key type's signing ceiling, `openssl speed -multi <cores>`.
# Prints one JSON line per figure (shared/design.md §5), peer and ratio included.
#
# What the dojangd figure measures depends on CLIENT (bench_issue --client):
#   light (default): the CMP exchange ir -> ip -> certConf -> pkiConf, from
#       pre-built, pre-signed irs against pre-made teller applications (the
#       counterpart of wrk's pre-made CSR for cfssl). Outside the clock: the
#       application (admin REST API), the device's popo signature and the ir's
#       MAC. Not done at all: the client's verification of the ip (its MAC,
#       the certificate's chain). On the clock the client only writes the
#       certConf (certHash, MAC) and moves bytes.
#   wallet: everything one issuance costs, on the clock: the teller
#       application and the wallet's full CMP client (OpenSSL
#       OSSL_CMP_exec_certreq: popo signature, MAC, verification of the ip and
#       of the chain), which costs about as much CPU as the server, on the
#       same cores.
# Env: SECONDS_PER_RUN (default 10), CLIENTS (default 8), CLIENT (default light),
#      KEY_TYPES (default "rsa3072 rsa2048 ec_p256"), BUILD (default build).
# Loopback only.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/../.."
ROOT=$PWD
DUR=${SECONDS_PER_RUN:-10}
CLIENTS=${CLIENTS:-8}
CLIENT=${CLIENT:-light}
KEY_TYPES=${KEY_TYPES:-"rsa3072 rsa2048 ec_p256"}
BUILD=${BUILD:-build}
NCPU=$(nproc)

for tool in cfssl cfssljson wrk sqlite3 jq openssl; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool missing: run scripts/bootstrap" >&2; exit 5; }
done
[ -x "$BUILD/bin/bench_issue" ] || { echo "run.sh: $BUILD/bin/bench_issue missing: run scripts/build" >&2; exit 5; }

T=$(mktemp -d "${TMPDIR:-/tmp}/bench-issue.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$T"
}
trap cleanup EXIT
log() { echo "[bench/issue] $*" >&2; }

free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 20000))
    ss -ltn 2>/dev/null | awk '{print $4}' | grep -q ":$p\$" || { echo "$p"; return; }
  done
}
wait_port() {
  local i
  for ((i = 0; i < 200; i++)); do
    ss -ltn 2>/dev/null | awk '{print $4}' | grep -q ":$1\$" && return 0
    sleep 0.1
  done
  return 1
}
emit() { # metric unit value peer peer_value
  jq -cn --arg m "$1" --arg u "$2" --argjson v "$3" --arg p "$4" --argjson pv "$5" \
    '{bench: "issue", metric: $m, unit: $u, value: $v, peer: $p, peer_value: $pv,
      ratio: (if $pv > 0 then (($v / $pv) * 100 | round) / 100 else null end)}'
}

# (b) signing ceilings
log "openssl speed -multi $NCPU rsa3072 rsa2048 ecdsap256"
SPD=$(openssl speed -seconds 3 -multi "$NCPU" rsa3072 rsa2048 ecdsap256 2>/dev/null)
ceiling() {
  case $1 in
    rsa3072) awk '/^rsa 3072 bits/ {print $(NF-1)}' <<<"$SPD" ;;
    rsa2048) awk '/^rsa 2048 bits/ {print $(NF-1)}' <<<"$SPD" ;;
    ec_p256) awk '/ecdsa \(nistp256\)/ {print $(NF-1)}' <<<"$SPD" ;;
  esac
}

# (a) cfssl serve, same key type, SQLite certdb (schema of Debian golang-cfssl 1.2.0)
cat > "$T/schema.sql" <<'SQL'
CREATE TABLE certificates (serial_number blob NOT NULL, authority_key_identifier blob NOT NULL,
  ca_label blob, status blob NOT NULL, reason int, expiry timestamp, revoked_at timestamp, pem blob NOT NULL,
  PRIMARY KEY(serial_number, authority_key_identifier));
CREATE TABLE ocsp_responses (serial_number blob NOT NULL, authority_key_identifier blob NOT NULL,
  body blob NOT NULL, expiry timestamp, PRIMARY KEY(serial_number, authority_key_identifier));
SQL
echo '{"signing":{"default":{"expiry":"8760h","usages":["digital signature","non repudiation","client auth"]}}}' > "$T/config.json"
openssl req -new -newkey rsa:2048 -nodes -keyout "$T/user.key" -out "$T/user.csr" \
  -subj "/C=KR/O=yessign/OU=personal/CN=hong-gildong()001" 2>/dev/null
jq -n --rawfile csr "$T/user.csr" '{certificate_request: $csr}' > "$T/sign_body.json"
cat > "$T/sign.lua" <<LUA
local f = assert(io.open("$T/sign_body.json", "rb")); local b = f:read("*a"); f:close()
wrk.method = "POST"
wrk.body = b
wrk.headers["Content-Type"] = "application/json"
LUA

cfssl_rate() { # key type -> sign/s
  local kt=$1 algo size
  case $kt in
    rsa3072) algo=rsa size=3072 ;;
    rsa2048) algo=rsa size=2048 ;;
    ec_p256) algo=ecdsa size=256 ;;
  esac
  (cd "$T" && printf '{"CN":"Bench CA %s","key":{"algo":"%s","size":%s},"names":[{"C":"KR","O":"Bench"}]}\n' \
      "$kt" "$algo" "$size" > "ca-$kt.json" &&
    cfssl gencert -initca "ca-$kt.json" 2>/dev/null | cfssljson -bare "ca-$kt")
  sqlite3 "$T/certs-$kt.db" < "$T/schema.sql"
  printf '{"driver":"sqlite3","data_source":"%s"}\n' "$T/certs-$kt.db" > "$T/db-$kt.json"
  local port pid out
  port=$(free_port)
  cfssl serve -address 127.0.0.1 -port "$port" -ca "$T/ca-$kt.pem" -ca-key "$T/ca-$kt-key.pem" \
    -config "$T/config.json" -db-config "$T/db-$kt.json" -loglevel 3 > "$T/cfssl-$kt.log" 2>&1 &
  pid=$!; PIDS+=("$pid")
  wait_port "$port" || { log "cfssl serve did not start"; echo 0; return; }
  # One checked request first: the response carries a certificate that chains to the CA.
  curl -s -X POST --data-binary @"$T/sign_body.json" "http://127.0.0.1:$port/api/v1/cfssl/sign" |
    jq -r .result.certificate > "$T/signed-$kt.pem"
  openssl verify -CAfile "$T/ca-$kt.pem" "$T/signed-$kt.pem" >/dev/null 2>&1 ||
    log "cfssl's certificate ($kt) does not verify"
  out=$(wrk -t 2 -c "$CLIENTS" -d "${DUR}s" --timeout 10s -s "$T/sign.lua" "http://127.0.0.1:$port/api/v1/cfssl/sign" 2>&1)
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  awk '/^Requests\/sec:/ {print $2}' <<<"$out"
}

for kt in $KEY_TYPES; do
  log "dojangd, issuing key $kt: $CLIENTS $CLIENT clients, ${DUR}s"
  line=$("$BUILD/bin/bench_issue" --seconds "$DUR" --clients "$CLIENTS" --key-types "$kt" --client "$CLIENT")
  echo "$line" >&2
  ours=$(jq -r .value <<<"$line")
  log "cfssl serve, CA key $kt"
  theirs=$(cfssl_rate "$kt")
  ceil=$(ceiling "$kt")
  emit "issuances_per_s_$kt" issuances/s "${ours:-0}" "cfssl serve /api/v1/cfssl/sign ($kt CA, sqlite certdb, wrk -c $CLIENTS)" "${theirs:-0}"
  emit "issuances_per_s_$kt" issuances/s "${ours:-0}" "openssl speed -multi $NCPU ($kt sign/s)" "${ceil:-0}"
done
