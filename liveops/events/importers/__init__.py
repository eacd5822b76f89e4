"""File importers: each turns one real-world format into canonical event candidates.

See ``base.py`` for the protocol and ``registry.py`` for format detection.
"""
