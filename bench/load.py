"""Load benchmark, "deadline day": `make bench` (or `python -m bench.load --enterprises 200 --officials 20`).

The last day of a round: --enterprises users (200) each open their draft application, save it three times
and submit it, while --officials county reviewers (20) work their queues: list what waits, open an
application, recommend it. Everything goes through the API (/api/v1/<tenant>/…, token authentication),
as the portal's own pages and a client application would, against gunicorn (gthread workers) in a
subprocess on a free loopback port.

A synthetic tenant ("lbench", the 贵州 region tree) holds the officials (one per county, the first
--officials counties) and the enterprises spread evenly over those counties, each with the figures and
documents the programme asks for. Each run opens a new round and starts one draft per enterprise in it
through the real services (certification.workflow), so every run measures the same work. The programme's
criteria are the test suite's small definition (tests/certification/definitions.py): the load is the
workflow's, not the criteria engine's (bench/screening.py measures that).

Driver: one thread per user (220 by default), urllib, users arriving over --ramp seconds, think time between
two requests exponentially distributed with mean --think-ms: 10,000 by default, a person saving a section of
the form, reading the answer and typing the next; with all 220 at work at once that is about 22 requests a
second. --think-ms 1000 is a stress test rather than a day: 220 people each clicking every second ask the
2-core machine for ~200 requests a second, past what it serves, and shows where it saturates.

Threads rather than locust: the scenario is a fixed script per user, urllib and threads are what
bench/queue.py already uses, and the work per request is the server's, so 220 mostly sleeping client threads
cost little on the 2 cores the server also runs on; locust would add gevent and its own process for no figure
we need.

Reports p50 / p95 / p99 per operation and overall, throughput, error rate; target (issue 10): p95 < 500 ms
and no errors. Exits 1 on any error (a status other than the expected 2xx); the target is reported.

Database: DATABASE_URL (the Makefile gives db/bench-load.sqlite3 unless BENCH_DATABASE_URL is set); with
REDIS_URL set the server uses Redis (cache, Celery broker) as in production. No Celery worker runs: the
tasks the requests enqueue (notifications) stay in that broker's queue, so give the bench a Redis database
of its own (e.g. REDIS_URL=redis://127.0.0.1:6379/5) and empty it afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.queue import (  # noqa: E402
    django_setup,
    free_port,
    load_average,
    log,
    percentiles,
    start_server,
    wait_ready,
)

TENANT_CODE = "lbench"
ROOT_REGION = "520000"  # 贵州省
PROGRAM_CODE = "srdi-load-bench"
TARGET_P95_MS = 500.0


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--enterprises", type=int, default=200, help="enterprise users, default 200")
    p.add_argument("--officials", type=int, default=20, help="county reviewers, default 20")
    p.add_argument("--saves", type=int, default=3, help="draft saves before submitting, default 3")
    p.add_argument(
        "--think-ms", type=float, default=10000.0, help="mean pause between requests, default 10000"
    )
    p.add_argument("--ramp", type=float, default=20.0, help="users arrive over this many seconds, default 20")
    p.add_argument("--workers", type=int, default=3, help="gunicorn worker processes, default 3")
    p.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker (gthread), default 8")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--output", help="default bench-results/load.json")
    args = p.parse_args(argv)
    args.output = args.output or str(ROOT / "bench-results" / "load.json")
    return args


# --- data ----------------------------------------------------------------------------------------


def setup(args):
    """Tenant, programme, officials and enterprises (kept between runs); a new round with one filled
    draft per enterprise (every run). Returns (officials: [(token, county code)], drafts: [(token, id)])."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from rest_framework.authtoken.models import Token

    from certification import workflow
    from certification.models import Program
    from enterprises.models import Enterprise, Membership
    from portal.models import Post, Region, Tenant
    from portal.regions import regions_load
    from tests.certification.conftest import make_program
    from tests.certification.workflow_fixtures import fill, make_round
    from tests.enterprises.conftest import make_enterprise

    User = get_user_model()
    tenant, created = Tenant.objects.get_or_create(code=TENANT_CODE, defaults={"name": "负载基准（贵州）"})
    if created or not tenant.root_region_id:
        regions_load(tenant=tenant, root_code=ROOT_REGION)
        tenant.refresh_from_db()
    program = Program.objects.filter(tenant=tenant, code=PROGRAM_CODE).first()
    if program is None:
        program, version = make_program(tenant, code=PROGRAM_CODE)
    else:
        version = program.versions.order_by("-effective_from").first()
    counties = list(Region.objects.filter(tenant=tenant, level="county").order_by("code")[: args.officials])
    if len(counties) < args.officials:
        raise SystemExit(f"only {len(counties)} counties in {ROOT_REGION}")
    officials = []
    for county in counties:
        user, _ = User.objects.get_or_create(username=f"{TENANT_CODE}_{county.code}")
        Post.objects.get_or_create(tenant=tenant, user=user, region=county, role=Post.Role.COUNTY_REVIEWER)
        officials.append((Token.objects.get_or_create(user=user)[0].key, county.code))
    enterprises = []
    for i in range(args.enterprises):
        county = counties[i % len(counties)]
        serial = 10_000 + i
        enterprise = Enterprise.objects.filter(tenant=tenant, county=county, name=f"负载企业{serial}").first()
        if enterprise is None:
            admin, _ = User.objects.get_or_create(username=f"{TENANT_CODE}_e{serial}")
            enterprise = make_enterprise(tenant, county.code, serial, name=f"负载企业{serial}", admin=admin)
        member = Membership.objects.filter(enterprise=enterprise).select_related("user").first().user
        enterprises.append((enterprise, member))
    round_ = make_round(program, version, name=f"负载基准 {time.strftime('%Y-%m-%d %H:%M:%S')}")
    drafts = []
    for enterprise, member in enterprises:
        with transaction.atomic():
            application = workflow.application_start(round_=round_, enterprise=enterprise, by=member)
            fill(application, member)
        drafts.append((Token.objects.get_or_create(user=member)[0].key, application.pk))
    return officials, drafts


