# template:demo-only
"""outpost's origin against FastAPI's full-stack template (FSFT), side by side on one machine.

    python benchmarks/fsft_comparison.py --fsft /path/to/full-stack-fastapi-template/backend \\
        [--rounds 7] [--seconds 5] [--connections 8] [--server NAME]

Given a checkout of FSFT's backend (``git clone
https://github.com/fastapi/full-stack-fastapi-template``; its ``backend/``), the script sets up
both apps on the machine's PostgreSQL (``TEST_POSTGRES_URL``, default
``postgresql://127.0.0.1:5432/test``; outpost also uses ``TEST_REDIS_URL``), each in a fresh
database of its own (``fsft_bench``, ``outpost_bench``) with a user who owns 25 rows and a token
from the app's own login endpoint, then serves each with one worker pinned to one CPU
(``taskset``; FSFT with ``fastapi run``, outpost with ``outpost origin [--server NAME]``) and
drives it with wrk pinned to the other CPU. Three pairs of equivalent endpoints are measured in
interleaved rounds (every round measures every pair on both apps, alternating which goes first)
and reported as medians and ranges, with the ratio of each round and the targets of issue 15.

The user's checkout is never modified: the script runs a copy, and on a Python older than 3.14
applies to that copy the two edits FSFT needs to run on 3.11 (``PY311_PATCHES``). FSFT's
dependencies go into a virtual environment of their own under ``.cache/fsft-venv/``, keyed by a
digest of its ``pyproject.toml`` and ``uv.lock``, so a re-run installs nothing. Both servers are
stopped and both databases dropped at the end, also after Ctrl-C or a failure.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from scratch_postgres import PostgresUnreachable, fresh_database
from wrk import Measurement, wrk

from loadtest.bench.processes import free_port, log_tail
from shared.assertion import ASSERTION_HEADER, sign_assertion
from shared.jwt import decode_unverified

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
VENV_CACHE = ROOT / ".cache" / "fsft-venv"
FSFT_DATABASE = "fsft_bench"
OUTPOST_DATABASE = "outpost_bench"
OWNED_ROWS = 25  # more than a page, so the list pairs return a full page of 20
PAGE = 20
WARM_UP_SECONDS = 1
# The packages on FSFT's request path, installed at the versions its uv.lock pins. The rest of
# the lock was resolved for Python 3.14 only and cannot all install on 3.11 (puremagic 2.x), so
# pip resolves those from pyproject's ranges.
LOCKED_PACKAGES = frozenset(
    {
        "anyio",
        "fastapi",
        "fastapi-cli",
        "greenlet",
        "httptools",
        "psycopg",
        "psycopg-binary",
        "pydantic",
        "pydantic-core",
        "pyjwt",
        "sqlalchemy",
        "sqlmodel",
        "starlette",
        "uvicorn",
        "uvloop",
    }
)


@dataclass(frozen=True)
class Pair:
    """Equivalent endpoints; ``{id}`` in a path is the id of a row the token's user owns."""

    name: str
    fsft_path: str
    our_path: str
    authenticated: bool
    target_ratio: float  # outpost's req/s over FSFT's, at least
    p99_no_worse: bool  # and outpost's p99 at most FSFT's


PAIRS = (
    Pair("bare liveness", "/api/v1/utils/health-check/", "/healthz", False, 2.0, False),
    Pair(
        "authenticated read of one owned row",
        "/api/v1/items/{id}",
        "/api/orders/{id}",
        True,
        1.3,
        True,
    ),
    Pair(
        "authenticated list of 20",
        f"/api/v1/items/?limit={PAGE}",
        f"/api/orders?limit={PAGE}",
        True,
        1.3,
        True,
    ),
)


@dataclass(frozen=True)
class Patch:
    """One textual edit to the copy of FSFT: ``old`` becomes ``new`` in ``path``."""

    path: str
    old: str
    new: str
    why: str


PY311_PATCHES = (
    Patch(
        "app/api/deps.py",
        "except InvalidTokenError, ValidationError:",
        "except (InvalidTokenError, ValidationError):",
        "several exception types without parentheses are Python 3.14 syntax (PEP 758)",
    ),
    Patch(
        "app/models.py",
        "items: list[Item] = Relationship(",
        'items: list["Item"] = Relationship(',
        "User names Item before it is defined, which only 3.14's deferred annotations allow"
        " (PEP 649)",
    ),
)


