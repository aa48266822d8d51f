"""Start the gateway, the rating engine, the sampling service and the dashboard in the foreground; Ctrl-C
stops all four.

Ports come from GATEWAY_PORT, RATING_ENGINE_PORT, SAMPLING_PORT and DASHBOARD_PORT (defaults 8000, 8001,
8002, 8003); the gateway is pointed at the engines on those ports unless GATEWAY_*_URL says otherwise, and
the dashboard at the gateway unless DASHBOARD_GATEWAY_URL does.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.servers import stop, wait_until_healthy  # noqa: E402

SERVICES = [
    # (name, module, environment prefix, default port)
    ("rating engine", "rating_engine", "RATING_ENGINE_", 8001),
    ("sampling service", "sampling", "SAMPLING_", 8002),
    ("gateway", "gateway", "GATEWAY_", 8000),
    ("dashboard", "dashboard", "DASHBOARD_", 8003),
]


def port_is_free(port: int) -> bool:
    """Whether a service could listen on `port` now. The probe binds as the servers do (asyncio sets
    SO_REUSEADDR), so a port left in TIME_WAIT by the last run counts as free; a listening one does not."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def main() -> int:
    env = dict(os.environ)
    ports = {module: int(env.get(f"{prefix}PORT", default)) for _, module, prefix, default in SERVICES}
    env.setdefault("GATEWAY_RATING_ENGINE_URL", f"http://127.0.0.1:{ports['rating_engine']}")
    env.setdefault("GATEWAY_SAMPLING_URL", f"http://127.0.0.1:{ports['sampling']}")
    env.setdefault("DASHBOARD_GATEWAY_URL", f"http://127.0.0.1:{ports['gateway']}")
    for name, module, prefix, _ in SERVICES:
        if not port_is_free(ports[module]):
            print(f"Port {ports[module]} for the {name} is taken; stop what holds it or set {prefix}PORT.",
                  file=sys.stderr)
            return 1
    processes: list[tuple[str, subprocess.Popen]] = []
    stopping = False

    def shut_down(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, shut_down)
    signal.signal(signal.SIGTERM, shut_down)
    try:
        for name, module, prefix, _ in SERVICES:
            # Logs go to the terminal (JSON lines) and nothing else: the services own their format.
            process = subprocess.Popen([sys.executable, "-m", module], env={**env, f"{prefix}PORT": str(ports[module])})
            processes.append((name, process))
            url = f"http://127.0.0.1:{ports[module]}"
            wait_until_healthy(url, process, timeout=60)
        print("\nAll four services are up (Ctrl-C stops them):", flush=True)
        for name, module, _, _ in SERVICES:
            print(f"  {name:<16} http://127.0.0.1:{ports[module]}   docs: http://127.0.0.1:{ports[module]}/docs")
        print(f"\nOpen the dashboard: http://127.0.0.1:{ports['dashboard']}/ (sign in with your account)")
        print(flush=True)
        while not stopping:
            for name, process in processes:
                if process.poll() is not None:
                    print(f"{name} stopped with exit code {process.returncode}; stopping the others", file=sys.stderr)
                    return 1
            time.sleep(0.5)
        return 0
    finally:
        for _, process in reversed(processes):
            stop(process)


if __name__ == "__main__":
    sys.exit(main())
