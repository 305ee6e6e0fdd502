"""The target configuration (target.yaml): what system is tested, where its counterparts are, and how to run.

The public face of `harness.config`: the typed model, each field defined once (`model`, `system`, `counterparts`,
`settings`, with the kinds of value in `fields`), the schema generated from it (`schema`), secrets (`secret`),
reading and validating a file (`loading`, `wording`, `problems`) and building the typed object (`building`) live in
their own modules."""

from __future__ import annotations

from harness.config.counterparts import CounterpartConfig, PaymentCounterpart, PortalCounterpart, SsoCounterpart
from harness.config.errors import FILE, Problem, TargetError
from harness.config.loading import EMBEDDED_FILE, embedded_target, load_target, load_target_text
from harness.config.model import Target
from harness.config.problems import COUNTERPARTS, is_loopback
from harness.config.secret import ENV_REFERENCE, SECRET_FIELDS, Secret
from harness.config.settings import FuzzBudget, PaymentRules, Politeness, SignOnRules, SyncConfig, Timeouts
from harness.config.system import Agency, Capabilities, Refusals, SutConfig
from harness.config.wording import SCHEMA_FILE

__all__ = [
    "COUNTERPARTS",
    "EMBEDDED_FILE",
    "ENV_REFERENCE",
    "FILE",
    "SCHEMA_FILE",
    "SECRET_FIELDS",
    "Agency",
    "Capabilities",
    "CounterpartConfig",
    "FuzzBudget",
    "PaymentCounterpart",
    "PaymentRules",
    "Politeness",
    "PortalCounterpart",
    "Problem",
    "Refusals",
    "Secret",
    "SignOnRules",
    "SsoCounterpart",
    "SutConfig",
    "SyncConfig",
    "Target",
    "TargetError",
    "Timeouts",
    "embedded_target",
    "is_loopback",
    "load_target",
    "load_target_text",
]
