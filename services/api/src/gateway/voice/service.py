"""The voice of people under supervision: the rules of what is recorded (`faults`, pure), its figures
(`figures`, each answer's and theme's share) and the evidence that informs each judged standard
(`by_standard`), read beside the domain-one judgements and in the report.

It is recorded while domain-one judgements are (`Activity.VOICE`: in fieldwork or rating, by the
inspection's team) and read by those who may read the judgements. Only counts and themes are taken: a
text that holds an email address or names a case of the inspection's samples (told by its blind index,
never opening a reference) is refused, as any field of a person is by the schemas.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Set

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.casedata.sealing import blind_index
from gateway.caseloads.repository import case_ref_indexes
from gateway.db import row_fields
from gateway.inspections.guards import get_inspection, inspection_for_change, pinned_framework
from gateway.inspections.lifecycle import Activity
from gateway.permissions import Permission
from gateway.preconditions import check_if_match
from gateway.voice import repository
from gateway.voice.models import VoiceEvidence
from gateway.voice.schemas import (
    AnswerFigures,
    InterviewFigures,
    InterviewThemeVoice,
    QuestionFigures,
    StandardVoice,
    SurveyFigures,
    SurveyQuestionVoice,
    ThemeFigures,
    VoiceFigures,
    VoiceRead,
    VoiceWrite,
)
from gateway.writes import flush
from inspection_shared.framework import Framework
from inspection_shared.problems import FieldError, InvalidInput, NotFound, PreconditionFailed
from inspection_shared.wording import counted

_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")
_WORD = re.compile(r"[^\s,;:()\[\]{}<>\"'.]+")
"""A run of text that could be a case reference: references hold no space and none of these marks."""
WHAT = "the voice evidence"


# --- the rules, pure ---------------------------------------------------------------------------------


def _standard_fault(framework: Framework, standard_id: str) -> str | None:
    standard = framework.standard(standard_id)
    if standard is None:
        return f"no standard {standard_id} in framework {framework.id}"
    if standard.kind != "judged":
        return (f"standard {standard_id} ({standard.name}) is case-based: the voice of people under supervision "
                "informs judged standards only")
    return None


def _personal_fault(text: str, case_indexes: Set[str]) -> str | None:
    if _EMAIL.search(text):
        return "may not hold an email address: record what was said, never who said it"
    if case_indexes and any(blind_index(word) in case_indexes for word in _WORD.findall(text)):
        return "may not name a case of the inspection's samples: record what was said, never who said it"
    return None


def _repeated(keys: list[str]) -> Iterator[tuple[int, str]]:
    seen: set[str] = set()
    for i, key in enumerate(keys):
        if key in seen:
            yield i, key
        seen.add(key)


def faults(data: VoiceWrite, framework: Framework, case_indexes: Set[str] = frozenset()) -> list[FieldError]:
    """Every fault of the evidence against the pinned framework, each naming its field: keys given twice,
    counts of a question or answer option the survey does not have, counts adding up to more than the
    respondents, a theme raised by more than were interviewed, a standard that is not judged, and a text
    that identifies someone."""
    found: list[tuple[str, str]] = []

    def texts(where: str, standards: list[str], *named: tuple[str, str]) -> None:
        found.extend((f"{where}.standards.{k}", m) for k, s in enumerate(standards)
                     if (m := _standard_fault(framework, s)) is not None)
        found.extend((f"{where}.{field}", m) for field, text in named
                     if (m := _personal_fault(text, case_indexes)) is not None)

    found += [(f"surveys.{i}.key", f"survey {key} is given twice")
              for i, key in _repeated([s.key for s in data.surveys])]
    for i, survey in enumerate(data.surveys):
        at = f"surveys.{i}"
        texts(at, [], ("title", survey.title))
        options: dict[str, list[str]] = {}
        found += [(f"{at}.questions.{j}.key", f"question {key} is given twice")
                  for j, key in _repeated([q.key for q in survey.questions])]
        for j, question in enumerate(survey.questions):
            texts(f"{at}.questions.{j}", question.standards, ("text", question.text))
            keys = [o.key for o in question.options]
            found += [(f"{at}.questions.{j}.options.{k}.key", f"option {key} is given twice")
                      for k, key in _repeated(keys)]
            for k, option in enumerate(question.options):
                texts(f"{at}.questions.{j}.options.{k}", [], ("text", option.text))
            options.setdefault(question.key, keys)
        for question_key, counts in survey.counts.items():
            where = f"{at}.counts.{question_key}"
            if question_key not in options:
                found.append((where, f"no question {question_key} in survey {survey.key} (its questions: "
                                     f"{', '.join(options)})"))
                continue
            found += [(f"{where}.{answer}", f"no answer option {answer} to question {question_key} (its options: "
                                            f"{', '.join(options[question_key])})")
                      for answer in counts if answer not in options[question_key]]
            if (total := sum(counts.values())) > survey.respondents:
                found.append((where, f"the counts of question {question_key} add up to {total}, more than the "
                                     f"survey's {counted(survey.respondents, 'respondent')}"))
    found += [(f"interviews.{i}.key", f"interview set {key} is given twice")
              for i, key in _repeated([s.key for s in data.interviews])]
    for i, interviews in enumerate(data.interviews):
        texts(f"interviews.{i}", [], ("title", interviews.title))
        for j, theme in enumerate(interviews.themes):
            texts(f"interviews.{i}.themes.{j}", theme.standards, ("text", theme.text))
            if theme.raised_by > interviews.interviewed:
                found.append((f"interviews.{i}.themes.{j}.raised_by", f"raised by {theme.raised_by}, more than the "
                              f"{counted(interviews.interviewed, 'person', 'people')} interviewed"))
    return [FieldError(field=f"body.{where}", message=message) for where, message in found]


def held(data: VoiceWrite) -> dict[str, list]:
    """The evidence as it is kept: each question's counts for every one of its options, in their order."""
    surveys = []
    for survey in data.surveys:
        given = survey.counts
        counts = {q.key: {o.key: given.get(q.key, {}).get(o.key, 0) for o in q.options} for q in survey.questions}
        surveys.append(survey.model_copy(update={"counts": counts}).model_dump(mode="json"))
    return {"surveys": surveys, "interviews": [s.model_dump(mode="json") for s in data.interviews]}


