"""Bulk import of an inspection's case answers from CSV or JSON: all or nothing, every fault named.

The whole import is checked in memory against the pinned framework and the inspection's sampled cases
(one query each) before anything is written; one fault and nothing is. The writes are then a handful of
bulk statements, whatever the number of cases, so that 10,000 answers import in well under two seconds.

An import adds to what is held and never takes away: it sets the answers, attributes and evidence notes
it gives and leaves the rest of each case's assessment as it was (remove an answer with PUT on the case).
Importing the same file again reports every case unchanged.

A correction of a published inspection takes its changed case answers as such an import, in JSON:
checked with the correction (`check_import`) and written once the engine has rated it (`write_import`).
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy import bindparam, insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.assessments import repository
from gateway.assessments.models import CaseAssessment
from gateway.assessments.repository import AssessedCase
from gateway.assessments.rules import AssessmentRules, case_faults, value_fault
from gateway.assessments.schemas import (
    EVIDENCE_NOTE_MAX,
    AssessmentImportReport,
    CaseAssessmentImportItem,
)
from gateway.assessments.service import assessment_rules
from gateway.casedata.sealing import case_keys
from gateway.caseloads import repository as caseloads
from gateway.caseloads.schemas import IN_SAMPLE
from gateway.inspections.guards import inspection_for_change
from gateway.inspections.lifecycle import Activity
from gateway.writes import answering_clashes
from inspection_shared.bulk_import import RowRef, nothing_imported, read_header, readable_csv
from inspection_shared.problems import FieldError, InvalidInput
from inspection_shared.wording import counted

if TYPE_CHECKING:
    from gateway.inspections.models import Inspection

MAX_ANSWERS = 50_000
"""Far above an inspection's answers (a large sample is a few hundred cases of a dozen key questions)."""
MAX_ERRORS = 200
"""Faults listed in one answer; the count of all of them is given beside."""

REQUIRED_COLUMNS = ("case_ref", "sample_type", "key_question", "answer")
NOTE_COLUMN = "evidence_note"
_WHOLE_NUMBER = re.compile(r"^-?[0-9]{1,9}$")
_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}

CSV_FORMAT = f"""\
One row per answer (long format). Columns, in any order, named on the first line:

- `case_ref`, `sample_type`: the sampled case (required on every row);
- `key_question`, `answer`: a key question id such as `2.1.1` and `yes`, `no` or `not_applicable` (or,
  for an outcome standard's key question, `improved`, `unchanged`, `worse` or `not_applicable`; both
  columns required in the header; a row may leave both blank to give only attributes or a note);
- `evidence_note` (optional): the case's evidence note, at most {EVIDENCE_NOTE_MAX} characters;
- one optional column per case attribute that the framework's case filters read (for example
  `unpaid_work_requirement`, `released_from_custody`, `disposal_type`); `true`/`false` for yes-no
  attributes, codes such as `youth_caution` otherwise. Any other column is refused.

A case's attributes and note may be given on any one of its rows; a blank cell gives nothing, and two
rows of a case may not disagree. Faults are named by line, the header being line 1.
"""


@dataclass(slots=True)
class CaseImport:
    """Everything the import says about one case, with where it said it (CSV lines or JSON indexes)."""

    sample_type: str
    case_ref: str
    positions: list[int] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=dict)
    answer_at: dict[str, int] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    attribute_at: dict[str, int] = field(default_factory=dict)
    note_given: bool = False
    note: str | None = None
    note_at: int = 0


@dataclass
class ParsedImport:
    from_csv: bool
    cases: dict[tuple[str, str], CaseImport] = field(default_factory=dict)
    errors: list[FieldError] = field(default_factory=list)
    answers: int = 0

    def ref(self, position: int) -> RowRef:
        """Rows are referred to by position while all is well; a fault turns one into a line or an index."""
        return RowRef(line=position) if self.from_csv else RowRef(index=position)

    def case(self, sample_type: str, case_ref: str, position: int) -> CaseImport:
        found = self.cases.get((sample_type, case_ref))
        if found is None:
            found = self.cases[(sample_type, case_ref)] = CaseImport(sample_type, case_ref)
        found.positions.append(position)
        return found


def _too_many(count: int) -> InvalidInput:
    return InvalidInput(
        f"An import holds at most {MAX_ANSWERS} answers; this one holds more. Split it into several files.",
        [FieldError(field="body", message=f"more than {MAX_ANSWERS} answers")],
        answer_count=count,
    )


