"""The testing kit: Pulumi mocks, the offline planner, rule matching and the event generator."""
