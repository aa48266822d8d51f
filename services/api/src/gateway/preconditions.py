"""Optimistic concurrency for shared records: `ETag` on read, `If-Match` on update.

A record's ETag is its version number, bumped by SQLAlchemy on every write (or, for a record held as
several rows, such as an inspection's team, a digest of what it holds), so a change based on a stale
read is refused (412) rather than silently overwriting someone else's; an update without
If-Match is refused (428) for the same reason. Documents served whole (the inspection summary) carry
an ETag too, for If-None-Match.
"""

from __future__ import annotations

import re

from fastapi import Request, Response

from inspection_shared.problems import PreconditionFailed, PreconditionRequired

_ETAG = re.compile(r'\*|(W/)?"[^"]*"')
"""An entity tag as RFC 9110 8.8.3 writes it (or `*`): quoted, perhaps weak."""


def etag(version: int | str) -> str:
    return f'"{version}"'


def check_if_match(what: str, version: int | str | None, if_match: str | None, *, required: bool = True) -> None:
    """Let a change of `what` (such as "the unit") through only with the ETag of its last read.

    `version` None: there is no such record yet, so it is created without If-Match, and an If-Match can
    match nothing.
    """
    if version is None:
        if if_match is not None:
            raise PreconditionFailed(
                f"There is no {what.removeprefix('the ')} yet, so If-Match ({if_match}) cannot match; send the "
                "first one without it."
            )
        return
    current = etag(version)
    if if_match is None:
        if not required:
            return
        raise PreconditionRequired(
            f"Send If-Match with the ETag of your last read of {what}, so that a change made since is not "
            "overwritten.",
            etag=current,
        )
    # Strong comparison (RFC 9110 13.1.1): weak tags never match.
    tags = [tag.strip() for tag in if_match.split(",")]
    if unquoted := [tag for tag in tags if not _ETAG.fullmatch(tag)]:
        given = unquoted[0].strip('"')
        raise PreconditionFailed(
            f'If-Match {unquoted[0]} is not an ETag: send it in quotes, as the ETag header gave it: If-Match: "{given}".',
            etag=current,
        )
    if "*" not in tags and current not in tags:
        raise PreconditionFailed(
            f"{what[0].upper()}{what[1:]} has changed since it was read (If-Match {if_match}, now {current}); "
            "read it again and reapply the change.",
            etag=current,
        )


def answer_put(request: Request, response: Response, version: int, created: bool) -> None:
    """The answer to a PUT of a versioned record: its ETag, and 201 with Location when it was created."""
    response.headers["ETag"] = etag(version)
    if created:
        response.status_code = 201
        response.headers["Location"] = request.url.path


def matches_any(current: str, if_none_match: str) -> bool:
    """Whether If-None-Match names the current ETag (weak comparison, RFC 9110 13.1.2) or is `*`."""
    tags = [tag.strip() for tag in if_none_match.split(",")]
    return "*" in tags or current.removeprefix("W/") in (tag.removeprefix("W/") for tag in tags)
