"""Moving volume content through the Engine API: verified copies, backup, restore."""
