"""HTTP speed against a bare Starlette app doing the same I/O, and flatness to 1M stories.

    .venv/bin/python bench/http.py [--quick] [--duration 8] [--connections 32]

Starts Braided as `make run` does (screen off, rate limits off) on its own PostgreSQL
and NATS, and bench/bare_app.py (one uvicorn worker, uvloop + httptools) on another
PostgreSQL and NATS, seeds both with the same published stories (COPY), and drives
each path with one load generator (`wrk -t1 -cC -dDs`; installed with apt-get when
missing, else a Python generator), bare app and Braided one after the other, so that
their ratio is measured under the same machine load. Braided is measured as it runs
(page cache on, WEB_CONCURRENCY=1), and beside that with the page cache off
(PUBLISHING_PAGE_CACHE_MB=0) and with WEB_CONCURRENCY=2 (extra `braided serve`
processes on the same stack). Then the public pages at 10k, 100k and 1M published
stories, as a ratio to 10k (cached and uncached); each of those cells alternates the
bare app and Braided `--rounds` times and compares medians.

`--quick` (seconds, small sizes) proves the harness runs; its figures mean nothing.
`--paths post,feed` measures only those rows of the first table (names as printed,
lower case, or `post`), and `--sizes ''` skips the scale table: for profiling one path.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path, and this file would
# stand in for the standard library's `http` package: take the folder off again.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import asyncpg  # noqa: E402
import httpx  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from services.publishing.pagecache import CHANNEL  # noqa: E402
from shared.infra import EmbeddedNats, EmbeddedPostgres, free_port  # noqa: E402
from tests.hardening import ScratchStack  # noqa: E402

PY = sys.executable
TAGS = [f"heritage-{i}" for i in range(40)] + ["Hakka", "Peranakan", "Nikkei", "Hapa", "Mestiza"]
WORDS = ("rice lantern auntie market rain kitchen train letter garden dumpling tea river city village song "
         "mother sister friend school winter summer mooncake festival language name photo border harbour "
         "evening morning silence laughter quarrel promise home away between both neither bridge thread").split()
SEARCH = "grandmother"  # in one story of twenty
TAG = "Hakka"
POST_BODY = ("I grew up between my mother's Cantonese kitchen and my father's Tagalog jokes, and for a long "
             "time I thought I had to choose one of them to be real. " * 8).strip()


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int

    def cells(self) -> str:
        return f"{self.rps:>9,.0f} {self.p50_ms:>7.2f} {self.p99_ms:>8.2f}"


# --- load generators ---------------------------------------------------------------------


def ensure_wrk() -> str | None:
    found = shutil.which("wrk")
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    print("wrk not found: apt-get install -y wrk", flush=True)
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False, stdout=subprocess.DEVNULL)
    return shutil.which("wrk")


def _ms(value: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if not m:
        return float("nan")
    return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[m.group(2)]


def run_wrk(wrk: str, url: str, duration: float, connections: int, post: bytes | None, tmp: Path) -> Result:
    cmd = [wrk, "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", "--timeout", "10s", "--latency", url]
    if post is not None:
        script = tmp / "post.lua"
        body = post.decode().replace("\\", "\\\\").replace('"', '\\"')
        script.write_text(f'wrk.method = "POST"\nwrk.body = "{body}"\n'
                          'wrk.headers["Content-Type"] = "application/json"\n')
        cmd[1:1] = ["-s", str(script)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    if not (rps and p50 and p99):
        raise RuntimeError(f"wrk said:\n{out}")
    n_errors = int(errors.group(1)) if errors else 0
    if socket_errors:
        n_errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return Result(float(rps.group(1)), _ms(p50.group(1)), _ms(p99.group(1)), n_errors)


async def _python_load(url: str, duration: float, connections: int, post: bytes | None) -> Result:
    """A keep-alive HTTP/1.1 generator on asyncio, for machines without wrk."""
    u = httpx.URL(url)
    target = u.raw_path.decode()
    if post is None:
        request = f"GET {target} HTTP/1.1\r\nHost: {u.host}:{u.port}\r\n\r\n".encode()
    else:
        request = (f"POST {target} HTTP/1.1\r\nHost: {u.host}:{u.port}\r\nContent-Type: application/json\r\n"
                   f"Content-Length: {len(post)}\r\n\r\n").encode() + post
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + duration

    async def client() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(u.host, u.port)
        try:
            while time.perf_counter() < stop:
                started = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                length = re.search(rb"(?i)content-length:\s*(\d+)", head)
                await reader.readexactly(int(length.group(1)) if length else 0)
                latencies.append(time.perf_counter() - started)
                errors += status >= 400
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    wall = time.perf_counter() - started
    latencies.sort()
    pick = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000  # noqa: E731
    return Result(len(latencies) / wall, pick(0.50), pick(0.99), errors)


def load(wrk: str | None, url: str, duration: float, connections: int, tmp: Path, post: bytes | None = None) -> Result:
    if wrk:
        return run_wrk(wrk, url, duration, connections, post, tmp)
    return asyncio.run(_python_load(url, duration, connections, post))


# --- seeding -------------------------------------------------------------------------------


def _rows(start: int, n: int, seed: int = 7):
    rng = random.Random(seed + start)
    today = dt.date.today()
    for i in range(start, start + n):
        words = rng.choices(WORDS, k=60)
        if i % 20 == 0:
            words[rng.randrange(60)] = SEARCH
        tags = rng.sample(TAGS, 2)
        if i % 40 == 0:
            tags.append(TAG)
        yield (uuid.UUID(int=rng.getrandbits(128)), f"Story {i}: {' '.join(words[:5])}", " ".join(words),
               None if i % 3 else f"pen {i % 97}", tags, [], today - dt.timedelta(days=(n - i) // 500))


async def seed(dsn: str, schema: str, upto: int) -> float:
    """COPY published stories into `schema`.stories until it holds `upto` (GIN indexes
    dropped for the load and rebuilt after, as a bulk import does); seconds taken."""
    started = time.perf_counter()
    conn = await asyncpg.connect(dsn, server_settings={"search_path": schema})
    try:
        have = await conn.fetchval("SELECT count(*) FROM stories")
        if have >= upto:
            return 0.0
        gin = await conn.fetch("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1"
                               " AND tablename = 'stories' AND indexdef ILIKE '%USING gin%'", schema)
        big = upto - have > 50_000
        if big:
            for r in gin:
                await conn.execute(f'DROP INDEX "{schema}"."{r["indexname"]}"')
        step = 50_000
        for start in range(have, upto, step):
            n = min(step, upto - start)
            await conn.copy_records_to_table(
                "stories", schema_name=schema, records=_rows(start, n),
                columns=["story_id", "title", "body", "pen_name", "tags", "content_warnings", "published_on"])
        if big:
            await conn.execute("SET maintenance_work_mem = '256MB'")
            for r in gin:
                await conn.execute(r["indexdef"])
        await conn.execute("ANALYZE stories")
        await conn.execute("SELECT pg_notify($1, 'all')", CHANNEL)  # the rows came behind the events' back
    finally:
        await conn.close()
    return time.perf_counter() - started


async def newest_id(dsn: str, schema: str) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        return str(await conn.fetchval(f"SELECT story_id FROM {schema}.stories ORDER BY seq DESC LIMIT 1"))
    finally:
        await conn.close()


# What is still to do after a burst of POSTs, for each app: Braided's stories not yet
# screened, filed and told to their receipt; the bare app's events not yet relayed.
BACKLOG = {"braided": "SELECT count(*) FROM submission.stories WHERE status = 'received'",
           "bare": "SELECT count(*) FROM bare.outbox WHERE NOT sent"}


async def drained(dsn: str, app: str = "braided", limit: float = 600) -> float:
    """Wait until every story a POST measurement sent has been through `app`'s pipeline:
    until then its relay, worker and consumers still use the cores that the next
    measurement (of the other app, too) needs. Returns the seconds waited."""
    started = time.perf_counter()
    conn = await asyncpg.connect(dsn)
    try:
        while time.perf_counter() - started < limit:
            if not await conn.fetchval(BACKLOG[app]):
                break
            await asyncio.sleep(1)
    finally:
        await conn.close()
    return time.perf_counter() - started


# --- processes -------------------------------------------------------------------------------


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not healthy after {timeout}s")


class Procs:
    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []

    def start(self, args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
        with open(log, "ab") as f:
            proc = subprocess.Popen(args, env=env, cwd=REPO, stdout=f, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        self.procs.append(proc)
        return proc

    def stop_one(self, proc: subprocess.Popen) -> None:
        os.killpg(proc.pid, signal.SIGTERM)
        _reap(proc)

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.procs:
            _reap(p)


def _reap(proc: subprocess.Popen) -> None:
    """Wait for a process told to stop; kill its group after 30 s."""
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def serve(procs: Procs, stack_env: dict[str, str], service: str, tmp: Path,
          **env: str) -> tuple[str, subprocess.Popen]:
    """One more `braided serve` beside the stack, as `service`'s NATS identity
    (stack_env holds every identity's credentials under the service's name): its URL
    and its process."""
    port = free_port()
    creds = json.loads(stack_env["BENCH_NATS_IDENTITIES"])[service]
    proc = procs.start([PY, "-m", "braided", "serve", service, "--port", str(port)],
                       stack_env | creds | {f"{service.upper()}_METRICS_PORT": "0"} | env,
                       tmp / f"{service}-{port}.log")
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url, proc)
    return url, proc


# --- the run ---------------------------------------------------------------------------------


def public_paths(story_id: str) -> dict[str, str]:
    return {"feed": "/", "story page": f"/stories/{story_id}", "tag page": f"/tags/{TAG}",
            "search": f"/?q={SEARCH}", "/api/stories": "/api/stories", "/feed.atom": "/feed.atom"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a second per path, small sizes: proves it runs")
    parser.add_argument("--duration", type=float, help="seconds per measurement (default 8; quick 1)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--sizes", help="comma-separated story counts for the scale table (default "
                        "10000,100000,1000000; quick 200,1000)")
    parser.add_argument("--python-load", action="store_true", help="use the Python generator even if wrk is here")
    parser.add_argument("--rounds", type=int, default=3,
                        help="scale table: each cell alternates bare and Braided this many times (duration split "
                        "between them) and takes the median of each, so a passing slowdown of the machine "
                        "cannot decide a cell (default 3)")
    parser.add_argument("--paths", help="comma-separated rows of the first table to measure (default all; "
                        "`post` for POST /api/stories)")
    args = parser.parse_args()
    duration = args.duration or (1.0 if args.quick else 8.0)
    if args.quick:
        args.rounds = 1
    sizes = [int(s) for s in (("200,1000" if args.quick else "10000,100000,1000000") if args.sizes is None
                              else args.sizes).split(",") if s]
    wanted = {p.strip().lower() for p in args.paths.split(",")} if args.paths else None
    wrk = None if args.python_load else ensure_wrk()
    conns = args.connections
    procs = Procs()
    tmp = Path(tempfile.mkdtemp(prefix="braided-bench-http-"))
    scratch = ScratchStack(tmp / "braided", {"REPORT_RATE_LIMIT": "off", "LOG_LEVEL": "WARNING"})
    # The bare app connects as one anonymous client: its server has no accounts.
    bare_pg, bare_nats = EmbeddedPostgres(tmp / "bare"), EmbeddedNats(tmp / "bare", auth=False)
    try:
        print(f"load: {'wrk' if wrk else 'python generator'} -c{conns} -d{duration:g}s per path; "
              f"{os.cpu_count()} CPUs; temp {tmp}", flush=True)
        stack = scratch.start()
        dsn = scratch.dsn
        bare_dsn = bare_pg.start()
        bare_nats.start()
        bare_port = free_port()
        bare_env = dict(os.environ, BARE_DSN=bare_dsn, BARE_NATS=bare_nats.url)
        bare_proc = procs.start([PY, "-m", "uvicorn", "bench.bare_app:app", "--port", str(bare_port),
                                 "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level",
                                 "warning"], bare_env, tmp / "bare-app.log")
        bare = f"http://127.0.0.1:{bare_port}"
        wait_healthy(bare, bare_proc)
        base = sizes[0] if sizes else 10_000
        print(f"seeding {base:,} published stories into each", flush=True)
        asyncio.run(seed(bare_dsn, "bare", base))
        asyncio.run(seed(dsn, "publishing", base))
        braided_pub, braided_sub = stack.url("publishing").rstrip("/"), stack.url("submission").rstrip("/")
        identities = {name: scratch.nats.credentials(name) for name in ("submission", "publishing")}
        stack_env = stack.env_with_db() | {"LOG_LEVEL": "WARNING", "REPORT_RATE_LIMIT": "off",
                                           "BENCH_NATS_IDENTITIES": json.dumps(identities)}
        uncached, _ = serve(procs, stack_env, "publishing", tmp, PUBLISHING_PAGE_CACHE_MB="0")
        two_pub = None
        if not args.quick:
            two_pub, _ = serve(procs, stack_env, "publishing", tmp, WEB_CONCURRENCY="2")
        bare_id, braided_id = asyncio.run(newest_id(bare_dsn, "bare")), asyncio.run(newest_id(dsn, "publishing"))
        post = ('{"title": "A story under load", "body": "' + POST_BODY + '", "tags": ["Hakka"]}').encode()

        def measure(url: str, post_body: bytes | None = None) -> Result:
            if post_body is None:
                httpx.get(url, timeout=30)  # the first render is not what is measured
            return load(wrk, url, duration, conns, tmp, post_body)

        print(f"\n## Braided vs a bare Starlette app, {base:,} stories (req/s, p50 ms, p99 ms)\n", flush=True)
        head = f"{'path':<18}{'bare':>26} | {'Braided':>26} ratio | {'page cache off':>26} ratio"
        if two_pub:
            head += f" | {'WEB_CONCURRENCY=2':>26} ratio"
        print(head)
        targets = [(name, path, None) for name, path in public_paths(braided_id).items()]
        for name, path, body in [*targets, ("POST /api/stories", "/api/stories", post)]:
            is_post = body is not None
            if wanted is not None and name.lower() not in wanted and not (is_post and "post" in wanted):
                continue
            bare_url = bare + path.replace(braided_id, bare_id)
            # After each POST measurement, that app's backlog is drained before the next
            # one starts, so no app's deferred work lands in another's measured seconds.
            waits = []
            b = measure(bare_url, post if is_post else None)
            if is_post:
                waits.append(asyncio.run(drained(bare_dsn, "bare")))
            ours = (braided_sub if is_post else braided_pub) + path
            r = measure(ours, post if is_post else None)
            if is_post:
                waits.append(asyncio.run(drained(dsn)))
            line = f"{name:<18}{b.cells()} | {r.cells()} {r.rps / b.rps:>4.2f}x"
            u = None if is_post else measure(uncached + path)  # submission has no page cache
            line += f" | {u.cells()} {u.rps / b.rps:>4.2f}x" if u else f" | {'(no page cache)':>26}      "
            if two_pub and not is_post:
                t = measure(two_pub + path)
                line += f" | {t.cells()} {t.rps / b.rps:>4.2f}x"
            elif two_pub:
                # Only while it is measured: its two processes would share submission's
                # consumers (and take part in the pipeline) while the stack as `make run`
                # starts it is measured.
                two_sub, two_sub_proc = serve(procs, stack_env, "submission", tmp, WEB_CONCURRENCY="2")
                try:
                    t = measure(two_sub + path, post)
                finally:
                    procs.stop_one(two_sub_proc)
                waits.append(asyncio.run(drained(dsn)))
                line += f" | {t.cells()} {t.rps / b.rps:>4.2f}x"
            errors = b.errors + r.errors + (u.errors if u else 0)
            print(line + (f"  ({errors} errors)" if errors else ""), flush=True)
            if is_post:
                print(f"{'':<18}(after each, the pipeline took {' / '.join(f'{w:.0f}' for w in waits)} s more to "
                      "relay, screen and file what was posted: bare / Braided"
                      + (" / WEB_CONCURRENCY=2)" if two_pub else ")"), flush=True)

        def measure_pair(bare_url: str, our_url: str) -> tuple[float, float]:
            """Median req/s of the bare app and of Braided, measured alternately."""
            httpx.get(bare_url, timeout=30), httpx.get(our_url, timeout=30)
            bare_rps, our_rps = [], []
            for _ in range(max(1, args.rounds)):
                bare_rps.append(load(wrk, bare_url, duration / args.rounds, conns, tmp).rps)
                our_rps.append(load(wrk, our_url, duration / args.rounds, conns, tmp).rps)
            return statistics.median(bare_rps), statistics.median(our_rps)

        if sizes:
            print(f"\n## Braided's public pages by published stories, as a ratio to {base:,} "
                  "(each over the bare app)\n", flush=True)
            names = list(public_paths(braided_id))
            print(f"{'stories':>10} {'seeded in':>9}  " + "  ".join(f"{n:>22}" for n in names))
        # The machine's load drifts over a run that takes many minutes; the bare app (its
        # size never changes) is measured on the same page just before, and each cell is
        # Braided's speed relative to it, as a ratio to that relative speed at the first size.
        first: dict[tuple[str, str], float] = {}
        for size in sizes:
            took = asyncio.run(seed(dsn, "publishing", size))
            sid = asyncio.run(newest_id(dsn, "publishing"))
            cells, raw = [], []
            for name, path in public_paths(sid).items():
                got = {}
                for label, url in (("cached", braided_pub), ("off", uncached)):
                    bare_rps, rps = measure_pair(bare + path.replace(sid, bare_id), url + path)
                    first.setdefault((name, label), rps / bare_rps)
                    got[label] = rps / bare_rps / first[(name, label)]
                    raw.append(f"{rps:,.0f}/{bare_rps:,.0f}")
                cells.append(f"{got['cached']:>9.2f}x off {got['off']:>5.2f}x")
            print(f"{size:>10,} {took:>8.0f}s  " + "  ".join(f"{c:>22}" for c in cells), flush=True)
            print(f"{'':>21}raw Braided/bare req/s (cached, off per page): {' '.join(raw)}", flush=True)
        print("\n(Braided: page cache on, WEB_CONCURRENCY=1, as `make run`, receipts as services/submission/"
              "receipts.py stores them; `cache off`: a publishing process with PUBLISHING_PAGE_CACHE_MB=0 on the "
              "same stack; scale cells: cached ratio, then cache-off ratio, "
              "each over the bare app's speed on the same page measured just before)")
    finally:
        procs.stop()
        try:
            scratch.stop()
        finally:
            bare_nats.stop()
            bare_pg.stop()
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
