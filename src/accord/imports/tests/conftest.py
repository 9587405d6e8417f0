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


@pytest.fixture(params=["fast path", "per-row path"])
def each_path(request, monkeypatch):
    """Run a contacts test through the fast path and through the per-row path alone.

    Yields a `hook(wrapper)` that wraps what applies one chunk on the path under test, and
    the keyword arguments to import with. Chunks are made tiny on both paths.
    """
    from accord.imports import columnar, engine
    from accord.imports.contacts import ContactImporter
    from accord.imports.contacts_fast import ContactColumns

    fast = request.param == "fast path"
    monkeypatch.setattr(engine, "CHUNK_ROWS", 3)
    monkeypatch.setattr(columnar, "BLOCK_BYTES", 64)
    owner = ContactColumns if fast else ContactImporter

    def hook(wrapper):
        original = owner.apply

        def apply(self, *args, **kwargs):
            return wrapper(lambda: original(self, *args, **kwargs))

        monkeypatch.setattr(owner, "apply", apply)
        return lambda: monkeypatch.setattr(owner, "apply", original)

    hook.kwargs = {"fast_path": fast}
    return hook