def _note_fault(note: str) -> str | None:
    if len(note) > EVIDENCE_NOTE_MAX:
        return f"at most {EVIDENCE_NOTE_MAX} characters ({len(note)} given)"
    if any(ord(c) < 32 and c not in "\t\n\r" or ord(c) == 127 for c in note):
        return "may not hold control characters other than line breaks and tabs"
    return None


def _csv_attribute(types: frozenset[type], cell: str) -> tuple[Any, str | None]:
    """The attribute value a CSV cell holds, read as the case filter compares it, or a fault."""
    lowered = cell.lower()
    if bool in types and lowered in _TRUE | _FALSE:
        return lowered in _TRUE, None
    if int in types and _WHOLE_NUMBER.match(cell):
        return int(cell), None
    value = cell if str in types else object()
    return value, value_fault(types, value)


def parse_csv(text: str, rules: AssessmentRules) -> ParsedImport:
    """Rows of a long-format CSV file (CSV_FORMAT), grouped by case, with every fault found on the way."""
    parsed = ParsedImport(from_csv=True)
    attribute_columns = {name for sample in rules.samples.values() for name in sample.attributes}
    known = (*REQUIRED_COLUMNS, NOTE_COLUMN, *sorted(attribute_columns))
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=True)
    with readable_csv(reader):
        columns = read_header(
            reader,
            known=known,
            required=REQUIRED_COLUMNS,
            unknown="not an assessment column nor a case attribute the framework's case filters read; expected "
            + ", ".join(known),
            what="assessment",
        )
        position = {name: i for i, name in enumerate(columns)}
        at = [position[name] for name in REQUIRED_COLUMNS]
        note_at = position.get(NOTE_COLUMN)
        attributes_at = [(name, position[name]) for name in columns if name in attribute_columns]
        width = len(columns)
        last_line = reader.line_num
        for cells in reader:
            # A quoted cell may span lines: a row starts on the line after the previous row ended.
            line, last_line = last_line + 1, reader.line_num
            if len(cells) != width:
                if len(cells) > width and any(cell.strip() for cell in cells[width:]):
                    parsed.errors.append(
                        parsed.ref(line).error("row", f"{counted(len(cells), 'cell')}, but the header names {counted(width, 'column')}")
                    )
                    continue
                cells = [*cells[:width], *[""] * (width - len(cells))]
            case_ref, sample_type, key_question, answer = (cells[i].strip() for i in at)
            if not (case_ref or sample_type or key_question or answer) and not any(c.strip() for c in cells):
                continue
            _csv_row(parsed, rules, line, case_ref, sample_type, key_question, answer, cells, note_at, attributes_at)
    if not parsed.cases and not parsed.errors:
        raise InvalidInput("The file holds no answers.", [FieldError(field="body", message="no rows after the header")])
    return parsed


