"""A parcours: one candidate, one certification, one route, one employer."""
