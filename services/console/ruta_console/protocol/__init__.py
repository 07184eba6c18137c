"""Console pages of the protocol's route: stages, case plans, closure approval, projects."""
