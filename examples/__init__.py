"""The shipped example specs (package data, so ``symbp demo`` works from a wheel)."""
