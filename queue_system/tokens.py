"""What a list or watch takes back from its clients: opaque tokens (list page tokens, watch
resume tokens) and a page size.

A token is URL-safe base64 of compact JSON. Clients must treat it as opaque;
anything that does not decode to what this service issued is a bad argument
naming the request field it came in (`not_our_token`, one refusal for every
list). A page size is 0 (the list's default) up to the list's most
(`page_size_violations`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping

from queue_system.errors import FieldViolation, InvalidArgumentError


def encode_token(data: Mapping[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()


def not_our_token(field: str) -> InvalidArgumentError:
    """The refusal of a token in `field` that this service did not issue (or another list did)."""
    return InvalidArgumentError([FieldViolation(field, "is not a token this service issued")])


def decode_token(token: str, field: str) -> dict[str, object]:
    """The data of a token ('' decodes to {}); InvalidArgumentError on `field` when it is not ours."""
    if not token:
        return {}
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        if isinstance(data, dict):
            return data
    except (ValueError, TypeError):
        pass
    raise not_our_token(field)


def page_size_violations(size: int, most: int, field: str = "page_size") -> list[FieldViolation]:
    """[] when `size` is a page size a list takes (0 for its default, up to `most`), else the one
    violation naming `field`."""
    if 0 <= size <= most:
        return []
    return [FieldViolation(field, f"must be from 0 to {most}, got {size}")]
