"""Metric definitions of ../shared/METRICS.md, written once as Ibis expressions.

The definitions land with the analytics issue. This module must never import Django
(an import-linter contract in pyproject.toml enforces it) so that the same
definitions run on DuckDB and on Spark, outside any web process.
"""
