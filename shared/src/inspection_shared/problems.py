"""RFC 9457 problem details: the one error shape every service speaks."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PROBLEM_JSON = "application/problem+json"


class FieldError(BaseModel):
    """One fault in the input: where it is (a dotted field path, or a line of an upload) and what is wrong."""

    model_config = ConfigDict(extra="allow")

    field: str = Field(description="Dotted path of the field at fault, e.g. body.population.")
    message: str
    line: int | None = Field(default=None, description="Line of an uploaded file, counting the header as 1.")


class ProblemDetail(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = None


def problem_type(slug: str) -> str:
    return f"/problems/{slug}"


class Problem(Exception):
    """Raise anywhere in a request to answer with a problem response."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        slug: str | None = None,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ):
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.slug = slug
        self.errors = errors
        self.headers = headers or {}
        self.extensions = extensions

    def body(self, instance: str | None = None) -> ProblemDetail:
        return ProblemDetail(
            type=problem_type(self.slug) if self.slug else "about:blank",
            title=self.title,
            status=self.status,
            detail=self.detail,
            instance=instance,
            errors=self.errors,
            **self.extensions,
        )


class InvalidInput(Problem):
    """422 naming each field, line or value at fault."""

    def __init__(self, detail: str, errors: list[FieldError] | None = None, **extensions: Any):
        super().__init__(422, "Invalid input", detail, slug="invalid-input", errors=errors, **extensions)


class NotFound(Problem):
    def __init__(self, detail: str):
        super().__init__(404, "Not found", detail, slug="not-found")


class Conflict(Problem):
    def __init__(self, detail: str, *, headers: dict[str, str] | None = None, **extensions: Any):
        super().__init__(409, "Conflict", detail, slug="conflict", headers=headers, **extensions)


class PreconditionRequired(Problem):
    """428: a change to a shared record sent without If-Match."""

    def __init__(self, detail: str, *, etag: str | None = None):
        super().__init__(428, "Precondition required", detail, slug="precondition-required",
                         headers={"ETag": etag} if etag else None)


class PreconditionFailed(Problem):
    """412: a change based on a stale read of a shared record."""

    def __init__(self, detail: str, *, etag: str | None = None):
        super().__init__(412, "Precondition failed", detail, slug="precondition-failed",
                         headers={"ETag": etag} if etag else None)

    @classmethod
    def changed_meanwhile(cls, what: str) -> PreconditionFailed:
        """`what` (such as "the unit") was changed by a request that ran at the same time as this one."""
        return cls(
            f"{what[0].upper()}{what[1:]} was changed by another request at the same time; read it again and "
            "reapply the change."
        )


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the problem statuses a route can answer with."""
    # `model` registers the schema; the service's OpenAPI hook then files it under problem+json only.
    return {
        status: {
            "model": ProblemDetail,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetail"}}},
            "description": "Problem details (RFC 9457)",
        }
        for status in statuses
    }
