"""Test support: local fakes of the services the gate publishes to, and schema checks."""
