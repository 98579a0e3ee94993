"""Read and validate the référentiel data files.

Layout of a version folder::

    data/<version>/referentiel.toml   version, rules, VAE route, certifications
    data/<version>/blocs/<KEY>.toml   one file per bloc, shared by every certification using it

Every problem is reported as a ``ReferentielError`` naming the file, the key and what is wrong;
nothing is returned until the whole version is valid.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vae.referentiel.model import (
    Bloc,
    Certification,
    CertificationBloc,
    Competence,
    Criterion,
    FormationModality,
    Referentiel,
    VaeModality,
)

DATA_DIR = Path(__file__).resolve().parent / "data"
KEY_RE = re.compile(r"^[A-Z0-9]+(-[A-Z0-9]+)*$")
NUMBER_RE = re.compile(r"^C([1-9][0-9]*)$")


class ReferentielError(ValueError):
    """A référentiel data file is invalid."""

    def __init__(self, file: Path | str, key: str, problem: str) -> None:
        self.file = str(file)
        self.key = key
        self.problem = problem
        super().__init__(f"{self.file}: {key}: {problem}")


def available_versions(data_dir: Path = DATA_DIR) -> list[str]:
    return sorted(p.name for p in data_dir.iterdir() if (p / "referentiel.toml").is_file())


def latest_version_dir(data_dir: Path = DATA_DIR) -> Path:
    versions = available_versions(data_dir)
    if not versions:
        raise ReferentielError(data_dir, "-", "no référentiel version folder found")
    return data_dir / versions[-1]


def load(version_dir: Path | None = None) -> Referentiel:
    """Load and validate one version folder (the latest one by default)."""
    version_dir = version_dir or latest_version_dir()
    main_file = version_dir / "referentiel.toml"
    main = _read_toml(main_file)
    bloc_files = sorted((version_dir / "blocs").glob("*.toml"))
    raw_blocs = {path: _read_toml(path) for path in bloc_files}
    blocs = _parse_blocs(raw_blocs)
    _check_unique_keys(blocs)
    certifications = tuple(
        _parse_certification(main_file, f"certifications[{i}]", raw, blocs)
        for i, raw in enumerate(_list(main_file, "certifications", main, "certifications"))
    )
    if not certifications:
        raise ReferentielError(main_file, "certifications", "at least one certification is needed")
    _check_certifications(main_file, certifications, blocs, raw_blocs)
    vae_raw = _table(main_file, "vae", main, "vae")
    vae = VaeModality(
        summary=_text(main_file, "vae.summary", vae_raw, "summary"),
        interview=_text(main_file, "vae.interview", vae_raw, "interview"),
        situations_min=_int(main_file, "vae.situations_min", vae_raw, "situations_min", minimum=1),
        situations_max=_int(main_file, "vae.situations_max", vae_raw, "situations_max", minimum=1),
        interview_minutes=_int(
            main_file, "vae.interview_minutes", vae_raw, "interview_minutes", minimum=1
        ),
        notes=_texts(main_file, "vae.notes", vae_raw, "notes"),
    )
    if vae.situations_max < vae.situations_min:
        raise ReferentielError(main_file, "vae.situations_max", "is below situations_min")
    canonical = json.dumps(
        {"main": main, "blocs": {p.name: raw for p, raw in raw_blocs.items()}},
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return Referentiel(
        version=_text(main_file, "version", main, "version"),
        title=_text(main_file, "title", main, "title"),
        rules=_texts(main_file, "rules", main, "rules", required=True),
        vae=vae,
        certifications=certifications,
        blocs=blocs,
        sources=_texts(main_file, "sources", main, "sources"),
        notes=_texts(main_file, "notes", main, "notes"),
        content_hash=hashlib.sha256(canonical.encode()).hexdigest(),
    )


# --- parsing -------------------------------------------------------------------------------


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ReferentielError(path, "-", "file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ReferentielError(path, "-", f"invalid TOML ({exc})") from None
    except UnicodeDecodeError:
        raise ReferentielError(path, "-", "not valid UTF-8") from None


def _parse_blocs(raw_blocs: Mapping[Path, dict[str, Any]]) -> dict[str, Bloc]:
    blocs: dict[str, Bloc] = {}
    for path, raw in raw_blocs.items():
        key = _key(path, "key", raw, "key")
        if key != path.stem:
            raise ReferentielError(path, "key", f"{key!r} does not match the file name {path.name}")
        if key in blocs:
            raise ReferentielError(path, "key", f"duplicate bloc key {key!r}")
        raw_competences = _list(path, "competences", raw, "competences")
        if not raw_competences:
            raise ReferentielError(path, "competences", f"bloc {key} has no competence")
        competences = tuple(
            _parse_competence(path, f"competences[{i}]", item)
            for i, item in enumerate(raw_competences)
        )
        blocs[key] = Bloc(
            key=key,
            title=_text(path, "title", raw, "title"),
            activity=_text(path, "activity", raw, "activity"),
            formation=_parse_formation(path, _table(path, "formation", raw, "formation")),
            competences=competences,
            notes=_texts(path, "notes", raw, "notes"),
        )
    if not blocs:
        raise ReferentielError("blocs/", "-", "no bloc file found")
    return blocs


def _parse_competence(path: Path, where: str, raw: Any) -> Competence:
    if not isinstance(raw, dict):
        raise ReferentielError(path, where, "must be a table")
    key = _key(path, f"{where}.key", raw, "key")
    number = _text(path, f"{key}.number", raw, "number")
    if not NUMBER_RE.match(number):
        raise ReferentielError(path, f"{key}.number", f"{number!r} is not of the form C1, C2…")
    raw_criteria = _list(path, f"{key}.criteria", raw, "criteria")
    if not raw_criteria:
        raise ReferentielError(path, f"{key}.criteria", "a competence needs at least one criterion")
    criteria = []
    for i, item in enumerate(raw_criteria):
        if not isinstance(item, dict):
            raise ReferentielError(path, f"{key}.criteria[{i}]", "must be a table")
        criterion_key = _key(path, f"{key}.criteria[{i}].key", item, "key")
        criteria.append(
            Criterion(
                key=criterion_key,
                label=_text(path, f"{criterion_key}.label", item, "label"),
                notes=_texts(path, f"{criterion_key}.notes", item, "notes"),
            )
        )
    return Competence(
        key=key,
        number=number,
        label=_text(path, f"{key}.label", raw, "label"),
        criteria=tuple(criteria),
        notes=_texts(path, f"{key}.notes", raw, "notes"),
    )


def _parse_formation(path: Path, raw: dict[str, Any]) -> FormationModality:
    method = _text(path, "formation.method", raw, "method")
    if method not in ("observation", "presentation"):
        raise ReferentielError(
            path, "formation.method", f"{method!r} is neither 'observation' nor 'presentation'"
        )
    return FormationModality(
        method=method,
        carnet=_text(path, "formation.carnet", raw, "carnet"),
        evaluation=_text(path, "formation.evaluation", raw, "evaluation"),
        observed=_text(path, "formation.observed", raw, "observed", allow_empty=True),
        observation_minutes=_int(path, "formation.observation_minutes", raw, "observation_minutes"),
        interview_minutes=_int(path, "formation.interview_minutes", raw, "interview_minutes"),
        presentation_minutes=_int(
            path, "formation.presentation_minutes", raw, "presentation_minutes"
        ),
        evaluators=_texts(path, "formation.evaluators", raw, "evaluators", required=True),
        notes=_texts(path, "formation.notes", raw, "notes"),
    )


def _parse_certification(
    path: Path, where: str, raw: Any, blocs: Mapping[str, Bloc]
) -> Certification:
    if not isinstance(raw, dict):
        raise ReferentielError(path, where, "must be a table")
    code = _text(path, f"{where}.code", raw, "code")
    if not re.fullmatch(r"RNCP[0-9]+", code):
        raise ReferentielError(path, f"{where}.code", f"{code!r} is not an RNCP code")
    cert_blocs = []
    raw_blocs = _list(path, f"{code}.blocs", raw, "blocs")
    if not raw_blocs:
        raise ReferentielError(path, f"{code}.blocs", "a certification needs at least one bloc")
    for i, item in enumerate(raw_blocs):
        if not isinstance(item, dict):
            raise ReferentielError(path, f"{code}.blocs[{i}]", "must be a table")
        bloc_key = _key(path, f"{code}.blocs[{i}].key", item, "key")
        if bloc_key not in blocs:
            raise ReferentielError(path, f"{code}.blocs[{i}].key", f"unknown bloc {bloc_key!r}")
        bloc_code = _text(path, f"{code}.blocs[{i}].code", item, "code")
        if not bloc_code.startswith(code + "BC"):
            raise ReferentielError(
                path, f"{code}.blocs[{i}].code", f"{bloc_code!r} does not start with {code}BC"
            )
        cert_blocs.append(
            CertificationBloc(
                code=bloc_code,
                title=_text(path, f"{code}.blocs[{i}].title", item, "title"),
                bloc=blocs[bloc_key],
            )
        )
    return Certification(
        code=code,
        short=_key(path, f"{code}.short", raw, "short"),
        level=_int(path, f"{code}.level", raw, "level", minimum=1),
        title=_text(path, f"{code}.title", raw, "title"),
        objective=_text(path, f"{code}.objective", raw, "objective"),
        registration_end=_text(path, f"{code}.registration_end", raw, "registration_end"),
        blocs=tuple(cert_blocs),
        notes=_texts(path, f"{code}.notes", raw, "notes"),
    )


# --- cross-file checks ---------------------------------------------------------------------


def _check_unique_keys(blocs: Mapping[str, Bloc]) -> None:
    seen: dict[str, str] = {}
    for bloc in blocs.values():
        for competence in bloc.competences:
            for key in (competence.key, *competence.criterion_keys):
                if key in seen:
                    raise ReferentielError(
                        f"blocs/{bloc.key}.toml", key, f"duplicate key (already in {seen[key]})"
                    )
                seen[key] = f"blocs/{bloc.key}.toml"


def _check_certifications(
    path: Path,
    certifications: tuple[Certification, ...],
    blocs: Mapping[str, Bloc],
    raw_blocs: Mapping[Path, dict[str, Any]],
) -> None:
    codes: set[str] = set()
    shorts: set[str] = set()
    bloc_codes: set[str] = set()
    used: set[str] = set()
    for cert in certifications:
        if cert.code in codes or cert.short in shorts:
            raise ReferentielError(path, cert.code, "duplicate certification code or short name")
        codes.add(cert.code)
        shorts.add(cert.short)
        keys_in_cert: set[str] = set()
        for cert_bloc in cert.blocs:
            if cert_bloc.code in bloc_codes:
                raise ReferentielError(path, cert_bloc.code, "duplicate bloc code")
            if cert_bloc.key in keys_in_cert:
                raise ReferentielError(path, f"{cert.code}.blocs", f"bloc {cert_bloc.key} twice")
            bloc_codes.add(cert_bloc.code)
            keys_in_cert.add(cert_bloc.key)
        used |= keys_in_cert
        numbers = [int(c.number[1:]) for _, c in cert.competences()]
        if sorted(numbers) != list(range(1, len(numbers) + 1)):
            found = ", ".join(f"C{n}" for n in numbers)
            raise ReferentielError(
                path,
                f"{cert.code}.blocs",
                f"competence numbers must run C1…C{len(numbers)} without gap or repeat "
                f"(found {found})",
            )
    unused = sorted(set(blocs) - used)
    if unused:
        files = [p for p in raw_blocs if p.stem in unused]
        raise ReferentielError(files[0], "key", f"bloc {unused[0]} is used by no certification")


# --- typed accessors -----------------------------------------------------------------------


def _get(path: Path, where: str, raw: Mapping[str, Any], name: str) -> Any:
    if name not in raw:
        raise ReferentielError(path, where, "missing")
    return raw[name]


def _text(
    path: Path, where: str, raw: Mapping[str, Any], name: str, *, allow_empty: bool = False
) -> str:
    value = _get(path, where, raw, name)
    if not isinstance(value, str):
        raise ReferentielError(path, where, "must be a string")
    if not allow_empty and not value.strip():
        raise ReferentielError(path, where, "is empty")
    return value.strip()


def _key(path: Path, where: str, raw: Mapping[str, Any], name: str) -> str:
    value = _text(path, where, raw, name)
    if not KEY_RE.match(value):
        raise ReferentielError(path, where, f"{value!r} is not a key (A-Z, 0-9 and '-')")
    return value


def _int(path: Path, where: str, raw: Mapping[str, Any], name: str, *, minimum: int = 0) -> int:
    value = _get(path, where, raw, name)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ReferentielError(path, where, f"must be a whole number ≥ {minimum}")
    return value


def _list(path: Path, where: str, raw: Mapping[str, Any], name: str) -> list[Any]:
    value = _get(path, where, raw, name)
    if not isinstance(value, list):
        raise ReferentielError(path, where, "must be a list")
    return value


def _table(path: Path, where: str, raw: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = _get(path, where, raw, name)
    if not isinstance(value, dict):
        raise ReferentielError(path, where, "must be a table")
    return value


def _texts(
    path: Path, where: str, raw: Mapping[str, Any], name: str, *, required: bool = False
) -> tuple[str, ...]:
    if name not in raw and not required:
        return ()
    values = _list(path, where, raw, name)
    if required and not values:
        raise ReferentielError(path, where, "must not be empty")
    for i, value in enumerate(values):
        if not isinstance(value, str) or not value.strip():
            raise ReferentielError(path, f"{where}[{i}]", "must be a non-empty string")
    return tuple(v.strip() for v in values)
