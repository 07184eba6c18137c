"""The live dashboard: its page, its login and its stream of figures."""
