"""How commands print JSON: as DVC, compact when piped and indented on a terminal."""
from __future__ import annotations

import json
import sys
from typing import Any, TextIO


def write_json(data: Any, out: TextIO | None = None) -> None:
    """Print ``data`` as one JSON document (``default=str`` for dates and the like)."""
    stream = out or sys.stdout
    stream.write(json_text(data, stream))


def json_text(data: Any, stream: TextIO) -> str:
    """What :func:`write_json` prints to ``stream`` for ``data``."""
    indent = 2 if stream.isatty() else None
    return json.dumps(data, indent=indent, default=str) + "\n"
