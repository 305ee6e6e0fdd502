"""The facts every part shares: verdicts and the result records, the catalog of requirements, the lifecycle, the
portal's formats and codes, the one schema registry, where data files are, input limits and inert text.

Imports nothing from the rest of harness."""
