"""Composition rules of a jury professionnel (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from vae.jury.rules import CandidateFacts, MemberFacts, conflicts, member_problems, review

TRAINED = date(2026, 3, 12)
PRESIDENT = MemberFacts(1, "Hélène Marchal", "president", 100, True, None, TRAINED, "Mme")
EXPERT_MALADIE = MemberFacts(2, "Karim Benali", "expert", 11, False, "Maladie", TRAINED, "M.")
LEA = CandidateFacts(10, "Léa Martin", 10, "CPAM de la Gironde", "Maladie", frozenset({20, 21}), 22)


def test_a_well_composed_jury_has_no_problem() -> None:
    result = review([PRESIDENT, EXPERT_MALADIE], [LEA])
    assert result.valid and result.warnings == ()


def test_president_must_come_from_the_certifying_body() -> None:
    wrong = replace(PRESIDENT, certifying_body=False, organisation_id=12)
    assert [p.rule for p in member_problems(wrong)] == ["president"]
    assert "ne peut pas présider" in member_problems(wrong)[0].message
    assert "pas de président" in review([EXPERT_MALADIE], [LEA]).problems[0].message


def test_training_is_mandatory_for_every_member() -> None:
    untrained = replace(EXPERT_MALADIE, trained_on=None)
    problems = member_problems(untrained)
    assert problems[0].rule == "formation" and "Karim Benali" in problems[0].message


def test_independence_employer_management_line_tutor() -> None:
    same_employer = replace(EXPERT_MALADIE, organisation_id=10)
    assert [p.rule for p in conflicts(same_employer, LEA)] == ["employeur"]
    n_plus_2 = replace(EXPERT_MALADIE, user_id=21)
    assert [p.rule for p in conflicts(n_plus_2, LEA)] == ["hierarchie"]
    tutor = replace(EXPERT_MALADIE, user_id=22)
    assert [p.rule for p in conflicts(tutor, LEA)] == ["tuteur"]
    trainer = replace(EXPERT_MALADIE, user_id=23)
    assert conflicts(trainer, replace(LEA, trainer_ids=frozenset({23})))[0].rule == "tuteur"
    assert "Léa Martin" in conflicts(same_employer, LEA)[0].message


def test_each_candidate_needs_an_expert_of_their_branche() -> None:
    famille = replace(
        LEA,
        parcours_id=11,
        name="Mehdi Bouaziz",
        branche="Famille",
        employer_id=30,
        management_line=frozenset(),
        tutor_id=None,
    )
    result = review([PRESIDENT, EXPERT_MALADIE], [LEA, famille])
    assert [p.rule for p in result.problems] == ["branche"]
    assert "branche Famille pour Mehdi Bouaziz" in result.problems[0].message


def test_gender_balance_is_a_warning_not_a_refusal() -> None:
    two_women = [PRESIDENT, replace(EXPERT_MALADIE, civility="Mme")]
    result = review(two_women, [LEA])
    assert result.valid
    assert result.warnings == (
        "Le jury n'est composé que de femmes : recherchez si possible un jury mixte.",
    )
