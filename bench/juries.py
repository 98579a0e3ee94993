"""Rows of the national-scale dataset: jury sessions, grids and avis, national decisions and
certificates."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bench.rows import Rows
from bench.text import text
from vae.decision.rules import grid_result
from vae.decision.signing import AvisContent, canonical_content, content_hash

if TYPE_CHECKING:
    from bench.facts import Carnets, ParcoursFacts, People, Person

TRAINED = date(2025, 6, 1)
MONTHS = (2, 4, 6, 10, 12)
# the same agenda size at every scale; the number of national sessions follows
DOSSIERS_PER_NATIONAL_SESSION = 120


def session_days(count: int) -> list[date]:
    """``count`` exam days spread from December 2025 to October 2026 (first 15 days of the
    jury months)."""
    days = [
        date(2025, 12, 1) + timedelta(days=n)
        for n in range(330)
        if (date(2025, 12, 1) + timedelta(days=n)).month in MONTHS
        and (date(2025, 12, 1) + timedelta(days=n)).day <= 15
    ]
    step = len(days) / count
    return [days[int(i * step)] for i in range(count)]


def at(day: date, hour: int = 9, minutes: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC) + timedelta(minutes=minutes)


class Juries:
    def __init__(
        self, rows: Rows, rng: random.Random, referentiel: Any, people: People, carnets: Carnets
    ) -> None:
        self.rows, self.rng, self.referentiel = rows, rng, referentiel
        self.people, self.carnets = people, carnets

    def sessions(
        self,
        *,
        convenable: list[ParcoursFacts],
        pro_sessions: int,
        per_session: int,
        certificateur: int,
        experts: dict[str, int],
        nationals: list[Person],
    ) -> None:
        rng = self.rng
        chosen = list(convenable)
        rng.shuffle(chosen)
        open_from = pro_sessions - max(1, pro_sessions // 10)  # the last ones: grids in progress
        signed: list[tuple[int, ParcoursFacts, dict[str, bool], date]] = []
        for number, day in enumerate(session_days(pro_sessions)):
            session_id = self.rows.add(
                "jury_sessions",
                kind="professionnel",
                day=day,
                place="Ucanss, Montreuil",
                capacity=per_session,
                created_at=at(day) - timedelta(days=60),
            )
            members = self._members(session_id, number, day, certificateur, experts)
            batch = chosen[number * per_session : (number + 1) * per_session]
            for slot, parcours in enumerate(batch):
                convocation = self.rows.add(
                    "convocations",
                    session_id=session_id,
                    parcours_id=parcours.id,
                    at=at(day, 7, 30 + 50 * (slot % 10)) + timedelta(days=slot // 10),
                    place="Ucanss, Montreuil",
                    created_at=at(day) - timedelta(days=45),
                    updated_at=at(day) - timedelta(days=45),
                )
                self.people.branches.setdefault(parcours.employer_id, None)
                parcours.branche = self.people.branches[parcours.employer_id]
                final = number < open_from
                evaluation, avis = self._evaluation(
                    convocation, session_id, parcours, members, day, final
                )
                if final:
                    signed.append((evaluation, parcours, avis, day))
            if number % 5 == 4:
                self.rows.flush()
        self._national(signed, nationals)

    def _members(
        self, session_id: int, number: int, day: date, certificateur: int, experts: dict[str, int]
    ) -> list[tuple[Person, str, str | None]]:
        assigned = at(day) - timedelta(days=50)
        president = self.people.user(
            certificateur,
            f"president.{number}@bench.fr",
            "Paule",
            f"Présidente{number}",
            {"jury_pro"},
            trained=TRAINED,
        )
        members: list[tuple[Person, str, str | None]] = [(president, "president", None)]
        for branche, org in experts.items():
            expert = self.people.user(
                org,
                f"expert.{number}.{branche.lower()}@bench.fr",
                "Éric",
                f"Expert{number}-{branche}",
                {"jury_pro"},
                trained=TRAINED,
            )
            members.append((expert, "expert", branche))
        for person, quality, _ in members:
            self.rows.add(
                "jury_members",
                session_id=session_id,
                user_id=person.id,
                quality=quality,
                assigned_at=assigned,
            )
        return members

    def _evaluation(
        self,
        convocation: int,
        session_id: int,
        parcours: ParcoursFacts,
        members: list[tuple[Person, str, str | None]],
        day: date,
        final: bool,
    ) -> tuple[int, dict[str, bool]]:
        rng, cert = self.rng, parcours.certification
        share = 1.0 if final else 0.6
        marks: dict[str, bool] = {}
        comments: dict[str, str] = {}
        for cert_bloc, competence in cert.competences():
            if cert_bloc.key in parcours.held:
                continue
            for key in competence.criterion_keys:
                if rng.random() < share:
                    marks[key] = rng.random() < 0.7 + 0.3 * parcours.progress
            if final or rng.random() < 0.5:
                comments[competence.key] = text(rng, 60, 300)
        result = grid_result(cert, marks, parcours.held)
        evaluation_id = self.rows.next_ids["evaluations"]
        avis: list[AvisContent] = []
        outcome: dict[str, bool] = {}
        for bloc in result.blocs:
            if bloc.held:
                continue
            favourable = bloc.validated if final else None
            recommendations = "" if favourable in (True, None) else text(rng, 120, 400)
            avis.append(AvisContent(bloc.key, favourable, "", recommendations))
            outcome[bloc.key] = bool(favourable)
        values: dict[str, Any] = {}
        if final:
            digest = content_hash(
                canonical_content(
                    evaluation_id=evaluation_id,
                    convocation_id=convocation,
                    parcours_id=parcours.id,
                    session_id=session_id,
                    certification_code=cert.code,
                    held_blocs=parcours.held,
                    marks=marks,
                    comments=comments,
                    avis=avis,
                )
            )
            signed_at = at(day, 16)
            values = {"content_hash": digest, "frozen_at": signed_at, "signed_at": signed_at}
        self.rows.add(
            "evaluations",
            id=evaluation_id,
            convocation_id=convocation,
            session_id=session_id,
            parcours_id=parcours.id,
            marks=marks,
            comments=comments,
            held_blocs=list(parcours.held),
            lock_version=3,
            created_at=at(day, 8),
            updated_at=at(day, 15),
            updated_by_id=members[0][0].id,
            **values,
        )
        for item in avis:
            self.rows.add(
                "bloc_avis",
                evaluation_id=evaluation_id,
                bloc_key=item.bloc_key,
                favourable=item.favourable,
                justification="",
                recommendations=item.recommendations,
            )
        if final:
            for person, quality, branche in members:
                if person.organisation_id == parcours.employer_id:
                    continue
                if quality == "president" or branche == parcours.branche:
                    self.rows.add(
                        "avis_signatures",
                        evaluation_id=evaluation_id,
                        user_id=person.id,
                        quality=quality,
                        signed_at=values["signed_at"],
                        ip="10.1.2.3",
                        content_hash=values["content_hash"],
                    )
        return evaluation_id, outcome

    def _national(
        self,
        signed: list[tuple[int, ParcoursFacts, dict[str, bool], date]],
        nationals: list[Person],
    ) -> None:
        per_session = DOSSIERS_PER_NATIONAL_SESSION
        count = max(1, -(-len(signed) // per_session))
        for number in range(count):
            batch = signed[number * per_session : (number + 1) * per_session]
            last_day = max((day for *_, day in batch), default=date(2026, 10, 15))
            day = last_day + timedelta(days=30)
            session_id = self.rows.add(
                "jury_sessions",
                kind="national",
                day=day,
                place="Ucanss, Paris",
                capacity=500,
                created_at=at(day) - timedelta(days=90),
            )
            recorder = nationals[number % len(nationals)]
            proclaimed = number < count - 1 or count == 1
            for evaluation, parcours, outcome, _ in batch:
                dossier = self.rows.add(
                    "national_dossiers",
                    session_id=session_id,
                    evaluation_id=evaluation,
                    parcours_id=parcours.id,
                    added_at=at(day) - timedelta(days=10),
                    added_by_id=recorder.id,
                )
                for bloc_key, validated in outcome.items():
                    self.rows.add(
                        "deliberations",
                        dossier_id=dossier,
                        bloc_key=bloc_key,
                        validated=validated,
                        reason="",
                        recorded_at=at(day, 10),
                        recorded_by_id=recorder.id,
                    )
                if proclaimed:
                    self._certificates(session_id, dossier, parcours, outcome, day)
            if proclaimed:
                self.rows.add(
                    "proclamations",
                    session_id=session_id,
                    proclaimed_at=at(day, 17),
                    proclaimed_by_id=recorder.id,
                )

    def _certificates(
        self,
        session_id: int,
        dossier: int,
        parcours: ParcoursFacts,
        outcome: dict[str, bool],
        day: date,
    ) -> None:
        cert = parcours.certification
        common = {
            "holder_id": parcours.candidate.id,
            "parcours_id": parcours.id,
            "dossier_id": dossier,
            "session_id": session_id,
            "certification_code": cert.code,
            "certification_short": cert.short,
            "certification_title": cert.title,
            "route": parcours.route,
            "issued_on": day,
            "holder_first_name": parcours.candidate.label.split()[0],
            "holder_last_name": parcours.candidate.label.split()[1],
            "created_at": at(day, 17),
        }
        for cert_bloc in cert.blocs:
            if outcome.get(cert_bloc.key):
                self.rows.add(
                    "certificates",
                    code=f"{self.rng.getrandbits(120):030x}",
                    kind="ccp",
                    bloc_key=cert_bloc.key,
                    bloc_code=cert_bloc.code,
                    bloc_title=cert_bloc.title,
                    **common,
                )
        if all(outcome.get(b.key) or b.key in parcours.held for b in cert.blocs):
            self.rows.add(
                "certificates",
                code=f"{self.rng.getrandbits(120):030x}",
                kind="cqp",
                bloc_key=None,
                bloc_code=None,
                bloc_title=None,
                **common,
            )
