"""Organisations and people, and the roles they hold (data the jury rules depend on)."""
