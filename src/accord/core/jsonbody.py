"""Reading a JSON request body: the API's parser, and an endpoint that reads its own body, share it."""

from __future__ import annotations

import json
from typing import Any

from accord.core.errors import AccordError, ValidationFailed


class MalformedJson(AccordError):
    status = 400
    code = "malformed_json"


def parse_json_body(body: bytes) -> Any:
    """Return the body's JSON, refusing text no database column can hold (naming where it is)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise MalformedJson(f"The request body is not valid JSON ({error}).") from None
    # UTF-8 JSON holds NUL or a lone surrogate only as a \u escape or as bytes starting
    # 0xED (UTF-16 and -32 bodies contain NUL bytes); a body with none of these, nearly
    # all of them, skips the walk over every string.
    if b"\\u" in body or b"\xed" in body or b"\x00" in body:
        refuse_unstorable_text(data)
    return data


def refuse_unstorable_text(data: Any) -> None:
    """Raise ValidationFailed naming the first text in `data` that holds NUL or a lone surrogate."""
    # PostgreSQL text cannot hold NUL, and no UTF-8 database can hold a lone surrogate
    # (JSON allows "\ud800"); refused here, either would turn into a 500 at the database.
    pending: list[tuple[str, Any]] = [("", data)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, str):
            _check_text(value, path)
        elif isinstance(value, dict):
            for key, item in value.items():
                _check_text(key, path)
                pending.append((f"{path}.{key}" if path else key, item))
        elif isinstance(value, list):
            pending.extend(
                (f"{path}.{index}" if path else str(index), item)
                for index, item in enumerate(value)
            )


def _check_text(text: str, path: str) -> None:
    if "\x00" in text:
        raise ValidationFailed("Text may not contain NUL characters.", field=path or None)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationFailed("Text must be valid Unicode.", field=path or None) from None
