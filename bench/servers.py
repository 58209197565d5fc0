"""Server processes for the comparisons: `oncall-bot serve` and bench/bare_bolt.py.

Shared by bench/compare_oncall.py and bench/startup.py (not a benchmark itself). Both servers
get the same environment (token, signing secret, the fake Slack's URL, a free port; the bot
also REDIS_URL), with every other bot setting the developer's shell may hold removed, so the
bot runs on its defaults (access log off, schedules/ and runbooks/ of this repository). Each
may be pinned to one core (`taskset -c`, which execs the server, so the process id is the
server's own). Output goes to a log file, printed in part when a server fails to come up.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Literal

import aiohttp

from bot.settings import ENV

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-signing-secret"
Kind = Literal["bot", "bare"]
# Where the logs go: one directory per driver run.
LOG_DIR = Path(tempfile.mkdtemp(prefix="oncall-bench-"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def command(kind: Kind) -> list[str]:
    if kind == "bot":
        # The installed console script, as production runs it (Procfile: `oncall-bot serve`).
        return [str(Path(sys.executable).parent / "oncall-bot"), "serve"]
    return [sys.executable, str(ROOT / "bench" / "bare_bolt.py")]


def environment(kind: Kind, port: int, slack_api_url: str, redis_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ENV.values()}
    # As installed: pip compiles a package's bytecode, so only the first start of a deploy
    # compiles. Where the environment forbids writing it (PYTHONDONTWRITEBYTECODE, set on
    # some CI machines) every start of the bot, installed editable from this checkout,
    # would compile its 150 modules again, while slack-bolt's and aiohttp's come compiled
    # from their wheels: that measures the compiler, not start-up. The untimed first start
    # of each server writes the bytecode.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        SLACK_BOT_TOKEN="xoxb-bench",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=slack_api_url,
        PORT=str(port),
    )
    if kind == "bot":
        env["REDIS_URL"] = redis_url
    return env


class Server:
    """One server process on a free port."""

    def __init__(self, kind: Kind, slack_api_url: str, redis_url: str, name: str = "") -> None:
        self.kind = kind
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = environment(kind, self.port, slack_api_url, redis_url)
        self.log_path = LOG_DIR / f"{name or kind}-{self.port}.log"
        self.proc: asyncio.subprocess.Process | None = None
        self.spawned_at = 0.0

    @property
    def pid(self) -> int:
        assert self.proc is not None, "start() first"
        return self.proc.pid

    async def start(self, core: int | None = None) -> Server:
        argv = command(self.kind)
        if core is not None:
            argv = ["taskset", "-c", str(core), *argv]
        with self.log_path.open("ab") as log:  # the child keeps its own copy of the descriptor
            self.spawned_at = time.perf_counter()
            self.proc = await asyncio.create_subprocess_exec(
                *argv, env=self.env, cwd=ROOT, stdout=log, stderr=log
            )
        return self

    async def ready(self, within: float = 30.0, poll: float = 0.005) -> float:
        """Seconds from the spawn to the first 200 from /healthz."""
        assert self.proc is not None, "start() first"
        timeout = aiohttp.ClientTimeout(total=1.0)
        deadline = self.spawned_at + within
        # A new connection per poll: a refused connection is what "not yet" looks like.
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while time.perf_counter() < deadline:
                if self.proc.returncode is not None:
                    raise RuntimeError(f"{self.kind} exited; log:\n{self.log_tail()}")
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with session.get(self.url + "/healthz") as resp:
                        if resp.status == 200:
                            return time.perf_counter() - self.spawned_at
                await asyncio.sleep(poll)
        raise RuntimeError(f"{self.kind} not healthy within {within:.0f} s:\n{self.log_tail()}")

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), 10)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])
