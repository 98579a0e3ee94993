"""The accounts list (Comptes): 50 per page, a search tolerant of accents and case, filters by
role (and by organisation for an administrator); a référent sees only their organisation.

The demo holds fewer than 50 accounts: the test adds invited accounts in an organisation of its
own (no other journey looks at it), straight into the server's database through the service.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import func, select

from portal.db import make_engine, make_session_factory, writer
from portal.demo import PEOPLE
from tests.browser.journey import sign_in
from tests.browser.server import LiveServer
from vae.audit.service import Actor
from vae.people.models import (
    ROLE_LABELS,
    Branche,
    Civility,
    Organisation,
    OrganisationKind,
    OrganisationType,
    Role,
    User,
)
from vae.people.service import create_organisation, create_user

CheckPage = Callable[[Page, str], None]
ADMIN = "admin@demo.cqp.fr"
REFERENT = "referent.cpam@demo.cqp.fr"
REFERENT_ORGANISATION = "CPAM de la Gironde"
EXTRA_ORGANISATION = "CPAM de l'Essai (comptes de test)"
EXTRA_ACCOUNTS = 60
PAGE_SIZE = 50


@pytest.fixture(scope="module")
def accounts(live_server: LiveServer) -> Iterator[int]:
    """Enough accounts for two pages at least; yields how many the database holds."""
    engine = make_engine(live_server.database_url)
    try:
        with make_session_factory(writer(engine))() as session:
            if (
                session.scalar(
                    select(Organisation.id).where(Organisation.name == EXTRA_ORGANISATION)
                )
                is None
            ):
                actor = Actor.system("tests")
                organisation = create_organisation(
                    session=session,
                    actor=actor,
                    name=EXTRA_ORGANISATION,
                    kind=OrganisationKind.ORGANISME,
                    type=OrganisationType.CPAM,
                    branche=Branche.MALADIE,
                    city="Essai",
                )
                for n in range(1, EXTRA_ACCOUNTS + 1):
                    create_user(
                        session=session,
                        actor=actor,
                        email=f"essai.{n:03d}@essai.cqp.fr",
                        civility=Civility.MME if n % 2 else Civility.M,
                        first_name="Compte",
                        last_name=f"Essai {n:03d}",
                        organisation=organisation,
                        roles={Role.CANDIDAT},
                    )
                session.commit()
            total = session.scalar(select(func.count()).select_from(User)) or 0
    finally:
        engine.dispose()
    assert total > PAGE_SIZE
    yield total


def _open_accounts(page: Page) -> None:
    nav = page.get_by_role("navigation", name="Navigation principale")
    nav.get_by_role("link", name="Comptes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Comptes")
    expect(nav.get_by_role("link", name="Comptes")).to_have_attribute("aria-current", "page")


def _rows(page: Page) -> Locator:
    return page.get_by_role("table").locator("tbody tr")


def _names(page: Page) -> list[str]:
    return [n.strip() for n in _rows(page).locator("td:first-child").all_inner_texts()]


def _search(page: Page, text: str) -> None:
    page.get_by_label("Nom, prénom ou adresse électronique").fill(text)
    page.get_by_role("button", name="Rechercher").click()


def test_administrator_pages_searches_and_filters(
    page: Page, check_page: CheckPage, accounts: int
) -> None:
    pages = -(-accounts // PAGE_SIZE)
    status = page.get_by_role("status")
    pagination = page.get_by_role("navigation", name="Pagination")

    sign_in(page, ADMIN)
    _open_accounts(page)
    expect(status).to_have_text(f"{accounts} comptes · page 1 sur {pages}")
    expect(_rows(page)).to_have_count(PAGE_SIZE)
    expect(pagination.get_by_role("link", name="Page 1", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    expect(pagination.get_by_role("link", name="Page précédente")).to_have_count(0)
    expect(page.get_by_role("link", name="Effacer la recherche")).to_have_count(0)
    first_page = _names(page)
    check_page(page, "liste-page-1")

    pagination.get_by_role("link", name="Page suivante").click()
    expect(page).to_have_url(re.compile(r"/admin/utilisateurs\?page=2$"))
    expect(page).to_have_title(re.compile(f"^Comptes — page 2 sur {pages}"))
    expect(status).to_contain_text(f"page 2 sur {pages}")
    expect(pagination.get_by_role("link", name="Page 2", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    expect(pagination.get_by_role("link", name="Page 1", exact=True)).not_to_have_attribute(
        "aria-current", "page"
    )
    expect(pagination.get_by_role("link", name="Page précédente")).to_be_visible()
    expect(_rows(page)).to_have_count(min(PAGE_SIZE, accounts - PAGE_SIZE))
    assert not set(_names(page)) & set(first_page), "page 2 repeats accounts of page 1"
    check_page(page, "liste-page-2")

    # Accents and case ignored: "HELENE" finds Hélène Marchal.
    _search(page, "HELENE")
    expect(page).to_have_url(re.compile(r"\?q=HELENE&"))
    expect(status).to_have_text("1 compte correspondant à la recherche")
    expect(_rows(page)).to_have_count(1)
    expect(_rows(page).first).to_contain_text("Marchal Hélène")
    expect(_rows(page).first).to_contain_text("Ucanss")
    expect(pagination).to_have_count(0)
    expect(page.get_by_label("Nom, prénom ou adresse électronique")).to_have_value("HELENE")
    check_page(page, "recherche-helene")

    _search(page, "zzz-personne")
    expect(status).to_have_text("Aucun compte ne correspond à cette recherche.")
    expect(page.get_by_role("table")).to_have_count(0)

    # A role, the search box emptied.
    jury = sorted(f"{p.last_name} {p.first_name}" for p in PEOPLE if Role.JURY_PRO in p.roles)
    page.get_by_label("Nom, prénom ou adresse électronique").fill("")
    page.get_by_label("Rôle", exact=True).select_option(label=ROLE_LABELS[Role.JURY_PRO])
    page.get_by_role("button", name="Rechercher").click()
    expect(page).to_have_url(re.compile(r"[?&]role=jury_pro$"))
    expect(status).to_have_text(f"{len(jury)} comptes correspondant à la recherche")
    expect(_rows(page)).to_have_count(len(jury))
    assert sorted(_names(page)) == jury
    expect(page.get_by_label("Rôle", exact=True)).to_have_value("jury_pro")
    check_page(page, "filtre-role")

    # The role and an organisation together.
    page.get_by_label("Organisation", exact=True).select_option(label="Ucanss")
    page.get_by_role("button", name="Rechercher").click()
    expect(_rows(page)).to_have_count(1)
    expect(_rows(page).first).to_contain_text("Marchal Hélène")

    page.get_by_role("link", name="Effacer la recherche").click()
    expect(page).to_have_url(re.compile(r"/admin/utilisateurs$"))
    expect(status).to_have_text(f"{accounts} comptes · page 1 sur {pages}")
    expect(page.get_by_label("Rôle", exact=True)).to_have_value("")
    expect(page.get_by_label("Organisation", exact=True)).to_have_value("")
    expect(page.get_by_label("Nom, prénom ou adresse électronique")).to_have_value("")


def test_referent_sees_only_their_organisation(
    page: Page, check_page: CheckPage, accounts: int
) -> None:
    managed = {Role.CANDIDAT, Role.TUTEUR, Role.MANAGER, Role.REFERENT}
    expected = sorted(
        f"{p.last_name} {p.first_name}"
        for p in PEOPLE
        if p.organisation == REFERENT_ORGANISATION and p.roles <= managed
    )
    assert expected

    sign_in(page, REFERENT)
    _open_accounts(page)
    status = page.get_by_role("status")
    expect(status).to_have_text(f"{len(expected)} comptes")
    expect(_rows(page)).to_have_count(len(expected))
    assert sorted(_names(page)) == expected
    table = page.get_by_role("table")
    # every account is of their organisation (the names above): no column repeating it
    expect(table.get_by_role("columnheader", name="Organisation")).to_have_count(0)
    expect(table).not_to_contain_text(ROLE_LABELS[Role.ADMIN])
    expect(table).not_to_contain_text("Dumont")
    expect(page.get_by_role("navigation", name="Pagination")).to_have_count(0)
    expect(page.get_by_label("Organisation", exact=True)).to_have_count(0)
    role_options = page.get_by_label("Rôle", exact=True).locator("option").all_inner_texts()
    assert ROLE_LABELS[Role.ADMIN] not in role_options
    assert ROLE_LABELS[Role.JURY_PRO] not in role_options
    check_page(page, "liste-referent")

    # Neither the administrator nor another organisation's account can be found.
    for text in ("dumont", "essai", "marchal"):
        _search(page, text)
        expect(status).to_have_text("Aucun compte ne correspond à cette recherche.")
    _search(page, "NOEL")  # Camille Noël, the CPAM tutor
    expect(_rows(page)).to_have_count(1)
    expect(_rows(page).first).to_contain_text("Noël Camille")
    check_page(page, "recherche-referent")
