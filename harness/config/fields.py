"""The kinds of value a target holds, each defined once for the typed model and the JSON Schema both: a field's
type here gives its Python type, how a document's value becomes it, and its schema (tests keep the schema generated
from them equal to schemas/target.schema.json)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field, PlainSerializer, PlainValidator, ValidationInfo
from pydantic.json_schema import WithJsonSchema

from harness.config.secret import SECRET_REFERENCE, Secret, resolve

# Unknown fields are refused; a field is set by its document name (alias) or by its Python name.
CONFIG = ConfigDict(extra="forbid", validate_by_name=True, validate_by_alias=True)


SECRET_AS = ", dạng ${TEN_BIEN}.", ", as ${NAME}."  # how a secret field's words end, in each language


def words(vietnamese: str, english: str) -> str:
    """A description as the schema shows it: Vietnamese first, English second."""
    return f"{vietnamese} / {english}"


def with_schema(**schema: Any) -> ConfigDict:
    """The model's configuration, with rules of the schema that tie fields together (if/then, allOf)."""
    return ConfigDict(**CONFIG, json_schema_extra=schema)


# A reference to another schema file, written so in a model's rules: pydantic would try to resolve a `$ref` among
# its own definitions; the generator (harness.config.schema) writes it as `$ref`.
EXTERNAL_REF = "x-p111-ref"


def section(kind: type[Any], description: str, default: dict[str, Any] | None = None) -> Any:
    """A nested section that may be left out: then its defaults, or the `default` given, which the schema shows
    too (`default: {}` for a section whose own fields all have defaults)."""
    chosen = default or {}
    return Field(default_factory=lambda: kind(**chosen), description=description, json_schema_extra={"default": chosen})


# --- text ---------------------------------------------------------------------------------------------------------

PROVINCE_CODE = r"^H[0-9]{2}$"
PATH = r"^/\S*$"
HTTP_URL = r"^https?://[^\s/?#@]+(/\S*)?$"
COUNTERPART_URL = r"^(https?|embedded)://[^\s/?#@]+(/\S*)?$"
CALLBACK = r"^(https?://\S+|/\S*)$"
KEBAB_NAME = r"^[a-z0-9]+(-[a-z0-9]+)*$"
DRIVER = r"^(reference-api|http|operator|[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_]*)$"
PROCEDURE_CODE_FORMAT = "p111-procedure-code"

Text = Annotated[str, Field(min_length=1)]
Path = Annotated[str, Field(pattern=PATH)]
HttpUrl = Annotated[str, Field(pattern=HTTP_URL)]
CounterpartUrl = Annotated[str, Field(pattern=COUNTERPART_URL)]
CallbackUrl = Annotated[str, Field(pattern=CALLBACK)]
KebabName = Annotated[str, Field(pattern=KEBAB_NAME)]
ProcedureCode = Annotated[str, WithJsonSchema({"type": "string", "format": PROCEDURE_CODE_FORMAT})]
Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
LevelOfAssurance = Literal["LoA1", "LoA2", "LoA3"]


# --- secrets -------------------------------------------------------------------------------------------------------


def _secret(value: Any, info: ValidationInfo) -> Secret:
    """A `${NAME}` reference resolved from the environment the loader passes as validation context; a Secret
    already made (a copy of a loaded target) is kept."""
    if isinstance(value, Secret):
        return value
    env = (info.context or {}).get("env")
    if not isinstance(value, str) or env is None:
        raise ValueError("expected an environment-variable reference ${NAME}")
    secret = resolve(value, env)
    assert secret is not None
    return secret


SecretRef = Annotated[
    Secret,
    PlainValidator(_secret),
    PlainSerializer(lambda secret: secret.reference),  # never the value
    WithJsonSchema({"type": "string", "pattern": SECRET_REFERENCE}),
]


# --- shapes the typed model holds otherwise than the document -----------------------------------------------------


def _pairs(value: Any) -> Any:
    """Operations written {method, path}, held as (method, path)."""
    if not isinstance(value, list | tuple):
        return value
    return tuple((o.get("method"), o.get("path")) if isinstance(o, Mapping) else o for o in value)


def operations(path_description: str) -> Any:
    """A list of {method, path} operations, held as (method, path) pairs."""
    item = {
        "type": "object",
        "additionalProperties": False,
        "required": ["method", "path"],
        "properties": {
            "method": {"enum": list(Method.__args__), "description": words("Phương thức HTTP.", "The HTTP method.")},
            "path": {"type": "string", "pattern": PATH, "description": path_description},
        },
    }
    return Annotated[
        tuple[tuple[Method, str], ...],
        BeforeValidator(_pairs),
        PlainSerializer(lambda pairs: [{"method": m, "path": p} for m, p in pairs]),
        WithJsonSchema({"type": "array", "items": item}),
    ]


def _sorted_items(value: Any) -> Any:
    return tuple(sorted(value.items())) if isinstance(value, Mapping) else value


RequiredLoa = Annotated[
    tuple[tuple[str, LevelOfAssurance], ...],
    BeforeValidator(_sorted_items),  # {procedure code: loA}, held as sorted pairs
    PlainSerializer(dict),
    WithJsonSchema({
        "type": "object",
        "propertyNames": {"format": PROCEDURE_CODE_FORMAT},
        "additionalProperties": {"enum": list(LevelOfAssurance.__args__)},
    }),
]
