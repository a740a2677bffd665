import sys

from search.evaluation.cli import main

sys.exit(main())
