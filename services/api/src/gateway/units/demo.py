"""Demo units: the real probation regions and PDUs, and an invented set of youth services (data/README.md)."""

from __future__ import annotations

import csv
import io
from importlib.resources import files

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.units.importer import ImportRow, ParsedImport, import_units, parse_csv
from gateway.units.schemas import UnitImportReport, UnitImportRow
from inspection_shared.bulk_import import RowRef

DATA = files("gateway.units") / "data"
PROBATION_PDUS = "probation_pdus.csv"
YOUTH_SERVICES = "youth_services_synthetic.csv"


def probation_rows() -> list[ImportRow]:
    """One region per region code, then each PDU under its region, from the reference file's own columns.

    Caseload and validity dates are not in the file; the rows leave them out, so loading again keeps any
    value recorded since.
    """
    text = (DATA / PROBATION_PDUS).read_text(encoding="utf-8-sig")
    regions: dict[str, ImportRow] = {}
    pdus: list[ImportRow] = []
    reader = csv.DictReader(io.StringIO(text, newline=""))
    for line, record in enumerate(reader, start=2):
        ref = RowRef(line=line)
        if record["region_code"] not in regions:
            raw = {
                "code": record["region_code"],
                "name": record["region"],
                "type": "region",
                "nation": record["nation"],
                "parent_code": None,
                "synthetic": False,
            }
            regions[record["region_code"]] = ImportRow(ref, UnitImportRow.model_validate(raw), frozenset(raw))
        raw = {
            "code": record["pdu_code"],
            "name": record["pdu"],
            "type": "pdu",
            "nation": record["nation"],
            "parent_code": record["region_code"],
            "synthetic": False,
        }
        pdus.append(ImportRow(ref, UnitImportRow.model_validate(raw), frozenset(raw)))
    return [*regions.values(), *pdus]


def demo_import() -> ParsedImport:
    youth = parse_csv((DATA / YOUTH_SERVICES).read_text(encoding="utf-8"))
    return ParsedImport(rows=[*probation_rows(), *youth.rows], errors=youth.errors)


async def load_demo_units(session: AsyncSession) -> UnitImportReport:
    """Create or refresh the demo units; safe to repeat (a second load reports every unit unchanged)."""
    return await import_units(session, demo_import())
