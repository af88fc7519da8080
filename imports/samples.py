"""Realistic import files (tests, benchmarks, docs/exemple-import.csv): every state, French and ISO formats."""
from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import IO, Any

from stdnum import luhn

from dossiers.models import Client, SignatureType, State

from . import checks
from . import columns as c

STATES = list(checks.REQUIRED_STEPS)
# Dispositifs without an avance deadline nor the MSS indicator: any date is acceptable for them.
DISPOSITIFS = ["HOP-DPI-VA1", "HOP-PFI-VA1", "HOP-RI-VA1", "BIO-SGL-VA1", "RAD-RIS-VA1", "RAD-DRIMBOX-VA2",
               "MDV-LGC-VA1", "OFF-LGO-VA1"]
KINDS = ["es", "es", "es", "laboratoire", "imagerie", "imagerie", "ps", "officine"]
CITIES = [("Lyon", "69"), ("Paris", "75"), ("Nantes", "44"), ("Lille", "59"), ("Ajaccio", "2A"),
          ("Fort-de-France", "972")]
SIGNERS = ["Claire Dubois", "Marc Lefèvre", "Dr Nadia Benali", "Mme Sophie Martin", "Hugo N'Diaye"]
DATE_STEPS = ["bdc_signed_on", "avance_filed_on", "avance_validated_on", "avance_paid_on", "deployed_on",
              "va_signed_on", "solde_filed_on", "solde_validated_on", "solde_paid_on"]


def _key(body: str) -> str:
    return body + luhn.calc_check_digit(body)


def finess(number: int, department: str = "69") -> str:
    return _key(f"{department[:2] if department[:2].isdigit() else '69'}{number % 1_000_000:06d}")


def siret(number: int) -> str:
    siren = _key(f"{number % 90_000_000 + 10_000_000:08d}")
    return _key(f"{siren}{number % 10_000:04d}")


def french_amount(amount: Decimal) -> str:
    whole, cents = f"{amount:.2f}".split(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return " ".join(groups) + "," + cents


def sample_rows(count: int, *, today: date, prefix: str = "IMP", start: int = 0) -> Iterator[dict[str, str]]:
    """`count` rows, field name → text: every state in turn, two dispositifs per client, dates and amounts
    written the French way on every third row."""
    for i in range(start, start + count):
        state = STATES[i % len(STATES)]
        k = i // 2                                    # two dossiers per client, on two dispositifs
        which = (i % 2) + 2 * (k % 4)
        city, department = CITIES[k % len(CITIES)]
        french = i % 3 == 0
        required = set(checks.REQUIRED_STEPS[state])
        if state in ("deployed", "va_signed", "solde_filed", "solde_to_fix", "solde_validated") and i % 4:
            required.add("avance_paid")
        origin = today - timedelta(days=500 + i % 200)
        declared = Decimal(1200 + (i * 37) % 40000) + Decimal("0.50")
        row = {
            "reference": f"{prefix}-{i:06d}", "client_name": f"Centre de santé {city} n°{k}",
            "client_kind": KINDS[which], "finess_geo": finess(k, department) if k % 3 else "",
            "finess_legal": "", "siret": siret(k) if k % 3 != 1 else "", "department": department,
            "vat_liable": "non" if k % 5 == 0 else "oui", "solution_name": f"Logiciel {DISPOSITIFS[which]}",
            "solution_version": "5.0", "dispositif": DISPOSITIFS[which], "scenario": "Scénario 1 — mise à jour",
            "state": state,
        }
        values: dict[str, Any] = {}
        for step, names in checks.STEPS.items():
            if step not in required:
                continue
            day = origin + timedelta(days=20 * DATE_STEPS.index(names[0]))
            for name in names:
                if name.endswith("_on"):
                    values[name] = day
                elif name in ("declared_amount", "avance_paid_amount"):
                    values[name] = declared if name == "declared_amount" else (declared * Decimal("0.3")).quantize(
                        Decimal("0.01"))
                elif name in ("solde_amount", "solde_paid_amount"):
                    values[name] = (declared * Decimal("0.7")).quantize(Decimal("0.01"))
                elif name == "bdc_signature_type":
                    values[name] = "handwritten" if i % 2 else "eidas_simple"
                else:
                    values[name] = SIGNERS[i % len(SIGNERS)]
        for name in c.BY_NAME:
            if name in row:
                continue
            value = values.get(name)
            if isinstance(value, date):
                row[name] = value.strftime("%d/%m/%Y") if french else value.isoformat()
            elif isinstance(value, Decimal):
                row[name] = french_amount(value) if french else f"{value:.2f}"
            else:
                row[name] = value or ""
        yield row


def headers(kind: str = "french") -> list[str]:
    return [str(column.header) if kind == "french" else column.name for column in c.COLUMNS]


def _labelled(row: dict[str, str]) -> dict[str, str]:
    """State, client kind and signature type as the French labels an export writes (the import reads both)."""
    labels = {"state": dict(State.choices), "client_kind": dict(Client.Kind.choices),
              "bdc_signature_type": dict(SignatureType.choices)}
    return {**row, **{name: str(labels[name].get(row[name], row[name])) for name in labels}}


def write_csv(rows: Iterator[dict[str, str]], handle: IO[str], *, kind: str = "french", delimiter: str = ";",
              bom: bool = True) -> None:
    """French headers come with French labels for the choices; field-name headers with the codes."""
    writer = csv.writer(handle, delimiter=delimiter, lineterminator="\r\n")
    if bom:
        handle.write("\ufeff")
    writer.writerow(headers(kind))
    for row in rows:
        row = _labelled(row) if kind == "french" else row
        writer.writerow([row[column.name] for column in c.COLUMNS])


def write_xlsx(rows: Iterator[dict[str, str]], handle: IO[bytes], *, kind: str = "french") -> None:
    """As a spreadsheet holds them: real dates and numbers."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Dossiers")
    sheet.append(headers(kind))
    for row in rows:
        cells = []
        for column in c.COLUMNS:
            value = row[column.name]
            if value and column.kind == "date":
                value = c.parse_date(value)
            elif value and column.kind == "money":
                value = float(c.parse_money(value))
            cells.append(value)
        sheet.append(cells)
    workbook.save(handle)
