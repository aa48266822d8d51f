"""Start the services as real processes on loopback, for end-to-end tests and benchmarks."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RunningService:
    name: str
    url: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def json_log_lines(self) -> list[dict]:
        return [json.loads(line) for line in self.log().splitlines() if line.startswith("{")]

    def wait_for_log(self, predicate, timeout: float = 10.0) -> bool:
        """A service logs a request after answering it, so its line can trail the response a little."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(predicate(line) for line in self.json_log_lines()):
                return True
            time.sleep(0.05)
        return False


def wait_until_healthy(
    url: str, process: subprocess.Popen, log_path: Path | None = None, timeout: float = 30.0
) -> None:
    """Poll /healthz until it answers; fail early, with the log's tail, if the process exits."""

    def tail() -> str:
        return log_path.read_text(errors="replace")[-4000:] if log_path and log_path.exists() else ""

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}:\n{tail()}")
        try:
            if httpx.get(url + "/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not become healthy in {timeout}s:\n{tail()}")


@contextlib.contextmanager
def service(
    module: str, env_prefix: str, log_dir: Path, extra_env: dict[str, str] | None = None, port: int | None = None
) -> Iterator[RunningService]:
    """Run `python -m module` on a free loopback port until the block ends."""
    port = port or free_port()
    env = {**os.environ, f"{env_prefix}HOST": "127.0.0.1", f"{env_prefix}PORT": str(port), **(extra_env or {})}
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{module}-{port}.log"
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", module], env=env, stdout=log_file, stderr=subprocess.STDOUT, cwd=ROOT
        )
    running = RunningService(module, f"http://127.0.0.1:{port}", process, log_path)
    try:
        wait_until_healthy(running.url, process, log_path)
        yield running
    finally:
        stop(process)


@contextlib.contextmanager
def three_services(database_url: str, log_dir: Path, setup_env: dict[str, str]) -> Iterator[dict[str, RunningService]]:
    """Set the database up as `make run` does (`gateway.cli setup` with `setup_env`, which names its
    administrator), then run the engines and the gateway pointed at them until the block ends."""
    env = {"DATABASE_URL": database_url}
    setup = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "setup"], env={**os.environ, **env, **setup_env},
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )
    assert setup.returncode == 0, setup.stderr
    with (
        service("rating_engine", "RATING_ENGINE_", log_dir) as rating,
        service("sampling", "SAMPLING_", log_dir) as sampling,
        service(
            "gateway", "GATEWAY_", log_dir,
            {**env, "GATEWAY_RATING_ENGINE_URL": rating.url, "GATEWAY_SAMPLING_URL": sampling.url},
        ) as gateway,
    ):
        yield {"gateway": gateway, "rating": rating, "sampling": sampling}


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
