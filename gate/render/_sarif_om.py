"""sarif-om's classes, for the tests that build SARIF as objects and compare the output with them.

sarif-om (https://github.com/microsoft/sarif-python-om) is a set of attrs classes generated from
the SARIF 2.1.0 schema; each field names its schema property in
`metadata["schema_property_name"]`, and `to_json` (gate/render/_sarif_json.py) writes them with
those names, defaults left out. The SARIF output itself writes JSON values and does not import
this module: importing sarif-om's classes took about 0.07 s, more than rendering a small report.

sarif-om 1.0.4 was generated from 2.1.0-rtm.4, where a suppression had `state`; the final
schema (OASIS errata01) calls it `status`, and `state` is rejected (`additionalProperties: false`).
`Suppression` below is sarif-om's class with the final name added.
"""

from __future__ import annotations

from typing import Any

import attr
import sarif_om as om  # type: ignore[import-untyped]  # sarif-om ships no type information

from gate.render._sarif_json import JsonValue, to_json

__all__ = ["JsonValue", "Suppression", "om", "to_json"]

Suppression: Any = attr.make_class(
    "Suppression",
    {"status": attr.ib(default=None, metadata={"schema_property_name": "status"})},
    bases=(om.Suppression,),
)
"""sarif-om's `Suppression` plus the final schema's `status` (leave the rtm.4 `state` as None)."""
