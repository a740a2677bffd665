"""`make bench`: the speed figures of the service, each beside its goal.

`python -m search.bench` runs them all (`run.py`); `python -m search.bench.startup`
times start-up alone, optionally against another checkout. A measurement layer:
like the tests, it reaches into the core to time its parts one by one.
"""

from search.bench.run import main

__all__ = ["main"]
