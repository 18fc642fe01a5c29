"""Open311 GeoReport v2 (issue #8): client systems file and follow matters with an API key
bound to a place; plus the portal's own JSON API under /api/v1/ and its OpenAPI document."""
