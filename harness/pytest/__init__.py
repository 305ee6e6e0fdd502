"""The pytest11 plugin: its hooks (`plugin`), the fixtures the suite reaches the SUT through (`fixtures`), the system's
wiring, embedded or networked (`system`), record and replay (`tap`), the run's state on the config stash (`keys`),
the one table of the run's options shared with `p111 run` (`options`), and the hand-over of records between
pytest-xdist workers (`distributed`). May import every package except `harness.cli`."""
