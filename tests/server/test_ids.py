"""Ids as people and devices send them."""

import uuid

import pytest

from server.ids import uuid_or_none

ID = uuid.UUID("0b6f2f4e-6a53-4c53-9a8e-6f6d1f0e8a11")


@pytest.mark.parametrize("value", [ID, str(ID), str(ID).upper(), f"{{{ID}}}", ID.hex])
def test_an_id_in_any_of_its_spellings_is_the_same_uuid(value):
    assert uuid_or_none(value) == ID


@pytest.mark.parametrize("value", [None, "", "me", "0b6f2f4e", 42, [str(ID)], str(ID) + "0"])
def test_anything_else_names_no_record(value):
    assert uuid_or_none(value) is None
