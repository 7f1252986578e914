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
# Rounds: the rate of the same work moves by up to 25 % with the host's load on
# this VM, so each key type is measured ROUNDS times, dojangd, cfssl and the
# ceiling one after the other in each round; a line gives the medians and the
# ratio of the medians, with every round's figures in "rounds".
# Env: SECONDS_PER_RUN (default 10), CLIENTS (default 8), CLIENT (default light),
#      KEY_TYPES (default "rsa3072 rsa2048 ec_p256"), ROUNDS (default 3),
#      BUILD (default build).
# Loopback only.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/../.."
ROOT=$PWD
DUR=${SECONDS_PER_RUN:-10}
CLIENTS=${CLIENTS:-8}
CLIENT=${CLIENT:-light}
KEY_TYPES=${KEY_TYPES:-"rsa3072 rsa2048 ec_p256"}
ROUNDS=${ROUNDS:-3}
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: ROUNDS must be a positive integer" >&2; exit 2; }
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
# metric unit peer "ours theirs" per round... -> one line: the medians, their
# ratio, and each round's figures.
emit() {
  local m=$1 u=$2 p=$3
  shift 3
  printf '%s\n' "$@" | jq -cRn --arg m "$m" --arg u "$u" --arg p "$p" '
    def r2: (. * 100 | round) / 100;
    def median: sort | if length % 2 == 1 then .[length / 2 | floor]
                       else (.[length / 2 - 1] + .[length / 2]) / 2 end;
    [inputs | split(" ") | map(tonumber) | {value: .[0], peer_value: .[1]}] as $rs
    | ($rs | map(.value) | median) as $v | ($rs | map(.peer_value) | median) as $pv
    | {bench: "issue", metric: $m, unit: $u, value: ($v | r2), peer: $p, peer_value: ($pv | r2),
       ratio: (if $pv > 0 then ($v / $pv) | r2 else null end),
       rounds: ($rs | map(. + {ratio: (if .peer_value > 0 then (.value / .peer_value) | r2
                                       else null end)}))}'
}

# (b) the signing ceiling of a key type: sign/s over all cores
ceiling() {
  local alg row
  case $1 in
    rsa3072) alg=rsa3072 row='^rsa 3072 bits' ;;
    rsa2048) alg=rsa2048 row='^rsa 2048 bits' ;;
    ec_p256) alg=ecdsap256 row='ecdsa \(nistp256\)' ;;
  esac
  openssl speed -seconds 3 -multi "$NCPU" "$alg" 2>/dev/null |
    awk -v row="$row" '$0 ~ row {print $(NF-1)}'
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

# Starts cfssl serve with a new CA of the key type; sets CFSSL_PORT, CFSSL_PID.
cfssl_start() {
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
  CFSSL_PORT=$(free_port)
  cfssl serve -address 127.0.0.1 -port "$CFSSL_PORT" -ca "$T/ca-$kt.pem" -ca-key "$T/ca-$kt-key.pem" \
    -config "$T/config.json" -db-config "$T/db-$kt.json" -loglevel 3 > "$T/cfssl-$kt.log" 2>&1 &
  CFSSL_PID=$!; PIDS+=("$CFSSL_PID")
  wait_port "$CFSSL_PORT" || { log "cfssl serve did not start"; return 1; }
  # One checked request first: the response carries a certificate that chains to the CA.
  curl -s -X POST --data-binary @"$T/sign_body.json" "http://127.0.0.1:$CFSSL_PORT/api/v1/cfssl/sign" |
    jq -r .result.certificate > "$T/signed-$kt.pem"
  openssl verify -CAfile "$T/ca-$kt.pem" "$T/signed-$kt.pem" >/dev/null 2>&1 ||
    log "cfssl's certificate ($kt) does not verify"
}
cfssl_stop() {
  kill "$CFSSL_PID" 2>/dev/null || true
  wait "$CFSSL_PID" 2>/dev/null || true
}
# sign/s of the running cfssl serve (0 when it did not start)
cfssl_rate() {
  local out
  [ -n "${CFSSL_PORT:-}" ] || { echo 0; return; }
  out=$(wrk -t 2 -c "$CLIENTS" -d "${DUR}s" --timeout 10s -s "$T/sign.lua" \
    "http://127.0.0.1:$CFSSL_PORT/api/v1/cfssl/sign" 2>&1)
  awk '/^Requests\/sec:/ {print $2}' <<<"$out"
}

for kt in $KEY_TYPES; do
  CFSSL_PORT=
  cfssl_start "$kt" || CFSSL_PORT=
  vs_cfssl=() vs_ceiling=()
  for ((round = 1; round <= ROUNDS; round++)); do
    log "round $round/$ROUNDS, $kt: dojangd, $CLIENTS $CLIENT clients, ${DUR}s"
    line=$("$BUILD/bin/bench_issue" --seconds "$DUR" --clients "$CLIENTS" --key-types "$kt" --client "$CLIENT")
    echo "$line" >&2
    ours=$(jq -r .value <<<"$line")
    log "round $round/$ROUNDS, $kt: cfssl serve, wrk -c $CLIENTS, ${DUR}s"
    theirs=$(cfssl_rate)
    log "round $round/$ROUNDS, $kt: openssl speed -multi $NCPU"
    ceil=$(ceiling "$kt")
    log "round $round/$ROUNDS, $kt: dojangd ${ours:-0}/s, cfssl ${theirs:-0}/s, ceiling ${ceil:-0}/s"
    vs_cfssl+=("${ours:-0} ${theirs:-0}")
    vs_ceiling+=("${ours:-0} ${ceil:-0}")
  done
  cfssl_stop
  emit "issuances_per_s_$kt" issuances/s "cfssl serve /api/v1/cfssl/sign ($kt CA, sqlite certdb, wrk -c $CLIENTS)" "${vs_cfssl[@]}"
  emit "issuances_per_s_$kt" issuances/s "openssl speed -multi $NCPU ($kt sign/s)" "${vs_ceiling[@]}"
done
