"""``python -m sqlprovider`` is the ``sqlprovider`` command."""

from __future__ import annotations

import sys

from sqlprovider.cli.main import main

sys.exit(main())
