"""`python -m search.bench`: see `search.bench.run`."""

import sys

from search.bench.run import main

sys.exit(main())
