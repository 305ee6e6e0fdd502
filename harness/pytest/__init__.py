"""The pytest11 plugin (`plugin`: options, fixtures, the system's wiring, verdict capture) and the hand-over of
records between pytest-xdist workers (`distributed`). May import every package except `harness.cli`."""
