"""The accounts list (/admin/utilisateurs): paged, searched and filtered in SQL, a référent's
scope applied in SQL too (the same rule as ``permissions.user_manageable``), and a fixed number
of statements whatever the number of accounts."""

from __future__ import annotations

import re
from collections.abc import Iterable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from portal.listing import PAGE_SIZE as USERS_PAGE_SIZE
from portal.permissions import manageable_users_clause, user_manageable
from portal.settings import Settings
from tests.portal.statements import page_statements
from tests.portal.world import World, build_world, sign_in_as
from vae.people.models import Organisation, Role, User, UserRole

URL = "/admin/utilisateurs"
ROW = re.compile(r'<td><a href="/admin/utilisateurs/(\d+)">')


def _add_people(
    db: Session,
    org: Organisation,
    count: int,
    prefix: str,
    roles: Iterable[Role] = (Role.CANDIDAT,),
) -> list[User]:
    """``count`` accounts named ``{Prefix}{000…}`` (inserted directly: the list does not care
    how accounts were opened)."""
    people = [
        User(
            email=f"{prefix}{i:03}@liste.fr",
            civility="Mme",
            first_name="Prénom",
            last_name=f"{prefix.capitalize()}{i:03}",
            organisation_id=org.id,
            role_rows=[UserRole(role=r.value) for r in roles],
        )
        for i in range(count)
    ]
    db.add_all(people)
    db.flush()
    return people


def _ids(html: str) -> list[int]:
    return [int(i) for i in ROW.findall(html)]


def _all_pages(client: TestClient, query: str = "") -> list[int]:
    """Every account id listed, page after page, following the "Page suivante" links."""
    seen: list[int] = []
    url = f"{URL}?{query}" if query else URL
    for _ in range(50):
        page = client.get(url)
        assert page.status_code == 200
        seen += _ids(page.text)
        match = re.search(r'<a href="([^"]+)" rel="next">', page.text)
        if match is None:
            return seen
        url = match.group(1).replace("&amp;", "&")
    raise AssertionError("too many pages")


def _visible_to(db: Session, actor: User) -> set[int]:
    """What ``user_manageable`` (the per-object rule) lets ``actor`` see."""
    return {u.id for u in db.scalars(select(User)) if user_manageable(actor, u)}


