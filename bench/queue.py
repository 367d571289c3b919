"""Benchmark of the officials' review queue: `make bench` (or `python -m bench.queue --n 20000`).

A synthetic tenant ("qbench", the 贵州 region tree) holds N enterprises and N applications (100,000 by
default) in one open round of a province-owned programme whose chain is county → prefecture → province,
spread evenly over the 88 counties. Most applications wait for an official (submitted at their county,
under review at their prefecture or at the province); the rest are drafts, returned, approved, rejected
or withdrawn. Three officials use the queue: the county reviewer of 南明区, the prefecture reviewer of
贵阳市 and a provincial reviewer.

The data set is written with bulk_create straight into the tables, bypassing certification.workflow:
there is no history, snapshot, audit row or quota use behind these applications, only the columns the
queue reads. Going through the services would take hours for 100,000 applications and measure the
writes, not the page. The round and the officials' posts are made as the portal makes them.

Two measurements per queue page (waiting at my level, other pages, filters, "everything in my region",
a deep page sorted by score, a search):

(1) in process, through django.test.Client: the number of SQL queries (CaptureQueriesContext), their
    total time, the slowest one with its plan (EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE on
    PostgreSQL), and the page's own time without HTTP or concurrency;
(2) under load: the portal served by gunicorn (gthread workers) in a subprocess on a free port, every
    client thread signed in as each official through the login form (CSRF token and session cookie, as
    a browser does), then --clients threads each fetching every page --iterations times, without
    pause. Latency p50 / p95 / p99 per page, and the throughput.

--think-ms (default 1000) gives each client a pause between two pages, exponentially distributed with that
mean, as officials reading a page take: 10 officials then ask for about 8 pages a second. --think-ms 0 sends
requests back to back, a saturation test of the 2 cores (the 10 client threads run on the same cores).

Target (the issue): p95 < 150 ms per page on the 2-core machine. The script prints whether it is met and
fails only on errors: a page that does not answer 200 with the queue table on it fails the run loudly.

The server runs the settings `make run` loads (DEBUG=true: SQLite in WAL mode, no TLS, so that the session
cookie is not Secure over plain HTTP), then turns DEBUG off before serving, as bench/screening.py does
for its measured phases: no SQL logging, no debug templates. SESSION_SAVE_EVERY_REQUEST stays on, so
every page view also writes its session row, as in production.

Database: whatever DATABASE_URL says (the Makefile gives a dedicated db/bench-queue.sqlite3 unless
BENCH_DATABASE_URL is set). The data set is reused when it is already there for the same N and
generator; otherwise it is deleted and generated again (--regenerate forces it).

Run it as a module (`python -m bench.queue`): as a script, its directory would come first on sys.path and
this file would stand in for the standard library's `queue` (the guard below takes it out again).
"""

from __future__ import annotations

import os
import sys

if (
    __name__ == "__main__"
    and sys.path
    and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__))
):
    sys.path.pop(0)  # `python bench/queue.py`: do not shadow the standard library's queue module

import argparse  # noqa: E402
import http.cookiejar  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import urllib.error  # noqa: E402
import urllib.parse  # noqa: E402
import urllib.request  # noqa: E402
from collections import Counter  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import timedelta  # noqa: E402
from decimal import Decimal  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

GENERATOR = 1  # bump when the generator changes: the stored data set is then generated again
TENANT_CODE = "qbench"
ROOT_REGION = "520000"  # 贵州省
PROGRAM_CODE = "srdi-queue-bench"
CRITERIA = "national_2026_srdi"
BATCH = 5000
TARGET_P95_MS = 150.0
PASSWORD = "Bench-queue-2026"  # the bench tenant's officials only
MARKER = 'data-testid="queue-table"'
INDUSTRY_CODES = ["C3484", "C3841", "C2612", "C2740", "C3511", "C2041", "I6513", "A0141", "C1492", "C2662"]