def _percent(part: int, whole: int) -> float | None:
    return 100 * part / whole if whole else None


def figures(evidence: VoiceEvidence | None, redact: Callable[[str], str] = str) -> VoiceFigures:
    """The figures of the evidence held (none: empty): each answer's share of those who answered its
    question, and each theme's share of those interviewed. Each text passes through `redact` (the report's:
    a case drawn after the text was recorded is not named in it either)."""
    if evidence is None:
        return VoiceFigures()
    data = VoiceWrite.model_validate({"surveys": evidence.surveys, "interviews": evidence.interviews})
    surveys = []
    for survey in data.surveys:
        questions = []
        for question in survey.questions:
            counts = survey.counts.get(question.key, {})
            answered = sum(counts.get(o.key, 0) for o in question.options)
            questions.append(QuestionFigures(
                key=question.key, text=redact(question.text), standards=question.standards, answered=answered,
                answers=[AnswerFigures(key=o.key, text=redact(o.text), count=counts.get(o.key, 0),
                                       percent=_percent(counts.get(o.key, 0), answered)) for o in question.options],
            ))
        surveys.append(SurveyFigures(key=survey.key, title=redact(survey.title), population=survey.population,
                                     respondents=survey.respondents, questions=questions))
    interviews = [
        InterviewFigures(key=s.key, title=redact(s.title), population=s.population, interviewed=s.interviewed, themes=[
            ThemeFigures(text=redact(t.text), raised_by=t.raised_by, percent=_percent(t.raised_by, s.interviewed),
                         standards=t.standards)
            for t in s.themes
        ])
        for s in data.interviews
    ]
    return VoiceFigures(surveys=surveys, interviews=interviews)


def by_standard(voice: VoiceFigures) -> dict[str, StandardVoice]:
    """The survey questions and interview themes that inform each standard, in the order recorded."""
    informing: dict[str, StandardVoice] = defaultdict(StandardVoice)
    for survey in voice.surveys:
        for question in survey.questions:
            for standard in dict.fromkeys(question.standards):
                informing[standard].survey_questions.append(SurveyQuestionVoice(
                    survey=survey.key, survey_title=survey.title, population=survey.population,
                    respondents=survey.respondents, question=question))
    for interviews in voice.interviews:
        for theme in interviews.themes:
            for standard in dict.fromkeys(theme.standards):
                informing[standard].interview_themes.append(InterviewThemeVoice(
                    interviews=interviews.key, interviews_title=interviews.title, population=interviews.population,
                    interviewed=interviews.interviewed, theme=theme))
    return dict(informing)


# --- reading and recording -------------------------------------------------------------------------


async def voice_figures(
    session: AsyncSession, inspection_id: uuid.UUID, redact: Callable[[str], str] = str
) -> VoiceFigures:
    """The figures of the inspection's voice evidence, for a reader already let in (the caller checks)."""
    return figures(await repository.evidence(session, inspection_id), redact)


async def get_voice(session: AsyncSession, inspection_id: uuid.UUID) -> VoiceRead:
    inspection = await get_inspection(session, inspection_id, Permission.ASSESSMENTS_READ)
    evidence = await repository.evidence(session, inspection.id)
    if evidence is None:
        raise NotFound(f"No voice of people under supervision is recorded for inspection {inspection.id} yet.")
    return VoiceRead.model_validate(row_fields(evidence))


async def put_voice(
    session: AsyncSession, inspection_id: uuid.UUID, data: VoiceWrite, if_match: str | None
) -> tuple[VoiceRead, bool]:
    """Record the whole of the inspection's voice evidence. Returns it and whether it was created."""
    inspection = await inspection_for_change(session, inspection_id, Activity.VOICE)
    evidence = await repository.evidence(session, inspection.id)
    check_if_match(WHAT, evidence.version if evidence else None, if_match)
    problems = faults(data, await pinned_framework(session, inspection), await case_ref_indexes(session, inspection.id))
    if problems:
        raise InvalidInput(f"The voice evidence has {counted(len(problems), 'fault')}: nothing was recorded.", problems)
    created = evidence is None
    if evidence is None:
        evidence = VoiceEvidence(inspection_id=inspection.id)
        session.add(evidence)
    kept = held(data)
    if (evidence.surveys, evidence.interviews) != (kept["surveys"], kept["interviews"]):
        evidence.surveys, evidence.interviews = kept["surveys"], kept["interviews"]
    await flush(session, clash=PreconditionFailed.changed_meanwhile(WHAT), changed=WHAT)
    return VoiceRead.model_validate(row_fields(evidence)), created