class SetupFailed(Exception):
    """Something the benchmark needs is missing or did not start: one line for the user."""


# --- pure parts: patching text, summarising rounds, rendering the report ---


def patched(text: str, patch: Patch) -> str | None:
    """The text with the patch applied; ``None`` when the text does not need it (already
    patched, or a newer FSFT that no longer has the line)."""
    if patch.old not in text:
        return None
    return text.replace(patch.old, patch.new)


@dataclass(frozen=True)
class Spread:
    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        if not values:
            raise ValueError("no values to summarise")
        return cls(statistics.median(values), min(values), max(values))


@dataclass(frozen=True)
class PairSummary:
    pair: Pair
    round_ratios: tuple[float, ...]  # outpost's req/s over FSFT's, round by round
    ratio: Spread
    fsft_rps: Spread
    our_rps: Spread
    fsft_p99_ms: Spread
    our_p99_ms: Spread

    @property
    def met(self) -> bool:
        fast_enough = self.ratio.median >= self.pair.target_ratio
        tail_ok = not self.pair.p99_no_worse or self.our_p99_ms.median <= self.fsft_p99_ms.median
        return fast_enough and tail_ok

    @property
    def target(self) -> str:
        target = f">= {self.pair.target_ratio:g}x"
        return f"{target}, p99 no worse" if self.pair.p99_no_worse else target


def summarize(pair: Pair, fsft: Sequence[Measurement], ours: Sequence[Measurement]) -> PairSummary:
    """Round ``i`` of ``fsft`` and of ``ours`` ran side by side: their ratio is the round's."""
    if len(fsft) != len(ours):
        raise ValueError("each round needs a measurement of both apps")
    ratios = tuple(
        o.requests_per_second / f.requests_per_second for f, o in zip(fsft, ours, strict=True)
    )
    return PairSummary(
        pair=pair,
        round_ratios=ratios,
        ratio=Spread.of(ratios),
        fsft_rps=Spread.of([m.requests_per_second for m in fsft]),
        our_rps=Spread.of([m.requests_per_second for m in ours]),
        fsft_p99_ms=Spread.of([m.p99_ms for m in fsft]),
        our_p99_ms=Spread.of([m.p99_ms for m in ours]),
    )


def render(summaries: Sequence[PairSummary], heading: str) -> str:
    def rps(spread: Spread) -> str:
        return f"{spread.median:,.0f} ({spread.low:,.0f}-{spread.high:,.0f})"

    def ms(spread: Spread) -> str:
        return f"{spread.median:.2f} ({spread.low:.2f}-{spread.high:.2f})"

    def ratio(spread: Spread) -> str:
        return f"{spread.median:.2f}x ({spread.low:.2f}-{spread.high:.2f})"

    lines = [
        heading,
        "",
        "| pair | FSFT req/s | outpost req/s | ratio | ratio per round "
        "| FSFT p99 ms | outpost p99 ms | target | |",
        "| --- | ---: | ---: | ---: | --- | ---: | ---: | --- | --- |",
    ]
    for summary in summaries:
        per_round = " ".join(f"{value:.2f}" for value in summary.round_ratios)
        verdict = "met" if summary.met else "**missed**"
        lines.append(
            f"| {summary.pair.name} | {rps(summary.fsft_rps)} | {rps(summary.our_rps)} "
            f"| {ratio(summary.ratio)} | {per_round} | {ms(summary.fsft_p99_ms)} "
            f"| {ms(summary.our_p99_ms)} | {summary.target} | {verdict} |"
        )
    return "\n".join(lines)


def locked_constraints(lock: Mapping[str, object]) -> list[str]:
    """``name==version`` for the request-path packages a uv.lock pins."""
    packages = lock.get("package", [])
    assert isinstance(packages, list)
    return sorted(
        f"{package['name']}=={package['version']}"
        for package in packages
        if package.get("name") in LOCKED_PACKAGES and "version" in package
    )


# --- the run ---


