"""PACT meetings, concerns and the Community Survey."""