# (username suffix, role, region code): 南明区 and its prefecture 贵阳市, and the province.
OFFICIALS = [
    ("county", "county_reviewer", "520102"),
    ("prefecture", "prefecture_reviewer", "520100"),
    ("province", "provincial_reviewer", "520000"),
]

# State mix (weights): most applications wait for an official.
STATE_MIX = [
    ("draft", 2),
    ("submitted", 40),
    ("in_review_prefecture", 25),
    ("in_review_province", 15),
    ("returned", 6),
    ("approved", 5),
    ("rejected", 5),
    ("withdrawn", 2),
]


@dataclass(frozen=True)
class Page:
    label: str
    official: str  # OFFICIALS suffix
    query: str  # the query string of review_queue


def pages(search_term: str) -> list[Page]:
    return [
        Page("county · waiting, page 1", "county", ""),
        Page("county · waiting, page 5", "county", "page=5"),
        Page("county · eligible by score", "county", "verdict=eligible&sort=-score"),
        Page("prefecture · waiting, page 1", "prefecture", ""),
        Page("province · waiting, page 1", "province", ""),
        Page("province · waiting, page 50", "province", "page=50"),
        Page("province · one county", "province", "county=520102"),
        Page("province · everything, page 1", "province", "tab=all"),
        Page("province · everything by score, page 200", "province", "tab=all&sort=-score&page=200"),
        Page(
            "province · search a credit code",
            "province",
            "tab=all&" + urllib.parse.urlencode({"q": search_term}),
        ),
    ]


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=100_000, help="enterprises and applications, default 100000")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--clients", type=int, default=10, help="concurrent client threads, default 10")
    p.add_argument(
        "--iterations", type=int, default=10, help="times each client fetches every page, default 10"
    )
    p.add_argument("--workers", type=int, default=3, help="gunicorn worker processes, default 3")
    p.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (gthread), default 4")
    p.add_argument(
        "--regenerate", action="store_true", help="delete and generate the data set even if it is there"
    )
    p.add_argument("--in-process-only", action="store_true", help="skip the gunicorn load test")
    p.add_argument(
        "--think-ms",
        type=float,
        default=1000.0,
        help="each client's mean pause between two pages (exponential), default 1000: officials read pages; "
        "0 sends requests back to back (a saturation test)",
    )
    p.add_argument("--output", help="default bench-results/queue.json")
    args = p.parse_args(argv)
    args.output = args.output or str(ROOT / "bench-results" / "queue.json")
    return args


def log(message: str) -> None:
    print(message, flush=True)


def _quiet_whitenoise() -> None:
    # With DEBUG turned off after loading, WhiteNoise looks for collected static files (STATIC_ROOT) and
    # warns that there are none. The queue pages' timings do not include static files either way.
    import warnings

    warnings.filterwarnings("ignore", message="No directory at")


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("DEBUG", "true")
    _quiet_whitenoise()
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False  # no SQL logging (see the module docstring); CaptureQueriesContext forces its own


