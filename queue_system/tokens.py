"""Opaque tokens handed to clients: list page tokens and watch resume tokens.

A token is URL-safe base64 of compact JSON. Clients must treat it as opaque;
anything that does not decode to what this service issued is a bad argument
naming the request field it came in.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping

from queue_system.errors import FieldViolation, InvalidArgumentError


def encode_token(data: Mapping[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()


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
    raise InvalidArgumentError([FieldViolation(field, "is not a token this service issued")])
