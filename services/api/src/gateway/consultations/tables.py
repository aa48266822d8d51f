"""A consultation's summary as CSV: one row per figure, holding the same counts as its JSON and, like it,
nothing about a respondent (no name, contact details or text)."""

from __future__ import annotations

from gateway.consultations.schemas import ConsultationSummary
from inspection_shared.exports import csv_text

COLUMNS = ["measure", "group", "audience", "question", "section", "topic_id", "topic", "rank", "responses"]
"""`measure` says what a row counts: responses, late, by_group, by_question, by_group_and_question, topic."""


def summary_csv(summary: ConsultationSummary) -> str:
    groups = {g.group: g.audience for g in summary.by_group}
    sections = {q.question: q.section for q in summary.by_question}
    rows = [["responses", "", "", "", "", "", "", "", summary.responses],
            ["late", "", "", "", "", "", "", "", summary.late]]
    rows += [["by_group", g.group, g.audience, "", "", "", "", "", g.responses] for g in summary.by_group]
    rows += [["by_question", "", "", q.question, q.section, "", "", "", q.responses] for q in summary.by_question]
    rows += [["by_group_and_question", c.group, groups[c.group], c.question, sections[c.question], "", "", "",
              c.responses] for c in summary.by_group_and_question]
    rows += [["topic", "", "", "", "", str(t.topic_id), t.name, t.rank, t.responses] for t in summary.topics]
    return csv_text(COLUMNS, rows)
