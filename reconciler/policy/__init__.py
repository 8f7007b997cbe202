"""The host-path policy: which binds and drivers untrusted specs may ask for."""
