"""Jury sessions (jury professionnel / VAE and jury paritaire national)."""
