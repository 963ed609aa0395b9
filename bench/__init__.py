"""The `bd` benchmark: whole-process latency of reads and writes, bytes per write, cold index
rebuilds and concurrent writers, at 1,000 and 10,000 beads; with --scale (alone) or --big (after the
default sections) the scale section of issue 17 at 1,000, 10,000 and 100,000 beads, with the microbeads
peer side by side (bench/scale.py, bench/peer.py).

Run it with `.venv/bin/python -m bench` (or `make bench`); see docs/performance.md.
"""
