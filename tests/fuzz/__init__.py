"""Fuzzing of definition loading and compiling."""
