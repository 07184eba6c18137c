"""The catalogue: every code intake accepts, with its Spanish label."""
