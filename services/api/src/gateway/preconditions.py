"""Optimistic concurrency for shared records: `ETag` on read, `If-Match` on update.

A record's ETag is its version number, bumped by SQLAlchemy on every write, so a change based on a
stale read is refused (412) rather than silently overwriting someone else's; an update without
If-Match is refused (428) for the same reason. Documents served whole (the inspection summary) carry
an ETag too, for If-None-Match.
"""

from __future__ import annotations

from inspection_shared.problems import Problem


def etag(version: int) -> str:
    return f'"{version}"'


def check_if_match(what: str, version: int, if_match: str | None, *, required: bool = True) -> None:
    """Let a change through only with the ETag of the last read of `what` (e.g. "the unit")."""
    current = etag(version)
    if if_match is None:
        if not required:
            return
        raise Problem(
            428,
            "Precondition required",
            f"Send If-Match with the ETag of your last read of {what}, so that a change made since is not "
            "overwritten.",
            slug="precondition-required",
            headers={"ETag": current},
        )
    # Strong comparison (RFC 9110 13.1.1): weak tags never match.
    tags = [tag.strip() for tag in if_match.split(",")]
    if "*" not in tags and current not in tags:
        raise Problem(
            412,
            "Precondition failed",
            f"{what[0].upper()}{what[1:]} has changed since it was read (If-Match {if_match}, now {current}); "
            "read it again and reapply the change.",
            slug="precondition-failed",
            headers={"ETag": current},
        )


def matches_any(current: str, if_none_match: str) -> bool:
    """Whether If-None-Match names the current ETag (weak comparison, RFC 9110 13.1.2) or is `*`."""
    tags = [tag.strip() for tag in if_none_match.split(",")]
    return "*" in tags or current.removeprefix("W/") in (tag.removeprefix("W/") for tag in tags)