# --- load ----------------------------------------------------------------------------------------


class Client:
    def __init__(self, base: str, token: str):
        self.base = f"{base}/api/v1/{TENANT_CODE}"
        self.headers = {"Authorization": f"Token {token}", "Accept": "application/json"}

    def call(self, method: str, path: str, body=None) -> tuple[int, float, dict]:
        data = json.dumps(body).encode() if body is not None else None
        headers = dict(self.headers, **({"Content-Type": "application/json"} if data else {}))
        request = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)  # noqa: S310
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 — our 127.0.0.1
                raw = response.read()
                status = response.status
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            status = exc.code
        except OSError as exc:  # refused, reset, timed out: an error like any other
            return 0, (time.perf_counter() - started) * 1000, {"error": str(exc)}
        ms = (time.perf_counter() - started) * 1000
        try:
            payload = json.loads(raw) if raw else {}
        except ValueError:
            payload = {}
        return status, ms, payload


def run_load(args, base: str, officials, drafts) -> dict:
    samples: dict[str, list[float]] = defaultdict(list)
    errors: Counter = Counter()
    lock = threading.Lock()
    enterprises_done = threading.Event()
    counts = Counter()

    def record(op: str, status: int, ms: float, expected=(200,)) -> bool:
        with lock:
            samples[op].append(ms)
            if status not in expected:
                errors[f"{op}: HTTP {status}"] += 1
                return False
        return True

    def pause(rng: random.Random) -> None:
        if args.think_ms:
            time.sleep(rng.expovariate(1000.0 / args.think_ms))

    def enterprise(i: int, token: str, pk: int) -> None:
        rng = random.Random(args.seed + i)
        time.sleep(rng.uniform(0, args.ramp))
        client = Client(base, token)
        status, ms, body = client.call("GET", f"/applications/{pk}/")
        if not record("enterprise · open the draft", status, ms):
            return
        revision = body.get("revision", 0)
        for _ in range(args.saves):
            pause(rng)
            share = f"{rng.uniform(5, 40):.1f}"
            status, ms, body = client.call(
                "PATCH",
                f"/applications/{pk}/",
                {"data": {"products": {"market_share": share}}, "revision": revision},
            )
            if not record("enterprise · save the draft", status, ms):
                return
            revision = body.get("revision", revision)
        pause(rng)
        status, ms, _body = client.call("POST", f"/applications/{pk}/submit/", {})
        if record("enterprise · submit", status, ms):
            with lock:
                counts["submitted"] += 1

    def official(i: int, token: str) -> None:
        rng = random.Random(args.seed + 100_000 + i)
        client = Client(base, token)
        while True:
            status, ms, body = client.call("GET", "/applications/?state=submitted")
            record("official · queue", status, ms)
            waiting = [row["id"] for row in body.get("results", [])] if status == 200 else []
            if not waiting and enterprises_done.is_set():
                return
            pause(rng)
            if not waiting:
                continue
            pk = rng.choice(waiting)
            status, ms, _body = client.call("GET", f"/applications/{pk}/")
            record("official · open an application", status, ms)
            pause(rng)
            status, ms, _body = client.call("POST", f"/applications/{pk}/recommend/", {"opinion": "同意推荐"})
            if record("official · recommend", status, ms):
                with lock:
                    counts["recommended"] += 1
            pause(rng)

    started = time.perf_counter()
    e_threads = [threading.Thread(target=enterprise, args=(i, t, pk)) for i, (t, pk) in enumerate(drafts)]
    o_threads = [threading.Thread(target=official, args=(i, t)) for i, (t, _code) in enumerate(officials)]
    for th in e_threads + o_threads:
        th.start()
    for th in e_threads:
        th.join()
    enterprises_done.set()
    for th in o_threads:
        th.join(timeout=600)
    seconds = time.perf_counter() - started
    everything = [x for v in samples.values() for x in v]
    total = len(everything)
    failed = sum(errors.values())
    return {
        "seconds": round(seconds, 1),
        "requests": total,
        "throughput_rps": round(total / seconds, 1) if seconds else 0.0,
        "error_rate": round(failed / total, 4) if total else 0.0,
        "all": percentiles(everything),
        "operations": {op: percentiles(v) for op, v in sorted(samples.items())},
        "errors": dict(errors),
        "submitted": counts["submitted"],
        "recommended": counts["recommended"],
    }


