"""The target: what the SUT is, where its counterparts run, its secrets (`${ENV}` only) and its declared
capabilities. The typed model (pydantic dataclasses: `model`, `system`, `counterparts`, `settings`) defines each
field once; `schemas/target.schema.json` is generated from it (`python -m harness.config.schema`). A file is read
by `loading`, checked against that schema (`wording` puts each problem in words) and by `problems`, then built
(`building`). `target` is the public face. May import `harness.core`."""
