"""The official référentiel: versioned data files, their loader, and the database copy."""

from vae.referentiel.model import (
    Bloc,
    Certification,
    Competence,
    Criterion,
    FormationModality,
    Referentiel,
    VaeModality,
)

__all__ = [
    "Bloc",
    "Certification",
    "Competence",
    "Criterion",
    "FormationModality",
    "Referentiel",
    "VaeModality",
]
