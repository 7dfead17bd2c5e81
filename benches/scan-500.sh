#!/usr/bin/env bash
# Performance baseline of the certificate scan: 500 certificates in 2 regions
# against a fresh moto server. See docs/performance.md for the results and
# what they mean.
#
#   benches/scan-500.sh
#
# 1. Builds release binaries the way SAM does (cargo lambda build --release,
#    x86_64): scan-certificates (the Lambda bootstrap: size and zip size are
#    reported) and, for the measurements, the CLI and the seeders. Set
#    BENCH_SKIP_BUILD=1 to use the binaries already in target/lambda/.
# 2. Starts moto on port BENCH_PORT (default 5060) with
#    MOTO_ACM_VALIDATION_WAIT=1, fresh (refuses to reuse a server it did not
#    start), and seeds BENCH_PER_REGION (default 250) certificates in each of
#    eu-west-1 and us-east-1 with zw-bench-seed, plus the findings table.
# 3. Runs `zonewarden scan certificates --format json` under /usr/bin/time -v:
#      a  --no-write, default pacing (ZW_ACM_RPS 8/s per region, ZW_ACM_CONCURRENCY 4,
#         ZW_ROUTE53_RPS 2/s)
#      b  --table (findings to DynamoDB, PutMetricData), default pacing: first write
#      c  b again: steady state (findings refreshed, nothing opened)
#      d  --table with ZW_ACM_RPS=10 ZW_ACM_CONCURRENCY=8 (steady state)
#    recording wall time, peak RSS, CPU, scan.duration_ms and scan.api_calls,
#    and moto's own CPU time during each run. Then
#      e  c again with the SDK's debug log on (not one of the measured runs):
#         per-operation latency as the client saw it, from the SDK's
#         "beginning attempt" / "exiting attempt loop" lines.
#      f  the Lambda bootstrap itself, one scheduled event through the runtime
#         API harness of benches/init-time.py (steady state; EMF instead of
#         PutMetricData): duration, peak RSS and CPU of the function process.
# 4. Prints markdown tables; everything is kept in target/bench/scan-500-<time>/.
# moto is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

port=${BENCH_PORT:-5060}
per_region=${BENCH_PER_REGION:-250}
table=zonewarden-bench
regions=(eu-west-1 us-east-1)
out="$root/target/bench/scan-500-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"

# The measured runs set their ZW_ knobs explicitly; nothing from the caller.
while read -r v; do unset "$v"; done < <(compgen -e | grep '^ZW_' || true)
export PATH="$root/.venv/bin:$PATH" # cargo-lambda finds zig here

if [[ ! -x /usr/bin/time ]]; then
    echo "scan-500: /usr/bin/time missing; installing Debian 'time'" >&2
    apt-get update -qq && apt-get install -y -qq time >/dev/null
fi

# --- 1. build -----------------------------------------------------------------
build_seconds() { # label, cargo lambda args...
    local label=$1
    shift
    local t0 t1
    t0=$(date +%s.%N)
    if ! cargo lambda build --release "$@" >"$out/build-$label.log" 2>&1; then
        tail -n 30 "$out/build-$label.log" >&2
        echo "scan-500: build failed; see $out/build-$label.log" >&2
        exit 1
    fi
    grep -E 'Finished' "$out/build-$label.log" >&2 || true
    t1=$(date +%s.%N)
    python3 -c "print(f'{$t1 - $t0:.0f}')"
}
if [[ "${BENCH_SKIP_BUILD:-}" != 1 ]]; then
    echo "scan-500: cargo lambda build --release --bin scan-certificates" >&2
    build_bootstrap=$(build_seconds bootstrap --bin scan-certificates)
    echo "scan-500: cargo lambda build --release --bin zonewarden --bin zw-bench-seed --bin zw-demo-seed" >&2
    build_tools=$(build_seconds tools --bin zonewarden --bin zw-bench-seed --bin zw-demo-seed)
else
    build_bootstrap=skipped
    build_tools=skipped
