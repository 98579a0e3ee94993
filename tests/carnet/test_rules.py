"""What the carnet says: both attesters, verdict vs criteria, bloc progress."""

from __future__ import annotations

from carnet.rules import Signed, bloc_progress, competence_status
from vae.referentiel.model import Referentiel


def _signed(role: str, verdict: str, keys: tuple[str, ...]) -> Signed:
    return Signed(role, verdict, frozenset(keys))


def test_attested_only_when_both_attest_maitrisee_with_80_percent(referentiel: Referentiel) -> None:
    c1 = referentiel.blocs["GRU"].competence("GRU-C1")  # 5 criteria, 4 needed
    four, three = c1.criterion_keys[:4], c1.criterion_keys[:3]
    both = competence_status(
        c1,
        tutor=_signed("tuteur", "maitrisee", four),
        manager=_signed("manager", "maitrisee", four),
    )
    assert both.attested and both.messages == ()
    assert both.summary == "Attestée par le tuteur et le manager"
    only_tutor = competence_status(c1, tutor=_signed("tuteur", "maitrisee", four), manager=None)
    assert not only_tutor.attested and only_tutor.attested_by == 1
    assert only_tutor.summary == "Attestée par le tuteur seulement"
    too_few = competence_status(
        c1,
        tutor=_signed("tuteur", "maitrisee", four),
        manager=_signed("manager", "maitrisee", three),
    )
    assert not too_few.attested
    assert any("n'a observé que 3 critère(s) sur 5 (il en faut 4)" in m for m in too_few.messages)


def test_verdict_and_criteria_disagreement_is_said_plainly(referentiel: Referentiel) -> None:
    c1 = referentiel.blocs["GRU"].competence("GRU-C1")
    all_keys = c1.criterion_keys
    status = competence_status(c1, tutor=_signed("tuteur", "en_cours", all_keys), manager=None)
    assert not status.attested
    assert status.messages == (
        "Le tuteur indique « en cours » alors que 5 critère(s) sur 5 sont observés : verdict et "
        "critères divergent.",
    )


def test_tutor_and_manager_disagreement(referentiel: Referentiel) -> None:
    c1 = referentiel.blocs["GRU"].competence("GRU-C1")
    keys = c1.criterion_keys
    status = competence_status(
        c1,
        tutor=_signed("tuteur", "maitrisee", keys),
        manager=_signed("manager", "non_observee", ()),
    )
    assert status.disagreement == (
        "Le tuteur et le manager ne sont pas d'accord : tuteur « maîtrisée », manager « non "
        "observée »."
    )


def test_bloc_progress_counts_and_explains(referentiel: Referentiel) -> None:
    pos = referentiel.blocs["POS"]  # 3 competences: all 3 needed
    signed = {}
    for competence in pos.competences[:2]:
        for role in ("tuteur", "manager"):
            signed[(competence.key, role)] = _signed(role, "maitrisee", competence.criterion_keys)
    last = pos.competences[2]
    signed[(last.key, "tuteur")] = _signed("tuteur", "maitrisee", last.criterion_keys)
    progress = bloc_progress(pos, signed)
    assert (progress.both, progress.one, progress.none, progress.required) == (2, 1, 0, 3)
    assert progress.shortfall == 1
    assert "encore 1 à faire attester par les deux" in progress.explanation
    signed[(last.key, "manager")] = _signed("manager", "maitrisee", last.criterion_keys)
    assert bloc_progress(pos, signed).shortfall == 0
    held = bloc_progress(pos, {}, held=True)
    assert held.shortfall == 0 and "déjà détenu" in held.explanation
