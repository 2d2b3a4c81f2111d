"""Benchmarks of the gate on large, realistic inputs (`make bench`)."""
