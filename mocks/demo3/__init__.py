"""A third demo system, not a facade: a provincial one-stop system written on its own (its own words, paths, rules,
sign-on, cashier and portal client), which honours the national contract in its own lawful way. The harness drives
it through the declarative `http` driver by configuration alone (examples/demo3.target.yaml)."""