def wsgi_app():
    """The application gunicorn serves (`bench.queue:wsgi_app()`): the portal with DEBUG off after loading."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    _quiet_whitenoise()
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    settings.DEBUG = False
    return application


def peak_rss_mb(pid: int | str = "self") -> float | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


# --- the data set ------------------------------------------------------------------------------


def setup_tenant(n: int):
    """The tenant, its programme, the round and the officials (idempotent)."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from certification import workflow
    from certification.criteria_catalog import load_spec
    from certification.models import CriteriaVersion, Level, Program, Round
    from certification.services import criteria_version_freeze, criteria_version_save
    from portal.models import Post, Region, Tenant, User
    from portal.regions import regions_load

    tenant, _ = Tenant.objects.get_or_create(
        code=TENANT_CODE, defaults={"name": "队列基准（贵州）", "short_name": "qbench"}
    )
    regions_load(tenant=tenant, root_code=ROOT_REGION)
    tenant.refresh_from_db()
    root = tenant.root_region
    program, _ = Program.objects.get_or_create(
        tenant=tenant,
        code=PROGRAM_CODE,
        defaults={"name": "专精特新中小企业（队列基准）", "tier": Program.Tier.SRDI, "owner_region": root},
    )
    version = program.versions.order_by("-effective_from").first()
    if version is None:
        spec = load_spec(CRITERIA)
        version = CriteriaVersion(
            program=program,
            label=spec["version"]["label"][:120],
            effective_from=spec["version"]["effective_from"],
            source=f"bench: {CRITERIA}",
            definition=spec["definition"],
        )
        criteria_version_save(version=version, by=None, actor_label="bench")
        version = criteria_version_freeze(version=version, by=None, actor_label="bench")
    name = f"队列基准 N={n} G{GENERATOR}"
    round_ = Round.objects.filter(program=program, name=name).first()
    if round_ is None:
        now = timezone.now()
        closes = now + timedelta(days=60)
        round_ = workflow.round_save(
            round_=Round(
                program=program,
                version=version,
                name=name,
                opens_at=now - timedelta(days=60),
                closes_at=closes,
            ),
            stages=[
                workflow.StageSpec(Level.COUNTY, closes + timedelta(days=15)),
                workflow.StageSpec(Level.PREFECTURE, closes + timedelta(days=30)),
                workflow.StageSpec(Level.PROVINCE, closes + timedelta(days=60)),
            ],
            quotas=[],
            by=None,
            actor_label="bench",
        )
    password = None
    officials = {}
    for suffix, role, code in OFFICIALS:
        username = f"{TENANT_CODE}_{suffix}"
        user = User.objects.filter(username=username).first()
        if user is None:
            password = password or make_password(PASSWORD)
            user = User.objects.create(username=username, display_name=username, password=password)
        Post.objects.get_or_create(
            tenant=tenant, user=user, region=Region.objects.get(tenant=tenant, code=code), role=role
        )
        officials[suffix] = user
    return tenant, round_, officials


