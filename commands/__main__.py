"""``python -m origin.cli``: the same as the ``outpost`` console script."""

import sys

from origin.cli import main

sys.exit(main())