def _csv_row(
    parsed: ParsedImport,
    rules: AssessmentRules,
    line: int,
    case_ref: str,
    sample_type: str,
    key_question: str,
    answer: str,
    cells: list[str],
    note_at: int | None,
    attributes_at: list[tuple[str, int]],
) -> None:
    """Check one row and add what it says to its case; on a fault, note it and keep what is sound."""
    errors = parsed.errors
    sample = rules.samples.get(sample_type)
    if not case_ref or len(case_ref) > 64 or sample is None:
        ref = parsed.ref(line)
        if not case_ref:
            errors.append(ref.error("case_ref", "required"))
        elif len(case_ref) > 64:
            errors.append(ref.error("case_ref", "at most 64 characters"))
        if not sample_type:
            errors.append(ref.error("sample_type", "required", case_ref=case_ref))
        elif sample is None:
            errors.append(ref.error("sample_type", rules.unknown_sample_type(sample_type), case_ref=case_ref))
        return
    case = parsed.case(sample_type, case_ref, line)

    if key_question or answer:
        parsed.answers += 1
        if parsed.answers > MAX_ANSWERS:
            raise _too_many(parsed.answers)
        normalised = answer.lower()
        home = rules.home.get(key_question)
        scale = rules.answers_for(key_question)
        if (
            home is not None
            and home[1] == sample_type
            and normalised in scale
            and key_question not in case.answer_at
        ):
            case.answers[key_question] = normalised
            case.answer_at[key_question] = line
        else:
            ref = parsed.ref(line)
            if not key_question:
                errors.append(ref.error("key_question", "required with an answer", case_ref=case_ref))
            elif (fault := rules.key_question_fault(sample_type, key_question)) is not None:
                errors.append(ref.error("key_question", fault, case_ref=case_ref))
            elif key_question in case.answer_at:
                earlier = parsed.ref(case.answer_at[key_question]).describe()
                message = f"{key_question} is also answered for this case on {earlier}"
                errors.append(ref.error("key_question", message, case_ref=case_ref))
            if not answer:
                errors.append(
                    ref.error("answer", f"required with a key question: {', '.join(scale)}", case_ref=case_ref)
                )
            elif normalised not in scale:
                errors.append(ref.error("answer", f"{answer!r} is not one of {', '.join(scale)}", case_ref=case_ref))

    if note_at is not None and (note := cells[note_at].strip()):
        if (fault := _note_fault(note)) is not None:
            errors.append(parsed.ref(line).error(NOTE_COLUMN, fault, case_ref=case_ref))
        elif case.note_given and case.note != note:
            earlier = parsed.ref(case.note_at).describe()
            message = f"differs from the note given on {earlier}"
            errors.append(parsed.ref(line).error(NOTE_COLUMN, message, case_ref=case_ref))
        else:
            case.note_given, case.note, case.note_at = True, note, line

    for name, i in attributes_at:
        cell = cells[i].strip()
        if not cell:
            continue
        if name not in sample.attributes:
            message = rules.attribute_fault(sample_type, name, cell)
            errors.append(parsed.ref(line).error(name, message or "", case_ref=case_ref))
            continue
        value, fault = _csv_attribute(sample.attributes[name], cell)
        if fault is not None:
            errors.append(parsed.ref(line).error(name, f"{cell!r}: {fault}", case_ref=case_ref))
        elif name in case.attributes and case.attributes[name] != value:
            earlier = parsed.ref(case.attribute_at[name]).describe()
            errors.append(parsed.ref(line).error(name, f"differs from the value given on {earlier}", case_ref=case_ref))
        else:
            case.attributes[name] = value
            case.attribute_at[name] = line


def parse_json(document: Any, rules: AssessmentRules) -> ParsedImport:
    """Items of a JSON array, each a CaseAssessmentImportItem."""
    if not isinstance(document, list):
        raise InvalidInput(
            "A JSON import is an array of case assessments.",
            [FieldError(field="body", message="expected an array of case assessments")],
        )
    if not document:
        raise InvalidInput("The import holds no case assessments.", [FieldError(field="body", message="empty array")])
    parsed = ParsedImport(from_csv=False)
    for index, raw in enumerate(document):
        ref = parsed.ref(index)
        if not isinstance(raw, dict):
            parsed.errors.append(ref.error(None, "expected an object with case_ref, sample_type and answers"))
            continue
        case_ref = raw.get("case_ref").strip() if isinstance(raw.get("case_ref"), str) else None
        try:
            item = CaseAssessmentImportItem.model_validate(raw)
        except ValidationError as invalid:
            for error in invalid.errors():
                message = "not a field of a case assessment" if error["type"] == "extra_forbidden" else error["msg"]
                path = ".".join(str(part) for part in error["loc"])
                parsed.errors.append(ref.error(path, message, case_ref=case_ref))
            continue
        parsed.answers += len(item.answers)
        if parsed.answers > MAX_ANSWERS:
            raise _too_many(parsed.answers)
        if rules.sample(item.sample_type) is None:
            parsed.errors.append(ref.error("sample_type", rules.unknown_sample_type(item.sample_type), case_ref=case_ref))
            continue
        if (item.sample_type, item.case_ref) in parsed.cases:
            earlier = parsed.ref(parsed.cases[(item.sample_type, item.case_ref)].positions[0]).describe()
            parsed.errors.append(ref.error("case_ref", f"case {item.case_ref} is also on {earlier}", case_ref=case_ref))
            continue
        faults = [
            ref.error(where, message, case_ref=case_ref)
            for where, message in case_faults(rules, item.sample_type, item.answers, item.attributes)
        ]
        parsed.errors += faults
        case = parsed.case(item.sample_type, item.case_ref, index)
        if faults:
            continue
        case.answers = dict(item.answers)
        case.attributes = dict(item.attributes)
        if "evidence_note" in item.model_fields_set:
            case.note_given, case.note = True, item.evidence_note
    return parsed


