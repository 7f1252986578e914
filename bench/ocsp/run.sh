#!/usr/bin/env bash
# bench/ocsp/run.sh -- OCSP responses per second of dojangd beside its peers, in one run,
# on loopback only. Prints one JSON line per figure on stdout:
#   {"bench": NAME, "metric": M, "unit": U, "value": V, "peer": P, "peer_value": PV, "ratio": V/PV}
# progress goes to stderr.
#
# Setup (peers as in shared/peers/baselines.sh):
#   dojangd        `dojangd init --issuing-key $KEY`, NCERT certificates issued through
#                  `openssl cmp` (teller applications), served by `dojangd serve`
#   openssl ocsp   `openssl ocsp -port` over an index.txt of the same certificates, signing
#                  with the same OCSP signer key (exported from the data dir); driven with ab
#                  (it wedges under wrk)
#   cfssl          `cfssl ocsprefresh` (same certificates, same signer) + `ocspdump` +
#                  `cfssl ocspserve`; POST only (its GET decodes '+' wrongly)
#   nginx          a static 1 KB file: the loopback HTTP ceiling
#   openssl speed  -multi <cores> for the OCSP signer's key type: the signing ceiling
# Load: wrk -t2 -c$CONC for DUR seconds, keep-alive, one request (the first certificate).
#
# Usage: bench/ocsp/run.sh [--dojangd PATH]
# Env: DUR (s per run, default 10), CONC (default 32), NCERT (default 10), KEY (rsa2048 |
#      rsa3072 | ec_p256, default rsa2048), SPEED_S (default 3), KEEP=1 keeps the temp dir.
set -u
export LC_ALL=C
export PATH="$PATH:/usr/sbin:/sbin"
HERE=$(cd "$(dirname "$0")" && pwd)
DOJANGD=${DOJANGD:-$HERE/../../build/bin/dojangd}
if [ "${1:-}" = --dojangd ]; then DOJANGD=$2; fi
DUR=${DUR:-10}
CONC=${CONC:-32}
NCERT=${NCERT:-10}
KEY=${KEY:-rsa2048}
SPEED_S=${SPEED_S:-3}
NCPU=$(nproc)
T0=$(date +%s)
log() { echo "[bench/ocsp $(( $(date +%s) - T0 ))s] $*" >&2; }

for tool in wrk ab nginx cfssl openssl sqlite3 curl bc; do
  command -v "$tool" >/dev/null 2>&1 || { log "missing $tool: run scripts/bootstrap"; exit 1; }
done
[ -x "$DOJANGD" ] || { log "no dojangd at $DOJANGD (build it first)"; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/bench-ocsp.XXXXXX")
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.3
  for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && kill -9 "$p" 2>/dev/null; done
  if [ "${KEEP:-0}" != 1 ]; then rm -rf "$T"; else log "kept $T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$T" || exit 1

emit() { # metric unit value peer peer_value
  awk -v m="$1" -v u="$2" -v v="${3:-0}" -v p="$4" -v pv="${5:-0}" 'BEGIN {
    r = (pv + 0 > 0) ? sprintf("%.3f", v / pv) : "null";
    printf "{\"bench\": \"ocsp\", \"metric\": \"%s\", \"unit\": \"%s\", \"value\": %s, \"peer\": \"%s\", \"peer_value\": %s, \"ratio\": %s}\n", m, u, v + 0, p, pv + 0, r }'
}

