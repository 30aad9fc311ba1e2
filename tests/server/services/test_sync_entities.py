"""The table of synced entities is complete and consistent: a missed entry fails here, not quietly."""

import re
from pathlib import Path

from server.models import LINKABLE_SUBJECTS, PhotoSubject
from server.services.sync import ENTITIES
from server.services.sync.entities import BY_PHOTO_SUBJECT

SERVER = Path(__file__).resolve().parents[3] / "server"


def test_every_pushed_entity_has_a_field_schema_and_a_handler():
    for name, entity in ENTITIES.items():
        assert (entity.fields is None) == (entity.apply is None), name


def test_every_pulled_entity_says_who_may_see_it():
    for name, entity in ENTITIES.items():
        if entity.pulled:
            assert entity.visible is not None, name
            # The same rule as SQL, for payloads built from rows; only the few records a person
            # holds of each (documents and their acknowledgements) are dumped from ORM records.
            assert entity.seen is not None or name in ("document", "acknowledgement"), name


def test_every_photo_subject_has_one_entity_that_holds_its_photos_and_accepts_edits():
    # A signature's drawing is held by its audit's sign-off, not by a synced entity's photos.
    assert set(BY_PHOTO_SUBJECT) == set(LINKABLE_SUBJECTS) == set(PhotoSubject) - {PhotoSubject.SIGNATURE}
    for subject, entity in BY_PHOTO_SUBJECT.items():
        assert entity.edit is not None and entity.pulled, subject


def test_every_entity_the_services_publish_to_the_feed_is_in_the_table():
    published = set()
    for path in SERVER.rglob("*.py"):
        published |= set(re.findall(r'feed\.publish\(\s*"([a-z_]+)"', path.read_text(encoding="utf-8")))
    assert published, "the scan found no feed.publish calls"
    missing = published - {name for name, entity in ENTITIES.items() if entity.pulled}
    assert not missing, f"published to the feed but not pulled: {missing}"


def test_a_conflict_can_be_resolved_for_every_entity_a_device_edits():
    for name, entity in ENTITIES.items():
        if entity.edit is not None:
            assert entity.accept_device_value is not None, name
