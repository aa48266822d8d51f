"""Passwords: what one may be, and hashing them with Argon2id (pwdlib).

A hash costs about a sixth of a second of CPU and 64 MiB on purpose, so it runs on a worker thread (the
Argon2 binding lets go of the GIL) and only a couple at once: a flood of sign-ins waits its turn rather
than starving the process's requests or its memory.
"""

from __future__ import annotations

import asyncio
import weakref
from functools import cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

MIN_LENGTH = 8
MAX_LENGTH = 1024
"""Long enough for any passphrase; short enough that hashing one costs what any other does."""

COMMON = frozenset({
    "password", "password1", "password123", "passw0rd", "12345678", "123456789", "1234567890", "qwertyuiop",
    "qwerty123", "iloveyou", "admin123", "administrator", "changeme", "letmein1", "welcome1", "11111111",
    "00000000", "abcd1234", "trustno1", "sunshine", "football", "baseball", "princess", "superman",
})
"""Passwords tried first by anyone guessing; refused outright (NIST SP 800-63B asks for such a list)."""

HASHES_AT_ONCE = 2

_hasher = PasswordHash((Argon2Hasher(),))
_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def _turn() -> asyncio.Semaphore:
    """This event loop's turns at hashing (a semaphore belongs to one loop; set-up commands run several)."""
    loop = asyncio.get_running_loop()
    if loop not in _turns:
        _turns[loop] = asyncio.Semaphore(HASHES_AT_ONCE)
    return _turns[loop]


@cache
def _dummy_hash() -> str:
    """Checked against when no account has the name given, so that a sign-in takes as long either way and
    its timing does not tell which addresses have accounts."""
    return _hasher.hash("a password nobody has")


def fault(password: str, email: str | None = None) -> str | None:
    """What is wrong with a new password, or None."""
    if len(password) < MIN_LENGTH:
        return f"must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters"
    if password.lower() in COMMON or len(set(password)) < 3:
        return "is one of the passwords tried first by anyone guessing; choose another"
    if email is not None and password.lower() in (email.lower(), email.split("@")[0].lower()):
        return "must not be the email address"
    return None


async def hash_password(password: str) -> str:
    async with _turn():
        return await asyncio.to_thread(_hasher.hash, password)


async def check(password: str, password_hash: str | None) -> tuple[bool, str | None]:
    """Whether the password matches the hash (None: there is no account; checked against a dummy all the
    same), and a new hash when the hash was made with weaker settings than today's."""
    async with _turn():
        matched, updated = await asyncio.to_thread(
            lambda: _hasher.verify_and_update(password[: MAX_LENGTH + 1], password_hash or _dummy_hash())
        )
    return (matched and password_hash is not None), updated
