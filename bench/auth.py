"""What the key layer costs: in-process verification and signed requests over HTTP.

Three figures, each beside its own baseline, measured in one run on one machine:

1. ``Verifier.verify`` for a cached HMAC key against bare ``hmac.digest`` + base64 over the
   same prehash, in ns per call (target: at most 3x).
2. Signed ``GET /api/v2/spot/account/assets`` against the unsigned ``GET /api/v2/public/time``
   on the same ``sealbook serve`` process, in requests per second from wrk on loopback
   (target: at least 0.8x).
3. The same signed GET against a bare Starlette endpoint that answers the same envelope
   (bench/_server.py), on the same uvicorn settings (target: at least 0.5x).

Run ``make bench`` or ``.venv/bin/python bench/auth.py [--quick] [--json]``. It prints a
report and exits 0 whatever the ratios; it exits non-zero only when something broke (a
server that does not start, a signed request that is refused). See bench/README.md.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import hmac
import http.client
import importlib.metadata
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sealbook.api.app import Runtime
from sealbook.clock import ManualClock
from sealbook.config import Settings
from sealbook.errors import SealbookError
from sealbook.exchange.accounts import AccountService
from sealbook.exchange.apikeys import KeyService, KeySpec
from sealbook.exchange.context import Context, open_context
from sealbook.keys import totp
from sealbook.keys.permissions import Permission
from sealbook.keys.schemes import KeyType

PRIVATE_PATH = "/api/v2/spot/account/assets"
PUBLIC_PATH = "/api/v2/public/time"
BARE_SYNC_PATH = "/bare/sync"  # bench/_server.py
HOST = "127.0.0.1"
USER = "bench"
PASSWORD = "bench-password-1"  # a throwaway user in a temporary home
PASSPHRASE = "BenchPass1"
FIXED_NOW_MS = 1_800_000_000_000  # the in-process clock; the HTTP servers use real time
RATE_LIMIT_FACTOR = "100000"  # the limiter runs on every request but never refuses
MAX_WRK_SECONDS = 8  # a signed GET is accepted for 30 s; each run re-signs first
SERVER_SCRIPT = Path(__file__).with_name("_server.py")


class BenchError(Exception):
    """Something broke: the report would be worthless."""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the account every part uses ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Credentials:
    api_key: str
    secret: bytes
    passphrase: str


def settings_for(home: Path) -> Settings:
    # Explicit None: a SEALBOOK_DATABASE_URL or SEALBOOK_MASTER_KEY in the caller's
    # environment must not point the benchmark at a real database.
    return Settings(home=home, database_url=None, master_key=None)


def make_account(ctx: Context) -> Credentials:
    """A user with confirmed TOTP and one read-only HMAC key, through the real services."""
    accounts = AccountService(ctx)
    keys = KeyService(ctx, accounts)
    accounts.create_user(USER, PASSWORD)
    seed = accounts.totp_enroll(USER).secret
    step = totp.step_of(ctx.clock.now_ms())
    accounts.totp_confirm(USER, totp.code_at(seed, step))
    # A code is good once; the next step's code is still inside the accepted window.
    created = keys.create(
        USER,
        KeySpec(label="bench", key_type=KeyType.HMAC, permissions=frozenset({Permission.READ})),
        PASSPHRASE,
        totp.code_at(seed, step + 1),
    )
    if created.secret is None:
        raise BenchError("an HMAC key came back without a secret")
    return Credentials(created.record.api_key, created.secret.encode(), PASSPHRASE)


def prehash(ts: int, method: str, path: str) -> bytes:
    """BITGET_WIRE.md §1.2 for a request with no query and no body."""
    return f"{ts}{method}{path}".encode()


def signed_headers(creds: Credentials, ts: int, path: str) -> dict[str, str]:
    sign = base64.b64encode(hmac.digest(creds.secret, prehash(ts, "GET", path), "sha256"))
    return {
        "ACCESS-KEY": creds.api_key,
        "ACCESS-SIGN": sign.decode(),
        "ACCESS-TIMESTAMP": str(ts),
        "ACCESS-PASSPHRASE": creds.passphrase,
        "Content-Type": "application/json",
        "locale": "en-US",
    }


# --- 1. in process --------------------------------------------------------------------


@dataclass(slots=True)
class Samples:
    """ns per call, one figure per batch."""

    per_batch: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        data = sorted(self.per_batch)
        deciles = statistics.quantiles(data, n=10) if len(data) > 1 else [data[0]] * 9
        return {
            "median_ns": statistics.median(data),
            "p10_ns": deciles[0],
            "p90_ns": deciles[-1],
            "min_ns": data[0],
            "batches": len(data),
        }


def measure_in_process(batches: int, batch_size: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="sealbook-bench-") as tmp:
        clock = ManualClock(FIXED_NOW_MS)
        ctx = open_context(settings_for(Path(tmp)), create_master_key=True, clock=clock)
        try:
            return _time_verify(ctx, clock, batches, batch_size)
        finally:
            ctx.engine.dispose()


def _time_verify(ctx: Context, clock: ManualClock, batches: int, batch_size: int) -> dict[str, Any]:
    creds = make_account(ctx)
    runtime = Runtime.build(ctx)  # the server's own wiring: DbKeyDirectory, AuthLog, Verifier
    verify = runtime.verifier.verify
    ts = clock.now_ms() - 1_000
    headers = signed_headers(creds, ts, PRIVATE_PATH)
    key = headers["ACCESS-KEY"].encode()
    sign = headers["ACCESS-SIGN"].encode()
    stamp = headers["ACCESS-TIMESTAMP"].encode()
    passphrase = headers["ACCESS-PASSPHRASE"].encode()
    path = PRIVATE_PATH.encode()
    need = Permission.READ
    message = prehash(ts, "GET", PRIVATE_PATH)
    secret = creds.secret
    b64encode = base64.b64encode
    digest = hmac.digest

    def run_verify(n: int) -> int:
        start = time.perf_counter_ns()
        for _ in range(n):
            verify(
                key=key,
                sign=sign,
                timestamp=stamp,
                passphrase=passphrase,
                method=b"GET",
                path=path,
                query=b"",
                body=b"",
                ip=HOST,
                need=need,
            )
        return time.perf_counter_ns() - start

    def run_bare(n: int) -> int:
        start = time.perf_counter_ns()
        for _ in range(n):
            b64encode(digest(secret, message, "sha256"))
        return time.perf_counter_ns() - start

    # The first call loads the directory and caches the passphrase; check it succeeds.
    principal = verify(
        key=key,
        sign=sign,
        timestamp=stamp,
        passphrase=passphrase,
        method=b"GET",
        path=path,
        query=b"",
        body=b"",
        ip=HOST,
        need=need,
    )
    if principal.api_key != creds.api_key:
        raise BenchError("the verifier answered for another key")
    if b64encode(digest(secret, message, "sha256")) != sign:
        raise BenchError("the baseline does not compute the request's signature")
    run_verify(batch_size * 5)
    run_bare(batch_size * 5)

    verify_ns = Samples()
    bare_ns = Samples()
    paired: list[float] = []
    for batch in range(batches):
        # Alternate which side goes first, so drift and noise hit both equally.
        if batch % 2 == 0:
            v = run_verify(batch_size)
            b = run_bare(batch_size)
        else:
            b = run_bare(batch_size)
            v = run_verify(batch_size)
        verify_ns.per_batch.append(v / batch_size)
        bare_ns.per_batch.append(b / batch_size)
        paired.append(v / b)
    if runtime.authlog.pending() != 1:  # one last-use record, no rejection
        raise BenchError(f"the auth log holds {runtime.authlog.pending()} records, expected 1")
    verify_summary = verify_ns.summary()
    bare_summary = bare_ns.summary()
    return {
        "calls": batches * batch_size,
        "batches": batches,
        "batch_size": batch_size,
        "verify": verify_summary,
        "bare_hmac_b64": bare_summary,
        "ratio": verify_summary["median_ns"] / bare_summary["median_ns"],
        "paired_ratio_median": statistics.median(paired),
    }


# --- 2. over HTTP ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def get(port: int, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


@dataclass(slots=True)
class Server:
    name: str
    argv: list[str]
    env: dict[str, str]
    port: int
    probe: str
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("wb") as out:
            self.proc = subprocess.Popen(
                self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"{self.name} exited with {self.proc.returncode}:\n{self.tail()}")
            with contextlib.suppress(OSError):
                if get(self.port, self.probe, {})[0] == 200:
                    return
            time.sleep(0.1)
        raise BenchError(f"{self.name} did not answer on port {self.port} within 30 s")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown, lifespan included
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def servers(workdir: Path) -> Iterator[tuple[Server, Server, Credentials]]:
    home = workdir / "home"
    ctx = open_context(settings_for(home), create_master_key=True)
    try:
        creds = make_account(ctx)
    finally:
        ctx.engine.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEALBOOK_")}
    env["SEALBOOK_RATE_LIMIT_FACTOR"] = RATE_LIMIT_FACTOR
    sealbook_port = free_port()
    sealbook = Server(
        "sealbook serve",
        [
            *(sys.executable, "-m", "sealbook.cli.main", "serve"),
            *("--home", str(home), "--host", HOST, "--port", str(sealbook_port)),
        ],
        env,
        sealbook_port,
        PUBLIC_PATH,
        workdir / "sealbook.log",
    )
    bare_port = free_port()
    bare = Server(
        "bare Starlette",
        [sys.executable, str(SERVER_SCRIPT), "--host", HOST, "--port", str(bare_port)],
        env,
        bare_port,
        PRIVATE_PATH,
        workdir / "bare.log",
    )
    try:
        sealbook.start()
        bare.start()
        yield sealbook, bare, creds
    finally:
        bare.stop()
        sealbook.stop()


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    label: str
    server: Server
    path: str
    signed: bool  # send the four ACCESS-* headers (the bare server ignores them)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads included."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_TOTAL = re.compile(r"(\d+) requests in ([\d.]+)(us|ms|s|m)")
_NON2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_PCT = re.compile(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_TO_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def run_wrk(
    target: Target, creds: Credentials, duration_s: int, connections: int
) -> dict[str, Any]:
    headers: dict[str, str] = {}
    if target.signed:
        headers = signed_headers(creds, time.time_ns() // 1_000_000, PRIVATE_PATH)
        status, got, body = get(target.server.port, target.path, headers)
        envelope = json.loads(body)
        if status != 200 or envelope.get("code") != "00000" or envelope.get("data") != []:
            raise BenchError(f"{target.label}: HTTP {status} {body[:200]!r}")
        if target.server.name == "sealbook serve" and "x-mbx-used-remain-limit" not in got:
            raise BenchError(f"{target.label}: the answer did not pass the gate")
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{duration_s}s", "--latency", "--timeout", "2s"]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    argv.append(f"http://{HOST}:{target.server.port}{target.path}")
    assert target.server.proc is not None
    pid = target.server.proc.pid
    cpu_before = cpu_seconds(pid)
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=duration_s + 30, check=False
    )
    cpu = cpu_seconds(pid) - cpu_before
    out = done.stdout
    rps = _RPS.search(out)
    total = _TOTAL.search(out)
    if done.returncode != 0 or rps is None or total is None:
        raise BenchError(f"wrk failed on {target.label} ({done.returncode}):\n{out}{done.stderr}")
    non2xx = _NON2XX.search(out)
    failed = int(non2xx.group(1)) if non2xx else 0
    if failed:
        raise BenchError(
            f"{target.label}: {failed} of {total.group(1)} responses were not 2xx; "
            f"a benchmark of refusals is worthless. Server log:\n{target.server.tail()}"
        )
    sock = _SOCKET.search(out)  # wrk prints the line only when some occurred
    counts = map(int, sock.groups()) if sock else (0, 0, 0, 0)
    errors = dict(zip(("connect", "read", "write", "timeout"), counts, strict=True))
    if errors["connect"]:
        raise BenchError(f"{target.label}: wrk could not connect:\n{out}")
    latency = {f"p{p}_ms": float(v) * _TO_MS[u] for p, v, u in _PCT.findall(out)}
    return {
        "target": target.name,
        "rps": float(rps.group(1)),
        "requests": int(total.group(1)),
        "server_cpu_us_per_req": cpu / int(total.group(1)) * 1e6,
        "socket_errors": errors,
        **latency,
    }


def measure_http(
    rounds: int, duration_s: int, warmup_s: int, connections: int, seed: int
) -> dict[str, Any]:
    rng = random.Random(seed)
    with (
        tempfile.TemporaryDirectory(prefix="sealbook-bench-") as tmp,
        servers(Path(tmp)) as (
            sealbook,
            bare,
            creds,
        ),
    ):
        targets = [
            Target("signed", "signed GET " + PRIVATE_PATH, sealbook, PRIVATE_PATH, True),
            Target("public", "unsigned GET " + PUBLIC_PATH, sealbook, PUBLIC_PATH, False),
            Target("bare", "bare Starlette async def", bare, PRIVATE_PATH, True),
            Target("bare_sync", "bare Starlette sync def", bare, BARE_SYNC_PATH, True),
        ]
        for target in targets:
            log(f"  warm-up {warmup_s} s: {target.label}")
            run_wrk(target, creds, warmup_s, connections)
        runs: list[dict[str, Any]] = []
        orders: list[list[str]] = []
        for round_no in range(1, rounds + 1):
            order = targets[:]
            rng.shuffle(order)
            orders.append([t.name for t in order])
            for target in order:
                log(f"  round {round_no}/{rounds}, {duration_s} s: {target.label}")
                result = run_wrk(target, creds, duration_s, connections)
                result["round"] = round_no
                runs.append(result)
    median_rps = {
        t.name: statistics.median(r["rps"] for r in runs if r["target"] == t.name) for t in targets
    }
    median_cpu = {
        t.name: statistics.median(r["server_cpu_us_per_req"] for r in runs if r["target"] == t.name)
        for t in targets
    }
    return {
        "rounds": rounds,
        "duration_s": duration_s,
        "warmup_s": warmup_s,
        "connections": connections,
        "orders": orders,
        "labels": {t.name: t.label for t in targets},
        "median_rps": median_rps,
        "median_server_cpu_us_per_req": median_cpu,
        "runs": runs,
    }


# --- the report -----------------------------------------------------------------------


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _wrk_version() -> str:
    done = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    first = (done.stdout or done.stderr).splitlines()
    return first[0].split(" Copyright")[0] if first else "unknown"


def environment(seed: int) -> dict[str, Any]:
    loop = "uvloop" if _version("uvloop") != "absent" else "asyncio"
    parser = "httptools" if _version("httptools") != "absent" else "h11"
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ"),
        "cpu": _cpu_model(),
        "processor": platform.processor(),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)),
        "load_avg_start": [round(x, 2) for x in os.getloadavg()],
        "os": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "versions": {
            d: _version(d)
            for d in ("sealbook", "uvicorn", "starlette", "fastapi", "uvloop", "httptools")
        },
        "uvicorn_loop_http": f"auto -> {loop}, {parser}",
        "wrk": _wrk_version(),
        "seed": seed,
    }


def verdict(ratio: float, target: float, at_least: bool) -> str:
    ok = ratio >= target if at_least else ratio <= target
    return "PASS" if ok else "MISS"


def build_rows(inproc: dict[str, Any], web: dict[str, Any]) -> list[dict[str, Any]]:
    rps = web["median_rps"]
    return [
        {
            "metric": "verify(), cached HMAC key",
            "value": inproc["verify"]["median_ns"],
            "baseline_name": "hmac.digest + b64encode",
            "baseline": inproc["bare_hmac_b64"]["median_ns"],
            "unit": "ns/call",
            "ratio": inproc["ratio"],
            "target": "<= 3x",
            "verdict": verdict(inproc["ratio"], 3.0, at_least=False),
        },
        {
            "metric": "signed GET vs public time",
            "value": rps["signed"],
            "baseline_name": "unsigned /public/time",
            "baseline": rps["public"],
            "unit": "req/s",
            "ratio": rps["signed"] / rps["public"],
            "target": ">= 0.8x",
            "verdict": verdict(rps["signed"] / rps["public"], 0.8, at_least=True),
        },
        {
            "metric": "signed GET vs bare Starlette",
            "value": rps["signed"],
            "baseline_name": "bare async def",
            "baseline": rps["bare"],
            "unit": "req/s",
            "ratio": rps["signed"] / rps["bare"],
            "target": ">= 0.5x",
            "verdict": verdict(rps["signed"] / rps["bare"], 0.5, at_least=True),
        },
        {
            "metric": "(info) signed GET vs bare sync",
            "value": rps["signed"],
            "baseline_name": "bare sync def",
            "baseline": rps["bare_sync"],
            "unit": "req/s",
            "ratio": rps["signed"] / rps["bare_sync"],
            "target": "-",
            "verdict": "info",
        },
    ]


def render(report: dict[str, Any]) -> str:
    env = report["environment"]
    cfg = report["config"]
    inproc = report["in_process"]
    web = report["http"]
    out = [
        f"sealbook auth benchmark  {env['date']}",
        f"host     {env['cpu']} (processor: {env['processor'] or '-'}), "
        f"{env['cores']} cores ({env['cores_usable']} usable), {env['os']}",
        f"load     {' '.join(map(str, env['load_avg_start']))} at start, "
        f"{' '.join(map(str, env['load_avg_end']))} at end (1/5/15 min)",
        f"python   {env['python']}; "
        + ", ".join(f"{k} {v}" for k, v in env["versions"].items())
        + f"; uvicorn loop/http {env['uvicorn_loop_http']}; {env['wrk']}",
        f"seed     {env['seed']} (shuffles the order of the HTTP targets in each round)",
        "mix      100% GET " + PRIVATE_PATH + ": HMAC-SHA256 key, read permission, "
        "no query, empty body, key cached, passphrase cached",
        f"in-proc  {inproc['batches']} batches x {inproc['batch_size']} calls per side, "
        "alternating batches; figure = median of batch means (ns per call)",
        f"http     wrk -t1 -c{cfg['connections']} -d{cfg['duration_s']}s --latency, "
        f"{cfg['rounds']} round(s), {cfg['warmup_s']} s warm-up per target; "
        "figure = median req/s; servers single-process on loopback, "
        f"SEALBOOK_RATE_LIMIT_FACTOR={RATE_LIMIT_FACTOR}",
    ]
    busy = max(env["load_avg_start"][0], env["load_avg_end"][0])
    if busy > 0.5 * (env["cores"] or 1):
        out.append(
            f"note     1-min load average reached {busy} on {env['cores']} cores: other "
            "processes competed for the CPU; read the ratios, not the absolute figures"
        )
    out.append("")
    header = ("metric", "value", "baseline", "ratio", "target", "verdict")
    lines = [header]
    for row in report["rows"]:
        unit = row["unit"]
        fmt = "{:,.0f} " + unit
        lines.append(
            (
                row["metric"],
                fmt.format(row["value"]),
                fmt.format(row["baseline"]) + f" ({row['baseline_name']})",
                f"{row['ratio']:.2f}x",
                row["target"],
                row["verdict"],
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        out.append("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
    v = inproc["verify"]
    b = inproc["bare_hmac_b64"]
    out += [
        "",
        "in-process batch means, p10..p90 (best): "
        f"verify {v['p10_ns']:,.0f}..{v['p90_ns']:,.0f} ({v['min_ns']:,.0f}) ns, "
        f"bare {b['p10_ns']:,.0f}..{b['p90_ns']:,.0f} ({b['min_ns']:,.0f}) ns; "
        f"median of paired batch ratios {inproc['paired_ratio_median']:.2f}x",
        "http runs (req/s, latency p50/p99 ms, server CPU us per request):",
    ]
    for round_no, order in enumerate(web["orders"], start=1):
        parts = []
        for name in order:
            run = next(r for r in web["runs"] if r["round"] == round_no and r["target"] == name)
            errs = sum(run["socket_errors"].values())
            parts.append(
                f"{name} {run['rps']:,.0f} ({run.get('p50_ms', 0):.2f}/{run.get('p99_ms', 0):.2f}"
                f", {run['server_cpu_us_per_req']:.0f} us)"
                + (f" [socket errors {errs}]" if errs else "")
            )
        out.append(f"  round {round_no}: " + ", ".join(parts))
    out.append("  targets: " + "; ".join(f"{k} = {v}" for k, v in web["labels"].items()))
    cpu = web["median_server_cpu_us_per_req"]
    out.append(
        "server CPU per request, median (a cross-check that CPU contention from other "
        "processes disturbs less): "
        + ", ".join(f"{k} {v:.0f} us" for k, v in cpu.items())
        + f"; public/signed {cpu['public'] / cpu['signed']:.2f}x, "
        f"bare/signed {cpu['bare'] / cpu['signed']:.2f}x"
    )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--quick", action="store_true", help="a shorter, noisier run")
    parser.add_argument("--seed", type=int, default=1, help="orders the HTTP runs")
    parser.add_argument("--rounds", type=int, help="HTTP rounds (default 3, quick 1)")
    parser.add_argument(
        "--duration", type=int, help=f"seconds per wrk run, 1..{MAX_WRK_SECONDS} (default 6)"
    )
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    args = parser.parse_args(argv)
    rounds = args.rounds or (1 if args.quick else 3)
    duration = args.duration or (3 if args.quick else 6)
    if not 1 <= duration <= MAX_WRK_SECONDS:
        parser.error(f"--duration must be 1..{MAX_WRK_SECONDS}: signed GETs expire after 30 s")
    if rounds < 1 or args.connections < 1:
        parser.error("--rounds and --connections must be positive")
    # Small batches: a preemption by another process (milliseconds) spoils one batch of
    # ~0.4 ms rather than many calls' worth, and the median steps over it.
    batches, batch_size = (100, 40) if args.quick else (400, 50)
    warmup = 1 if args.quick else 2
    if shutil.which("wrk") is None:
        log("error: wrk is not installed (apt-get install wrk, or run `make bench`)")
        return 2

    env = environment(args.seed)
    try:
        log(f"in-process: {batches} x {batch_size} verify() calls and as many bare HMACs")
        inproc = measure_in_process(batches, batch_size)
        log("http: starting sealbook serve and the bare Starlette server")
        web = measure_http(rounds, duration, warmup, args.connections, args.seed)
    except (BenchError, SealbookError, subprocess.TimeoutExpired) as error:
        log(f"error: {error}")
        return 1
    env["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    report: dict[str, Any] = {
        "environment": env,
        "config": {
            "quick": args.quick,
            "rounds": rounds,
            "duration_s": duration,
            "warmup_s": warmup,
            "connections": args.connections,
            "batches": batches,
            "batch_size": batch_size,
        },
        "in_process": inproc,
        "http": web,
        "rows": build_rows(inproc, web),
    }
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
