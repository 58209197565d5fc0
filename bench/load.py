"""Signed `/oncall now` load against a running server: closed loop or open loop.

    # closed loop: C workers, each sending its next request as soon as the last is answered
    .venv/bin/python bench/load.py http://127.0.0.1:3000 --secret S --pid PID -c 16 -n 3000
    # open loop: a fixed arrival rate, whatever the answers do
    .venv/bin/python bench/load.py http://127.0.0.1:3000 --secret S --pid PID --rate 300 \
        --duration 10

Each request is what Slack sends for `/oncall now`: the slash-command form body
(bot/devtools/signing.py `command_body`, a distinct trigger_id each) with a fresh v0 signature
(`signed_headers`, the SDK's own signer) in X-Slack-Signature / X-Slack-Request-Timestamp,
POSTed to /slack/events over keep-alive connections (a minimal HTTP/1.1 client of its own,
lighter than aiohttp's, so the generator stays below a core). An answer is an error unless it is
a 200 whose body contains `--expect` (default "Primary", which the bot's answer and
bench/bare_bolt.py's constant both contain).

Reports throughput (answered requests per second of wall time), latency p50/p99/max, and, with
`--pid`, the server's CPU time per request: utime + stime of that process (all its threads)
from /proc/<pid>/stat, read before and after the measured requests. It also reports the load
generator's own CPU: near one full core, the generator rather than the server may be the
limit. In the open loop, latency runs from when a request was due to be sent, not from when it
was sent, so a server that falls behind is charged for the queue it causes.

`--warmup` requests (default 200) go first and are not measured: Bolt's auth.test on the
first request, connection set-up, first-call caches. `--json` prints the figures as one JSON
object instead, for bench/compare_oncall.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bot.devtools.signing import command_body, signed_headers

USER = "U0PRRAO002"  # PR, on the roster (schedules/team.toml)
TIMEOUT = 30.0  # seconds for one answer
# A response URL is part of the form; `/oncall now` answers in the HTTP body and never uses it.
RESPONSE_URL = "http://127.0.0.1:9/response/bench"


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of `pid` (every thread) in seconds, from /proc/<pid>/stat."""
    text = Path(f"/proc/{pid}/stat").read_text()
    # The command name (field 2) may hold spaces; the fields after its ")" start at field 3.
    rest = text[text.rindex(")") + 2 :].split()
    utime, stime = int(rest[14 - 3]), int(rest[15 - 3])
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def pct(sorted_ms: list[float], q: float) -> float:
    if not sorted_ms:
        return float("nan")
    return sorted_ms[min(len(sorted_ms) - 1, int(q * len(sorted_ms)))]


@dataclass
class Result:
    mode: str
    requests: int
    errors: int
    seconds: float  # wall time of the measured requests
    server_cpu_s: float | None
    client_cpu_s: float
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    first_error: str = ""

    @property
    def throughput(self) -> float:
        return (self.requests - self.errors) / self.seconds if self.seconds else float("nan")

    @property
    def client_core_busy(self) -> float:
        """The load generator's CPU time over the wall time: its share of one core."""
        return self.client_cpu_s / self.seconds if self.seconds else float("nan")

    @property
    def server_cpu_ms_per_request(self) -> float | None:
        if self.server_cpu_s is None or not self.requests:
            return None
        return self.server_cpu_s * 1000 / self.requests

    def summary(self) -> dict[str, object]:
        ms = sorted(self.latencies_ms)
        out = {k: v for k, v in asdict(self).items() if k != "latencies_ms"}
        out.update(
            throughput=self.throughput,
            p50_ms=pct(ms, 0.50),
            p99_ms=pct(ms, 0.99),
            max_ms=ms[-1] if ms else float("nan"),
            server_cpu_ms_per_request=self.server_cpu_ms_per_request,
            client_core_busy=self.client_core_busy,
        )
        return out

    def line(self) -> str:
        s = self.summary()
        cpu = self.server_cpu_ms_per_request
        server = "n/a (no --pid)" if cpu is None else f"{cpu:.3f} ms/req"
        text = (
            f"{self.mode}: {s['throughput']:.0f} req/s; latency p50 {s['p50_ms']:.2f} ms, "
            f"p99 {s['p99_ms']:.2f} ms, max {s['max_ms']:.2f} ms; server CPU {server}; "
            f"load generator {100 * self.client_core_busy:.0f}% of a core; "
            f"errors {self.errors}/{self.requests}"
        )
        if self.first_error:
            text += f" (first: {self.first_error})"
        return text


