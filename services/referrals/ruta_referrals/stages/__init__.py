"""The protocol's stages of a case's route of care: entered, left, timed against targets."""
