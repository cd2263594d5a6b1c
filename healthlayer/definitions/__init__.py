"""Loading, rendering and checking of project definitions."""
