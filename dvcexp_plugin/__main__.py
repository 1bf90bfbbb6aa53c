"""``python -m dvcexp_plugin`` runs the CLI."""
from __future__ import annotations

import sys

from dvcexp_plugin.cli import main

if __name__ == "__main__":
    sys.exit(main())
