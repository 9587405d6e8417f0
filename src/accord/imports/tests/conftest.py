from pathlib import Path

import pytest

from accord.accounts.tests.factories import UserFactory

FILES = Path(__file__).parent / "files"


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def csv_file(tmp_path):
    """Write text to a CSV file in the given encoding and return its path."""

    def write(text: str, *, name: str = "contacts.csv", encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(text.encode(encoding))
        return path

    return write


@pytest.fixture
def mara(db):
    return UserFactory(username="mara", email="mara@northwind.example", first_name="Mara", last_name="Quist")


@pytest.fixture
def sam(db):
    return UserFactory(username="sam", email="sam.rivera@northwind.example", first_name="Sam", last_name="Rivera")
