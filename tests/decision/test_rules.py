"""Table tests of the pure decision rules (``vae.decision.rules``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from vae.decision import rules
from vae.decision.rules import DossierFacts
from vae.referentiel.model import Certification, Referentiel

SIGNED = datetime(2027, 2, 9, 15, 0, tzinfo=UTC)


@pytest.fixture
def cos(referentiel: Referentiel) -> Certification:
    return referentiel.certification("COS")


@pytest.fixture
def gc(referentiel: Referentiel) -> Certification:
    return referentiel.certification("GC")


def all_marks(cert: Certification, value: bool = True) -> dict[str, bool]:
    return {c.key: value for _, comp in cert.competences() for c in comp.criteria}


# --- the grid ------------------------------------------------------------------------------


def test_grid_result_counts_unmarked_and_refused_criteria_as_not_validated(
    cos: Certification,
) -> None:
    marks = all_marks(cos)
    gru_c1 = cos.bloc("GRU").bloc.competences[0]
    for key in gru_c1.criterion_keys:
        marks[key] = False
    del marks[cos.bloc("TD").bloc.competences[0].criterion_keys[0]]
    result = rules.grid_result(cos, marks, held_blocs=())
    by_key = {b.key: b for b in result.blocs}
    assert not by_key["GRU"].competences[0].acquired
    assert by_key["GRU"].validated  # 5 of 6 competences: 83 %
    td_c15 = by_key["TD"].competences[0]
    assert td_c15.validated == td_c15.total - 1  # the unmarked criterion is not validated


def test_grid_result_treats_held_blocs_as_validated_and_not_evaluated(cos: Certification) -> None:
    result = rules.grid_result(cos, {}, held_blocs={"GRU", "MDR"})
    by_key = {b.key: b for b in result.blocs}
    assert by_key["GRU"].held and by_key["GRU"].validated and by_key["GRU"].competences == ()
    assert not by_key["POS"].validated
    assert result.missing_blocs == ("POS", "TD")


@pytest.mark.parametrize(
    ("held", "drop", "expected_blocs"),
    [
        (frozenset(), None, set()),
        (frozenset(), "POS", {"POS"}),
        (frozenset({"POS"}), "POS", set()),  # a held bloc is never "missing"
        (frozenset({"GRU", "MDR"}), "TD", {"TD"}),
    ],
)
def test_unmarked_criteria(
    cos: Certification, held: frozenset[str], drop: str | None, expected_blocs: set[str]
) -> None:
    marks = {k: v for k, v in all_marks(cos).items() if drop is None or not k.startswith(drop)}
    missing = rules.unmarked_criteria(cos, marks, held)
    assert set(missing) == expected_blocs
    for bloc_key in expected_blocs:
        assert missing[bloc_key] == tuple(
            c.key for comp in cos.bloc(bloc_key).bloc.competences for c in comp.criteria
        )


# --- the avis ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("computed", "favourable", "justification", "recommendations", "fields"),
    [
        (True, True, "", "", set()),
        (False, False, "", "Revoir le bloc.", set()),
        (True, None, "", "", {"favourable"}),
        (False, True, "", "", {"justification"}),
        (False, True, "Situation convaincante.", "", set()),
        (True, False, "", "", {"justification", "recommendations"}),
        (True, False, "Entretien hésitant.", "", {"recommendations"}),
        (True, False, "Entretien hésitant.", "Revoir C3.", set()),
        (False, False, "", "   ", {"recommendations"}),
        (False, True, "   ", "", {"justification"}),
    ],
)
def test_avis_problems(
    computed: bool,
    favourable: bool | None,
    justification: str,
    recommendations: str,
    fields: set[str],
) -> None:
    problems = rules.avis_problems(
        computed=computed,
        favourable=favourable,
        justification=justification,
        recommendations=recommendations,
    )
    assert set(problems) == fields
    assert all(message.endswith(".") for message in problems.values())


def test_avis_problem_messages_name_the_computed_result() -> None:
    problem = rules.avis_problems(
        computed=False, favourable=True, justification="", recommendations=""
    )
    assert problem["justification"] == (
        "La grille donne ce bloc non validé : justifiez l'avis qui s'en écarte."
    )


# --- the recours ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signed_at", "after", "days", "expected"),
    [
        (None, timedelta(0), 15, False),
        (SIGNED, timedelta(0), 15, True),
        (SIGNED, timedelta(days=15), 15, True),
        (SIGNED, timedelta(days=15, microseconds=1), 15, False),
        (SIGNED, timedelta(days=3), 2, False),
        (SIGNED, timedelta(days=30), 30, True),
    ],
)
def test_recours_open(
    signed_at: datetime | None, after: timedelta, days: int, expected: bool
) -> None:
    assert rules.recours_open(signed_at=signed_at, now=SIGNED + after, days=days) is expected


def test_recours_deadline() -> None:
    assert rules.recours_deadline(SIGNED, 15) == datetime(2027, 2, 24, 15, 0, tzinfo=UTC)


# --- the national decision -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("avis", "validated", "reason", "problem"),
    [
        (True, True, "", False),
        (False, False, "", False),
        (True, False, "", True),
        (False, True, "", True),
        (False, True, "   ", True),
        (False, True, "Le recours est fondé.", False),
    ],
)
def test_decision_problem(avis: bool, validated: bool, reason: str, problem: bool) -> None:
    found = rules.decision_problem(avis_favourable=avis, validated=validated, reason=reason)
    assert (found is not None) is problem
    if problem:
        assert "motivez" in found  # type: ignore[operator]


def facts(name: str, signed: bool, evaluated: tuple[str, ...], decided: set[str]) -> DossierFacts:
    return DossierFacts(name, signed, evaluated, frozenset(decided))


@pytest.mark.parametrize(
    ("dossiers", "expected"),
    [
        ([], ["Aucun dossier n'est inscrit à cette session."]),
        ([facts("A. Martin", True, ("GRU", "MDR"), {"GRU", "MDR"})], []),
        (
            [facts("A. Martin", False, ("GRU",), set())],
            ["A. Martin : l'avis du jury professionnel n'est pas signé."],
        ),
        (
            [
                facts("A. Martin", True, ("GRU", "MDR", "GDU"), {"GRU"}),
                facts("B. Durand", True, ("POS",), {"POS"}),
            ],
            ["A. Martin : pas de décision pour MDR, GDU."],
        ),
    ],
)
def test_proclamation_problems(dossiers: list[DossierFacts], expected: list[str]) -> None:
    assert rules.proclamation_problems(dossiers) == expected


# --- issuance ------------------------------------------------------------------------------


def test_passerelle_gc_holder_of_gru_and_mdr_gets_the_cos_cqp_after_pos_and_td(
    cos: Certification,
) -> None:
    issued = rules.issuance(cos, decided_validated={"POS", "TD"}, held_blocs={"GRU", "MDR"})
    assert issued.ccp_blocs == ("POS", "TD")  # GRU and MDR are held: no new CCP
    assert issued.acquired_blocs == ("GRU", "MDR", "POS", "TD")
    assert issued.missing_blocs == ()
    assert issued.cqp and not issued.partial and issued.cqp_withheld_reason is None


def test_a_missing_prerequisite_issues_the_ccps_and_withholds_the_cqp(gc: Certification) -> None:
    issued = rules.issuance(
        gc,
        decided_validated={"GRU", "MDR", "GDU"},
        held_blocs=set(),
        missing_prerequisites=("pass",),
    )
    assert issued.ccp_blocs == ("GRU", "MDR", "GDU")
    assert not issued.cqp
    assert issued.cqp_withheld_reason == (
        "CQP GC non délivré : prérequis manquant(s) : Formation Pass suivie intégralement. "
        "Les CCP sont délivrés."
    )


@pytest.mark.parametrize(
    ("decided", "held", "missing_prereq", "ccp", "missing", "cqp", "reason"),
    [
        ({"GRU", "MDR", "POS", "TD"}, set(), (), ("GRU", "MDR", "POS", "TD"), (), True, False),
        ({"GRU", "POS"}, set(), (), ("GRU", "POS"), ("MDR", "TD"), False, False),
        ({"GRU"}, {"GRU", "MDR"}, (), (), ("POS", "TD"), False, False),
        (set(), set(), (), (), ("GRU", "MDR", "POS", "TD"), False, False),
        # a partial validation: the CQP is not due, so no prerequisite reason either
        ({"GRU", "POS"}, set(), ("pass",), ("GRU", "POS"), ("MDR", "TD"), False, False),
        ({"POS", "TD"}, {"GRU", "MDR"}, ("pass", "premss"), ("POS", "TD"), (), False, True),
        # GDU is not a COS bloc: ignored
        ({"GDU"}, {"GDU"}, (), (), ("GRU", "MDR", "POS", "TD"), False, False),
    ],
)
def test_issuance_table(
    cos: Certification,
    decided: set[str],
    held: set[str],
    missing_prereq: tuple[str, ...],
    ccp: tuple[str, ...],
    missing: tuple[str, ...],
    cqp: bool,
    reason: bool,
) -> None:
    issued = rules.issuance(
        cos, decided_validated=decided, held_blocs=held, missing_prerequisites=missing_prereq
    )
    assert issued.ccp_blocs == ccp
    assert issued.missing_blocs == missing
    assert issued.cqp is cqp
    assert (issued.cqp_withheld_reason is not None) is reason
    if reason:
        assert "Prem'ss" in issued.cqp_withheld_reason  # type: ignore[operator]


# --- who signs the avis --------------------------------------------------------------------

PRESIDENT = rules.SignerFacts(1, "president", None, 10)  # Ucanss: no branche
MALADIE = rules.SignerFacts(2, "expert", "maladie", 20)
FAMILLE = rules.SignerFacts(3, "expert", "famille", 30)
MALADIE_OF_EMPLOYER = rules.SignerFacts(4, "expert", "maladie", 40)
NO_BRANCHE = rules.SignerFacts(5, "expert", None, 50)
SECOND_PRESIDENT = rules.SignerFacts(6, "president", None, 60)


@pytest.mark.parametrize(
    ("members", "branche", "employer", "expected"),
    [
        # the président and the expert of the candidate's branche
        ([PRESIDENT, MALADIE], "maladie", 40, {1, 2}),
        # a third member of another branche sits for other candidates, not this one
        ([PRESIDENT, MALADIE, FAMILLE], "maladie", 40, {1, 2}),
        ([PRESIDENT, MALADIE, FAMILLE], "famille", 40, {1, 3}),
        # never a member of the candidate's own organisme
        ([PRESIDENT, MALADIE, MALADIE_OF_EMPLOYER], "maladie", 40, {1, 2}),
        ([PRESIDENT, MALADIE], "maladie", 10, {2}),
        # an expert without a branche never matches, not even a candidate without one
        ([PRESIDENT, NO_BRANCHE], None, 40, {1}),
        ([PRESIDENT, NO_BRANCHE], "maladie", 40, {1}),
        # every président signs
        ([PRESIDENT, SECOND_PRESIDENT, FAMILLE], "famille", 40, {1, 6, 3}),
        ([], "maladie", 40, set()),
    ],
)
def test_required_signers(
    members: list[rules.SignerFacts], branche: str | None, employer: int, expected: set[int]
) -> None:
    assert rules.required_signers(members, branche, employer) == frozenset(expected)
