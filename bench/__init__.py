"""Reproducible workloads and conformance runs; each runs as ``python -m bench.<name>``."""