def main(argv=None) -> int:
    args = parse_args(argv)
    django_setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    wall = time.perf_counter()
    log(
        f"SRDI deadline-day load: {args.enterprises} enterprises, {args.officials} officials; "
        f"database {connection.vendor}, cache {settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}"
    )
    call_command("migrate", verbosity=0, interactive=False)
    t = time.perf_counter()
    officials, drafts = setup(args)
    log(f"  set up in {time.perf_counter() - t:.1f} s: {len(drafts)} drafts in a new round")
    connection.close()  # the server's workers get the database to themselves

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = Path(args.output).with_name("load-gunicorn.log")
    server = start_server(args, port, log_path)
    try:
        wait_ready(base, server, tenant_code=TENANT_CODE)
        log(
            f"  gunicorn {args.workers} workers × {args.threads} threads; think {args.think_ms:.0f} ms, "
            f"ramp {args.ramp:.0f} s …"
        )
        load = run_load(args, base, officials, drafts)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except Exception:  # noqa: BLE001 — a server that will not stop is killed
            server.kill()

    met = not load["errors"] and load["all"].get("p95", float("inf")) < TARGET_P95_MS
    summary = {
        "enterprises": args.enterprises,
        "officials": args.officials,
        "think_ms": args.think_ms,
        "ramp_s": args.ramp,
        "workers": args.workers,
        "threads": args.threads,
        "database": connection.vendor,
        "redis": bool(os.environ.get("REDIS_URL")),
        "python": platform.python_version(),
        "machine": f"{platform.machine()} {os.cpu_count()} CPUs",
        "load_average": load_average(),
        "load": load,
        "target": {"p95_ms": TARGET_P95_MS, "no_errors": True, "met": met},
        "wall_seconds": round(time.perf_counter() - wall, 1),
    }
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")

    width = max((len(op) for op in load["operations"]), default=10)
    log(f"\n{'operation':<{width}}  {'n':>6}  {'p50':>7}  {'p95':>7}  {'p99':>7}  {'max':>7}")
    for op, p in load["operations"].items():
        log(
            f"{op:<{width}}  {p['n']:>6}  {p['p50']:>7.1f}  {p['p95']:>7.1f}  {p['p99']:>7.1f}  {p['max']:>7.1f}"
        )
    a = load["all"]
    log(
        f"\nall: {load['requests']} requests in {load['seconds']} s, {load['throughput_rps']}/s; "
        f"p50 {a.get('p50')} ms, p95 {a.get('p95')} ms, p99 {a.get('p99')} ms; "
        f"error rate {load['error_rate']:.2%}; submitted {load['submitted']}/{len(drafts)}, "
        f"recommended {load['recommended']}"
    )
    log(f"target p95 < {TARGET_P95_MS:.0f} ms and no errors: {'MET' if met else 'NOT MET'}")
    log(f"results: {out}")
    for error, n in load["errors"].items():
        print(f"ERROR: {error} ×{n}", file=sys.stderr)
    return 1 if load["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
