"""Validation against the official schemas in tests/schemas (SPDX 2.3,
CycloneDX 1.6, OCI runtime-spec), offline, with Debian's python3-jsonschema.
Each function returns None when the document is valid, otherwise the first
error with its JSON path."""
import json
import os

import jsonschema

HERE = os.path.join(os.path.dirname(__file__), "..", "schemas")


def _load(*parts):
    with open(os.path.join(HERE, *parts)) as f:
        return json.load(f)


def _first_error(validator, doc):
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    e = errors[0]
    return "$%s: %s" % ("".join("[%r]" % p for p in e.absolute_path), e.message[:300])


def validate_spdx(doc):
    schema = _load("spdx-2.3", "spdx-schema.json")
    return _first_error(jsonschema.Draft7Validator(schema), doc)


def validate_cyclonedx(doc):
    # bom-1.6 refers to the SPDX licence list and JSF schemas by their $id:
    # register them so that nothing is fetched.
    bom = _load("cyclonedx-1.6", "bom-1.6.schema.json")
    store = {}
    for name in ("spdx.schema.json", "jsf-0.82.schema.json"):
        s = _load("cyclonedx-1.6", name)
        store[s["$id"]] = s
    resolver = jsonschema.RefResolver.from_schema(bom, store=store)
    cls = jsonschema.validators.validator_for(bom)
    return _first_error(cls(bom, resolver=resolver, format_checker=jsonschema.FormatChecker()), doc)


def validate_oci_config(doc):
    base = os.path.abspath(os.path.join(HERE, "oci-runtime-spec"))
    schema = _load("oci-runtime-spec", "config-schema.json")
    resolver = jsonschema.RefResolver("file://%s/" % base, schema)
    return _first_error(jsonschema.Draft4Validator(schema, resolver=resolver), doc)
