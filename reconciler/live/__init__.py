"""Stage 2, the live state: reading the engine into ``LiveState``, and views of it."""
