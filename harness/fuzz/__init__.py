"""`p111 fuzz`: schema-driven fuzzing of the SUT's OpenAPI input operations (`fuzzer`), real codes for fields a
document cannot teach (`seeds`), dossiers in a status where each action can act (`state`) and read-back of what was
accepted (`readback`). No pytest here. May import `core`, `config`, `http` and `sut`."""
