"""The indicator engine, the PMCG report and targets."""