free_port() {
  local p
  while :; do
    p=$(( 20000 + RANDOM % 20000 ))
    ss -ltn 2>/dev/null | awk '{print $4}' | grep -q ":$p\$" || { echo "$p"; return; }
  done
}
wait_port() { # never connect: a bare connect+close wedges openssl ocsp
  local i
  for ((i = 0; i < ${2:-10} * 10; i++)); do
    ss -ltn 2>/dev/null | awk '{print $4}' | grep -q ":$1\$" && return 0
    sleep 0.1
  done
  return 1
}
run_wrk() { # script url -> W_RPS, W_NON2XX
  local out
  out=$(wrk -t 2 -c "$CONC" -d "${DUR}s" --latency --timeout 10s -s "$1" "$2" 2>&1)
  echo "$out" >> wrk.log
  W_RPS=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out"); W_RPS=${W_RPS:-0}
  W_NON2XX=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out"); W_NON2XX=${W_NON2XX:-0}
  W_P99=$(awk '$1=="99%" {print $2}' <<<"$out")
  log "  $W_RPS req/s (non-2xx $W_NON2XX, p99 ${W_P99:-?})"
}
run_ab() { # body url -> A_RPS
  local out
  out=$(ab -q -t "$DUR" -n 10000000 -c "$CONC" -s 10 -p "$1" -T application/ocsp-request "$2" 2>&1)
  echo "$out" >> ab.log
  A_RPS=$(awk '/^Requests per second:/ {print $4}' <<<"$out"); A_RPS=${A_RPS:-0}
  log "  $A_RPS req/s (failed $(awk '/^Failed requests:/ {print $3}' <<<"$out"))"
}
post_lua() { # file body
  cat > "$1" <<LUA
local f = assert(io.open("$2", "rb")); local b = f:read("*a"); f:close()
wrk.method = "POST"
wrk.body = b
wrk.headers["Content-Type"] = "application/ocsp-request"
LUA
}
get_lua() { # file path
  printf 'wrk.method = "GET"\nwrk.path = "%s"\n' "$2" > "$1"
}
b64url() { # der file -> percent-encoded base64 (RFC 6960 A.1)
  openssl base64 -A -in "$1" | sed -e 's/+/%2B/g' -e 's#/#%2F#g' -e 's/=/%3D/g'
}

log "workdir $T; cores $NCPU; $(openssl version); key $KEY; wrk -t2 -c$CONC ${DUR}s; load avg $(cut -d' ' -f1-3 /proc/loadavg)"

# ---------- dojangd with NCERT certificates ----------
echo "bench operator passphrase" > pass
echo "800101-1234567" > idn
echo 'Bank!login-77' > lpw
: > empty.cnf
"$DOJANGD" init --data d --passphrase-file pass --issuing-key "$KEY" >/dev/null || exit 1
"$DOJANGD" bank enrol --data d --passphrase-file pass --customer hong --name 홍길동 --idn-file idn \
  --phone 010-1234-5678 --password-file lpw >/dev/null || exit 1
DP=$(free_port)
"$DOJANGD" serve --data d --passphrase-file pass --listen "127.0.0.1:$DP" --threads "$NCPU" > serve.log 2>&1 &
PIDS+=("$!")
wait_port "$DP" 30 || { log "dojangd did not start"; cat serve.log >&2; exit 1; }
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out user.key 2>/dev/null
log "issuing $NCERT certificates through openssl cmp"
for ((i = 0; i < NCERT; i++)); do
  out=$("$DOJANGD" bank application --data d --passphrase-file pass --customer hong)
  ref=$(awk '/Reference number/ {print $3}' <<<"$out"); code=$(awk '/Authorization code/ {print $3}' <<<"$out")
  openssl cmp -config empty.cnf -server "127.0.0.1:$DP/pkix/" -cmd ir -ref "$ref" -secret "pass:$code" \
    -newkey user.key -subject /CN=x -trusted d/root.pem -certout "c$i.pem" >/dev/null 2>&1 \
    || { log "cmp issuance $i failed"; exit 1; }
done
openssl x509 -in d/certs/issuing.pem -out ca.pem
openssl x509 -in d/certs/ocsp.pem -out signer.pem
openssl pkey -in d/keys/ocsp.key.pem -passin file:pass -out signer.key 2>/dev/null \
  || { log "cannot export the OCSP signer key"; exit 1; }
openssl ocsp -issuer ca.pem -cert c0.pem -no_nonce -reqout req.der >/dev/null 2>&1
openssl ocsp -issuer ca.pem -cert c0.pem -reqout req_nonce.der >/dev/null 2>&1
post_lua post.lua "$T/req.der"
post_lua post_nonce.lua "$T/req_nonce.der"
get_lua get.lua "/ocsp/$(b64url req.der)"
get_lua get_nonce.lua "/ocsp/$(b64url req_nonce.der)"
CHK=$(openssl ocsp -issuer ca.pem -cert c0.pem -url "http://127.0.0.1:$DP/ocsp" -CAfile d/root.pem 2>&1 | tr '\n' ' ')
grep -q 'verify OK' <<<"$CHK" && grep -q ': good' <<<"$CHK" || { log "dojangd check failed: $CHK"; exit 1; }

