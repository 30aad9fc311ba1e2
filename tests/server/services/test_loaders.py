"""The `get_x(user, id, permission)` loaders: 404 for no such record, 403 for a refused user."""

import uuid

import pytest

from server.errors import NotAllowed, NotFound
from server.services import actions, audits, checklists, findings


@pytest.fixture
def world(make):
    staff, other = make.user("staff"), make.user("staff")
    auditor, supervisor = make.user("auditor"), make.user("supervisor")
    area = make.area()
    template = make.template()
    audit = make.audit(template, area, auditor)
    finding = make.finding(area, staff)
    action = make.action(finding, staff)
    return {"staff": staff, "other": other, "auditor": auditor, "supervisor": supervisor,
            "audit": audit, "finding": finding, "action": action, "template": template}


LOADERS = {
    "audit": (audits.get_audit, "auditor", "other"),
    "finding": (findings.get_finding, "staff", "other"),
    "action": (actions.get_action, "staff", "other"),
    "template": (checklists.get_template, "supervisor", "auditor"),
}


@pytest.mark.parametrize("kind", LOADERS)
def test_a_loader_returns_the_record_to_who_may_see_it(world, kind):
    load, allowed, _ = LOADERS[kind]
    assert load(world[allowed], world[kind].id) is world[kind]
    assert load(world[allowed], str(world[kind].id).upper()) is world[kind]


@pytest.mark.parametrize("kind", LOADERS)
@pytest.mark.parametrize("record_id", [uuid.uuid4(), "not-a-uuid", "", None])
def test_a_loader_answers_404_for_no_such_record(world, kind, record_id):
    load, allowed, _ = LOADERS[kind]
    with pytest.raises(NotFound):
        load(world[allowed], record_id)


@pytest.mark.parametrize("kind", LOADERS)
def test_a_loader_answers_403_to_who_may_not_see_it(world, kind):
    load, _, refused = LOADERS[kind]
    with pytest.raises(NotAllowed):
        load(world[refused], world[kind].id)


def test_a_loader_checks_the_permission_it_is_asked_for(world):
    # The auditor may view their audit but not review it.
    with pytest.raises(NotAllowed):
        audits.get_audit(world["auditor"], world["audit"].id, "audit.review")
    assert audits.get_audit(world["supervisor"], world["audit"].id, "audit.review") is world["audit"]
