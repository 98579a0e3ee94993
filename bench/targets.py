"""Which users and objects each benchmarked page is read with: the same kind of object at every
scale (chosen by rule, never at random), so query counts can be compared across scales."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bench.dataset import JURY_ORGS
from vae.decision.models import NationalDossier, Proclamation
from vae.jury.models import Convocation, JuryMember, JurySession
from vae.livret.models import Livret, Situation
from vae.parcours.models import Parcours
from vae.people.models import Organisation, User


@dataclass(frozen=True)
class Page:
    name: str
    role: str  # which signed-in user reads it (a key of Targets.users), "" for anonymous
    path: str


@dataclass
class Targets:
    users: dict[str, str]  # role → e-mail
    pages: list[Page]
    writers: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, e-mail, path)


def pick(engine: Engine) -> Targets:
    with Session(engine) as db:
        first_org = db.scalars(
            select(Organisation.id)
            .where(Organisation.kind == "organisme")
            .order_by(Organisation.id)
        ).all()[JURY_ORGS]
        # a VAE parcours of the first organisme that convenes candidates, with a situation
        parcours = db.scalars(
            select(Parcours)
            .join(Livret, Livret.parcours_id == Parcours.id)
            .where(Parcours.employer_id == first_org, Parcours.route == "vae")
            .order_by(Parcours.id)
        ).first()
        assert parcours is not None
        situation = db.scalars(
            select(Situation.id)
            .join(Livret)
            .where(Livret.parcours_id == parcours.id)
            .order_by(Situation.id)
        ).first()
        candidate = db.get(User, parcours.candidate_id)
        tutor = db.get(User, parcours.tutor_id)
        # the last jury professionnel session (grids being filled) and its president
        pro = db.scalars(
            select(JurySession)
            .where(JurySession.kind == "professionnel")
            .order_by(JurySession.day.desc(), JurySession.id.desc())
        ).first()
        assert pro is not None
        president = db.scalars(
            select(User)
            .join(JuryMember)
            .where(JuryMember.session_id == pro.id, JuryMember.quality == "president")
        ).one()
        convocation = db.scalars(
            select(Convocation.id).where(Convocation.session_id == pro.id).order_by(Convocation.at)
        ).first()
        # the first proclaimed national session (a full agenda at every scale)
        national = db.scalars(
            select(Proclamation.session_id).order_by(Proclamation.session_id)
        ).first()
        dossier = db.scalars(
            select(NationalDossier.id)
            .where(NationalDossier.session_id == national)
            .order_by(NationalDossier.id)
        ).first()
        users = {
            "candidat": candidate.email,  # type: ignore[union-attr]
            "tuteur": tutor.email,  # type: ignore[union-attr]
            "jury_pro": president.email,
            "jury_national": "national0@bench.fr",
            "admin": "admin@bench.fr",
        }
        writers = _writers(db, first_org)
    pages = [
        Page("ceiling", "", "/bench/ceiling"),
        Page("candidate dashboard", "candidat", "/tableau-de-bord"),
        Page("coverage matrix", "candidat", f"/parcours/{parcours.id}/livret/couverture"),
        Page("livret situation", "candidat", f"/livret/situations/{situation}"),
        Page("carnet", "candidat", f"/parcours/{parcours.id}/carnet"),
        Page("tutor worklist", "tuteur", "/carnets"),
        Page("jury session", "jury_pro", f"/jury/sessions/{pro.id}"),
        Page("evaluation grid", "jury_pro", f"/jury/evaluations/{convocation}"),
        Page("national session", "jury_national", f"/national/sessions/{national}"),
        Page("national dossier", "jury_national", f"/national/dossiers/{dossier}"),
        Page("référentiel", "admin", "/referentiel/RNCP35543"),
    ]
    return Targets(users, pages, writers)


def _writers(db: Session, first_org: int) -> list[tuple[str, str, str]]:
    """(kind, e-mail, path): candidates (livret autosave) and tutors (attestation drafts) of
    several organismes. Each writes only its own objects, so a conflict (409) is an error."""
    orgs = db.scalars(
        select(Organisation.id)
        .where(Organisation.kind == "organisme", Organisation.id >= first_org)
        .order_by(Organisation.id)
        .limit(32)
    ).all()
    writers: list[tuple[str, str, str]] = []
    for org in orgs:
        row = db.execute(
            select(User.email, func.min(Situation.id))
            .join(Parcours, Parcours.candidate_id == User.id)
            .join(Livret, Livret.parcours_id == Parcours.id)
            .join(Situation, Situation.livret_id == Livret.id)
            .where(Parcours.employer_id == org)
            .group_by(User.email)
            .order_by(func.min(Situation.id))
            .limit(1)
        ).first()
        if row:
            writers.append(("autosave", row[0], f"/livret/situations/{row[1]}"))
        tutor = db.execute(
            select(User.email, Parcours.id)
            .join(Parcours, Parcours.tutor_id == User.id)
            .where(Parcours.employer_id == org, ~Parcours.held_blocs.any())
            .order_by(Parcours.id)
            .limit(1)
        ).first()
        if tutor:
            writers.append(("attest", tutor[0], f"/parcours/{tutor[1]}/carnet/GRU-C1/attester"))
    return writers
