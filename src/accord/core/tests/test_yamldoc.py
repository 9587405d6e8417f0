import pytest
from pydantic import BaseModel, ConfigDict

from accord.core.yamldoc import InvalidDocument, validate


class Tier(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    hours: float


class Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str
    tiers: list[Tier]


def test_a_valid_document_is_parsed_into_its_model():
    doc = validate("title: SLA\ntiers:\n  - name: hot\n    hours: 1\n", Doc)
    assert doc == Doc(title="SLA", tiers=[Tier(name="hot", hours=1)])


def test_a_wrong_type_is_reported_with_its_line_and_path():
    source = "title: SLA\ntiers:\n  - name: hot\n    hours: soon\n"
    with pytest.raises(InvalidDocument) as error:
        validate(source, Doc)
    [problem] = error.value.errors
    assert (problem.line, problem.path) == (4, "tiers.0.hours")
    assert "number" in problem.message


def test_an_unknown_setting_is_reported_on_its_own_line():
    source = "title: SLA\ntiers: []\nspeed: fast\n"
    with pytest.raises(InvalidDocument) as error:
        validate(source, Doc)
    assert [(e.line, e.path, e.message) for e in error.value.errors] == [(3, "speed", "unknown setting")]


def test_a_missing_setting_points_at_the_mapping_that_lacks_it():
    with pytest.raises(InvalidDocument) as error:
        validate("title: SLA\ntiers:\n  - name: hot\n", Doc)
    assert [(e.line, e.path, e.message) for e in error.value.errors] == [
        (3, "tiers.0.hours", "required setting is missing")
    ]


def test_broken_yaml_is_refused_with_the_line_of_the_syntax_error():
    with pytest.raises(InvalidDocument) as error:
        validate("title: SLA\ntiers: [\n  - a\n", Doc)
    assert error.value.errors[0].message.startswith("not valid YAML")
    assert error.value.errors[0].line is not None


def test_a_duplicate_key_is_refused_rather_than_silently_overwritten():
    with pytest.raises(InvalidDocument) as error:
        validate("title: A\ntitle: B\ntiers: []\n", Doc)
    assert [(e.line, e.message) for e in error.value.errors] == [(2, "duplicate key")]


def test_an_empty_document_is_refused():
    with pytest.raises(InvalidDocument, match="empty"):
        validate("", Doc)


def test_python_tags_are_not_executed():
    with pytest.raises(InvalidDocument):
        validate("title: !!python/object/apply:os.system ['true']\ntiers: []\n", Doc)


def test_an_unknown_tag_on_a_value_is_refused_with_its_line():
    with pytest.raises(InvalidDocument) as error:
        validate("title: !!python/name:os.system\ntiers: []\n", Doc)
    assert error.value.errors[0].line == 1
