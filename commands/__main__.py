"""``python -m commands``: the same as the ``outpost`` console script."""

import sys

from commands import main

sys.exit(main())