fi
bootstrap=target/lambda/scan-certificates/bootstrap
cli=target/lambda/zonewarden/bootstrap
seeder=target/lambda/zw-bench-seed/bootstrap
for b in "$bootstrap" "$cli" "$seeder"; do
    [[ -x "$b" ]] || { echo "scan-500: $b missing (run without BENCH_SKIP_BUILD)" >&2; exit 1; }
done
bootstrap_bytes=$(stat -c %s "$bootstrap")
zip_bytes=$(python3 - "$bootstrap" <<'EOF'
import io, sys, zipfile
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    z.write(sys.argv[1], "bootstrap")
print(len(buf.getvalue()))
EOF
)
cli_bytes=$(stat -c %s "$cli")

# --- 2. moto and the estate -----------------------------------------------------
url="http://127.0.0.1:$port"
stop_moto() { scripts/moto stop "$port" >/dev/null 2>&1 || true; }
if curl -fsS -o /dev/null --max-time 2 "$url/moto-api/" 2>/dev/null; then
    scripts/moto stop "$port" >&2 || true
    if curl -fsS -o /dev/null --max-time 2 "$url/moto-api/" 2>/dev/null; then
        echo "scan-500: something not started by scripts/moto answers on $url; refusing to reuse it" >&2
        exit 1
    fi
fi
trap stop_moto EXIT
MOTO_ACM_VALIDATION_WAIT=1 scripts/moto start "$port" >&2
moto_pid=$(cat ".zw/moto-$port.pid")
eval "$(scripts/moto env "$port")"

moto_cpu() { # moto_server's utime+stime so far, in seconds
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$moto_pid/stat"
}

echo "scan-500: seeding $per_region certificates in each of ${regions[*]}" >&2
seed_cpu0=$(moto_cpu)
/usr/bin/time -v -o "$out/seed.time" \
    "$seeder" --per-region "$per_region" --table "$table" "${regions[@]}" >"$out/seed.json"
seed_cpu1=$(moto_cpu)
python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print('scan-500: seeded %d certificates in %.1f s' % (s['certificates'], s['elapsed_seconds']))" "$out/seed.json" >&2

# --- 3. scans ----------------------------------------------------------------------
region_args=()
for r in "${regions[@]}"; do region_args+=(--region "$r"); done

measure() { # name, description, [VAR=value...] -- zonewarden args...
    local name=$1 desc=$2
    shift 2
    local envs=()
    while [[ $1 != -- ]]; do envs+=("$1"); shift; done
    shift
    echo "scan-500: run $name: $desc" >&2
    local c0 c1 status=0
    c0=$(moto_cpu)
    env "${envs[@]}" /usr/bin/time -v -o "$out/$name.time" \
        "$cli" scan certificates "${region_args[@]}" --format json "$@" \
        >"$out/$name.json" 2>"$out/$name.stderr" || status=$?
    c1=$(moto_cpu)
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$desc" "$status" "$c0" "$c1" >>"$out/runs.tsv"
    if [[ $status -ne 0 ]]; then
        echo "scan-500: run $name exited $status; see $out/$name.stderr" >&2
        exit 1
    fi
}
: >"$out/runs.tsv"
measure a "--no-write, default pacing" -- --no-write
measure b "--table, default pacing (first write)" -- --table "$table"
measure c "--table, default pacing (steady state)" -- --table "$table"
measure d "--table, ZW_ACM_RPS=10 ZW_ACM_CONCURRENCY=8 (steady state)" \
    ZW_ACM_RPS=10 ZW_ACM_CONCURRENCY=8 -- --table "$table"
echo "scan-500: run e: c again with the SDK debug log, for per-operation latency" >&2
sdk_log="warn,aws_smithy_runtime::client::orchestrator=debug"
for crate in aws_sdk_acm aws_sdk_route53 aws_sdk_dynamodb aws_sdk_cloudwatch; do sdk_log+=",$crate=debug"; done
NO_COLOR=1 ZONEWARDEN_LOG="$sdk_log" "$cli" scan certificates "${region_args[@]}" --format json \
    --table "$table" >"$out/e.json" 2>"$out/e.stderr"
echo "scan-500: run f: the Lambda bootstrap, one scheduled event (benches/init-time.py harness)" >&2
python3 benches/init-time.py --endpoint "$url" --estate scan-500 --table "$table" --runs 1 \
    --timeout 600 --json "$out/f.json" >"$out/f.txt"

