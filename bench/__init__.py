"""Benchmarks of doorgifte with baselines and peer engines measured in the same run (`make bench`)."""
