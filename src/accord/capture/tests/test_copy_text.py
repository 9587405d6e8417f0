"""The COPY text and array literals the event API sends PostgreSQL, built without a database."""

import datetime as dt

from accord.capture.ingestion import copy_text, text_array


def test_copy_text_puts_a_tab_between_values_and_a_line_break_after_each_row():
    moment = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)

    text = copy_text([[1, "a", None, moment, True], [22, "b", 5, moment, False]])

    assert text == "1\ta\t\\N\t2026-03-01T09:30:00+00:00\tt\n22\tb\t5\t2026-03-01T09:30:00+00:00\tf\n"


def test_copy_text_escapes_backslashes_tabs_and_line_breaks_in_text():
    text = copy_text([["x\\y", "plain"], ["a\tb\nc\rd", "\\N"]])

    assert text == "x\\\\y\tplain\na\\tb\\nc\\rd\t\\\\N\n"


def test_a_text_array_literal_quotes_every_element_and_escapes_quotes_and_backslashes():
    assert text_array([]) == "{}"
    assert text_array(["a@x.org", "", "NULL"]) == '{"a@x.org","","NULL"}'
    assert text_array(['say "hi"', "back\\slash", "{x,y}"]) == '{"say \\"hi\\"","back\\\\slash","{x,y}"}'
