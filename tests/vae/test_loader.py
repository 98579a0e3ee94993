"""The loader refuses bad data with the file, the key and what is wrong."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from vae.referentiel import loader
from vae.referentiel.loader import ReferentielError


@pytest.fixture
def version_dir(tmp_path: Path) -> Path:
    target = tmp_path / "2099"
    shutil.copytree(loader.latest_version_dir(), target)
    return target


def _edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def test_shipped_data_loads_with_shared_blocs(referentiel) -> None:  # type: ignore[no-untyped-def]
    cos = referentiel.certification("RNCP35543")
    gc = referentiel.certification("GC")
    assert (cos.short, cos.level, gc.short, gc.level) == ("COS", 4, "GC", 5)
    assert cos.bloc_keys == ("GRU", "MDR", "POS", "TD")
    assert gc.bloc_keys == ("GRU", "MDR", "GDU")
    assert [b.code for b in cos.blocs] == [f"RNCP35543BC0{i}" for i in range(1, 5)]
    assert [b.code for b in gc.blocs] == [f"RNCP35729BC0{i}" for i in range(1, 4)]
    # identity, not copies
    assert cos.bloc("GRU").bloc is gc.bloc("GRU").bloc
    assert cos.bloc("MDR").bloc is gc.bloc("MDR").bloc
    assert [len(b.bloc.competences) for b in cos.blocs] == [6, 5, 3, 4]
    assert [len(b.bloc.competences) for b in gc.blocs] == [6, 5, 5]
    assert referentiel.vae.interview_minutes == 45
    assert (referentiel.vae.situations_min, referentiel.vae.situations_max) == (1, 2)


def test_gc_c16_anomaly_is_recorded(referentiel) -> None:  # type: ignore[no-untyped-def]
    gdu = referentiel.blocs["GDU"]
    c15, c16 = gdu.competence("GDU-C15"), gdu.competence("GDU-C16")
    norm = [label.replace("’", "'") for label in (c.label for c in c16.criteria[:3])]
    assert norm == [c.label.replace("’", "'") for c in c15.criteria]
    assert any("répètent ceux de C15" in note for note in c16.notes)


def test_formation_modalities(referentiel) -> None:  # type: ignore[no-untyped-def]
    blocs = referentiel.blocs
    assert blocs["MDR"].formation.method == "presentation"
    assert all(blocs[k].formation.method == "observation" for k in ("GRU", "POS", "TD", "GDU"))
    assert blocs["GRU"].formation.observation_minutes == 20
    assert blocs["GDU"].formation.observation_minutes == 90
    assert all(b.formation.evaluators for b in blocs.values())


def test_content_hash_is_stable(version_dir: Path) -> None:
    assert loader.load(version_dir).content_hash == loader.load(version_dir).content_hash
    _edit(
        version_dir / "blocs" / "TD.toml",
        "Transmet les informations au bon service",
        "Transmet les informations au service compétent",
    )
    assert (
        loader.load(version_dir).content_hash
        != loader.load(loader.latest_version_dir()).content_hash
    )


Case = tuple[str, Callable[[Path], None], str, str]

CASES: list[Case] = [
    (
        "duplicate criterion key",
        lambda d: _edit(d / "blocs" / "TD.toml", 'key = "TD-C18-2"', 'key = "TD-C18-1"'),
        "TD.toml",
        "duplicate key",
    ),
    (
        "key used in two blocs",
        lambda d: _edit(d / "blocs" / "POS.toml", 'key = "POS-C12-1"', 'key = "GRU-C1-1"'),
        "GRU-C1-1",
        "duplicate key",
    ),
    (
        "empty criterion",
        lambda d: _edit(
            d / "blocs" / "TD.toml",
            'label = "Transmet les informations au bon service"',
            'label = "  "',
        ),
        "TD-C18-2.label",
        "is empty",
    ),
    (
        "unknown bloc",
        lambda d: _edit(d / "referentiel.toml", '{ key = "TD",', '{ key = "XX",'),
        "referentiel.toml",
        "unknown bloc 'XX'",
    ),
    (
        "bloc with no competence",
        lambda d: (d / "blocs" / "TD.toml").write_text(
            "competences = []\n"
            + (d / "blocs" / "TD.toml").read_text(encoding="utf-8").split("[[competences]]")[0],
            encoding="utf-8",
        ),
        "TD.toml",
        "bloc TD has no competence",
    ),
    (
        "invalid TOML",
        lambda d: (d / "blocs" / "POS.toml").write_text('key = "POS\n', encoding="utf-8"),
        "POS.toml",
        "invalid TOML",
    ),
    (
        "duplicate TOML key",
        lambda d: _edit(d / "blocs" / "POS.toml", 'key = "POS"', 'key = "POS"\nkey = "POS"'),
        "POS.toml",
        "invalid TOML",
    ),
    (
        "bloc key not matching file",
        lambda d: _edit(d / "blocs" / "POS.toml", 'key = "POS"', 'key = "PXS"'),
        "POS.toml",
        "does not match the file name",
    ),
    (
        "gap in competence numbers",
        lambda d: _edit(d / "blocs" / "TD.toml", 'number = "C18"', 'number = "C19"'),
        "RNCP35543.blocs",
        "without gap or repeat",
    ),
    (
        "bad competence number",
        lambda d: _edit(d / "blocs" / "TD.toml", 'number = "C18"', 'number = "18"'),
        "TD-C18.number",
        "not of the form",
    ),
    (
        "missing label",
        lambda d: _edit(
            d / "blocs" / "TD.toml", 'label = "Transmet les informations au bon service"', ""
        ),
        "TD-C18-2.label",
        "missing",
    ),
    (
        "bloc used by nothing",
        lambda d: (d / "blocs" / "ZZ.toml").write_text(
            (d / "blocs" / "TD.toml")
            .read_text(encoding="utf-8")
            .replace('key = "TD"', 'key = "ZZ"', 1)
            .replace('"TD-C', '"ZZ-C'),
            encoding="utf-8",
        ),
        "ZZ.toml",
        "used by no certification",
    ),
    (
        "bloc code of another certification",
        lambda d: _edit(d / "referentiel.toml", 'code = "RNCP35543BC04"', 'code = "RNCP35729BC04"'),
        "referentiel.toml",
        "does not start with RNCP35543BC",
    ),
    (
        "wrong modality method",
        lambda d: _edit(d / "blocs" / "TD.toml", 'method = "observation"', 'method = "quiz"'),
        "formation.method",
        "neither",
    ),
]


@pytest.mark.parametrize(("name", "mutate", "where", "problem"), CASES, ids=[c[0] for c in CASES])
def test_bad_data_is_refused_with_file_key_and_problem(
    version_dir: Path, name: str, mutate: Callable[[Path], None], where: str, problem: str
) -> None:
    mutate(version_dir)
    with pytest.raises(ReferentielError) as error:
        loader.load(version_dir)
    message = str(error.value)
    assert where in message, message
    assert problem in message, message