def ensure_data(args, tenant, round_) -> str:
    """Reuse the applications when they are this data set (same N, same generator), else generate them."""
    from django.db import transaction
    from django.utils import timezone

    from certification.models import Application, Round
    from enterprises.demo import demo_uscc
    from enterprises.models import Enterprise, Industry
    from portal.models import Region

    apps = Application.objects.filter(tenant=tenant)
    if not args.regenerate and apps.filter(round=round_).count() == args.n and apps.count() == args.n:
        return "reused"
    started = time.perf_counter()
    apps.delete()
    Round.objects.filter(tenant=tenant).exclude(pk=round_.pk).delete()
    Enterprise.objects.filter(tenant=tenant).delete()
    log(f"  deleted the previous data set in {time.perf_counter() - started:.1f} s")

    rng = random.Random(args.seed)
    counties = list(
        Region.objects.filter(tenant=tenant, level=Region.Level.COUNTY)
        .select_related("parent")
        .order_by("code")
    )
    root = tenant.root_region
    industries = [c for c in INDUSTRY_CODES if Industry.objects.filter(pk=c).exists()]
    if not industries:
        raise SystemExit("no industry classes in the database: did the migrations load GB/T 4754?")
    now = timezone.now()
    opens = round_.opens_at
    span = (now - opens).total_seconds()
    states, weights = zip(*STATE_MIX, strict=True)
    with transaction.atomic():
        for start in range(0, args.n, BATCH):
            stop = min(start + BATCH, args.n)
            enterprises = []
            for i in range(start, stop):
                county = counties[i % len(counties)]
                enterprises.append(
                    Enterprise(
                        tenant_id=tenant.pk,
                        uscc=demo_uscc(county.code, 1000 + i // len(counties)),
                        name=f"队列基准企业{i:06d}有限公司",
                        county_id=county.pk,
                        address=f"{county.name}基准路{i % 997 + 1}号",
                        industry_id=industries[i % len(industries)],
                        legal_representative="张基准",
                        contact_person="李基准",
                        contact_phone=f"139{i:08d}",
                        contact_email=f"qbench{i}@example.cn",
                        main_product="基准产品",
                        size_class=rng.choice(["micro", "small", "small", "medium"]),
                        created_at=now,
                    )
                )
            Enterprise.objects.bulk_create(enterprises, batch_size=BATCH)
            if enterprises[0].pk is None:  # a backend without RETURNING: read the keys back
                by_code = dict(
                    Enterprise.objects.filter(
                        tenant=tenant, uscc__in=[e.uscc for e in enterprises]
                    ).values_list("uscc", "pk")
                )
                for e in enterprises:
                    e.pk = by_code[e.uscc]
            applications = []
            for i, enterprise in zip(range(start, stop), enterprises, strict=True):
                county = counties[i % len(counties)]
                state = rng.choices(states, weights)[0]
                submitted = opens + timedelta(seconds=rng.uniform(0, span))
                level, region = "", None
                if state == "submitted":
                    level, region = "county", county
                elif state == "in_review_prefecture":
                    state, level, region = "in_review", "prefecture", county.parent
                elif state == "in_review_province":
                    state, level, region = "in_review", "province", root
                decided = (
                    submitted + timedelta(days=rng.uniform(1, 20))
                    if state in ("approved", "rejected")
                    else None
                )
                applications.append(
                    Application(
                        tenant_id=tenant.pk,
                        round_id=round_.pk,
                        enterprise_id=enterprise.pk,
                        county_id=county.pk,
                        state=state,
                        level=level,
                        current_region=region,
                        verdict=""
                        if state == "draft"
                        else rng.choices(["eligible", "ineligible", "excluded"], [55, 42, 3])[0],
                        score=None if state == "draft" else rng.randint(35, 98),
                        expert_mean=Decimal(rng.randint(550, 950)) / 10
                        if level == "province" or state == "approved"
                        else None,
                        created_at=submitted - timedelta(days=1),
                        submitted_at=None if state == "draft" else submitted,
                        decided_at=min(decided, now) if decided else None,
                    )
                )
            Application.objects.bulk_create(applications, batch_size=BATCH)
    return "generated"


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in (
                "certification_application",
                "enterprises_enterprise",
                "portal_region",
                "django_session",
            ):
                cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(table)}")
        elif connection.vendor == "sqlite":
            cursor.execute("ANALYZE")


# --- (1) in process: queries and plans ------------------------------------------------------------


def explain(sql: str) -> list[str]:
    from django.db import DatabaseError, connection

    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    try:
        with connection.cursor() as cursor:
            cursor.execute(prefix + sql)
            return [" | ".join(str(c) for c in row) for row in cursor.fetchall()]
    except DatabaseError as exc:  # a statement that does not round-trip through its logged text
        return [f"(no plan: {exc})"]


def in_process(tenant, officials, page_list: list[Page]) -> dict[str, dict]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    url = reverse("review_queue", kwargs={"tenant_code": tenant.code})
    clients = {}
    for suffix, user in officials.items():
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        clients[suffix] = client
    out = {}
    for page in page_list:
        client = clients[page.official]
        target = f"{url}?{page.query}" if page.query else url
        response = client.get(target)  # warm: templates, caches
        ok = response.status_code == 200 and MARKER in response.content.decode()
        with CaptureQueriesContext(connection) as ctx:
            client.get(target)
        # Read now: the next request's request_started signal empties the connection's query log.
        queries = [(float(q["time"]), q["sql"]) for q in ctx.captured_queries]
        times = []
        for _ in range(5):
            t = time.perf_counter()
            client.get(target)
            times.append((time.perf_counter() - t) * 1000)
        slowest = max(queries, default=(0.0, ""))
        out[page.label] = {
            "url": target,
            "status": response.status_code,
            "ok": ok,
            "queries": len(queries),
            "sql_ms": round(sum(t for t, _ in queries) * 1000, 1),
            "slowest_ms": round(slowest[0] * 1000, 1),
            "slowest_sql": slowest[1][:4000],
            "plan": explain(slowest[1]) if slowest[1] else [],
            "in_process_ms": round(statistics.median(times), 1),
        }
    return out


