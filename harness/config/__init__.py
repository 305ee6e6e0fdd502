"""The target: what the SUT is, where its counterparts run, its secrets (`${ENV}` only) and its declared
capabilities, loaded from YAML and checked against `schemas/target.schema.json`. May import `harness.core`."""
