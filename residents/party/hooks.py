"""What the party app asks of the apps beside it, provided by the top layer (hub/wiring.py).

A reported-in member's confirmed service counts as volunteer service: the
volunteers app records the hours (志愿服务记录) and pays their points, inside the
confirming transaction. The party app names no other domain app.
"""

from portal.hooks import Hook

service_confirmed = Hook(
    "party.hooks.service_confirmed",
    "service_confirmed(*, source_key, name, user, resident, community, started_at, ended_at, hours, content, "
    "confirmed_by, now) -> the volunteers' service record for a reported-in party member's confirmed service "
    "(the member is registered as a volunteer of `community` if they are not one); once per source_key.",
)
