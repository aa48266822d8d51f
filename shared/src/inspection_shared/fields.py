"""Field types of request bodies whose JSON value must be taken as written, in every service.

Pydantic's lax mode reads `false` as 0, `"12"` as 12 and `0` as false, so a seed sent as `false`, a size
sent as `true` or a flag sent as `1` would be taken to mean what the client never wrote. `WholeNumber` and
`Number` refuse a boolean or text where a number is due, and `Flag` anything but `true` or `false`. A
whole number written with a zero fraction (`5.0`) is still one, as JSON Schema counts it.

A constrained one puts its constraints before the marker, so that they stay in the document as JSON
Schema (`minimum`, not pydantic's `ge`): `Annotated[int, Field(ge=1), SentAsNumber]`.

These are for values that arrive as JSON. Values read from text (a CSV cell) are validated with
`context=FROM_TEXT`, where numbers and flags are read from their text as pydantic reads it; query
parameters and form fields, which are always text, use the plain types.

`Omittable[T]` is a field of a change (a PATCH body) that may be left out, keeping what is held, but not
set to null: its document shows the type alone, with no null and no default, as the service takes it.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BeforeValidator, Field, ValidationInfo
from pydantic_core import PydanticCustomError

FROM_TEXT = {"from_text": True}
"""The validation context of values read from text, which are read as pydantic reads text."""


def _from_text(info: ValidationInfo) -> bool:
    return bool(info.context and info.context.get("from_text"))


def _a_number(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, bool) or (isinstance(value, (str, bytes)) and not _from_text(info)):
        raise PydanticCustomError("number_type", "Input should be a number, not {written}",
                                  {"written": "true or false" if isinstance(value, bool) else "text"})
    return value


def _a_flag(value: Any, info: ValidationInfo) -> Any:
    if not isinstance(value, bool) and not _from_text(info):
        raise PydanticCustomError("bool_type", "Input should be true or false")
    return value


SentAsNumber = BeforeValidator(_a_number)
"""Marks an int or float (after its constraints) as taken only from a JSON number."""

SentAsFlag = BeforeValidator(_a_flag)
"""Marks a bool as taken only from JSON true or false."""

WholeNumber = Annotated[int, SentAsNumber]
"""An integer sent as a JSON number: a count, a size, a limit, a seed."""

Number = Annotated[float, SentAsNumber]
"""A number sent as a JSON number: a proportion, a ratio, a measure."""

Flag = Annotated[bool, SentAsFlag]
"""A flag sent as JSON true or false."""


def _not_null(value: Any) -> Any:
    if value is None:
        raise ValueError("may not be null")
    return value


def _without_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


T = TypeVar("T")

Omittable = Annotated[T, BeforeValidator(_not_null), Field(json_schema_extra=_without_default)]
"""A field of a change that may be left out (give it the default None) but not sent as null."""
