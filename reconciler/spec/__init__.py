"""Stage 1, the loader: spec files -> validated ``DesiredState``, positions kept for errors."""