log "dojangd POST pre-signed"; run_wrk post.lua "http://127.0.0.1:$DP/ocsp"; D_POST=$W_RPS
log "dojangd GET pre-signed"; run_wrk get.lua "http://127.0.0.1:$DP"; D_GET=$W_RPS
log "dojangd POST nonce"; run_wrk post_nonce.lua "http://127.0.0.1:$DP/ocsp"; D_NPOST=$W_RPS
log "dojangd GET nonce"; run_wrk get_nonce.lua "http://127.0.0.1:$DP"; D_NGET=$W_RPS
log "dojangd POST nonce with ab (no keep-alive, like openssl ocsp)"; run_ab req_nonce.der "http://127.0.0.1:$DP/ocsp"; D_NAB=$A_RPS
log "dojangd POST pre-signed with ab"; run_ab req.der "http://127.0.0.1:$DP/ocsp"; D_AB=$A_RPS
kill "${PIDS[0]}" 2>/dev/null; wait "${PIDS[0]}" 2>/dev/null

# ---------- openssl ocsp -port (signs every response, single process) ----------
{ for ((i = 0; i < NCERT; i++)); do
    s=$(openssl x509 -in "c$i.pem" -noout -serial | cut -d= -f2)
    e=$(date -u -d "$(openssl x509 -in "c$i.pem" -noout -enddate | cut -d= -f2)" +%y%m%d%H%M%SZ)
    printf 'V\t%s\t\t%s\tunknown\t/CN=c%d\n' "$e" "$s" "$i"
  done; } > index.txt
echo "unique_subject = no" > index.txt.attr
OP=$(free_port)
openssl ocsp -index index.txt -port "$OP" -rsigner signer.pem -rkey signer.key -CA ca.pem -ndays 1 \
  -ignore_err >> ocsp_openssl.log 2>&1 &
OPID=$!; PIDS+=("$OPID")
wait_port "$OP" 20 || log "openssl ocsp did not open its port"
log "openssl ocsp -port with ab"; run_ab req_nonce.der "http://127.0.0.1:$OP/"; O_AB=$A_RPS
kill "$OPID" 2>/dev/null; wait "$OPID" 2>/dev/null

# ---------- cfssl ocspserve (pre-signed by ocsprefresh, same certificates and signer) ----------
cat > schema.sql <<'SQL'
CREATE TABLE certificates (serial_number blob NOT NULL, authority_key_identifier blob NOT NULL,
  ca_label blob, status blob NOT NULL, reason int, expiry timestamp, revoked_at timestamp,
  pem blob NOT NULL, PRIMARY KEY(serial_number, authority_key_identifier));
CREATE TABLE ocsp_responses (serial_number blob NOT NULL, authority_key_identifier blob NOT NULL,
  body blob NOT NULL, expiry timestamp, PRIMARY KEY(serial_number, authority_key_identifier),
  FOREIGN KEY(serial_number, authority_key_identifier) REFERENCES certificates(serial_number, authority_key_identifier));
SQL
sqlite3 cfssl.db < schema.sql
AKI=$(openssl x509 -in c0.pem -noout -ext authorityKeyIdentifier | tail -1 | tr -d ' :' | sed 's/^keyid//' | tr 'A-F' 'a-f')
for ((i = 0; i < NCERT; i++)); do
  s=$(openssl x509 -in "c$i.pem" -noout -serial | cut -d= -f2)
  dec=$(echo "ibase=16; $s" | BC_LINE_LENGTH=0 bc)
  exp=$(date -u -d "$(openssl x509 -in "c$i.pem" -noout -enddate | cut -d= -f2)" '+%Y-%m-%d %H:%M:%S')
  pem=$(sed "s/'/''/g" "c$i.pem")
  sqlite3 cfssl.db "INSERT INTO certificates VALUES ('$dec', '$AKI', '', 'good', 0, '$exp', '0001-01-01 00:00:00', '$pem');"
