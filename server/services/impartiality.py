"""Auditors never audit their own work: not their home area, not an area they answer for."""

from ..errors import NotAllowed
from ..models import Area, User


def conflict_of_interest(auditor: User, area: Area) -> str | None:
    """Say why `auditor` may not audit `area`, or None when they may."""
    if auditor.home_area_id == area.id:
        return f"{auditor.name} works in {area.label} and cannot audit it."
    if area.responsible_id == auditor.id:
        return f"{auditor.name} is responsible for {area.label} and cannot audit it."
    return None


def check_impartial(auditor: User, area: Area) -> None:
    """:raise NotAllowed: when `auditor` would audit their own work."""
    if reason := conflict_of_interest(auditor, area):
        raise NotAllowed(reason, code="impartiality")
