"""Stage 3, differences: desired vs live, per resource, and the drift report built on them."""