# --- (2) under load: gunicorn and client threads -------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(args, port: int, log_path: Path) -> subprocess.Popen:
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="portal.settings",
        DEBUG="true",
    )
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(args.workers),
        "--threads",
        str(args.threads),
        "--worker-class",
        "gthread",
        "--timeout",
        "120",
        "--error-logfile",
        str(log_path),
        "bench.queue:wsgi_app()",
    ]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    # The command is gunicorn with this module's own application: nothing in it comes from outside.
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603


def wait_ready(base: str, server: subprocess.Popen, timeout: float = 90.0, *, tenant_code: str = "") -> None:
    """Until gunicorn answers the tenant's login page (this bench's tenant unless another is named)."""
    tenant_code = tenant_code or TENANT_CODE
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}: see the log in bench-results/")
        try:
            with urllib.request.urlopen(f"{base}/{tenant_code}/login/", timeout=5) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer within {timeout:.0f} s")


def worker_pids(master: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                pids.append(int(entry.name))
    return pids


class Session:
    """One signed-in browser: a cookie jar, the login form's CSRF token, no redirect surprises."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def _post_form(self, url: str, html: str, fields: dict) -> tuple[str, str]:
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        if not match:
            raise SystemExit(f"{url} has no CSRF token")
        body = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": match.group(1)}).encode()
        request = urllib.request.Request(url, data=body, headers={"Referer": url})  # noqa: S310 — our http://127.0.0.1
        with self.opener.open(request, timeout=60) as response:
            return response.geturl(), response.read().decode()

    def login(self, username: str, password: str, code: str = "") -> None:
        """The password, then (provincial officials) the second factor: a backup code of the run's own,
        since ten clients signing in as one person within 30 s cannot each use the same TOTP code."""
        url = f"{self.base}/{TENANT_CODE}/login/"
        with self.opener.open(url, timeout=60) as response:
            html = response.read().decode()
        landed, html = self._post_form(url, html, {"username": username, "password": password})
        if "/login/code/" in landed:
            if not code:
                raise SystemExit(f"{username} is asked for a second factor and the bench has no code for it")
            self._post_form(landed, html, {"otp_token": code})
        if not any(c.name == "sessionid" for c in self.jar):
            raise SystemExit(f"signing in as {username} failed (no session cookie)")

    def get(self, path: str) -> tuple[int, float, bool]:
        started = time.perf_counter()
        try:
            with self.opener.open(self.base + path, timeout=120) as response:
                body = response.read()
                status = response.status
        except urllib.error.HTTPError as exc:
            exc.read()
            return exc.code, (time.perf_counter() - started) * 1000, False
        elapsed = (time.perf_counter() - started) * 1000
        return status, elapsed, MARKER.encode() in body


def backup_codes(usernames: list[str], n: int) -> dict[str, list[str]]:
    """For each of these officials who needs a second factor (portal.auth.policy): a confirmed authenticator
    (so no enrolment) and `n` fresh single-use backup codes, one per client of this run."""
    from django.contrib.auth import get_user_model
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from portal.auth.policy import requires_second_factor

    codes: dict[str, list[str]] = {}
    for user in get_user_model().objects.filter(username__in=usernames):
        if not requires_second_factor(user):
            continue
        TOTPDevice.objects.get_or_create(user=user, name="bench", defaults={"confirmed": True})
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name="bench backup codes", confirmed=True)
        codes[user.username] = [StaticToken.random_token() for _ in range(n)]
        StaticToken.objects.bulk_create(
            StaticToken(device=device, token=code) for code in codes[user.username]
        )
    return codes


def under_load(args, tenant, page_list: list[Page]) -> dict:
    from django.urls import reverse

    url = reverse("review_queue", kwargs={"tenant_code": tenant.code})
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = Path(args.output).with_name("queue-gunicorn.log")
    server = start_server(args, port, log_path)
    try:
        wait_ready(base, server)
        sessions: list[dict[str, Session]] = [{} for _ in range(args.clients)]
        failures: list[str] = []

        codes = backup_codes([f"{TENANT_CODE}_{suffix}" for suffix, _r, _c in OFFICIALS], args.clients)

        def sign_in(i: int) -> None:
            try:
                for suffix, _role, _code in OFFICIALS:
                    session = Session(base)
                    username = f"{TENANT_CODE}_{suffix}"
                    session.login(username, PASSWORD, codes.get(username, [""] * args.clients)[i])
                    sessions[i][suffix] = session
            except BaseException as exc:  # noqa: BLE001 — reported below, the run fails
                failures.append(f"client {i}: {exc}")

        t = time.perf_counter()
        threads = [threading.Thread(target=sign_in, args=(i,)) for i in range(args.clients)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        login_seconds = time.perf_counter() - t
        if failures:
            raise SystemExit("signing in failed: " + "; ".join(failures))

        samples: dict[str, list[float]] = {p.label: [] for p in page_list}
        errors: Counter = Counter()
        lock = threading.Lock()
        barrier = threading.Barrier(args.clients)

        def client(i: int) -> None:
            order = page_list[i % len(page_list) :] + page_list[: i % len(page_list)]  # not in lockstep
            pause = random.Random(i)
            mine: list[tuple[str, float, int, bool]] = []
            barrier.wait()
            for _ in range(args.iterations):
                for page in order:
                    path = f"{url}?{page.query}" if page.query else url
                    status, ms, ok = sessions[i][page.official].get(path)
                    mine.append((page.label, ms, status, ok))
                    if args.think_ms:
                        time.sleep(pause.expovariate(1000.0 / args.think_ms))
            with lock:
                for label, ms, status, ok in mine:
                    samples[label].append(ms)
                    if status != 200 or not ok:
                        errors[
                            f"{label}: HTTP {status}{'' if status != 200 else ' without the queue table'}"
                        ] += 1

        t = time.perf_counter()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        seconds = time.perf_counter() - t
        workers_rss = [peak_rss_mb(pid) for pid in worker_pids(server.pid)]
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    total = sum(len(v) for v in samples.values())
    return {
        "clients": args.clients,
        "iterations": args.iterations,
        "think_ms": args.think_ms,
        "workers": args.workers,
        "threads": args.threads,
        "login_seconds": round(login_seconds, 2),
        "seconds": round(seconds, 2),
        "requests": total,
        "throughput_rps": round(total / seconds, 1),
        "pages": {label: percentiles(v) for label, v in samples.items()},
        "all": percentiles([x for v in samples.values() for x in v]),
        "errors": dict(errors),
        "worker_peak_rss_mb": max((r for r in workers_rss if r), default=None),
        "gunicorn_log": str(log_path),
    }


def percentiles(values: list[float]) -> dict:
    if not values:
        return {}
    ordered = sorted(values)

    def q(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))], 1)

    return {
        "n": len(ordered),
        "p50": q(0.50),
        "p95": q(0.95),
        "p99": q(0.99),
        "mean": round(statistics.fmean(ordered), 1),
        "max": round(ordered[-1], 1),
    }


# --- main --------------------------------------------------------------------------------------


def main(argv=None) -> int:
    args = parse_args(argv)
    django_setup()
    from django.core.management import call_command
    from django.db import connection

    from certification.models import Application

    wall = time.perf_counter()
    log(
        f"SRDI review-queue benchmark: N={args.n:,}, database {connection.vendor} ({connection.settings_dict['NAME']})"
    )
    t = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    tenant, round_, officials = setup_tenant(args.n)
    state = ensure_data(args, tenant, round_)
    analyze()
    setup_seconds = time.perf_counter() - t
    mix = Counter(Application.objects.filter(tenant=tenant).values_list("state", flat=True))
    log(f"  data set {state} in {setup_seconds:.1f} s: {dict(sorted(mix.items()))}")
    search = (
        Application.objects.filter(tenant=tenant, state="in_review", level="province")
        .order_by("pk")
        .values_list("enterprise__uscc", flat=True)
        .first()
    )
    page_list = pages(search or "")

    return measure(args, tenant, officials, page_list, state, mix, setup_seconds, wall)


def measure(args, tenant, officials, page_list, state, mix, setup_seconds, wall) -> int:
    from django.db import connection

    log("(1) in process: queries per page, the page's own time, the slowest query …")
    local = in_process(tenant, officials, page_list)
    width = max(len(p.label) for p in page_list)
    for label, r in local.items():
        failed = "" if r["ok"] else f"  FAILED: HTTP {r['status']}"
        log(
            f"    {label:<{width}}  {r['queries']:>3} queries  SQL {r['sql_ms']:>7.1f} ms  "
            f"page {r['in_process_ms']:>7.1f} ms{failed}"
        )

    load = None
    if not args.in_process_only:
        log(
            f"(2) under load: gunicorn {args.workers} workers × {args.threads} threads, {args.clients} clients × "
            f"{args.iterations} iterations × {len(page_list)} pages, think time {args.think_ms:.0f} ms …"
        )
        load = under_load(args, tenant, page_list)
        log(f"    {load['requests']:,} requests in {load['seconds']:.1f} s ({load['throughput_rps']:.1f}/s)")

    errors = [f"{label}: HTTP {r['status']} in process" for label, r in local.items() if not r["ok"]]
    if load:
        errors += [f"{k} ×{v}" for k, v in load["errors"].items()]
    met = bool(load) and not errors and all(p["p95"] < TARGET_P95_MS for p in load["pages"].values())
    summary = {
        "n": args.n,
        "seed": args.seed,
        "generator": GENERATOR,
        "database": connection.vendor,
        "database_name": str(connection.settings_dict["NAME"]),
        "python": platform.python_version(),
        "machine": f"{platform.machine()} {os.cpu_count()} CPUs",
        "load_average": load_average(),
        "data_set": state,
        "states": dict(mix),
        "setup_seconds": round(setup_seconds, 1),
        "in_process": local,
        "under_load": load,
        "target": {"p95_ms": TARGET_P95_MS, "met": met},
        "wall_seconds": round(time.perf_counter() - wall, 1),
        "errors": errors,
    }
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    out.with_name(f"{out.stem}-{connection.vendor}{out.suffix}").write_text(out.read_text())

    lines = [f"{'page':<{width}}  {'queries':>7}  {'own ms':>7}  {'p50':>7}  {'p95':>7}  {'p99':>7}"]
    for page in page_list:
        r = local[page.label]
        p = (load or {}).get("pages", {}).get(page.label, {})
        lines.append(
            f"{page.label:<{width}}  {r['queries']:>7}  {r['in_process_ms']:>7.1f}  "
            + "  ".join(f"{p.get(k, float('nan')):>7.1f}" for k in ("p50", "p95", "p99"))
        )
    log("\n" + "\n".join(lines))
    if load:
        log(
            f"\nall pages: p50 {load['all']['p50']} ms, p95 {load['all']['p95']} ms, p99 {load['all']['p99']} ms; "
            f"{load['throughput_rps']}/s; gunicorn worker peak RSS {load['worker_peak_rss_mb']} MB; "
            f"load average {summary['load_average']}"
        )
        log(f"target p95 < {TARGET_P95_MS:.0f} ms on every page: {'MET' if met else 'NOT MET'}")
    log(f"results: {out}")
    for error in errors:
        print(f"ERROR: {error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
