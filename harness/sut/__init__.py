"""Making the SUT act and seeing what it did: `drivers/` (the `Driver` protocol and the built-in drivers),
`observers` (what the counterparts received), `payment` (the payment platform's checksums) and `checking` (the
checks' shared judging helpers). May import `harness.core`, `harness.config` and `harness.http`."""
