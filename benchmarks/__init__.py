"""Performance benchmarks: ``python -m benchmarks`` (``make bench``)."""
