#!/usr/bin/env python3
"""Measures the init time of the scan-certificates Lambda bootstrap.

A measuring device, not a test fake: a minimal Lambda Runtime API (HTTP on
127.0.0.1) serves exactly one event per process and timestamps what the
function does with it:

  t0        just before the bootstrap process is spawned
  t_next    its first  GET /2018-06-01/runtime/invocation/next   (init done)
  t_resp    its        POST /2018-06-01/runtime/invocation/ID/response (or
            /error)                                               (first event served)

The function's second /next is left hanging (as Lambda freezes it) and the
process is then killed. Each run is a fresh process; runs are sequential.
Reported: median and p90 of t_next - t0 (init) and t_resp - t0 (first
response), plus the handler's own time (t_resp - t_next) and the process's
peak RSS (VmHWM, read just before the kill).

The function talks to a moto server (its own, started here on --port with
scripts/moto unless --endpoint is given). Two estates are measured in turn:

  empty   the findings table only (zw-bench-seed --per-region 0): the scan lists
          no certificate, so the first response is init + the scan's fixed
          calls (2 ListCertificates, DynamoDB Query + PutItem, EMF to stdout).
  demo    the demo estate (zw-demo-seed: 7 certificates, 1 zone): 7
          DescribeCertificate paced at 8/s per region and 2 Route 53 calls
          paced at 2/s, so the first response is dominated by pacing.

Run 1 of each estate writes the findings; runs 2.. refresh them (steady state).
With --endpoint URL the moto there is used as it is (nothing is seeded or
reset) and --estate is only a label: benches/scan-500.sh uses this to run the
function once over its 500-certificate estate (--table zonewarden-bench).

Usage (after benches/scan-500.sh or the cargo lambda builds it runs):
  python3 benches/init-time.py [--runs 20] [--port 5061] [--estate empty,demo]
      [--bootstrap target/lambda/scan-certificates/bootstrap] [--endpoint URL]
      [--table NAME] [--timeout SECONDS] [--json OUT.json]

Stdlib only.
"""

import argparse
import http.server
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
API_PREFIX = "/2018-06-01/runtime"
REQUEST_ID = "8476a536-e9f4-11e8-9739-2dfe598c3fcd"
FUNCTION_NAME = "zonewarden-ScanCertificatesFunction"
FUNCTION_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:" + FUNCTION_NAME
TABLE = "zonewarden-init"
REGIONS = "eu-west-1,us-east-1"


class Run:
    """Timestamps (time.monotonic_ns) of one function process."""

    def __init__(self, event_body):
        self.event_body = event_body
        self.t0 = None
        self.pid = None
        self.init_cpu_ns = None  # CPU time of all threads at the first /next
        self.t_next = None
        self.t_resp = None
        self.t_next2 = None
        self.outcome = None  # "response", "error", "init-error"
        self.response_body = b""
        self.done = threading.Event()  # response/error/init error seen
        self.release = threading.Event()  # let the hanging /next go


