"""Test helpers that are not fixtures: the fault-injecting proxy lives here."""