done
printf '{"driver":"sqlite3","data_source":"%s"}\n' "$T/cfssl.db" > db.json
cfssl ocsprefresh -db-config db.json -ca ca.pem -responder signer.pem -responder-key signer.key \
  -loglevel 3 2> ocsprefresh.log
cfssl ocspdump -db-config db.json > responses.b64 2> ocspdump.log
CP=$(free_port)
cfssl ocspserve -address 127.0.0.1 -port "$CP" -responses responses.b64 -loglevel 3 > ocspserve.log 2>&1 &
CPID=$!; PIDS+=("$CPID")
wait_port "$CP" 20 || log "cfssl ocspserve did not open its port"
curl -s -H 'Content-Type: application/ocsp-request' --data-binary @req.der "http://127.0.0.1:$CP/" -o cfssl_resp.der
CCHK=$(openssl ocsp -respin cfssl_resp.der -no_nonce -issuer ca.pem -cert c0.pem -CAfile d/root.pem 2>&1 | tr '\n' ' ')
grep -q ': good' <<<"$CCHK" || log "cfssl check: $CCHK ($(grep -c . responses.b64) responses)"
log "cfssl ocspserve POST"; run_wrk post.lua "http://127.0.0.1:$CP/"; C_POST=$W_RPS
kill "$CPID" 2>/dev/null; wait "$CPID" 2>/dev/null

# ---------- nginx static 1 KB ----------
mkdir -p www ngx
head -c 1024 /dev/zero | tr '\0' 'a' > www/1k.txt
NP=$(free_port)
{
  [ "$(id -u)" = 0 ] && echo "user root;"
  cat <<NGX
worker_processes auto;
daemon off;
pid $T/ngx/nginx.pid;
error_log $T/ngx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $T/ngx/cb; proxy_temp_path $T/ngx/px; fastcgi_temp_path $T/ngx/fc;
  uwsgi_temp_path $T/ngx/uw; scgi_temp_path $T/ngx/sc;
  server { listen 127.0.0.1:$NP; root $T/www; location / { } }
}
NGX
} > ngx/nginx.conf
nginx -e "$T/ngx/error.log" -p "$T/ngx" -c "$T/ngx/nginx.conf" &
NPID=$!; PIDS+=("$NPID")
wait_port "$NP" 20 || log "nginx did not open its port"
get_lua static.lua "/1k.txt"
log "nginx static 1 KB"; run_wrk static.lua "http://127.0.0.1:$NP"; N_RPS=$W_RPS
kill -QUIT "$NPID" 2>/dev/null; wait "$NPID" 2>/dev/null

# ---------- signing ceiling of the OCSP signer key ----------
case "$KEY" in
  rsa2048) ALG=rsa2048; PAT='^rsa 2048 bits' ;;
  rsa3072) ALG=rsa3072; PAT='^rsa 3072 bits' ;;
  *) ALG=ecdsap256; PAT='ecdsa \(nistp256\)' ;;
esac
log "openssl speed -multi $NCPU $ALG"
SPD=$(openssl speed -seconds "$SPEED_S" -multi "$NCPU" "$ALG" 2>/dev/null)
S_RPS=$(awk -v pat="$PAT" '$0 ~ pat {print $(NF-1)}' <<<"$SPD")

# ---------- figures ----------
emit presigned_post_per_s resp/s "$D_POST" cfssl-ocspserve "$C_POST"
emit presigned_post_per_s resp/s "$D_POST" nginx-static-1k "$N_RPS"
emit presigned_get_per_s resp/s "$D_GET" nginx-static-1k "$N_RPS"
emit presigned_post_ab_per_s resp/s "$D_AB" openssl-ocsp-ab "$O_AB"
emit nonce_post_per_s resp/s "$D_NPOST" "openssl-speed-$ALG-sign-x$NCPU" "$S_RPS"
emit nonce_get_per_s resp/s "$D_NGET" "openssl-speed-$ALG-sign-x$NCPU" "$S_RPS"
emit nonce_post_ab_per_s resp/s "$D_NAB" openssl-ocsp-ab "$O_AB"
log "done in $(( $(date +%s) - T0 ))s; load avg now $(cut -d' ' -f1-3 /proc/loadavg)"
