"""Benchmarks that print their figures; docs/benchmarks.md records them."""
