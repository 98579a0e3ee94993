"""Pure rules on the jury calendar (months and exam window are settings, passed in)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date


def calendar_problem(day: date, *, months: Collection[int], exam_days: int) -> str | None:
    """A French message when a jury professionnel date falls outside the published calendar."""
    if day.month not in months:
        names = ", ".join(MONTHS_FR[m] for m in sorted(months))
        return f"Les sessions de jury professionnel ont lieu en {names}."
    if day.day > exam_days:
        return f"Les épreuves se déroulent pendant les {exam_days} premiers jours du mois."
    return None


MONTHS_FR = {
    1: "janvier",
    2: "février",
    3: "mars",
    4: "avril",
    5: "mai",
    6: "juin",
    7: "juillet",
    8: "août",
    9: "septembre",
    10: "octobre",
    11: "novembre",
    12: "décembre",
}
