"""Warehouse adapters behind one small interface, registered through the `healthlayer.adapters` entry point."""
