"""A JSON renderer on orjson: several times faster than the standard library's json
for the API's lists, with the same output as DRF's JSONRenderer.

orjson writes str, int, float, bool, None, dict, list and UUID itself; everything
else (dates and times, Decimal, lazy translations, querysets) goes to DRF's own
encoder, so the output does not change with the renderer.
"""

from __future__ import annotations

import orjson
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

# Dates and times through DRF's encoder, which writes UTC as "Z" and milliseconds.
OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS

_encoder = JSONEncoder()


class ORJSONRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        if self.get_indent(accepted_media_type, renderer_context or {}):
            # Indented output asked for (by a person): the standard renderer.
            return super().render(data, accepted_media_type, renderer_context)
        return orjson.dumps(data, default=_encoder.default, option=OPTIONS)
