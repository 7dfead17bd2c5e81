#!/usr/bin/env bash
# Organization mode at scale: the measured per-account cost behind the model
# in docs/scale.md. A simulation against moto, not a timed test.
#
#   benches/org-scale.sh
#
# 1. Builds the release CLI (cargo build --release -p zw-cli; BENCH_SKIP_BUILD=1
#    uses the one in target/release, BENCH_BIN another binary).
# 2. Starts a fresh moto on BENCH_PORT (default 5071) and seeds, with
#    benches/org_seed.py, an organization of BENCH_ACCOUNTS (default 4)
#    reference member accounts: 5 zones, 2,000 record sets, 20 certificates
#    each (issue 10's reference account), plus the findings table.
# 3. Runs `zonewarden scan all --role-name zonewarden-member --account ...`
#    under /usr/bin/time -v, with the default pacing (ZW_ROUTE53_RPS 2 per
#    account, ZW_ACM_RPS 8), writing to the table:
#      a  one account, first scan (every zone listed, every finding opened)
#      b  the same account again: steady state (inventory cached)
#      c  all BENCH_ACCOUNTS at --concurrency BENCH_ACCOUNTS, first scan
#    recording wall time, peak RSS, CPU, and per account the scan's
#    duration and API calls by service (scan.api_calls).
#    DNS answers are not part of this (their cost is measured in
#    benches/dns-10k.sh): ZW_DNS_ROOT_HINTS points at a closed loopback
#    port, so the DNS family's probe part fails fast and says so.
# 4. Prints markdown tables; raw output in target/bench/org-scale-<time>/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

port=${BENCH_PORT:-5071}
accounts_n=${BENCH_ACCOUNTS:-4}
table=zonewarden-scale
out="$root/target/bench/org-scale-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
while read -r v; do unset "$v"; done < <(compgen -e | grep '^ZW_' || true)

if [[ ! -x /usr/bin/time ]]; then
    apt-get update -qq && apt-get install -y -qq time >/dev/null
fi

bin=${BENCH_BIN:-$root/target/release/zonewarden}
if [[ -z "${BENCH_SKIP_BUILD:-}" && -z "${BENCH_BIN:-}" ]]; then
    echo "org-scale: building the release CLI" >&2
    cargo build --release --locked -p zw-cli >"$out/build.log" 2>&1 || {
        tail -n 30 "$out/build.log" >&2
        exit 1
    }
fi
[[ -x "$bin" ]] || { echo "org-scale: $bin missing" >&2; exit 1; }

if scripts/moto status "$port" >/dev/null 2>&1; then
    echo "org-scale: something already answers on $port; set BENCH_PORT" >&2
    exit 1
fi
MOTO_ACM_VALIDATION_WAIT=1 scripts/moto start "$port" >/dev/null
trap 'scripts/moto stop "$port" >/dev/null 2>&1 || true; kill "${ranges_pid:-0}" 2>/dev/null || true' EXIT
eval "$(scripts/moto env "$port")"

# AWS's ip-ranges.json stand-in (no internet here).
mkdir -p "$out/www"
printf '%s' '{"syncToken":"1","createDate":"2026-12-01-00-00-00","prefixes":[{"ip_prefix":"3.5.140.0/22","region":"ap-northeast-2","service":"AMAZON"}],"ipv6_prefixes":[]}' >"$out/www/ip-ranges.json"
ranges_port=$((port + 1000))
(cd "$out/www" && exec "$root/.venv/bin/python" -m http.server "$ranges_port" --bind 127.0.0.1 >/dev/null 2>&1) &
ranges_pid=$!

echo "org-scale: seeding $accounts_n reference accounts" >&2
.venv/bin/python benches/org_seed.py "$AWS_ENDPOINT_URL" "$accounts_n" "$table" >"$out/seed.json"
mapfile -t accounts < <(.venv/bin/python -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))["accounts"]))' "$out/seed.json")

export ZW_REGIONS=eu-west-1,us-east-1 ZW_TABLE_NAME=$table
export ZW_DNS_ROOT_HINTS=127.0.0.1:9 ZW_DNS_TIMEOUT_MS=300
export ZW_AWS_IP_RANGES_URL=http://127.0.0.1:$ranges_port/ip-ranges.json
export ZW_METRICS_NAMESPACE=ZonewardenScale

run() { # label, accounts...
    local label=$1
    shift
    local args=()
    for a in "$@"; do args+=(--account "$a"); done
    /usr/bin/time -v -o "$out/$label.time" "$bin" scan all --role-name zonewarden-member \
        "${args[@]}" --concurrency "$#" --format json >"$out/$label.json" 2>"$out/$label.err" || true
}

run a "${accounts[0]}"
run b "${accounts[0]}"
run c "${accounts[@]}"

"$root/.venv/bin/python" - "$out" <<'EOF'
import json, re, sys, os
out = sys.argv[1]
def tv(label, key):
    text = open(os.path.join(out, f"{label}.time")).read()
    m = re.search(re.escape(key) + r": (.*)", text)
    return m.group(1).strip() if m else "?"
def wall(label):
    v = tv(label, "Elapsed (wall clock) time (h:mm:ss or m:ss)")
    parts = [float(p) for p in v.split(":")]
    return sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
print("| run | accounts | wall s | peak RSS MB | CPU s | per account: scan s, API calls (route53 / acm / other) | outcome |")
print("|---|---|---|---|---|---|---|")
for label, what in [("a", "first scan"), ("b", "steady state"), ("c", "first scan, concurrent")]:
    results = json.load(open(os.path.join(out, f"{label}.json")))
    cpu = float(tv(label, "User time (seconds)")) + float(tv(label, "System time (seconds)"))
    rss = int(tv(label, "Maximum resident set size (kbytes)")) / 1024
    per = []
    outcomes = set()
    for r in results:
        outcomes.add(r["outcome"])
        scan = r.get("scan") or {}
        calls = scan.get("api_calls", {})
        r53 = sum(v for k, v in calls.items() if k.startswith("route53:"))
        acm = sum(v for k, v in calls.items() if k.startswith("acm:"))
        other = sum(calls.values()) - r53 - acm
        per.append(f"{scan.get('duration_ms', 0) / 1000:.1f} s, {r53} / {acm} / {other}")
    print(f"| {label}: {what} | {len(results)} | {wall(label):.1f} | {rss:.0f} | {cpu:.1f} | {'; '.join(per[:2])}{' …' if len(per) > 2 else ''} | {', '.join(sorted(outcomes))} |")
a = json.load(open(os.path.join(out, "a.json")))[0]["scan"]
print()
print("API calls of run a (one account, first scan):")
for k, v in sorted(a["api_calls"].items()):
    print(f"- {k}: {v}")
r53 = sum(v for k, v in a["api_calls"].items() if k.startswith("route53:"))
print(f"\nRoute 53 rate of run a: {r53} calls in {a['duration_ms'] / 1000:.1f} s = {r53 / max(a['duration_ms'] / 1000, 0.001):.2f}/s")
print("errors of run a:", "; ".join(e["message"][:120] for e in a["errors"]) or "none")
EOF
echo "org-scale: raw output in $out" >&2
