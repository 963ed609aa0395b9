"""The `bd` benchmark: whole-process latency of reads and writes, bytes per write, cold index
rebuilds and concurrent writers, at 1,000 and 10,000 beads (100,000 with --big).

Run it with `.venv/bin/python -m bench` (or `make bench`); see docs/performance.md.
"""
