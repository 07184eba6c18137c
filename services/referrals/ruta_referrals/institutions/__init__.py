"""The institutions registry: who Ruta refers victims to, and how each one integrates."""
