"""Self-tests of the accessibility gate: each check must fail on a page broken on purpose.

If one of these fails, a check has stopped working and the journeys prove nothing.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.a11y import (
    check_a11y,
    check_errors_described,
    check_focus_visible,
    check_labels,
)
from tests.browser.keyboard import keyboard_only


def inject(page: Page, html: str) -> None:
    """Append ``html`` to the main content (a DOM change: no template is touched)."""
    page.evaluate(
        "(html) => document.querySelector('main').insertAdjacentHTML('beforeend', html)", html
    )


def test_axe_fails_on_an_unlabelled_field(page: Page) -> None:
    page.goto("/")
    check_a11y(page, "accueil")  # clean before
    inject(page, '<input type="text" id="gate-selftest" name="sans-label">')
    with pytest.raises(AssertionError) as failure:
        check_a11y(page, "accueil + champ sans label")
    message = str(failure.value)
    assert 'on "accueil + champ sans label"' in message
    assert "- label [critical]: Form elements must have labels" in message
    assert "#gate-selftest" in message and 'name="sans-label"' in message


def test_axe_runs_on_a_page_without_javascript(nojs_page: Page) -> None:
    nojs_page.goto("/referentiel")
    check_a11y(nojs_page, "référentiel sans JavaScript")  # clean before
    inject(nojs_page, '<img src="/static/app.css" id="gate-selftest">')
    with pytest.raises(AssertionError) as failure:
        check_a11y(nojs_page, "référentiel sans JavaScript + image sans alternative")
    assert "- image-alt [critical]" in str(failure.value)
    assert "#gate-selftest" in str(failure.value)


def test_labels_check_wants_a_real_label(page: Page) -> None:
    page.goto("/")
    inject(
        page,
        '<label for="ok-1">Nom</label><input id="ok-1">'
        '<label>Prénom <input id="ok-2"></label>'
        '<span id="ok-3-label">Ville</span><input id="ok-3" aria-labelledby="ok-3-label">'
        '<input id="ok-4" aria-label="Code postal">'
        '<input type="hidden" name="csrf"><input type="submit" value="Envoyer">'
        '<select id="hidden-select" hidden></select>',
    )
    check_labels(page, "champs étiquetés")  # all of these are labelled or need no label
    inject(
        page,
        '<input id="bad-placeholder" placeholder="Adresse e-mail" title="Adresse e-mail">'
        '<textarea id="bad-labelledby" aria-labelledby="nowhere"></textarea>'
        '<label for="bad-empty"> </label><select id="bad-empty"></select>',
    )
    with pytest.raises(AssertionError) as failure:
        check_labels(page, "champs sans étiquette")
    message = str(failure.value)
    assert 'form fields without a label on "champs sans étiquette"' in message
    for selector in ("input#bad-placeholder", "textarea#bad-labelledby", "select#bad-empty"):
        assert f"- {selector}: no label" in message
    assert "ok-" not in message


def test_errors_check_wants_aria_describedby_to_the_message(page: Page) -> None:
    page.goto("/")
    inject(
        page,
        '<label for="email">Adresse e-mail</label>'
        '<input id="email" aria-invalid="true" aria-describedby="email-error">'
        '<p id="email-error" class="error-message">Saisissez une adresse e-mail valide.</p>',
    )
    check_errors_described(page, "erreur reliée")
    inject(
        page,
        '<label for="e1">Nom</label><input id="e1" aria-invalid="true">'
        '<label for="e2">Ville</label><input id="e2" aria-invalid="true" aria-describedby="nope">'
        '<label for="e3">Code</label><input id="e3" aria-invalid="true" aria-describedby="e3-e">'
        '<p id="e3-e"></p>',
    )
    with pytest.raises(AssertionError) as failure:
        check_errors_described(page, "erreurs non reliées")
    message = str(failure.value)
    assert '- input#e1: aria-invalid="true" without aria-describedby' in message
    assert "- input#e2: aria-describedby names missing ids: nope" in message
    assert "- input#e3: aria-describedby points only at elements without text" in message
    assert "input#email" not in message


def test_focus_check_fails_on_a_hidden_focus_ring(page: Page) -> None:
    page.goto("/")
    assert check_focus_visible(page, "accueil") >= 4  # skip link, brand, nav links, content
    page.add_style_tag(content="#gate-selftest:focus-visible { outline: none; }")
    inject(page, '<p><a id="gate-selftest" href="#contenu">Lien sans focus visible</a></p>')
    with pytest.raises(AssertionError) as failure:
        check_focus_visible(page, "accueil + lien sans focus visible")
    message = str(failure.value)
    assert "focus not visible (WCAG 2.4.7)" in message
    assert "- a#gate-selftest: focused looks unfocused" in message


def test_keyboard_only_fails_when_the_mouse_is_used(page: Page) -> None:
    page.goto("/")
    link = page.get_by_role("link", name="Consulter le référentiel")
    with (
        pytest.raises(AssertionError, match="the mouse was used") as failure,
        keyboard_only(page) as kb,
    ):
        kb.tab_to(link)
        link.click()
        page.wait_for_url("**/referentiel")
    assert 'a "Consulter le référentiel"' in str(failure.value)
