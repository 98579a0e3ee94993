"""The retention rule: when a parcours ended, and when its period is over (pure functions)."""

from __future__ import annotations

from datetime import date

import pytest

from vae.anonymisation import is_anonymised, marker
from vae.retention import add_months, is_due, reference_date
from vae.retention_content import anonymise_snapshot


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2026, 3, 15), 12, date(2027, 3, 15)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 12, 1), 1, date(2027, 1, 1)),
    ],
)
def test_add_months_clamps_to_the_end_of_shorter_months(
    day: date, months: int, expected: date
) -> None:
    assert add_months(day, months) == expected


def test_end_date_wins_then_a_closed_parcours_ends_with_its_last_result() -> None:
    ended = reference_date(
        end_date=date(2026, 6, 30),
        closed=True,
        last_certificate=date(2026, 9, 1),
        last_proclamation=None,
    )
    assert ended == date(2026, 6, 30)
    closed = reference_date(
        end_date=None,
        closed=True,
        last_certificate=date(2026, 9, 1),
        last_proclamation=date(2026, 10, 2),
    )
    assert closed == date(2026, 10, 2)
    assert (
        reference_date(end_date=None, closed=True, last_certificate=None, last_proclamation=None)
        is None
    )
    # an open parcours without an end date has not ended, whatever was issued
    assert (
        reference_date(
            end_date=None, closed=False, last_certificate=date(2020, 1, 1), last_proclamation=None
        )
        is None
    )


def test_due_the_day_after_the_anniversary() -> None:
    end = date(2026, 3, 1)
    assert not is_due(end, now=date(2027, 2, 28), months=12)
    assert not is_due(end, now=date(2027, 3, 1), months=12)
    assert is_due(end, now=date(2027, 3, 2), months=12)
    assert is_due(end, now=date(2026, 4, 2), months=1)
    assert not is_due(None, now=date(2099, 1, 1), months=1)


def test_snapshot_keeps_structure_and_hashes_drops_texts_and_stored_names() -> None:
    mark = marker(date(2027, 3, 2))
    snapshot = {
        "parcours": 3,
        "edition": 1,
        "profile": {"current_job": "Agent", "current_service": "", "career": [{"job": "x"}]},
        "situations": [
            {
                "id": 9,
                "bloc": "GRU",
                "title": "Titre",
                "context": "Texte",
                "means": "",
                "competence_keys": ["GRU-C1"],
                "annexes": [{"name": "a.pdf", "sha256": "f" * 64, "stored": "x.pdf", "pages": 1}],
            }
        ],
    }
    result = anonymise_snapshot(snapshot, mark)
    assert result["profile"] == {
        "current_job": mark,
        "current_service": "",
        "career": [],
        "trainings": [],
    }
    situation = result["situations"][0]
    assert situation["title"] == mark and situation["context"] == mark and situation["means"] == ""
    assert situation["competence_keys"] == ["GRU-C1"] and situation["bloc"] == "GRU"
    assert situation["annexes"] == [{"name": mark, "sha256": "f" * 64, "pages": 1}]
    assert snapshot["situations"][0]["title"] == "Titre"  # the original is not touched
    assert is_anonymised(mark) and mark == "[anonymisé le 2027-03-02]"
    assert anonymise_snapshot(result, marker(date(2030, 1, 1))) == result  # idempotent
