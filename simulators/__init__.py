"""Simulated meters of every family, for the tests, the benchmarks and `scripts/demo`.

They live outside `custom_components/` so that HACS does not install them with the integration.
"""