@dataclass(frozen=True)
class Served:
    """One app as wrk sees it: where it listens, its token, and the path of each pair."""

    name: str
    base: str
    headers: dict[str, str]
    paths: dict[str, str]  # by pair name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fsft", type=Path, required=True, help="FSFT's backend/ directory")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds")
    parser.add_argument("--seconds", type=int, default=5, help="duration of one wrk run")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--server", help="passed to `outpost origin --server` (default: none)")
    args = parser.parse_args()
    # SIGTERM unwinds like Ctrl-C does, so the servers stop and the databases go.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        return run(args)
    except (SetupFailed, PostgresUnreachable) as error:
        print(f"fsft_comparison: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("fsft_comparison: interrupted; servers stopped, databases dropped", file=sys.stderr)
        return 130


def run(args: argparse.Namespace) -> int:
    checkout = args.fsft.resolve()
    if not (checkout / "pyproject.toml").is_file() or not (checkout / "app" / "main.py").is_file():
        raise SetupFailed(f"{checkout} is not FSFT's backend/ (no pyproject.toml and app/main.py)")
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            raise SetupFailed(f"{tool} is not installed (Debian: apt-get install {tool})")
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        raise SetupFailed("needs two CPUs: one for the server under test, one for wrk")
    server_cpu, load_cpu = cpus[0], cpus[1]

    venv = fsft_venv(checkout)
    with (
        tempfile.TemporaryDirectory(prefix="fsft-comparison-") as scratch_dir,
        ExitStack() as stack,
    ):
        scratch = Path(scratch_dir)
        copy = runnable_copy(checkout, scratch / "backend")
        fsft_url = stack.enter_context(fresh_database(FSFT_DATABASE))
        our_url = stack.enter_context(fresh_database(OUTPOST_DATABASE))
        fsft = stack.enter_context(serving_fsft(venv, copy, fsft_url, scratch, server_cpu))
        ours = stack.enter_context(serving_ours(our_url, scratch, server_cpu, args.server))
        apps = (fsft, ours)
        for app in apps:
            check_answers(app)
        results = measure(apps, args, load_cpu)
    server = f"outpost origin --server {args.server}" if args.server else "outpost origin"
    heading = (
        f"FSFT (fastapi run) vs outpost ({server}): one worker each on CPU {server_cpu}, "
        f"PostgreSQL; wrk -t1 -c{args.connections} -d{args.seconds}s on CPU {load_cpu}; "
        f"{args.rounds} interleaved rounds, median (min-max)"
    )
    summaries = [
        summarize(pair, results[(pair.name, "fsft")], results[(pair.name, "outpost")])
        for pair in PAIRS
    ]
    print("\n" + render(summaries, heading))
    return 0


def measure(
    apps: Sequence[Served], args: argparse.Namespace, load_cpu: int
) -> dict[tuple[str, str], list[Measurement]]:
    results: dict[tuple[str, str], list[Measurement]] = {
        (pair.name, app.name): [] for pair in PAIRS for app in apps
    }
    for round_number in range(1, args.rounds + 1):
        ratios = []
        for index, pair in enumerate(PAIRS):
            # Who goes first alternates, so neither app always meets a warmer machine.
            order = apps if (round_number + index) % 2 else tuple(reversed(apps))
            for app in order:
                url = app.base + app.paths[pair.name]
                for seconds in (WARM_UP_SECONDS, args.seconds):  # the first run warms up
                    measured = wrk(
                        url,
                        seconds=seconds,
                        connections=args.connections,
                        headers=app.headers,
                        cpu=load_cpu,
                    )
                results[(pair.name, app.name)].append(measured)
            fsft_run, our_run = (results[(pair.name, app.name)][-1] for app in apps)
            ratio = our_run.requests_per_second / fsft_run.requests_per_second
            ratios.append(f"{pair.name} {ratio:.2f}x")
        print(f"round {round_number}/{args.rounds}: {', '.join(ratios)}", file=sys.stderr)
    return results


# --- FSFT: its environment, a patched copy, its database, its server ---


def fsft_venv(checkout: Path) -> Path:
    """FSFT's dependencies in a virtual environment of their own, built once per lock."""
    requirements = tomllib.loads((checkout / "pyproject.toml").read_text())["project"][
        "dependencies"
    ]
    lock_file = next(
        (path for path in (checkout / "uv.lock", checkout.parent / "uv.lock") if path.is_file()),
        None,
    )
    constraints = locked_constraints(tomllib.loads(lock_file.read_text())) if lock_file else []
    recipe = "\n".join([sys.version, *requirements, "--", *constraints])
    venv = VENV_CACHE / hashlib.sha256(recipe.encode()).hexdigest()[:16]
    ready = venv / "installed"
    if ready.is_file():
        return venv
    # A half-built environment (an interrupted install) is rebuilt, never used: the marker
    # is written last. Scripts in a venv name its path, so it is built where it stays.
    shutil.rmtree(venv, ignore_errors=True)
    print(f"installing FSFT's dependencies into {venv} (once)", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)  # noqa: S603
    venv.joinpath("requirements.txt").write_text("\n".join(requirements) + "\n")
    venv.joinpath("constraints.txt").write_text("\n".join(constraints) + "\n")
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    installed = subprocess.run(  # noqa: S603 - our own arguments
        [*pip, "-r", str(venv / "requirements.txt"), "-c", str(venv / "constraints.txt")],
        capture_output=True,
        text=True,
    )
    if installed.returncode != 0:
        raise SetupFailed(f"pip could not install FSFT's dependencies:\n{installed.stderr[-2000:]}")
    ready.write_text(recipe)
    return venv


def runnable_copy(checkout: Path, copy: Path) -> Path:
    """A copy of the checkout that runs on this Python; the checkout itself stays as it is."""
    shutil.copytree(
        checkout,
        copy,
        ignore=shutil.ignore_patterns(".venv", "__pycache__", ".mypy_cache", "htmlcov"),
    )
    if sys.version_info < (3, 14):
        for patch in PY311_PATCHES:
            target = copy / patch.path
            text = patched(target.read_text(), patch) if target.is_file() else None
            if text is not None:
                target.write_text(text)
                print(f"patched the copy's {patch.path}: {patch.why}", file=sys.stderr)
    # FSFT serves its built frontend from app/frontend (its Dockerfile copies it in) and refuses
    # to start without the directory; the benchmark calls the API only, so an empty one will do.
    (copy / "app" / "frontend").mkdir(exist_ok=True)
    return copy


@contextmanager
def serving_fsft(
    venv: Path, copy: Path, database_url: str, scratch: Path, cpu: int
) -> Iterator[Served]:
    env = {
        **os.environ,
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "VIRTUAL_ENV": str(venv),
        "PYTHONPATH": str(copy),
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(32),
        "PROJECT_NAME": "FSFT benchmark",
        "FIRST_SUPERUSER": "admin@example.com",
        "FIRST_SUPERUSER_PASSWORD": secrets.token_urlsafe(16),
    }
    prestart_log = scratch / "fsft-prestart.log"
    with prestart_log.open("wb") as log:
        prestart = subprocess.run(
            ["bash", "scripts/prestart.sh"],  # noqa: S607
            cwd=copy,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    if prestart.returncode != 0:
        raise SetupFailed(f"FSFT's scripts/prestart.sh failed:\n{log_tail(prestart_log)}")
    port = free_port()
    command = ["fastapi", "run", "--host", "127.0.0.1", "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    with server("FSFT", command, env, copy, scratch / "fsft.log", cpu, base + PAIRS[0].fsft_path):
        email, password = "bench@example.com", secrets.token_urlsafe(16)
        with httpx.Client(base_url=base, timeout=30) as client:
            signed_up = client.post(
                "/api/v1/users/signup", json={"email": email, "password": password}
            )
            expect(signed_up, 200, "FSFT's signup")
            login = client.post(
                "/api/v1/login/access-token", data={"username": email, "password": password}
            )
            expect(login, 200, "FSFT's login")
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            item_ids = []
            for number in range(OWNED_ROWS):
                created = client.post(
                    "/api/v1/items/",
                    json={"title": f"item {number}", "description": "benchmark"},
                    headers=headers,
                )
                expect(created, 200, "FSFT's item creation")
                item_ids.append(created.json()["id"])
        yield Served("fsft", base, headers, app_paths("fsft", item_ids[0]))


# --- outpost: migrated and seeded, its server, a user with orders ---


@contextmanager
def serving_ours(
    database_url: str, scratch: Path, cpu: int, server_name: str | None
) -> Iterator[Served]:
    edge_secret = secrets.token_urlsafe(32)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "OUTPOST_REDIS_PREFIX": f"outpost-fsft-bench:{secrets.token_hex(4)}:",
        "OUTPOST_DATA_DIR": str(scratch / "outpost-data"),  # its development keyring
        "OUTPOST_EDGE_SECRETS": f"bench:{edge_secret}",
        # The limiter still runs on every request; wrk must not meet its 429s.
        "OUTPOST_RATE_LIMIT_PER_MINUTE": "1000000000",
    }
    for verb in (["db", "upgrade"], ["db", "seed"]):
        done = subprocess.run(  # noqa: S603 - our own CLI
            [sys.executable, "-m", "commands", *verb],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise SetupFailed(f"outpost {' '.join(verb)} failed:\n{done.stderr[-2000:]}")
    port = free_port()
    command = [sys.executable, "-m", "commands", "origin", "--port", str(port)]
    if server_name:
        command += ["--server", server_name]
    base = f"http://127.0.0.1:{port}"
    log = scratch / "outpost.log"
    with server("outpost", command, env, ROOT, log, cpu, base + PAIRS[0].our_path):
        email, password = "bench@example.com", secrets.token_urlsafe(16)
        with httpx.Client(base_url=base, timeout=30) as client:
            registered = client.post("/auth/register", json={"email": email, "password": password})
            expect(registered, 202, "outpost's registration")
            login = client.post(
                "/auth/token",
                data={"grant_type": "password", "username": email, "password": password},
            )
            expect(login, 200, "outpost's sign-in")
            token = login.json()["access_token"]
            order_ids = [
                place_order(client, token, edge_secret, number) for number in range(OWNED_ROWS)
            ]
        yield Served(
            "outpost",
            base,
            {"Authorization": f"Bearer {token}"},
            app_paths("outpost", order_ids[0]),
        )


def place_order(client: httpx.Client, token: str, edge_secret: str, number: int) -> int:
    """Place an order as the edge would forward it: the origin takes an order only from a
    country the edge vouched for in its signed assertion (here, under the run's own secret)."""
    claims = decode_unverified(token).claims
    assertion = sign_assertion(
        secret=edge_secret.encode(),
        key_id="bench",
        method="POST",
        path="/api/orders",
        subject=claims["sub"],
        roles=claims.get("roles", []),
        country="DE",
        issued_at=int(time.time()),
        nonce=secrets.token_urlsafe(16),
        session_id=claims.get("sid"),
    )
    placed = client.post(
        "/api/orders",
        json={"items": [{"product_id": 1, "quantity": 1}]},
        headers={ASSERTION_HEADER: assertion, "Idempotency-Key": f"fsft-bench-{number}"},
    )
    expect(placed, 201, "outpost's order placement")
    order_id: int = placed.json()["id"]
    return order_id


# --- shared plumbing ---


def app_paths(app: str, row_id: object) -> dict[str, str]:
    return {
        pair.name: (pair.fsft_path if app == "fsft" else pair.our_path).format(id=row_id)
        for pair in PAIRS
    }


def check_answers(app: Served) -> None:
    """Every path answers 200, and a list holds a full page: wrk counts answers, not content."""
    with httpx.Client(base_url=app.base, headers=app.headers, timeout=30) as client:
        for pair in PAIRS:
            answer = client.get(app.paths[pair.name])
            expect(answer, 200, f"{app.name}'s {pair.name}")
            body = answer.json()
            rows = body.get("data", body.get("items")) if isinstance(body, dict) else None
            if pair.name.startswith("authenticated list") and len(rows or []) != PAGE:
                raise SetupFailed(f"{app.name}'s list answered {len(rows or [])} rows, not {PAGE}")


def expect(response: httpx.Response, status: int, what: str) -> None:
    if response.status_code != status:
        raise SetupFailed(f"{what} answered {response.status_code}: {response.text[:500]}")


@contextmanager
def server(
    name: str,
    command: Sequence[str],
    env: Mapping[str, str],
    cwd: Path,
    log_path: Path,
    cpu: int,
    probe_url: str,
) -> Iterator[None]:
    """A server pinned to ``cpu``, answering ``probe_url``; stopped (SIGTERM, then SIGKILL) on
    the way out, whatever the way out is."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - fixed arguments
            ["taskset", "-c", str(cpu), *command],  # noqa: S607
            env=dict(env),
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own process group: Ctrl-C reaches the script, which stops it in order.
            start_new_session=True,
        )
        try:
            wait_until_answering(name, process, probe_url, log_path)
            yield
        finally:
            stop(process)


def wait_until_answering(
    name: str, process: subprocess.Popen[bytes], url: str, log_path: Path, timeout: float = 60.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SetupFailed(f"{name} exited with {process.returncode}:\n{log_tail(log_path)}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SetupFailed(f"{name} did not answer {url} within {timeout:.0f} s:\n{log_tail(log_path)}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


if __name__ == "__main__":
    sys.exit(main())
