"""Lowering: the passes from algorithm + schedule to a flat, vectorized loop nest.
`lower.py` runs them in order."""
