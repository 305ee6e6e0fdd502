"""p111: conformance harness for Plan 111/KH-UBND integration targets."""

__version__ = "0.1.0"
