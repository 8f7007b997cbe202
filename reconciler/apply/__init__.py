"""Stage 5, applying a plan: executing actions in order or side by side, under a lock."""
