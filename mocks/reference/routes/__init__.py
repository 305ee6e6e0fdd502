"""The reference system's routes by group; each module's `routes(shared)` returns its own."""
