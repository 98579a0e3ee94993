"""The web application: settings, database, app factory, accounts, permissions, views, CLI."""