def test_fifty_accounts_a_page_with_the_count_and_links(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    _add_people(db, world.cpam, 120, "liste")  # 130 accounts with the world's 10
    sign_in_as(client, db, settings, world.people["admin"])

    first = client.get(URL)
    assert first.status_code == 200
    assert len(_ids(first.text)) == USERS_PAGE_SIZE == 50
    assert re.search(r'<p role="status"[^>]*>130 comptes · page 1 sur 3</p>', first.text)
    assert '<nav aria-label="Pagination"' in first.text
    assert "· page 1 sur 3" in first.text
    assert f'<a href="{URL}" aria-current="page">' in first.text
    assert f'<a href="{URL}?page=2" rel="next">Page suivante</a>' in first.text
    assert 'rel="prev"' not in first.text

    last = client.get(f"{URL}?page=3")
    assert len(_ids(last.text)) == 30
    assert f'<a href="{URL}?page=3" aria-current="page">' in last.text
    assert f'<a href="{URL}?page=2" rel="prev">Page précédente</a>' in last.text
    assert 'rel="next"' not in last.text

    # every account once, in name order (the world's "Test" people after the "Liste" ones)
    listed = _all_pages(client)
    assert len(listed) == len(set(listed)) == 130
    names = [(u.last_name, u.first_name, u.id) for u in map(lambda i: db.get(User, i), listed)]
    assert names == sorted(names)


@pytest.mark.parametrize(
    ("page", "shown"),
    [
        ("0", 1),
        ("-3", 1),
        ("abc", 1),
        ("", 1),
        ("2.5", 1),
        ("1e3", 1),
        ("9" * 5000, 3),  # beyond what int() parses: past the end too, never a 500
        (" 2 ", 2),
        ("²", 1),
        ("99", 3),
        ("3", 3),
        ("2", 2),
    ],
)
def test_bad_page_numbers_are_clamped(
    client: TestClient, db: Session, settings: Settings, page: str, shown: int
) -> None:
    world = build_world(db)
    _add_people(db, world.cpam, 120, "liste")
    sign_in_as(client, db, settings, world.people["admin"])
    response = client.get(URL, params={"page": page})
    assert response.status_code == 200
    assert f"· page {shown} sur 3" in response.text
    assert len(_ids(response.text)) == (30 if shown == 3 else 50)


def test_no_account_matching_says_so_without_pages(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    sign_in_as(client, db, settings, world.people["admin"])
    response = client.get(URL, params={"q": "personne-de-ce-nom", "page": "7"})
    assert response.status_code == 200
    assert "Aucun compte ne correspond à cette recherche." in response.text
    assert _ids(response.text) == [] and "Pagination" not in response.text


def test_search_ignores_case_and_accents_on_names_and_email(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    helene = User(
        email="h.l@exemple.fr",
        civility="Mme",
        first_name="Hélène",
        last_name="LEFÈVRE",
        organisation_id=world.caf.id,
        role_rows=[UserRole(role=Role.CANDIDAT.value)],
    )
    other = User(
        email="p.lefebvre@exemple.fr",
        civility="M.",
        first_name="Paul",
        last_name="Lefebvre",
        organisation_id=world.caf.id,
        role_rows=[UserRole(role=Role.TUTEUR.value)],
    )
    db.add_all([helene, other])
    db.flush()
    sign_in_as(client, db, settings, world.people["admin"])

    def found(q: str) -> set[int]:
        response = client.get(URL, params={"q": q})
        assert response.status_code == 200
        return set(_ids(response.text))

    for q in ("lefevre", "Lefèvre", "LEFEVRE", "élène", "HELENE", "hélène lefèvre", "Lefevre H"):
        assert found(q) == {helene.id}, q
    assert found("  h.l@EXEMPLE  ") == {helene.id}
    assert found("exemple.fr") == {helene.id, other.id}
    assert found("lef") == {helene.id, other.id}
    assert found("hélène paul") == set()  # every word must match
    # wildcards of LIKE and GLOB are plain characters
    for q in ("%", "_", "*", "?", "[", "]", "[a-z]", "\\", "'", '"'):
        assert found(q) == set(), q
    page = client.get(URL, params={"q": "lefevre"})
    assert re.search(r"1 compte correspondant à la recherche</p>", page.text)
    assert 'value="lefevre"' in page.text


def test_role_and_organisation_filters(client: TestClient, db: Session, settings: Settings) -> None:
    world = build_world(db)
    _add_people(db, world.caf, 60, "caf", roles=(Role.CANDIDAT, Role.TUTEUR))
    sign_in_as(client, db, settings, world.people["admin"])
    page = client.get(URL)
    assert '<label for="f-organisation">Organisation</label>' in page.text
    assert '<label for="f-role">Rôle</label>' in page.text
    assert '<label for="f-q">' in page.text

    tutors = set(_all_pages(client, "role=tuteur"))
    expected = {u.id for u in db.scalars(select(User)) if Role.TUTEUR in u.roles}
    assert tutors == expected and len(tutors) == 62

    caf = set(_all_pages(client, f"organisation={world.caf.id}"))
    assert caf == {
        u.id for u in db.scalars(select(User).where(User.organisation_id == world.caf.id))
    }
    both = _all_pages(client, f"organisation={world.cpam.id}&role=tuteur&q=test")
    assert both == [world.people["tuteur"].id]
    # the filters are kept from page to page
    response = client.get(URL, params={"organisation": world.caf.id, "role": "candidat"})
    assert "61 comptes correspondant à la recherche · page 1 sur 2" in response.text
    assert f"{URL}?organisation={world.caf.id}&amp;role=candidat&amp;page=2" in response.text
    assert f'<option value="{world.caf.id}" selected>' in response.text
    assert '<option value="candidat" selected>' in response.text

    # unknown values are no filter, never an error
    everyone = len(_all_pages(client))
    assert len(_all_pages(client, "role=roi&organisation=abc")) == everyone
    assert len(_all_pages(client, "organisation=999999999")) == everyone


def test_a_referent_sees_only_the_accounts_they_manage(
    client: TestClient, db: Session, settings: Settings
) -> None:
    world = build_world(db)
    _add_people(db, world.cpam, 60, "cpam")
    _add_people(db, world.caf, 60, "caf")
    _add_people(db, world.caf, 3, "cafreferent", roles=(Role.REFERENT,))
    jury = _add_people(db, world.cpam, 2, "cpamjury", roles=(Role.CANDIDAT, Role.JURY_PRO))
    admin = _add_people(db, world.cpam, 1, "cpamadmin", roles=(Role.ADMIN,))
    referent = world.people["referent"]
    sign_in_as(client, db, settings, referent)

    listed = _all_pages(client)
    # the CPAM's candidat, tuteur, manager, référent and 60 candidates; no CAF account, no
    # account with a jury or administration role, even of the CPAM
    assert len(listed) == len(set(listed)) == 64
    assert set(listed) == _visible_to(db, referent)
    assert not {u.id for u in jury + admin} & set(listed)
    first = client.get(URL)
    assert "64 comptes · page 1 sur 2" in first.text
    assert len(_ids(client.get(URL, params={"page": "2"}).text)) == 14
    assert 'id="f-organisation"' not in first.text  # their organisation only
    assert (
        '<option value="admin"' not in first.text and '<option value="jury_pro"' not in first.text
    )

    # filters cannot widen the scope
    assert set(_all_pages(client, f"organisation={world.caf.id}")) == set(listed)
    assert _all_pages(client, "role=admin") == listed
    assert _all_pages(client, "role=jury_pro") == listed
    assert _all_pages(client, "q=caf") == []
    assert _all_pages(client, "q=cpamjury") == []
    assert _all_pages(client, "q=admin") == []
    assert set(_all_pages(client, "role=referent")) == {referent.id}


def test_the_sql_scope_is_user_manageable(db: Session) -> None:
    world = build_world(db)
    _add_people(db, world.cpam, 3, "mix", roles=(Role.TUTEUR, Role.REFERENT))
    _add_people(db, world.cpam, 2, "juryadmin", roles=(Role.JURY_NATIONAL, Role.MANAGER))
    _add_people(db, world.caf, 2, "cafref", roles=(Role.REFERENT,))
    nobody = User(
        email="sans-role@liste.fr",
        civility="M.",
        first_name="Sans",
        last_name="Rôle",
        organisation_id=world.cpam.id,
    )
    db.add(nobody)
    db.flush()
    for actor in world.people.values():
        in_sql = set(db.scalars(select(User.id).where(manageable_users_clause(actor))))
        assert in_sql == _visible_to(db, actor), actor.email


def _world_for_counts(db: Session) -> World:
    world = build_world(db)
    _add_people(db, world.cpam, 60, "cpam")
    _add_people(db, world.caf, 60, "caf", roles=(Role.CANDIDAT, Role.TUTEUR))
    return world


@pytest.mark.parametrize("role", ["admin", "referent"])
def test_statement_count_does_not_grow_with_the_accounts(
    client: TestClient, db: Session, settings: Settings, role: str
) -> None:
    world = _world_for_counts(db)
    sign_in_as(client, db, settings, world.people[role])
    urls = [
        URL,
        f"{URL}?page=2",
        f"{URL}?q=pr%C3%A9nom&role=candidat&organisation={world.cpam.id}",
    ]
    before = [page_statements(client, db, url)[0] for url in urls]
    _add_people(db, world.cpam, 150, "encore", roles=(Role.CANDIDAT, Role.TUTEUR, Role.MANAGER))
    _add_people(db, world.caf, 150, "ailleurs")
    _add_people(db, world.ucanss, 20, "jury", roles=(Role.JURY_PRO, Role.JURY_NATIONAL))
    after = [page_statements(client, db, url)[0] for url in urls]
    assert after == before
    assert max(after) <= 10
