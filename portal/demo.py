"""Realistic demo data, created idempotently through the same services as the app."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from carnet.service import enrol
from portal.accounts.passwords import hash_password
from portal.demo_carnet import DEMO_NOW, fill_demo_carnet
from portal.demo_livret import fill_demo_livret
from portal.settings import Settings
from vae.audit.service import Actor
from vae.jury.models import JurySession, SessionKind
from vae.jury.service import assign_member, convene, plan_session
from vae.parcours.models import Parcours, Route
from vae.parcours.service import HeldBlocInput
from vae.people.models import (
    Branche,
    Civility,
    Organisation,
    OrganisationKind,
    OrganisationType,
    Role,
    User,
)
from vae.people.service import create_organisation, create_user, find_organisation, find_user
from vae.referentiel.models import CertificationRecord
from vae.referentiel.service import current_version

DEMO_PASSWORD = "Demo-CQP-2026!"  # noqa: S105 - published demo credential, see README
ACTOR = Actor.system("démonstration")
PARIS = ZoneInfo("Europe/Paris")

ORGANISATIONS = [
    ("CPAM de la Gironde", OrganisationType.CPAM, Branche.MALADIE, "Bordeaux"),
    ("CPAM du Nord", OrganisationType.CPAM, Branche.MALADIE, "Lille"),
    ("CAF du Rhône", OrganisationType.CAF, Branche.FAMILLE, "Lyon"),
    ("CAF de la Gironde", OrganisationType.CAF, Branche.FAMILLE, "Bordeaux"),
    ("CARSAT Bretagne", OrganisationType.CARSAT, Branche.RETRAITE, "Rennes"),
    ("CARSAT Rhône-Alpes", OrganisationType.CARSAT, Branche.RETRAITE, "Lyon"),
    ("URSSAF Île-de-France", OrganisationType.URSSAF, Branche.RECOUVREMENT, "Montreuil"),
    ("URSSAF Bretagne", OrganisationType.URSSAF, Branche.RECOUVREMENT, "Rennes"),
]
CERTIFYING_BODIES = [
    ("Ucanss", OrganisationType.UCANSS, "Montreuil"),
    ("Institut 4.10", OrganisationType.INSTITUT_410, "Paris"),
]


@dataclass(frozen=True)
class DemoPerson:
    email: str
    civility: Civility
    first_name: str
    last_name: str
    organisation: str
    roles: frozenset[Role]
    job_title: str = ""
    manager: str | None = None
    jury_training: date | None = None


def _p(
    email: str,
    civility: Civility,
    first: str,
    last: str,
    organisation: str,
    *roles: Role,
    job: str = "",
    manager: str | None = None,
    training: date | None = None,
) -> DemoPerson:
    return DemoPerson(
        f"{email}@demo.cqp.fr",
        civility,
        first,
        last,
        organisation,
        frozenset(roles),
        job,
        f"{manager}@demo.cqp.fr" if manager else None,
        training,
    )


F, M = Civility.MME, Civility.M
TRAINED = date(2026, 3, 12)
PEOPLE = [
    _p("admin", F, "Claire", "Dumont", "Ucanss", Role.ADMIN, job="Chargée de certification"),
    _p(
        "presidente",
        F,
        "Hélène",
        "Marchal",
        "Ucanss",
        Role.JURY_PRO,
        job="Présidente de jury",
        training=TRAINED,
    ),
    _p(
        "president.institut",
        M,
        "Olivier",
        "Renaud",
        "Institut 4.10",
        Role.JURY_PRO,
        job="Président de jury",
        training=TRAINED,
    ),
    _p(
        "expert.maladie",
        M,
        "Karim",
        "Benali",
        "CPAM du Nord",
        Role.JURY_PRO,
        job="Référent technique",
        training=TRAINED,
    ),
    _p(
        "expert.famille",
        F,
        "Sophie",
        "Lemaire",
        "CAF de la Gironde",
        Role.JURY_PRO,
        job="Responsable de service",
        training=TRAINED,
    ),
    _p(
        "expert.retraite",
        F,
        "Nadia",
        "Haddad",
        "CARSAT Rhône-Alpes",
        Role.JURY_PRO,
        job="Référente technique",
        training=TRAINED,
    ),
    _p(
        "expert.recouvrement",
        M,
        "Thomas",
        "Girard",
        "URSSAF Bretagne",
        Role.JURY_PRO,
        job="Manager opérationnel",
        training=TRAINED,
    ),
    _p(
        "jury.salarie",
        F,
        "Martine",
        "Roux",
        "CPAM du Nord",
        Role.JURY_NATIONAL,
        job="Collège salarié",
    ),
    _p(
        "jury.employeur",
        M,
        "Philippe",
        "Morel",
        "CAF de la Gironde",
        Role.JURY_NATIONAL,
        job="Collège employeur",
    ),
    # CPAM de la Gironde: COS, formation
    _p(
        "referent.cpam",
        F,
        "Isabelle",
        "Fontaine",
        "CPAM de la Gironde",
        Role.REFERENT,
        job="Chargée de formation",
    ),
    _p(
        "manager.cpam",
        M,
        "Julien",
        "Perrin",
        "CPAM de la Gironde",
        Role.MANAGER,
        job="Responsable accueil",
    ),
    _p(
        "tuteur.cpam",
        F,
        "Camille",
        "Noël",
        "CPAM de la Gironde",
        Role.TUTEUR,
        job="Conseillère experte",
        manager="manager.cpam",
    ),
    _p(
        "candidat.cos.formation",
        F,
        "Léa",
        "Martin",
        "CPAM de la Gironde",
        Role.CANDIDAT,
        job="Conseillère offres de services",
        manager="manager.cpam",
    ),
    # CAF du Rhône: COS, VAE (holds GRU and MDR from an earlier GC parcours)
    _p(
        "referent.caf",
        M,
        "Antoine",
        "Mercier",
        "CAF du Rhône",
        Role.REFERENT,
        job="Chargé de formation",
    ),
    _p(
        "manager.caf",
        F,
        "Aurélie",
        "Blanc",
        "CAF du Rhône",
        Role.MANAGER,
        job="Responsable de plateforme",
    ),
    _p(
        "tuteur.caf",
        M,
        "Hugo",
        "Lambert",
        "CAF du Rhône",
        Role.TUTEUR,
        job="Conseiller référent",
        manager="manager.caf",
    ),
    _p(
        "candidat.cos.vae",
        M,
        "Mehdi",
        "Bouaziz",
        "CAF du Rhône",
        Role.CANDIDAT,
        job="Conseiller offres de services",
        manager="manager.caf",
    ),
    _p(
        "candidat.cos.passerelle",
        F,
        "Inès",
        "Moreau",
        "CAF du Rhône",
        Role.CANDIDAT,
        job="Conseillère offres de services",
        manager="manager.caf",
    ),
    # URSSAF Île-de-France: GC, formation
    _p(
        "referent.urssaf",
        F,
        "Nathalie",
        "Garnier",
        "URSSAF Île-de-France",
        Role.REFERENT,
        job="Chargée de formation",
    ),
    _p(
        "manager.urssaf",
        M,
        "Franck",
        "Chevalier",
        "URSSAF Île-de-France",
        Role.MANAGER,
        job="Manager de proximité",
    ),
    _p(
        "tuteur.urssaf",
        F,
        "Émilie",
        "Robin",
        "URSSAF Île-de-France",
        Role.TUTEUR,
        job="Gestionnaire experte",
        manager="manager.urssaf",
    ),
    _p(
        "candidat.gc.formation",
        M,
        "Lucas",
        "Petit",
        "URSSAF Île-de-France",
        Role.CANDIDAT,
        job="Gestionnaire du recouvrement",
        manager="manager.urssaf",
    ),
    # CARSAT Bretagne: GC, VAE
    _p(
        "referent.carsat",
        M,
        "Yannick",
        "Le Goff",
        "CARSAT Bretagne",
        Role.REFERENT,
        job="Chargé de formation",
    ),
    _p(
        "manager.carsat",
        F,
        "Gwenaëlle",
        "Tanguy",
        "CARSAT Bretagne",
        Role.MANAGER,
        job="Responsable carrières",
    ),
    _p(
        "tuteur.carsat",
        M,
        "Erwan",
        "Kerjean",
        "CARSAT Bretagne",
        Role.TUTEUR,
        job="Technicien expert",
        manager="manager.carsat",
    ),
    _p(
        "candidat.gc.vae.soumis",
        F,
        "Julie",
        "Fabre",
        "URSSAF Île-de-France",
        Role.CANDIDAT,
        job="Gestionnaire du recouvrement",
        manager="manager.urssaf",
    ),
    _p(
        "candidat.gc.vae",
        F,
        "Sandrine",
        "Morvan",
        "CARSAT Bretagne",
        Role.CANDIDAT,
        job="Technicienne carrières et déclarations",
        manager="manager.carsat",
    ),
]

PARCOURS = [
    # candidate, certification, route, tutor, manager, start, held blocs
    (
        "candidat.cos.formation",
        "COS",
        Route.FORMATION,
        "tuteur.cpam",
        "manager.cpam",
        date(2026, 9, 7),
        (),
    ),
    (
        "candidat.cos.vae",
        "COS",
        Route.VAE,
        "tuteur.caf",
        "manager.caf",
        date(2026, 10, 5),
        (
            ("GRU", "CCP obtenu lors d'un parcours CQP Gestionnaire conseil (2024)"),
            ("MDR", "CCP obtenu lors d'un parcours CQP Gestionnaire conseil (2024)"),
        ),
    ),
    (
        "candidat.gc.formation",
        "GC",
        Route.FORMATION,
        "tuteur.urssaf",
        "manager.urssaf",
        date(2026, 9, 14),
        (),
    ),
    (
        "candidat.cos.passerelle",
        "COS",
        Route.VAE,
        "tuteur.caf",
        "manager.caf",
        date(2026, 9, 1),
        (
            ("GRU", "CCP obtenu au CQP Gestionnaire conseil (jury national du 18 mars 2025)"),
            ("MDR", "CCP obtenu au CQP Gestionnaire conseil (jury national du 18 mars 2025)"),
        ),
    ),
    ("candidat.gc.vae", "GC", Route.VAE, "tuteur.carsat", "manager.carsat", date(2026, 10, 12), ()),
    (
        "candidat.gc.vae.soumis",
        "GC",
        Route.VAE,
        "tuteur.urssaf",
        "manager.urssaf",
        date(2026, 6, 1),
        (),
    ),
]


@dataclass
class DemoReport:
    created: int = 0
    existing: int = 0


def _email(short: str) -> str:
    return f"{short}@demo.cqp.fr"


def create_demo(*, session: Session, settings: Settings) -> DemoReport:
    """Create (or complete) the demo data set. Needs the référentiel loaded."""
    version = current_version(session)
    if version is None:
        raise RuntimeError("load the référentiel first (vae-portal referentiel load)")
    report = DemoReport()
    organisations: dict[str, Organisation] = {}
    for name, org_type, branche, city in ORGANISATIONS:
        organisations[name] = _organisation(
            session, report, name, OrganisationKind.ORGANISME, org_type, branche, city
        )
    for name, org_type, city in CERTIFYING_BODIES:
        organisations[name] = _organisation(
            session, report, name, OrganisationKind.CERTIFICATEUR, org_type, None, city
        )
    users: dict[str, User] = {}
    for person in PEOPLE:
        user = find_user(session, person.email)
        if user is None:
            user = create_user(
                session=session,
                actor=ACTOR,
                email=person.email,
                civility=person.civility,
                first_name=person.first_name,
                last_name=person.last_name,
                organisation=organisations[person.organisation],
                roles=person.roles,
                job_title=person.job_title,
                manager=users.get(person.manager) if person.manager else None,
                jury_training_date=person.jury_training,
            )
            user.password_hash = hash_password(DEMO_PASSWORD)
            report.created += 1
        else:
            report.existing += 1
        users[person.email] = user
    certifications = {
        c.short: c
        for c in session.scalars(
            select(CertificationRecord).where(CertificationRecord.version_id == version.id)
        )
    }
    for candidate, short, route, tutor, manager, start, held in PARCOURS:
        user = users[_email(candidate)]
        if session.scalar(select(Parcours.id).where(Parcours.candidate_id == user.id)):
            report.existing += 1
            continue
        enrol(
            session=session,
            actor=ACTOR,
            candidate=user,
            certification=certifications[short],
            route=route,
            employer=user.organisation,
            tutor=users[_email(tutor)],
            manager=users[_email(manager)],
            start_date=start,
            held_blocs=[HeldBlocInput(bloc_key=k, origin=o) for k, o in held],
        )
        report.created += 1
    if fill_demo_carnet(session, users[_email("candidat.cos.formation")], DEMO_NOW):
        report.created += 1
    # Inès Moreau submitted in September: her interview took place on 8 October 2026
    for candidate, submitted in (
        ("candidat.gc.vae.soumis", DEMO_NOW),
        ("candidat.cos.passerelle", datetime(2026, 9, 21, 14, 0, tzinfo=PARIS)),
    ):
        if fill_demo_livret(session, users[_email(candidate)], submitted):
            report.created += 1
    _sessions(session, settings, report)
    session.flush()
    return report


def _organisation(
    session: Session,
    report: DemoReport,
    name: str,
    kind: OrganisationKind,
    org_type: OrganisationType,
    branche: Branche | None,
    city: str,
) -> Organisation:
    existing = find_organisation(session, name)
    if existing is not None:
        report.existing += 1
        return existing
    report.created += 1
    return create_organisation(
        session=session,
        actor=ACTOR,
        name=name,
        kind=kind,
        type=org_type,
        branche=branche,
        city=city,
    )


def _sessions(session: Session, settings: Settings, report: DemoReport) -> None:
    # kind, day, place, capacity, members, candidates convened (e-mail, Paris time)
    planned: list[
        tuple[
            SessionKind, date, str, int, tuple[tuple[str, str], ...], tuple[tuple[str, time], ...]
        ]
    ] = [
        (
            SessionKind.PROFESSIONNEL,
            date(2027, 2, 9),
            "Ucanss, Montreuil – salle 2",
            12,
            (("presidente", "president"), ("expert.recouvrement", "expert")),
            (),
        ),
        (
            SessionKind.PROFESSIONNEL,
            date(2026, 10, 8),
            "Institut 4.10, Lyon – salle Rhône",
            8,
            (("president.institut", "president"), ("expert.famille", "expert")),
            (("candidat.cos.passerelle", time(9, 30)),),
        ),
        (
            SessionKind.NATIONAL,
            date(2027, 3, 17),
            "Ucanss, Montreuil – salle du conseil",
            60,
            (),
            (),
        ),
    ]
    for kind, day, place, capacity, members, convened in planned:
        exists = session.scalar(
            select(JurySession.id).where(JurySession.kind == kind.value, JurySession.day == day)
        )
        if exists:
            report.existing += 1
            continue
        planned_session = plan_session(
            session=session,
            actor=ACTOR,
            kind=kind,
            day=day,
            place=place,
            capacity=capacity,
            months=settings.jury_months,
            exam_days=settings.jury_exam_days,
        )
        for email, quality in members:
            user = find_user(session, _email(email))
            assert user is not None
            assign_member(
                session=session,
                actor=ACTOR,
                jury_session=planned_session,
                user=user,
                quality=quality,
                now=DEMO_NOW,
            )
        for email, at in convened:
            candidate = find_user(session, _email(email))
            assert candidate is not None
            parcours = session.scalar(select(Parcours).where(Parcours.candidate_id == candidate.id))
            assert parcours is not None
            convene(
                session=session,
                actor=ACTOR,
                jury_session=planned_session,
                parcours=parcours,
                at=datetime.combine(day, at, tzinfo=PARIS),
                not_ready=None,
                now=datetime.combine(day - timedelta(days=10), time(10), tzinfo=PARIS),
            )
        report.created += 1


def demo_logins() -> list[tuple[str, str]]:
    """(e-mail, what the account is) for the README and the CLI."""
    return [
        (p.email, f"{p.first_name} {p.last_name} – {p.job_title} ({p.organisation})")
        for p in PEOPLE
    ]
