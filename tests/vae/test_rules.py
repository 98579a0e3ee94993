"""The 80 % rules: edge cases from the guide, properties, explanations, CQP and passerelle."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vae.referentiel.model import Referentiel
from vae.rules import (
    cqp_delivered,
    evaluate_bloc,
    evaluate_certification,
    evaluate_competence,
    required_count,
    threshold_met,
)


@pytest.mark.parametrize(
    ("validated", "total", "expected"),
    [
        (3, 4, False),  # 75 %
        (4, 4, True),
        (2, 3, False),  # 66 %
        (3, 3, True),
        (4, 5, True),  # exactly 80 %
        (3, 5, False),
        (5, 6, True),  # 83 %
        (4, 6, False),
        (6, 7, True),  # 85 %
        (5, 7, False),  # 71 %
        (0, 1, False),
        (1, 1, True),
        (8, 10, True),
        (7, 10, False),
    ],
)
def test_threshold_edge_cases(validated: int, total: int, expected: bool) -> None:
    assert threshold_met(validated, total) is expected


@pytest.mark.parametrize(("total", "required"), [(1, 1), (3, 3), (4, 4), (5, 4), (6, 5), (7, 6)])
def test_required_count(total: int, required: int) -> None:
    assert required_count(total) == required


@pytest.mark.parametrize(("validated", "total"), [(-1, 3), (4, 3), (0, 0)])
def test_impossible_counts_are_refused(validated: int, total: int) -> None:
    with pytest.raises(ValueError):
        threshold_met(validated, total)


@given(total=st.integers(min_value=1, max_value=10_000), data=st.data())
def test_threshold_matches_exact_fraction(total: int, data: st.DataObject) -> None:
    validated = data.draw(st.integers(min_value=0, max_value=total))
    assert threshold_met(validated, total) == (Fraction(validated, total) >= Fraction(4, 5))


@given(total=st.integers(min_value=1, max_value=10_000))
def test_required_count_is_the_smallest_passing_count(total: int) -> None:
    required = required_count(total)
    assert threshold_met(required, total)
    assert required == 1 or not threshold_met(required - 1, total)


@given(total=st.integers(min_value=1, max_value=500), data=st.data())
def test_threshold_is_monotonic(total: int, data: st.DataObject) -> None:
    validated = data.draw(st.integers(min_value=0, max_value=total - 1))
    if threshold_met(validated, total):
        assert threshold_met(validated + 1, total)


def test_competence_result_explains_what_is_missing(referentiel: Referentiel) -> None:
    c1 = referentiel.blocs["GRU"].competence("GRU-C1")  # 5 criteria, 4 needed
    keys = c1.criterion_keys
    result = evaluate_competence(c1, set(keys[:3]))
    assert (result.validated, result.total, result.required) == (3, 5, 4)
    assert not result.acquired
    assert result.shortfall == 1
    assert result.missing_criteria == keys[3:]
    assert result.explanation == (
        "C1 non acquise : 3 critères validés sur 5 ; il en faut au moins 4 (80 %), "
        "il manque 1 critère validé."
    )
    passed = evaluate_competence(c1, set(keys[:4]))
    assert passed.acquired and passed.shortfall == 0
    assert passed.explanation.startswith("C1 acquise : 4 critères validés sur 5")


def test_criteria_of_other_competences_do_not_count(referentiel: Referentiel) -> None:
    gru = referentiel.blocs["GRU"]
    c1, c2 = gru.competences[0], gru.competences[1]
    assert evaluate_competence(c1, set(c2.criterion_keys)).validated == 0


def _all_criteria(*competences) -> set[str]:  # type: ignore[no-untyped-def]
    return {key for c in competences for key in c.criterion_keys}


def test_bloc_validated_at_five_of_six_competences(referentiel: Referentiel) -> None:
    gru = referentiel.blocs["GRU"]  # 6 competences: 5 needed
    five = _all_criteria(*gru.competences[:5])
    result = evaluate_bloc(gru, five)
    assert (result.acquired, result.total, result.required, result.validated) == (5, 6, 5, True)
    four = _all_criteria(*gru.competences[:4])
    failed = evaluate_bloc(gru, four)
    assert not failed.validated and failed.shortfall == 1
    assert failed.missing_competences == ("GRU-C5", "GRU-C6")
    assert "il manque 1 compétence acquise" in failed.explanation


def test_bloc_of_three_needs_all_three(referentiel: Referentiel) -> None:
    pos = referentiel.blocs["POS"]  # 3 competences: 2 of 3 fails
    assert not evaluate_bloc(pos, _all_criteria(*pos.competences[:2])).validated
    assert evaluate_bloc(pos, _all_criteria(*pos.competences)).validated


def test_bloc_of_four_fails_at_three(referentiel: Referentiel) -> None:
    td = referentiel.blocs["TD"]  # 4 competences: 3 of 4 is 75 %
    assert not evaluate_bloc(td, _all_criteria(*td.competences[:3])).validated


def test_held_bloc_is_validated_and_not_evaluated(referentiel: Referentiel) -> None:
    result = evaluate_bloc(referentiel.blocs["MDR"], set(), held=True)
    assert result.held and result.validated and result.competences == ()
    assert "déjà détenu" in result.explanation


def test_cqp_needs_every_bloc(referentiel: Referentiel) -> None:
    cos = referentiel.certification("COS")
    everything = {k for _, c in cos.competences() for k in c.criterion_keys}
    result = evaluate_certification(cos, everything)
    assert result.cqp and result.validated_blocs == ("GRU", "MDR", "POS", "TD")
    pos_criteria = set(referentiel.blocs["POS"].competences[0].criterion_keys)
    partial = evaluate_certification(cos, everything - pos_criteria)
    assert not partial.cqp
    assert partial.missing_blocs == ("POS",)
    assert partial.validated_blocs == ("GRU", "MDR", "TD")
    assert "manquant(s) : POS" in partial.explanation


def test_passerelle_gru_mdr_from_gc_count_for_cos(referentiel: Referentiel) -> None:
    """A candidate holding GRU and MDR from a GC parcours gets the COS CQP with POS and TD."""
    cos = referentiel.certification("COS")
    pos_td = _all_criteria(
        *referentiel.blocs["POS"].competences, *referentiel.blocs["TD"].competences
    )
    result = evaluate_certification(cos, pos_td, held_blocs={"GRU", "MDR"})
    assert result.cqp
    assert result.held_blocs == ("GRU", "MDR")
    assert result.validated_blocs == ("POS", "TD")  # one CCP each, none re-issued for held blocs
    assert "dont GRU, MDR déjà détenus" in result.explanation
    without_held = evaluate_certification(cos, pos_td)
    assert not without_held.cqp


def test_held_bloc_of_another_certification_is_ignored(referentiel: Referentiel) -> None:
    cos = referentiel.certification("COS")
    result = evaluate_certification(cos, set(), held_blocs={"GDU"})
    assert result.held_blocs == ()


def test_cqp_delivered_counts_any_origin(referentiel: Referentiel) -> None:
    gc = referentiel.certification("GC")
    assert cqp_delivered(gc, {"GRU", "MDR", "GDU"})
    assert not cqp_delivered(gc, {"GRU", "MDR"})
    assert cqp_delivered(gc, ["GRU", "MDR", "GDU", "POS"])


def test_gc_c16_needs_all_four_criteria(referentiel: Referentiel) -> None:
    c16 = referentiel.blocs["GDU"].competence("GDU-C16")
    assert len(c16.criteria) == 4
    keys = c16.criterion_keys
    assert not evaluate_competence(c16, set(keys[:3])).acquired
    assert evaluate_competence(c16, set(keys)).acquired
