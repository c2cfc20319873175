"""Reproductions of the papers spicenn grew from, one module each."""
