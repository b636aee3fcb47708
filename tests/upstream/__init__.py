"""Tests of the upstream portal push's plain-Python parts."""
