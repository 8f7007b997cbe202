"""The engine seam: the ``Engine`` protocol, the docker SDK adapter, and an in-memory fake."""
