"""The corpus figures, printed last (the module sorts after the corpus modules) for the note."""

from __future__ import annotations

import pytest

from tests.hostile.common import TALLY
from tests.hostile.test_files import HOSTILE_NAMES, REFUSED_FILES
from tests.hostile.text_cases import CASES


def test_corpus_size_and_summary(capsys: pytest.CaptureFixture[str]) -> None:
    refused_text = [c for c in CASES if 400 <= c.status < 500]
    accepted_text = [c for c in CASES if c.status < 400]
    tried = len(REFUSED_FILES) + len(HOSTILE_NAMES) + len(CASES)
    assert tried >= 40
    known = [c.id for c in CASES if c.postgres_defect]
    ran = sum(n for key, n in TALLY.items() if key.startswith("case:"))
    with capsys.disabled():
        print(
            f"\nHostile corpus: {tried} cases — files: {len(REFUSED_FILES)} refused, "
            f"{len(HOSTILE_NAMES)} hostile names accepted under generated names; "
            f"text: {len(refused_text)} refused, {len(accepted_text)} accepted as text "
            f"(escaped on display); no 500"
            + (
                f" (known defects, strict xfail on PostgreSQL: {', '.join(known)})."
                if known
                else "."
            )
        )
        if ran:
            print(
                f"Run in this session: {ran} cases, {TALLY['refused']} answered 4xx, "
                f"{TALLY['accepted']} accepted."
            )
