"""ddbkit's benchmark harness: run ``python bench/bench.py --help``."""