class RuntimeApi(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    run = None  # set per server

    def log_message(self, *args):  # quiet
        pass

    def _reply(self, status, body=b"", headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            return self.rfile.read(length)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        return b""

    def do_GET(self):
        now = time.monotonic_ns()
        run = self.server.run
        if self.path != API_PREFIX + "/invocation/next":
            self._reply(404, b'{"errorType":"NotFound"}')
            return
        if run.t_next is None:
            run.t_next = now
            run.init_cpu_ns = cpu_ns(run.pid)
            deadline_ms = int(time.time() * 1000) + 300_000
            self._reply(
                200,
                run.event_body,
                {
                    "Content-Type": "application/json",
                    "Lambda-Runtime-Aws-Request-Id": REQUEST_ID,
                    "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
                    "Lambda-Runtime-Invoked-Function-Arn": FUNCTION_ARN,
                    "Lambda-Runtime-Trace-Id": "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1",
                },
            )
            return
        # The second /next: Lambda would freeze the process here. Hang until
        # the harness has killed it.
        run.t_next2 = now
        run.done.set()
        run.release.wait(timeout=60)
        self.close_connection = True

    def do_POST(self):
        now = time.monotonic_ns()
        run = self.server.run
        body = self._read_body()
        if self.path == API_PREFIX + "/init/error":
            run.outcome = "init-error"
            run.response_body = body
            run.t_resp = now
            self._reply(202, b'{"status":"OK"}')
            run.done.set()
            return
        prefix = API_PREFIX + "/invocation/" + REQUEST_ID + "/"
        if self.path in (prefix + "response", prefix + "error"):
            if run.t_resp is None:
                run.t_resp = now
                run.outcome = "response" if self.path.endswith("response") else "error"
                run.response_body = body
            self._reply(202, b'{"status":"OK"}')
            return
        self._reply(404, b'{"errorType":"NotFound"}')


def cpu_ns(pid):
    """Time on CPU so far of every thread of pid, in ns (/proc/PID/task/*/schedstat)."""
    if pid is None:
        return None
    total = 0
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
    except OSError:
        return None
    return total


def vm_hwm_kib(pid):
    """Peak resident set size (VmHWM) of a live process, in KiB."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


EXTRA_ENV = {}


def function_env(runtime_api, endpoint, table):
    """A Lambda-like environment: nothing inherited but PATH (plus --env)."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]00000000000000000000000000000000",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/" + FUNCTION_NAME,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_EXECUTION_ENV": "AWS_Lambda_provided.al2023",
        "_HANDLER": "bootstrap",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_ENDPOINT_URL": endpoint,
        "ZW_TABLE_NAME": table,
        "ZW_REGIONS": REGIONS,
    } | EXTRA_ENV


def one_run(bootstrap, event_body, endpoint, table, log_path, timeout):
    run = Run(event_body)
    server = Server(("127.0.0.1", 0), RuntimeApi)
    server.run = run
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    env = function_env("127.0.0.1:%d" % port, endpoint, table)
    with open(log_path, "wb") as log:
        run.t0 = time.monotonic_ns()
        proc = subprocess.Popen([bootstrap], env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=os.path.dirname(bootstrap))
        t_spawned = time.monotonic_ns()
        run.pid = proc.pid
        deadline = time.monotonic() + timeout
        # Whether it exited on its own, without reaping it (Popen.poll would,
        # and wait4 below needs the child to read its resource usage).
        def exited():
            return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None

        while not run.done.is_set():
            if exited():
                break
            if time.monotonic() > deadline:
                break
            run.done.wait(0.005)
        exited_early = exited()
        # Peak RSS of the function's own address space (VmHWM is reset at
        # exec). Not ru_maxrss: for a child of Python that includes the RSS of
        # the forked interpreter before exec (about 20 MiB here).
        hwm_kib = vm_hwm_kib(proc.pid) if not exited_early else None
        if not exited_early:
            proc.send_signal(signal.SIGKILL)
        _, status, rusage = os.wait4(proc.pid, 0)
        proc.returncode = status  # reaped by wait4
    run.release.set()
    server.shutdown()
    server.server_close()
    return {
        "init_ms": (run.t_next - run.t0) / 1e6 if run.t_next else None,
        "first_response_ms": (run.t_resp - run.t0) / 1e6 if run.t_resp else None,
        "handler_ms": (run.t_resp - run.t_next) / 1e6 if run.t_resp and run.t_next else None,
        "spawn_ms": (t_spawned - run.t0) / 1e6,
        "init_cpu_ms": run.init_cpu_ns / 1e6 if run.init_cpu_ns is not None else None,
        "outcome": run.outcome or ("exited" if exited_early else "timeout"),
        "served_and_waiting": run.t_next2 is not None,
        "peak_rss_kib": hwm_kib,
        "ru_maxrss_kib": rusage.ru_maxrss,
        "cpu_s": rusage.ru_utime + rusage.ru_stime,
        "response": run.response_body.decode("utf-8", "replace"),
    }


def pct(values, p):
    """Nearest-rank percentile."""
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(-(-p * len(s) // 100)) - 1))
    return s[k]


def moto_cmd(*args):
    return subprocess.run([os.path.join(ROOT, "scripts", "moto"), *args], cwd=ROOT,
                          check=True, capture_output=True, text=True).stdout.strip()


def answers(url):
    try:
        with urllib.request.urlopen(url + "/moto-api/", timeout=2):
            return True
    except Exception:
        return False


def seed(estate, endpoint, table):
    env = dict(os.environ, AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing",
               AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="eu-west-1")
    for k in [k for k in env if k.startswith("ZW_")]:
        del env[k]
    if estate not in ("empty", "demo"):
        sys.exit("init-time: unknown estate %r (empty, demo; any label with --endpoint)" % estate)
    if estate == "empty":
        cmd = [os.path.join(ROOT, "target/lambda/zw-bench-seed/bootstrap"), "--per-region", "0",
               "--zones", "1", "--filler-records", "0", "--table", table, "eu-west-1", "us-east-1"]
    else:
        cmd = [os.path.join(ROOT, "target/lambda/zw-demo-seed/bootstrap"), "--table", table,
               "eu-west-1", "us-east-1"]
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--port", type=int, default=5061, help="port of the moto started here")
    ap.add_argument("--endpoint", help="use this moto as it is (no seeding); --estate is then only a label")
    ap.add_argument("--estate", default="empty,demo", help="comma-separated: empty, demo")
    ap.add_argument("--table", default=TABLE, help="ZW_TABLE_NAME of the function (default %(default)s)")
    ap.add_argument("--bootstrap", default=os.path.join(ROOT, "target/lambda/scan-certificates/bootstrap"))
    ap.add_argument("--event", default=os.path.join(ROOT, "events/schedule.json"))
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per run")
    ap.add_argument("--settle-ms", type=int, default=0,
                    help="pause between runs, so that moto finishes the previous run's requests "
                         "before the next init is timed (2 cores: its tail competes with the init)")
    ap.add_argument("--json", help="write every sample here")
    ap.add_argument("--env", action="append", default=[], metavar="K=V",
                    help="an extra variable of the function (repeatable), e.g. ZW_ORG_MEMBER_ROLE_NAME=x")
    args = ap.parse_args()
    for kv in args.env:
        k, sep, v = kv.partition("=")
        if not sep or not k:
            sys.exit("init-time: --env takes K=V, not %r" % kv)
        EXTRA_ENV[k] = v

    bootstrap = os.path.abspath(args.bootstrap)
    if not os.access(bootstrap, os.X_OK):
        sys.exit("init-time: %s missing: cargo lambda build --release --bin scan-certificates" % bootstrap)
    with open(args.event, "rb") as f:
        event_body = f.read()
    json.loads(event_body)

    own_moto = args.endpoint is None
    endpoint = args.endpoint or "http://127.0.0.1:%d" % args.port
    estates = [e.strip() for e in args.estate.split(",") if e.strip()]
    logdir = os.path.join(ROOT, "target", "bench")
    os.makedirs(logdir, exist_ok=True)
    results = {"bootstrap": bootstrap, "bootstrap_bytes": os.path.getsize(bootstrap),
               "event": os.path.relpath(args.event, ROOT), "runs": args.runs, "estates": {}}

    if own_moto:
        if answers(endpoint):
            moto_cmd("stop", str(args.port))
            if answers(endpoint):
                sys.exit("init-time: something not started by scripts/moto answers on %s" % endpoint)
        moto_cmd("start", str(args.port))
    try:
        for estate in estates:
            if own_moto:
                urllib.request.urlopen(urllib.request.Request(endpoint + "/moto-api/reset", method="POST"), timeout=10).read()
                seed(estate, endpoint, args.table)
            samples = []
            for i in range(args.runs):
                log_path = os.path.join(logdir, "init-time-%s.log" % estate)
                if i and args.settle_ms:
                    time.sleep(args.settle_ms / 1000)
                r = one_run(bootstrap, event_body, endpoint, args.table, log_path, args.timeout)
                samples.append(r)
                if r["outcome"] != "response":
                    sys.stderr.write("init-time: run %d (%s): %s; function output in %s:\n%s\n"
                                     % (i + 1, estate, r["outcome"], log_path, r["response"]))
                    with open(log_path, "r", errors="replace") as f:
                        sys.stderr.write(f.read()[-3000:])
                    sys.exit(1)
            results["estates"][estate] = samples
    finally:
        if own_moto:
            try:
                moto_cmd("stop", str(args.port))
            except subprocess.CalledProcessError:
                pass

    print("bootstrap: %s (%d bytes), event %s, %d runs per estate, %d cores"
          % (os.path.relpath(bootstrap, ROOT), results["bootstrap_bytes"], results["event"],
             args.runs, os.cpu_count() or 0))
    print()
    print("| estate | init (start -> first /next) median | p90 | first response median | p90 "
          "| handler (first event) median | peak RSS median (MiB) | process CPU median (s) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    summary = {}
    for estate, samples in results["estates"].items():
        init = [s["init_ms"] for s in samples]
        first = [s["first_response_ms"] for s in samples]
        handler = [s["handler_ms"] for s in samples]
        rss = [s["peak_rss_kib"] / 1024 for s in samples]
        summary[estate] = {
            "init_ms_median": statistics.median(init), "init_ms_p90": pct(init, 90),
            "init_ms_min": min(init), "init_ms_max": max(init),
            "first_response_ms_median": statistics.median(first), "first_response_ms_p90": pct(first, 90),
            "handler_ms_median": statistics.median(handler),
            "handler_ms_run1": handler[0],
            "peak_rss_mib_median": statistics.median(rss),
            "peak_rss_mib_max": max(rss),
            "cpu_s_median": statistics.median(s["cpu_s"] for s in samples),
            "spawn_ms_median": statistics.median(s["spawn_ms"] for s in samples),
            "init_cpu_ms_median": statistics.median(s["init_cpu_ms"] for s in samples
                                                    if s["init_cpu_ms"] is not None),
        }
        m = summary[estate]
        print("| %s | %.1f ms | %.1f ms | %.1f ms | %.1f ms | %.1f ms (run 1: %.1f ms) | %.1f | %.3f |"
              % (estate, m["init_ms_median"], m["init_ms_p90"], m["first_response_ms_median"],
                 m["first_response_ms_p90"], m["handler_ms_median"], m["handler_ms_run1"],
                 m["peak_rss_mib_median"], m["cpu_s_median"]))
    print()
    for estate, m in summary.items():
        verdict = "meets" if m["init_ms_p90"] <= 30 else "MISSES"
        print("%s: init min %.1f / max %.1f ms; p90 %.1f ms %s the 30 ms target; CPU time during init "
              "(all threads) median %.1f ms; Popen itself %.2f ms"
              % (estate, m["init_ms_min"], m["init_ms_max"], m["init_ms_p90"], verdict,
                 m["init_cpu_ms_median"], m["spawn_ms_median"]))
    last = results["estates"][estates[-1]][-1]["response"] if estates else ""
    print("last response (%s): %s" % (estates[-1] if estates else "-", last[:400]))
    results["summary"] = summary
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
