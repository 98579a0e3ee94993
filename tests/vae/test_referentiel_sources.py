"""The référentiel data files are a word-for-word transcription of the source texts.

Every competence and criterion label of ``vae/referentiel/data/2021`` must occur in the source
text it was taken from (``vae/referentiel/sources``), once both are normalised:

- HTML tags and leading "- " / "•" bullets are removed from the source;
- a word cut after a hyphen at the end of a line is joined back ("auto-" + "contrôle");
- every run of whitespace becomes one space;
- ’ and ' are unified, and so are … and "...".

A bloc names its source in ``source``. For the blocs shared by both CQPs (GRU, MDR), written
once with the wording of the CQP GC référentiel ("usager"), the CQP COS référentiel is accepted
too once its "utilisateur" is read as "usager".

Where the PDF extraction interleaves table cells so that a label is cut in two by text of
another column, the data gives the pieces in ``source_fragments``: they must join into the
label and occur in that order in the source.

The expected criterion counts below were counted by hand in the référentiels.

Standard library only.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

REFERENTIEL_DIR = Path(__file__).resolve().parents[2] / "vae" / "referentiel"
DATA_DIR = REFERENTIEL_DIR / "data" / "2021"
SOURCES_DIR = REFERENTIEL_DIR / "sources"

# The référentiel of each certification (the source of its own blocs' wording).
REFERENTIEL_SOURCE = {
    "COS": "referentiel-cqp-cos.txt",
    "GC": "referentiel-cqp-gc.txt",
}
# Shared blocs follow the CQP GC référentiel, which says "usager" like both RNCP fiches.
SHARED_BLOC_SOURCE = "referentiel-cqp-gc.txt"

EXPECTED_CRITERIA = {
    "COS": {
        # GRU
        "C1": 5, "C2": 6, "C3": 6, "C4": 4, "C5": 4, "C6": 5,
        # MDR
        "C7": 6, "C8": 3, "C9": 4, "C10": 4, "C11": 3,
        # POS
        "C12": 4, "C13": 3, "C14": 3,
        # TD
        "C15": 4, "C16": 3, "C17": 3, "C18": 3,
    },
    "GC": {
        # GRU
        "C1": 5, "C2": 6, "C3": 6, "C4": 4, "C5": 4, "C6": 5,
        # MDR
        "C7": 6, "C8": 3, "C9": 4, "C10": 4, "C11": 3,
        # GDU (C16 repeats C15's three criteria, then adds a fourth)
        "C12": 7, "C13": 5, "C14": 4, "C15": 3, "C16": 4,
    },
}  # fmt: skip
EXPECTED_TOTALS = {"COS": 73, "GC": 73}
EXPECTED_BLOCS = {
    "COS": ["GRU", "MDR", "POS", "TD"],
    "GC": ["GRU", "MDR", "GDU"],
}


# --- normalisation -------------------------------------------------------------------------


def _unify(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\u2019", "'").replace("\u2026", "...")
    return re.sub(r"\s+", " ", text).strip()


def normalise_source(text: str) -> str:
    text = re.sub(r"(?i)<li>\s*-\s+", "<li>", text)  # "<li>- Un représentant…"
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"(\w)-[ \t]*\r?\n\s*(\w)", r"\1-\2", text)  # "auto-\ncontrôle"
    text = re.sub(r"(?m)^[ \t]*[-•][ \t]+", " ", text)  # line bullets
    return _unify(text)


def normalise_label(text: str) -> str:
    return _unify(text)


# --- loading -------------------------------------------------------------------------------


def _read_toml(path: Path) -> dict[str, Any]:
    with path.open("rb") as handle:
        return tomllib.load(handle)


MAIN = _read_toml(DATA_DIR / "referentiel.toml")
BLOCS = {path.stem: _read_toml(path) for path in sorted((DATA_DIR / "blocs").glob("*.toml"))}
CERTIFICATIONS = {cert["short"]: cert for cert in MAIN["certifications"]}
USED_BY = {
    key: sorted(
        short
        for short, cert in CERTIFICATIONS.items()
        if key in [cert_bloc["key"] for cert_bloc in cert["blocs"]]
    )
    for key in BLOCS
}
SOURCES = {
    path.name: normalise_source(path.read_text(encoding="utf-8"))
    for path in sorted(SOURCES_DIR.glob("*.txt"))
}


def _accepted_sources(bloc_key: str) -> dict[str, str]:
    """Normalised texts a label of this bloc may be found in, by name."""
    bloc = BLOCS[bloc_key]
    accepted = {bloc["source"]: SOURCES[bloc["source"]]}
    if len(USED_BY[bloc_key]) > 1:
        for short in USED_BY[bloc_key]:
            name = REFERENTIEL_SOURCE[short]
            if name != bloc["source"]:
                accepted[f"{name} (utilisateur→usager)"] = SOURCES[name].replace(
                    "utilisateur", "usager"
                )
    return accepted


def _labels() -> list[tuple[str, str, dict[str, Any]]]:
    """(bloc key, item key, item) for every competence and criterion."""
    items = []
    for bloc_key, bloc in BLOCS.items():
        for competence in bloc["competences"]:
            items.append((bloc_key, competence["key"], competence))
            for criterion in competence["criteria"]:
                items.append((bloc_key, criterion["key"], criterion))
    return items


LABELS = _labels()


def _counts(short: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for cert_bloc in CERTIFICATIONS[short]["blocs"]:
        for competence in BLOCS[cert_bloc["key"]]["competences"]:
            counts[competence["number"]] = len(competence["criteria"])
    return counts


def _in_order(fragments: list[str], source: str) -> bool:
    position = 0
    for fragment in fragments:
        found = source.find(fragment, position)
        if found < 0:
            return False
        position = found + len(fragment)
    return True


# --- the labels come from the sources ------------------------------------------------------


@pytest.mark.parametrize(
    ("bloc_key", "item"), [(b, item) for b, _, item in LABELS], ids=[k for _, k, _ in LABELS]
)
def test_label_occurs_in_its_source(bloc_key: str, item: dict[str, Any]) -> None:
    label = normalise_label(item["label"])
    accepted = _accepted_sources(bloc_key)
    if any(label in text for text in accepted.values()):
        return
    fragments = item.get("source_fragments")
    assert fragments, f"{item['key']}: label not found in {', '.join(accepted)}:\n  {label}"
    pieces = [normalise_label(f) for f in fragments]
    assert " ".join(pieces) == label, f"{item['key']}: source_fragments do not join into the label"
    primary = BLOCS[bloc_key]["source"]
    assert _in_order(pieces, SOURCES[primary]), (
        f"{item['key']}: source_fragments not found in this order in {primary}: {pieces}"
    )


@pytest.mark.parametrize(
    ("bloc_key", "item"),
    [(b, item) for b, _, item in LABELS if "source_fragments" in item],
    ids=[k for _, k, item in LABELS if "source_fragments" in item],
)
def test_source_fragments_are_consistent(bloc_key: str, item: dict[str, Any]) -> None:
    """Declared fragments always join into the label and occur in order, even when the
    whole label happens to occur elsewhere in the source (e.g. GDU-C15-3, repeated in C16)."""
    pieces = [normalise_label(f) for f in item["source_fragments"]]
    assert len(pieces) >= 2
    assert " ".join(pieces) == normalise_label(item["label"])
    assert _in_order(pieces, SOURCES[BLOCS[bloc_key]["source"]])


@pytest.mark.parametrize(
    ("bloc_key", "item"), [(b, item) for b, _, item in LABELS], ids=[k for _, k, _ in LABELS]
)
def test_label_is_clean_text(bloc_key: str, item: dict[str, Any]) -> None:
    label = item["label"]
    assert label == label.strip()
    assert "  " not in label and "\n" not in label and "\t" not in label
    assert not label.startswith(("-", "•")), "bullet left in the label"
    assert "<" not in label and ">" not in label, "HTML left in the label"


@pytest.mark.parametrize("bloc_key", sorted(BLOCS))
def test_bloc_source_follows_the_rules(bloc_key: str) -> None:
    bloc = BLOCS[bloc_key]
    assert bloc["key"] == bloc_key
    users = USED_BY[bloc_key]
    assert users, f"bloc {bloc_key} is used by no certification"
    if len(users) > 1:
        assert bloc["source"] == SHARED_BLOC_SOURCE
    else:
        assert bloc["source"] == REFERENTIEL_SOURCE[users[0]]


@pytest.mark.parametrize("bloc_key", ["GRU", "MDR", "GDU"])
def test_usager_wording_blocs_do_not_say_utilisateur(bloc_key: str) -> None:
    for competence in BLOCS[bloc_key]["competences"]:
        for text in [competence["label"], *(c["label"] for c in competence["criteria"])]:
            assert "utilisateur" not in text, text


# --- counts and numbering ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("short", "number", "expected"),
    [(s, n, e) for s, numbers in EXPECTED_CRITERIA.items() for n, e in numbers.items()],
    ids=[f"{s}-{n}" for s, numbers in EXPECTED_CRITERIA.items() for n in numbers],
)
def test_criteria_count(short: str, number: str, expected: int) -> None:
    counts = _counts(short)
    assert number in counts, f"{short} has no competence {number}"
    assert counts[number] == expected, (
        f"{short} {number}: {counts[number]} criteria, expected {expected}"
    )


@pytest.mark.parametrize("short", sorted(EXPECTED_TOTALS))
def test_criteria_total(short: str) -> None:
    assert sum(_counts(short).values()) == EXPECTED_TOTALS[short]


@pytest.mark.parametrize("short", sorted(EXPECTED_BLOCS))
def test_certification_blocs(short: str) -> None:
    assert [b["key"] for b in CERTIFICATIONS[short]["blocs"]] == EXPECTED_BLOCS[short]


@pytest.mark.parametrize("short", sorted(EXPECTED_CRITERIA))
def test_competence_numbers_appear_exactly_once(short: str) -> None:
    numbers = Counter(
        competence["number"]
        for cert_bloc in CERTIFICATIONS[short]["blocs"]
        for competence in BLOCS[cert_bloc["key"]]["competences"]
    )
    expected = {f"C{i}": 1 for i in range(1, len(EXPECTED_CRITERIA[short]) + 1)}
    assert dict(numbers) == expected


def test_keys_follow_the_bloc_and_position() -> None:
    for bloc_key, bloc in BLOCS.items():
        for competence in bloc["competences"]:
            assert competence["key"] == f"{bloc_key}-{competence['number']}"
            for position, criterion in enumerate(competence["criteria"], start=1):
                assert criterion["key"] == f"{competence['key']}-{position}"
                assert re.fullmatch(r"[A-Z0-9]+(-[A-Z0-9]+)*", criterion["key"])
