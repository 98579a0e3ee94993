"""Steps every browser journey shares."""

from __future__ import annotations

from playwright.sync_api import Page, expect

DEMO_PASSWORD = "Demo-CQP-2026!"  # every demo account's (README, "Demo logins")


def sign_in(page: Page, email: str) -> None:
    """Sign in through the form as a demo account and land on the dashboard."""
    page.goto("/connexion")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
