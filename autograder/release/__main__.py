"""``python -m autograder.release.build``: the same as ``python -m autograder release``."""

import sys

from autograder.release.build import main

sys.exit(main())
