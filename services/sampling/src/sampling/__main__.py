"""Run the sampling service: `python -m sampling`."""

import ctypes
import os

# polars allocates through jemalloc, which as polars builds it hands freed pages back to the OS within
# about half a second. A national frame needs a few hundred MB of short-lived buffers per request,
# and faulting them back in costs tens of milliseconds of CPU each time, so freed pages are kept for
# reuse for ten seconds. Set before polars is first imported; a value in the environment wins.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:10000,muzzy_decay_ms:10000")

from inspection_shared.server import serve  # noqa: E402
from inspection_shared.settings import load_or_exit  # noqa: E402
from sampling.app import create_app  # noqa: E402
from sampling.settings import Settings  # noqa: E402

# The rest (the request body, numpy's arrays, the JSON answer) comes from the C library's malloc. glibc
# maps each block over its threshold afresh and unmaps it when freed, and trims freed memory at the top
# of a heap beyond 128 kB, so every request faulted thousands of pages back in. Blocks up to 32 MB
# come from the heap instead, and up to 128 MB freed there is kept for the next request.
_MMAP_THRESHOLD = 32 * 1024 * 1024
_TRIM_THRESHOLD = 128 * 1024 * 1024
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers, from glibc's malloc.h


def keep_freed_memory() -> bool:
    """Tune glibc's malloc as above; False where there is no mallopt (not glibc) or GLIBC_TUNABLES sets malloc."""
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None or "glibc.malloc." in os.environ.get("GLIBC_TUNABLES", ""):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD))


def main() -> None:
    settings = load_or_exit(Settings, "sampling")
    keep_freed_memory()
    serve(lambda: create_app(settings), settings, service="sampling")


if __name__ == "__main__":
    main()
