"""Decisions: the evaluation grid, the avis, the national deliberation, certificates."""
