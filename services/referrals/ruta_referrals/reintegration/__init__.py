"""The end of a victim's route of care: return home and reintegration milestones."""
