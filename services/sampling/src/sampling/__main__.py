"""Run the sampling service: `python -m sampling`."""

import os

# polars allocates through jemalloc, which as polars builds it hands freed pages back to the OS within
# about half a second. A national frame needs a few hundred MB of short-lived buffers per request,
# and faulting them back in costs tens of milliseconds of CPU each time, so freed pages are kept for
# reuse for ten seconds. Set before polars is first imported; a value in the environment wins.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:10000,muzzy_decay_ms:10000")

import uvicorn  # noqa: E402

from inspection_shared.web import configure_logging  # noqa: E402
from sampling.settings import Settings  # noqa: E402


def main() -> None:
    settings = Settings()
    configure_logging("sampling", settings.log_level)
    uvicorn.run("sampling.app:create_app", factory=True, host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