@dataclass(frozen=True)
class CheckedImport:
    """An import checked whole against the framework and the sampled cases: the case assessed on each
    sampled case it names, ready to write."""

    targets: dict[uuid.UUID, CaseImport]
    answers: int

    def cases(self) -> list[AssessedCase]:
        """What the import gives for each case, as the evidence for rating reads a case."""
        return [AssessedCase(c.case_ref, c.sample_type, c.answers, c.attributes) for c in self.targets.values()]


async def import_assessments(
    session: AsyncSession, inspection_id: uuid.UUID, kind: str, content: Any
) -> AssessmentImportReport:
    """Create or update the assessment of every case the import names, or refuse it all naming each fault."""
    inspection = await inspection_for_change(session, inspection_id, Activity.RECORDING)
    return await write_import(session, inspection.id, await check_import(session, inspection, kind, content))


async def check_import(session: AsyncSession, inspection: Inspection, kind: str, content: Any) -> CheckedImport:
    """The import checked whole, or a 422 naming every fault; nothing is written."""
    rules = await assessment_rules(session, inspection)
    parsed = parse_csv(content, rules) if kind == "csv" else parse_json(content, rules)
    errors = list(parsed.errors)

    sampled = await repository.sampled_cases(session, inspection.id)  # keyed on the references' blind index
    drawn = {sample_type for sample_type, _ in sampled}
    index = case_keys().index
    targets: dict[uuid.UUID, CaseImport] = {}
    for key, case in parsed.cases.items():
        sample_type, case_ref = key
        found = sampled.get((sample_type, index(case_ref)))
        if found is None:
            fault = (
                f"case {case_ref} is not in the {sample_type} sample"
                if sample_type in drawn
                else f"no {sample_type} sample has been drawn for this inspection"
            )
        elif found[1] not in IN_SAMPLE:
            fault = f"case {case_ref} was replaced in the {sample_type} sample and can no longer be assessed"
        else:
            targets[found[0]] = case
            continue
        errors += [parsed.ref(p).error("case_ref", fault, case_ref=case_ref) for p in case.positions]

    if errors:
        raise nothing_imported(errors, MAX_ERRORS)
    return CheckedImport(targets, parsed.answers)


async def write_import(session: AsyncSession, inspection_id: uuid.UUID, checked: CheckedImport) -> AssessmentImportReport:
    """Write a checked import; the caller holds the inspection (`inspection_for_change`)."""
    targets, answers = checked.targets, checked.answers
    held = await repository.held_assessments(session, inspection_id)
    created: list[dict[str, Any]] = []
    updated: list[dict[str, Any]] = []
    unchanged = 0
    for sampled_case_id, case in targets.items():
        before = held.get(sampled_case_id)
        if before is None:
            created.append(
                {
                    "id": uuid.uuid4(),
                    "inspection_id": inspection_id,
                    "sampled_case_id": sampled_case_id,
                    "case_ref": case.case_ref,
                    "sample_type": case.sample_type,
                    "answers": case.answers,
                    "attributes": case.attributes,
                    "evidence_note": case.note,
                    "version": 1,
                }
            )
            continue
        answers_now = {**before.answers, **case.answers}
        attributes_now = {**before.attributes, **case.attributes}
        note_now = case.note if case.note_given else before.evidence_note
        if (answers_now, attributes_now, note_now) == (before.answers, before.attributes, before.evidence_note):
            unchanged += 1
            continue
        updated.append({"b_id": before.id, "b_answers": answers_now, "b_attributes": attributes_now, "b_note": note_now})

    # Bulk statements, a handful whatever the number of cases; the write hook stamps them (see `writes`).
    table = CaseAssessment.__table__
    with answering_clashes(
        clash="The import clashed with assessments recorded at the same time; nothing was imported. Repeat it."
    ):
        if created:
            await session.execute(insert(table), created)
            await caseloads.mark_assessed(session, [row["sampled_case_id"] for row in created])
        if updated:
            await session.execute(
                update(table)
                .where(table.c.id == bindparam("b_id"))
                .values(
                    answers=bindparam("b_answers", type_=table.c.answers.type),
                    attributes=bindparam("b_attributes", type_=table.c.attributes.type),
                    evidence_note=bindparam("b_note", type_=table.c.evidence_note.type),
                    version=table.c.version + 1,
                ),
                updated,
            )
    return AssessmentImportReport(
        cases=len(targets),
        answers=answers,
        created=len(created),
        updated=len(updated),
        unchanged=unchanged,
    )
