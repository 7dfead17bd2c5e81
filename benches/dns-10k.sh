#!/usr/bin/env bash
# DNS benchmark (issue 5): a 10,000-record zone in moto, served by 4 local
# authoritative servers (a handful of records drifted), scanned by the real
# `zonewarden scan dns`. Reports wall time, DNS queries per second, peak RSS
# and Route 53 calls, and the lab server's own capacity measured by dnsperf
# in the same run. Not a test: figures go to docs/performance.md.
#
#   benches/dns-10k.sh            (release build; about 3 minutes once built)
#   RECORDS=10000 SERVERS=4 DRIFTED=5 PORT=5077
set -euo pipefail
cd "$(dirname "$0")/.."
records=${RECORDS:-10000}
servers=${SERVERS:-4}
drifted=${DRIFTED:-5}
port=${PORT:-5077}
table=zonewarden-bench-dns
out=.zw/bench-dns
mkdir -p "$out"

scripts/setup >/dev/null
cargo build --release --locked -p zw-cli -p zw-testkit --bin zonewarden --bin zw-dns-world
command -v dnsperf >/dev/null || { apt-get update -qq && apt-get install -y -qq dnsperf; } || true
command -v /usr/bin/time >/dev/null || apt-get install -y -qq time

scripts/moto stop "$port" >/dev/null 2>&1 || true
scripts/moto start "$port"
eval "$(scripts/moto env "$port")"
export AWS_DEFAULT_REGION=${AWS_REGION:-us-east-1}
trap 'kill "${world_pid:-0}" 2>/dev/null || true; scripts/moto stop "$port" >/dev/null 2>&1 || true' EXIT
.venv/bin/python - "$table" <<'PY'
import boto3, sys
boto3.client("dynamodb").create_table(TableName=sys.argv[1],
    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
    BillingMode="PAY_PER_REQUEST")
PY

rm -f "$out/world.env"
seed_start=$(date +%s.%N)
target/release/zw-dns-world bench --records "$records" --servers "$servers" --drifted "$drifted" \
    --seconds 900 --env "$out/world.env" &
world_pid=$!
for _ in $(seq 1 1500); do [[ -s "$out/world.env" ]] && break; sleep 0.2; done
[[ -s "$out/world.env" ]] || { echo "zw-dns-world did not start" >&2; exit 1; }
echo "seeded $records record sets into moto and started $servers servers in $(echo "$(date +%s.%N) - $seed_start" | bc) s"
# shellcheck disable=SC1091
source "$out/world.env"
export ZW_TABLE_NAME=$table ZW_REGIONS=us-east-1 ZW_ROUTE53_RPS=5 ZW_DNS_TIMEOUT_MS=1000
export ZW_AWS_IP_RANGES_URL=http://127.0.0.1:9/ip-ranges.json ZW_METRICS_DETAIL=full

run() {  # $1 = label; the rest: VAR=value settings for this run
    local label=$1
    shift
    env "$@" /usr/bin/time -v -o "$out/$label.time" target/release/zonewarden scan dns --zone bench.test \
        --table "$table" --format json >"$out/$label.json" 2>"$out/$label.err" || true
}
run listing   # lists the zone (34 pages) and caches it, then compares
run cached    # the inventory comes from the table: comparison only
# Within the template's default comparison interval (360 minutes) of the
# cached run: each server is asked the apex SOA and NS only.
run between ZW_DNS_COMPARE_INTERVAL_MINUTES=360
.venv/bin/python - "$out" "$records" "$servers" <<'PY'
import json, re, sys
out, records, servers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for label in ("listing", "cached", "between"):
    r = json.load(open(f"{out}/{label}.json"))
    s = r["scan"]
    t = open(f"{out}/{label}.time").read()
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024
    wall = re.search(r"Elapsed \(wall clock\) time .*: (.+)", t).group(1)
    q = s["counts"].get("dns_queries", 0)
    r53 = {k: v for k, v in s["api_calls"].items() if k.startswith("route53:")}
    codes = {}
    for f in r["findings"]:
        codes[f["code"]] = codes.get(f["code"], 0) + 1
    print(f"{label}: scan {s['duration_ms']} ms (process wall {wall}), {q} DNS queries "
          f"({q / max(s['duration_ms'], 1) * 1000:.0f}/s over the whole scan), peak RSS {rss:.1f} MiB, "
          f"Route 53 calls {r53}, record sets {s['counts'].get('record_sets')}, "
          f"errors {len(s['errors'])}, findings {codes}")
PY

if command -v dnsperf >/dev/null; then
    # The lab server's own capacity: dnsperf against one of the bench servers.
    server=$(tr ',' '\n' <<<"$ZW_DNS_NAMESERVER_ADDRESSES" | head -1 | cut -d= -f2)
    .venv/bin/python - "$records" >"$out/queries.txt" <<'PY'
import sys
n = int(sys.argv[1])
for i in range(n):
    print(f"h{i}.bench.test. {['A', 'TXT', 'MX'][i % 3]}")
PY
    dnsperf -s "${server%:*}" -p "${server##*:}" -d "$out/queries.txt" -l 10 -c 4 -Q 200000 2>&1 \
        | grep -E "Queries (sent|completed|lost)|Queries per second" | sed 's/^/dnsperf: /'
fi