# --- 4. report ---------------------------------------------------------------------
python3 - "$out" "$bootstrap_bytes" "$zip_bytes" "$cli_bytes" "$build_bootstrap" "$build_tools" \
    "$seed_cpu0" "$seed_cpu1" <<'EOF' | tee "$out/report.md"
import json, os, re, subprocess, sys

out, bootstrap_bytes, zip_bytes, cli_bytes, build_bootstrap, build_tools, s0, s1 = sys.argv[1:]

def gnu_time(path):
    t = {}
    for line in open(path):
        k, _, v = line.strip().rpartition(": ")
        t[k] = v
    wall = t["Elapsed (wall clock) time (h:mm:ss or m:ss)"]
    secs = 0.0
    for part in wall.split(":"):
        secs = secs * 60 + float(part)
    return {
        "wall_s": secs,
        "rss_mib": int(t["Maximum resident set size (kbytes)"]) / 1024,
        "cpu_s": float(t["User time (seconds)"]) + float(t["System time (seconds)"]),
    }

mib = lambda b: int(b) / 1024 / 1024
secs = lambda v: f"{v} s" if v.isdigit() else v
nproc = os.cpu_count()
mem = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.splitlines()[1].split()[1]
seed = json.load(open(os.path.join(out, "seed.json")))
seed_t = gnu_time(os.path.join(out, "seed.time"))
head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
dirty = subprocess.run(["git", "status", "--porcelain", "--", "crates", "functions", "Cargo.toml", "Cargo.lock"],
                       capture_output=True, text=True).stdout.strip()
print(f"## scan-500 ({nproc} cores, {mem} RAM; commit {head}"
      f"{', with uncommitted changes to the Rust sources' if dirty else ''})\n")
print(f"- bootstrap (scan-certificates, cargo lambda build --release, x86_64): "
      f"{int(bootstrap_bytes):,} bytes ({mib(bootstrap_bytes):.1f} MiB), zip -9: "
      f"{int(zip_bytes):,} bytes ({mib(zip_bytes):.1f} MiB); build {secs(build_bootstrap)}")
print(f"- CLI (zonewarden, same profile): {int(cli_bytes):,} bytes ({mib(cli_bytes):.1f} MiB); "
      f"CLI + seeders build {secs(build_tools)}")
print(f"- estate: {seed['certificates']} certificates ({seed['imported']} imported, "
      f"{seed['imported_expiring_within_60_days']} of them expiring within 60 days; "
      f"{seed['requested']} requested, DNS-validated, {seed['requested_without_zone']} without a zone, "
      f"{seed['validation_records_deleted']} validation records deleted) in {', '.join(seed['regions'])}; "
      f"{len(seed['zones'])} zones, {seed['filler_records_in_first_zone']} filler records in the first")
print(f"- seeding: {seed['elapsed_seconds']:.1f} s wall, seeder peak RSS {seed_t['rss_mib']:.1f} MiB, "
      f"moto CPU {float(s1) - float(s0):.1f} s\n")

runs = []
for line in open(os.path.join(out, "runs.tsv")):
    name, desc, status, c0, c1 = line.rstrip("\n").split("\t")
    report = json.load(open(os.path.join(out, name + ".json")))
    runs.append((name, desc, gnu_time(os.path.join(out, name + ".time")), report, float(c1) - float(c0)))

