"""volplan's benchmark: ``python -m benchmarks`` (see README.md, "Performance")."""