class Connection:
    """One keep-alive HTTP/1.1 connection, spoken by hand: aiohttp's client costs several
    times the CPU per request, and the generator must stay well below one core for the
    server to be what limits the throughput (see `client_core_busy`)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        return cls(*await asyncio.open_connection(host, port))

    async def post(self, head: bytes, body: bytes) -> tuple[int, bytes]:
        self.writer.write(head + body)
        status_line = await self.reader.readline()
        length, close = 0, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                raise ValueError("chunked answers are not supported")
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        body_in = await self.reader.readexactly(length)
        if close:
            self.close()
        parts = status_line.split()
        return (int(parts[1]) if len(parts) > 1 else 0), body_in

    def close(self) -> None:
        self.writer.close()


class Client:
    """Sends signed `/oncall now` requests over a pool of keep-alive connections."""

    def __init__(self, url: str, secret: str, expect: str) -> None:
        parsed = urlsplit(url)
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or 80
        self.path = parsed.path.rstrip("/") + "/slack/events"
        self.secret, self.expect = secret, expect.encode()
        self.idle: list[Connection] = []
        self.sent = 0
        self.errors = 0
        self.first_error = ""

    def request(self) -> tuple[bytes, bytes]:
        """Head and body of the next request: a fresh signature and trigger_id each."""
        self.sent += 1
        body = command_body(
            "/oncall", "now", USER, response_url=RESPONSE_URL, trigger_id=f"bench.{self.sent}"
        )
        raw = body.encode()
        lines = [
            f"POST {self.path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            f"Content-Length: {len(raw)}",
            *(f"{k}: {v}" for k, v in signed_headers(self.secret, body).items()),
        ]
        return ("\r\n".join(lines) + "\r\n\r\n").encode(), raw

    async def send(self) -> None:
        head, body = self.request()
        conn = self.idle.pop() if self.idle else None
        try:
            if conn is None:
                conn = await Connection.open(self.host, self.port)
            async with asyncio.timeout(TIMEOUT):  # no extra task per request, as wait_for makes
                status, answer = await conn.post(head, body)
            ok = status == 200 and self.expect in answer
            problem = f"HTTP {status}: {answer[:120]!r}"
            if not conn.writer.is_closing():
                self.idle.append(conn)
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
            ok, problem = False, repr(exc)
            if conn is not None:
                conn.close()
        if not ok:
            self.errors += 1
            self.first_error = self.first_error or problem

    def close(self) -> None:
        for conn in self.idle:
            conn.close()
        self.idle.clear()


async def _warm(client: Client, concurrency: int, requests: int) -> None:
    # Concurrent, so that every keep-alive connection the measured run uses is already open.
    per = [requests // concurrency + (i < requests % concurrency) for i in range(concurrency)]

    async def worker(n: int) -> None:
        for _ in range(n):
            await client.send()

    await asyncio.gather(*(worker(n) for n in per))
    client.errors, client.first_error = 0, ""


async def closed_loop(
    url: str,
    secret: str,
    concurrency: int,
    requests: int,
    pid: int | None = None,
    warmup: int = 200,
    expect: str = "Primary",
) -> Result:
    """`concurrency` workers share `requests` requests; each sends its next on an answer."""
    client = Client(url, secret, expect)
    await _warm(client, concurrency, warmup)
    latencies: list[float] = []
    left = requests

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            t0 = time.perf_counter()
            await client.send()
            latencies.append((time.perf_counter() - t0) * 1000)

    cpu0 = process_cpu_seconds(pid) if pid else 0.0
    own0, t0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - t0
    own = time.process_time() - own0
    cpu = process_cpu_seconds(pid) - cpu0 if pid else None
    client.close()
    return Result(
        f"closed loop {concurrency} x {requests}",
        requests,
        client.errors,
        seconds,
        cpu,
        own,
        latencies,
        client.first_error,
    )


async def open_loop(
    url: str,
    secret: str,
    rate: float,
    duration: float,
    pid: int | None = None,
    warmup: int = 200,
    expect: str = "Primary",
    max_connections: int = 256,
) -> Result:
    """Requests due every 1/rate s for `duration` s, each sent at its time (never held back by
    earlier answers, up to `max_connections` in flight); latency from the time it was due."""
    client = Client(url, secret, expect)
    await _warm(client, 16, warmup)
    n = int(rate * duration)
    latencies: list[float] = []
    slots = asyncio.Semaphore(max_connections)

    async def one(due: float) -> None:
        async with slots:
            await client.send()
        latencies.append((time.perf_counter() - due) * 1000)

    cpu0 = process_cpu_seconds(pid) if pid else 0.0
    own0 = time.process_time()
    start = time.perf_counter() + 0.05
    tasks = []
    for i in range(n):
        due = start + i / rate
        # Sleep only when ahead: several requests may fall due within one loop iteration.
        ahead = due - time.perf_counter()
        if ahead > 0:
            await asyncio.sleep(ahead)
        tasks.append(asyncio.create_task(one(due)))
    await asyncio.gather(*tasks)
    seconds = time.perf_counter() - start
    own = time.process_time() - own0
    cpu = process_cpu_seconds(pid) - cpu0 if pid else None
    client.close()
    return Result(
        f"open loop {rate:g}/s x {duration:g} s",
        n,
        client.errors,
        seconds,
        cpu,
        own,
        latencies,
        client.first_error,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the server's base URL, e.g. http://127.0.0.1:3000")
    parser.add_argument("--secret", required=True, help="the server's SLACK_SIGNING_SECRET")
    parser.add_argument("--pid", type=int, help="the server's process id, for CPU per request")
    parser.add_argument("-c", "--concurrency", type=int, default=16)
    parser.add_argument("-n", "--requests", type=int, default=3000)
    parser.add_argument("--rate", type=float, help="open loop: requests per second")
    parser.add_argument("--duration", type=float, default=10.0, help="open loop: seconds")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--expect", default="Primary", help="text every answer must contain")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if args.rate:
        run = open_loop(
            args.url, args.secret, args.rate, args.duration, args.pid, args.warmup, args.expect
        )
    else:
        run = closed_loop(
            args.url,
            args.secret,
            args.concurrency,
            args.requests,
            args.pid,
            args.warmup,
            args.expect,
        )
    result = asyncio.run(run)
    print(json.dumps(result.summary()) if args.json else result.line())
    return 1 if result.errors else 0


if __name__ == "__main__":
    sys.exit(main())
