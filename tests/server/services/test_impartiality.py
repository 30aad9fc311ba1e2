"""Auditors never audit their own work, case by case: where they work and what they answer for."""

import uuid

import pytest

from server.errors import NotAllowed
from server.models import Area, Site, User
from server.services.impartiality import check_impartial, conflict_of_interest

# Fixed ids: parametrised test ids must agree across xdist workers.
PAINT, DISPATCH = uuid.UUID(int=1), uuid.UUID(int=2)
ADA, OTHER = uuid.UUID(int=3), uuid.UUID(int=4)

CASES = [
    # (what it shows, the auditor's home area, who answers for the audited area, the reason or None)
    ("an outsider may audit", DISPATCH, OTHER, None),
    ("an auditor without a home area may audit", None, OTHER, None),
    ("an area nobody answers for may be audited", DISPATCH, None, None),
    ("an auditor may not audit where they work", PAINT, OTHER, "Ada works in Plant / Paint and cannot audit it."),
    ("an auditor may not audit what they answer for", DISPATCH, ADA,
     "Ada is responsible for Plant / Paint and cannot audit it."),
    # working there is named first: it is the reason the auditor will recognise
    ("working there and answering for it: one reason", PAINT, ADA, "Ada works in Plant / Paint and cannot audit it."),
]


def _case(home, responsible):
    auditor = User(id=ADA, name="Ada", role="auditor", home_area_id=home)
    area = Area(id=PAINT, site=Site(name="Plant"), name="Paint", responsible_id=responsible)
    return auditor, area


@pytest.mark.parametrize(("home", "responsible", "reason"), [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_conflict_of_interest(home, responsible, reason):
    auditor, area = _case(home, responsible)
    assert conflict_of_interest(auditor, area) == reason
    if reason is None:
        check_impartial(auditor, area)
    else:
        with pytest.raises(NotAllowed) as refused:
            check_impartial(auditor, area)
        assert (refused.value.message, refused.value.code, refused.value.status) == (reason, "impartiality", 403)


def test_it_is_decided_by_ids_not_by_names(make):
    """Two areas with the same name on different sites: only the auditor's own is barred."""
    own = make.area(site="North", name="Stores")
    same_name = make.area(site="South", name="Stores")
    auditor = make.user("auditor", home_area=own)
    assert conflict_of_interest(auditor, own) is not None
    assert conflict_of_interest(auditor, same_name) is None
