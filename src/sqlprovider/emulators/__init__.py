"""Local stand-ins of the real APIs, one per provider, sharing one small server kit.

Each is a real HTTP server on loopback that behaves like its API (auth, error bodies,
pagination, rate limits, job state machines). ``sqlprovider sandbox`` starts them all; tests
start them in-process. This package imports nothing else of sqlprovider.
"""
