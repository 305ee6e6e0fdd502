"""A second demo provincial system whose API is deliberately unlike the reference API: other paths, Vietnamese field
names, its own status words, a session header instead of a cookie. It proves the declarative `http` driver: the
whole suite passes it through examples/demo-http-driver.target.yaml alone, with no Python driver."""