print("| run | settings | wall (s) | scan.duration_ms | peak RSS (MiB) | CLI CPU (s) | moto CPU (s) "
      "| certificates | zones read | open findings | opened | errors |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for name, desc, t, r, moto in runs:
    s = r["scan"]
    print(f"| {name} | {desc} | {t['wall_s']:.2f} | {s['duration_ms']} | {t['rss_mib']:.1f} | "
          f"{t['cpu_s']:.2f} | {moto:.1f} | {s['counts']['certificates']} | {s['counts']['validation_zones_listed']} | "
          f"{len(r['findings'])} | {s['opened']} | {len(s['errors'])} |")

ops = sorted({op for _, _, _, r, _ in runs for op in r["scan"]["api_calls"]})
print("\nAPI calls per scan (scan.api_calls: requests sent, retries included):\n")
print("| operation | " + " | ".join(name for name, *_ in runs) + " |")
print("|---|" + "---:|" * len(runs))
for op in ops:
    print(f"| {op} | " + " | ".join(str(r["scan"]["api_calls"].get(op, 0)) for _, _, _, r, _ in runs) + " |")
print("| total | " + " | ".join(str(sum(r["scan"]["api_calls"].values())) for _, _, _, r, _ in runs) + " |")

# Derived: the runs differ only in their sinks and pacing.
dur = {name: r["scan"]["duration_ms"] / 1000 for name, _, _, r, _ in runs}
if {"a", "b", "c"} <= dur.keys():
    print(f"\nstore + metrics phase (b - a): {dur['b'] - dur['a']:.1f} s first write, "
          f"(c - a): {dur['c'] - dur['a']:.1f} s steady state")

# Run e: per-operation latency from the SDK debug log.
ansi = re.compile(r"\x1b\[[0-9;]*m")
line_re = re.compile(r'^(\S+)Z\s+DEBUG\s+[^{]*\{rpc\.service="([^"]+)" rpc\.method="([^"]+)" '
                     r'sdk_invocation_id=(\d+)[^}]*\}.*?(beginning attempt #\d+|exiting attempt loop)')
def ts(stamp):  # 2026-01-01T10:00:00.123456 -> seconds since midnight
    hms = stamp.split("T")[1]
    h, m, sec = hms.split(":")
    return int(h) * 3600 + int(m) * 60 + float(sec)
calls = {}
e_path = os.path.join(out, "e.stderr")
if os.path.exists(e_path):
    for raw in open(e_path, errors="replace"):
        mo = line_re.search(ansi.sub("", raw))
        if not mo:
            continue
        stamp, service, method, inv, what = mo.groups()
        c = calls.setdefault(inv, {"op": f"{service}:{method}"})
        if what.startswith("beginning") and "start" not in c:
            c["start"] = ts(stamp)
        elif what.startswith("exiting"):
            c["end"] = ts(stamp)
    by_op = {}
    for c in calls.values():
        if "start" in c and "end" in c:
            by_op.setdefault(c["op"], []).append(c)
    if by_op:
        e = json.load(open(os.path.join(out, "e.json")))["scan"]
        print(f"\nrun e (= c with the SDK debug log; scan.duration_ms {e['duration_ms']}): latency per "
              "request as the client saw it (send to parsed response, retries included), and the "
              "window from the first request of the operation to the end of its last:\n")
        print("| operation | requests | median (ms) | max (ms) | sum (s) | window (s) |")
        print("|---|---:|---:|---:|---:|---:|")
        for op, cs in sorted(by_op.items(), key=lambda kv: min(c["start"] for c in kv[1])):
            lat = sorted((c["end"] - c["start"]) * 1000 for c in cs)
            med = lat[len(lat) // 2] if len(lat) % 2 else (lat[len(lat) // 2 - 1] + lat[len(lat) // 2]) / 2
            window = max(c["end"] for c in cs) - min(c["start"] for c in cs)
            print(f"| {op} | {len(cs)} | {med:.1f} | {lat[-1]:.1f} | {sum(lat) / 1000:.2f} | {window:.2f} |")
f_path = os.path.join(out, "f.json")
if os.path.exists(f_path):
    f = json.load(open(f_path))
    sample = f["estates"]["scan-500"][0]
    resp = json.loads(sample["response"])
    print(f"\nrun f, the Lambda bootstrap over the same estate (one scheduled event, steady state): "
          f"init {sample['init_ms']:.1f} ms, first response after {sample['first_response_ms'] / 1000:.2f} s "
          f"(handler {sample['handler_ms'] / 1000:.2f} s), peak RSS {sample['peak_rss_kib'] / 1024:.1f} MiB, "
          f"process CPU {sample['cpu_s']:.2f} s; response: certificates {resp.get('certificates')}, "
          f"open findings {resp.get('open_findings')}, errors {len(resp.get('errors', []))}")
print(f"\nraw outputs: {os.path.relpath(out)}")
EOF
