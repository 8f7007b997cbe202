"""Renderers: plans and reports -> text for people or documents for pipelines. Pure."""
