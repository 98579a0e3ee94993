"""Organisations, users, roles, sign-in and server-side sessions."""
