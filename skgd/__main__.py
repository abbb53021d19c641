"""``python -m skgd``: every solver and update rule on scikit-learn's own data.

See ``python -m skgd --help``; the logic lives in :mod:`skgd._demo`.
"""

import sys

from ._demo import main

if __name__ == "__main__":
    sys.exit(main())
