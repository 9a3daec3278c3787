"""Jinja templates of symbp (documents and kernels), shipped as package data."""
