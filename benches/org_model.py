#!/usr/bin/env python3
"""The organization-mode scale model of docs/scale.md, as code: from the
per-account figures measured by benches/org-scale.sh to an organization of
ACCOUNTS accounts with ZONES zones each.

    org_model.py [--accounts 1000] [--zones 50] [--records-per-zone 400]
                 [--max-concurrency 100] [--dns-probe-s 20]
                 [--steady-s S --first-s S --rss-mb M]

Prices: us-east-1, December 2026 list prices (Lambda arm64 $0.0000133334 per
GB-s and $0.20 per million requests; Step Functions Standard $0.025 per
1,000 state transitions; DynamoDB on-demand $0.625 per million write request
units; CloudWatch $0.30 per metric-month, $0.10 per alarm-month).
"""

import argparse
import math

LAMBDA_GB_S = 0.0000133334
LAMBDA_REQ = 0.20 / 1e6
SFN_TRANSITION = 0.025 / 1000
DDB_WRITE = 0.625 / 1e6
MONTH_MIN = 30 * 24 * 60

# Route 53 per zone and scan: GetHostedZone + GetDNSSEC, and the record
# pages (300 per ListResourceRecordSets page in AWS) when the inventory is
# listed again; ListHostedZones per 100 zones.
ROUTE53_RPS = 2.0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--accounts", type=int, default=1000)
    p.add_argument("--zones", type=int, default=50)
    p.add_argument("--records-per-zone", type=int, default=400)
    p.add_argument("--max-concurrency", type=int, default=100)
    p.add_argument("--full-compare-s", type=float, default=20.0,
                   help="seconds of a full authoritative comparison of an account's zones "
                        "(80,000 queries for 20,000 records x 4 servers; measured 0.9 s per 40,000 on loopback, "
                        "taken at ~4,000 q/s against Route 53's servers from Lambda)")
    p.add_argument("--compare-interval-min", type=int, default=360, help="DnsCompareIntervalMinutes (template default)")
    p.add_argument("--inventory-max-age-min", type=int, default=60, help="ZW_DNS_INVENTORY_MAX_AGE_MINUTES (default)")
    p.add_argument("--dns-every-min", type=int, default=15, help="DnsScheduleExpression (template default)")
    p.add_argument("--health-every-min", type=int, default=5, help="HealthScheduleExpression (template default)")
    p.add_argument("--ref-first-s", type=float, required=True, help="measured: reference account, first scan (s)")
    p.add_argument("--ref-first-route53", type=int, required=True, help="measured: its Route 53 calls")
    p.add_argument("--rss-mb", type=float, required=True, help="measured: peak RSS of one account's scan (MB)")
    p.add_argument("--memory-mb", type=int, default=256, help="the scan-account function's MemorySize")
    p.add_argument("--cert-run-s", type=float, default=8.0, help="an account's certificates run (ACM at 8/s per region)")
    p.add_argument("--health-run-s", type=float, default=2.0, help="an account's health run")
    p.add_argument("--endpoints-run-s", type=float, default=20.0, help="an account's endpoints run (TLS handshakes)")
    a = p.parse_args()

    pages = math.ceil(a.records_per_zone / 300)
    per_zone_listing = 2 + pages  # GetHostedZone, GetDNSSEC, record pages
    first_calls = math.ceil(a.zones / 100) + a.zones * per_zone_listing
    # Steady state: a zone's inventory is listed again when older than its
    # max age, so a scan lists dns_every/max_age of the zones on average.
    share = min(1.0, a.dns_every_min / a.inventory_max_age_min)
    steady_calls = math.ceil(a.zones / 100) + math.ceil(a.zones * per_zone_listing * share)
    # Full comparisons every compare interval; apex-only (about a second)
    # in between.
    compare_share = min(1.0, a.dns_every_min / max(a.compare_interval_min, a.dns_every_min))
    probe_s = a.full_compare_s * compare_share + 1.0 * (1 - compare_share)
    # What the reference scan spent besides Route 53 pacing (ACM, the
    # table, the other families): measured, added to every DNS run.
    overhead_s = max(0.0, a.ref_first_s - a.ref_first_route53 / ROUTE53_RPS)
    first_s = first_calls / ROUTE53_RPS + a.full_compare_s + overhead_s
    steady_s = steady_calls / ROUTE53_RPS + probe_s + overhead_s
    waves = math.ceil(a.accounts / a.max_concurrency)
    cycle_first = waves * first_s
    cycle_steady = waves * steady_s
    print(f"Model: {a.accounts} accounts x {a.zones} zones ({a.zones * a.records_per_zone} records each), MaxConcurrency {a.max_concurrency}")
    print()
    print("| quantity | first scan | steady state |")
    print("|---|---|---|")
    print(f"| Route 53 calls per account | {first_calls} | {steady_calls} |")
    print(f"| per-account scan time (Route 53 at {ROUTE53_RPS:.0f}/s + DNS comparison) | {first_s:.0f} s | {steady_s:.0f} s (average) |")
    print(f"| waves (accounts / MaxConcurrency) | {waves} | {waves} |")
    print(f"| DNS cycle wall time | {cycle_first / 60:.1f} min | {cycle_steady / 60:.1f} min |")
    print(f"| each account's Route 53 rate | <= {ROUTE53_RPS:.0f}/s of its own 5/s | <= {ROUTE53_RPS:.0f}/s |")
    print()
    # Monthly cost at the template's default schedules.
    schedules = {"dns": a.dns_every_min, "certificates": 60, "health": a.health_every_min, "endpoints": 60}
    seconds = {"dns": steady_s, "certificates": a.cert_run_s, "health": a.health_run_s, "endpoints": a.endpoints_run_s}
    gb = a.memory_mb / 1024
    print("| family | runs / month | Step Functions | Lambda | DynamoDB writes |")
    print("|---|---|---|---|---|")
    total = 0.0
    for fam, every in schedules.items():
        runs = MONTH_MIN / every
        transitions = runs * (5 + 3 * a.accounts)
        sfn = transitions * SFN_TRANSITION
        lam = runs * a.accounts * (seconds[fam] * gb * LAMBDA_GB_S + LAMBDA_REQ)
        # Per account and run: the status item, the scan record, and one
        # budget counter per Route 53 call (DNS only); findings only change
        # on transitions (negligible in steady state).
        writes = runs * a.accounts * (2 + (steady_calls if fam == "dns" else 0))
        ddb = writes * DDB_WRITE
        total += sfn + lam + ddb
        print(f"| {fam} (every {every} min) | {runs:,.0f} | ${sfn:,.0f} | ${lam:,.0f} | ${ddb:,.0f} |")
    metrics = 14 * 0.30 + 8 * 0.10
    total += metrics
    print(f"| metrics (14 series) and alarms | | | | ${metrics:.0f} |")
    print(f"| **total per month** | | | | **${total:,.0f}** (${total / a.accounts:.2f} per account) |")
    print()
    peak_writes = a.max_concurrency * ROUTE53_RPS + a.max_concurrency * 2 / max(steady_s, 1)
    print(f"DynamoDB at peak: about {peak_writes:.0f} writes/s over the table (on demand), at most {ROUTE53_RPS:.0f}/s on any one account's budget partition; "
          f"ORG#ACCOUNTS takes {a.accounts} updates per cycle (about {a.accounts / max(cycle_steady, 1):.1f}/s), far below a partition's 1,000 WCU/s.")
    print(f"Lambda: {a.max_concurrency} concurrent executions of scan-account (account default quota 1,000); measured peak RSS {a.rss_mb:.0f} MB of {a.memory_mb} MB.")


if __name__ == "__main__":
    main()
