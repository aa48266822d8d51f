"""Field types of request bodies (inspection_shared.fields): numbers and flags taken as written, read from
text only where the values came as text, and changes' fields that may be left out but not set to null."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import BaseModel, Field, ValidationError

from inspection_shared.fields import FROM_TEXT, Flag, Number, Omittable, SentAsNumber, WholeNumber


class Draw(BaseModel):
    seed: Annotated[int, Field(ge=0), SentAsNumber] | None = None
    size: WholeNumber = 1
    ratio: Number = 0.5
    replace: Flag = False


class Change(BaseModel):
    code: Omittable[Annotated[str, Field(min_length=2)]] = None
    active: Omittable[Flag] = None
    note: str | None = None


def refusal(model: type[BaseModel], data: dict, **options) -> list[tuple[tuple, str]]:
    with pytest.raises(ValidationError) as refused:
        model.model_validate(data, **options)
    return [(e["loc"], e["msg"]) for e in refused.value.errors()]


@pytest.mark.parametrize("data, field, message", [
    ({"seed": False}, "seed", "Input should be a number, not true or false"),
    ({"seed": "7"}, "seed", "Input should be a number, not text"),
    ({"size": True}, "size", "Input should be a number, not true or false"),
    ({"ratio": False}, "ratio", "Input should be a number, not true or false"),
    ({"ratio": "0.5"}, "ratio", "Input should be a number, not text"),
    ({"replace": 0}, "replace", "Input should be true or false"),
    ({"replace": "true"}, "replace", "Input should be true or false"),
    ({"size": 2.5}, "size", "Input should be a valid integer, got a number with a fractional part"),
])
def test_a_number_or_a_flag_sent_as_another_json_type_is_refused(data, field, message):
    assert refusal(Draw, data) == [((field,), message)]


def test_numbers_and_flags_sent_as_json_are_taken_and_a_whole_number_may_be_written_with_a_fraction():
    draw = Draw.model_validate({"seed": 0, "size": 5.0, "ratio": 1, "replace": True})
    assert (draw.seed, draw.size, draw.ratio, draw.replace) == (0, 5, 1.0, True)
    assert Draw.model_validate_json('{"seed": 3, "replace": false}').seed == 3
    assert refusal(Draw, {"seed": -1}) == [(("seed",), "Input should be greater than or equal to 0")]


def test_values_read_from_text_are_read_from_their_text():
    draw = Draw.model_validate({"seed": "7", "size": "5", "ratio": "0.25", "replace": "yes"}, context=FROM_TEXT)
    assert (draw.seed, draw.size, draw.ratio, draw.replace) == (7, 5, 0.25, True)
    assert refusal(Draw, {"replace": "maybe"}, context=FROM_TEXT)[0][0] == ("replace",)


def test_the_document_keeps_constraints_as_json_schema():
    schema = Draw.model_json_schema()["properties"]
    assert schema["seed"]["anyOf"][0] == {"minimum": 0, "type": "integer"}
    assert (schema["size"]["type"], schema["ratio"]["type"], schema["replace"]["type"]) == ("integer", "number", "boolean")


def test_an_omittable_field_may_be_left_out_but_not_sent_as_null():
    assert Change.model_validate({}).model_fields_set == set()
    assert Change.model_validate({"code": "N5", "active": False}).active is False
    assert refusal(Change, {"code": None}) == [(("code",), "Value error, may not be null")]
    assert refusal(Change, {"active": None}) == [(("active",), "Value error, may not be null")]
    assert refusal(Change, {"code": "N"}) == [(("code",), "String should have at least 2 characters")]
    assert Change.model_validate({"note": None}).model_fields_set == {"note"}  # a field that may be cleared


def test_an_omittable_field_is_documented_as_its_type_alone():
    schema = Change.model_json_schema()["properties"]
    assert schema["code"] == {"minLength": 2, "title": "Code", "type": "string"}
    assert schema["active"] == {"title": "Active", "type": "boolean"}
    assert schema["note"]["anyOf"] == [{"type": "string"}, {"type": "null"}]
