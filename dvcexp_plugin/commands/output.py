"""How commands print JSON: as DVC, compact when piped and indented on a terminal."""
from __future__ import annotations

import json
import sys
from typing import Any, TextIO


def write_json(data: Any, out: TextIO | None = None) -> None:
    """Print ``data`` as one JSON document (``default=str`` for dates and the like)."""
    stream = out or sys.stdout
    indent = 2 if stream.isatty() else None
    stream.write(json.dumps(data, indent=indent, default=str) + "\n")
