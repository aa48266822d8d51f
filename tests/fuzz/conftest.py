"""Prints what the schemathesis tests sent and what was answered, service by service."""

from __future__ import annotations

import re

_RAN = re.compile(r"::test_the_(?:gateway|rating_engine|sampling_service)_answers_as_its_document_says\[([^\]]+)\]")


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    from tests.fuzz import test_openapi as fuzz

    if not fuzz.SENT:
        return
    ran = {match[1] for report in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", [])
           if (match := _RAN.search(report.nodeid))}
    terminalreporter.write_sep("-", f"schemathesis: {fuzz.EXAMPLES} random examples per operation")
    for service, sent in sorted(fuzz.SENT.items()):
        labels = {result.ok().label for result in fuzz.DOCUMENTS[service].get_all_operations()}
        statuses = ", ".join(f"{status}: {n}" for status, n in sorted(fuzz.ANSWERED[service].items()))
        terminalreporter.write_line(
            f"{service}: {len(sent)} of {len(labels)} operations, {sum(sent.values())} requests ({statuses})"
        )
        for label in sorted((labels & ran) - set(sent)):
            terminalreporter.write_line(f"  no request could be made for {label}")
