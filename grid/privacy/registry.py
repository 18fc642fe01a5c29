"""The register of processing activities (个人信息处理活动记录, PIPL art. 54-55 and
GB/T 35273 §11.3), declared by the code that does the processing.

Each app that keeps personal data declares one `Activity` per kind of record
(from its AppConfig.ready(), so this layer names no app above it): what for,
which fields, who sees them masked and who may reveal them, how long they are
kept and how they are anonymised after. The register page, the reveal service,
the retention sweep and the `anonymise_personal_data` command all read these
declarations, so the register cannot drift from what the code does: the
retention shown is the setting in force, the fields' descriptions come from the
models, the roles from the same tuples the reveal checks.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings


@dataclass(frozen=True)
class Activity:
    key: str  # "cases.reporter"
    title: str  # lazy
    purpose: str  # lazy
    model: str  # "cases.Case"
    fields: tuple[str, ...]  # the personal fields (the encrypted columns)
    # Who sees the masked values (lists, exports, the admin): roles, or a lazy sentence.
    seen_masked_by: tuple[str, ...] | str
    # Who may reveal each field in full: the post roles that may, on a place above the record.
    reveal_roles: dict = field(default_factory=dict)
    # Someone else who may reveal a record because the service itself needs it (the
    # volunteer who took an order): (user, record) -> bool, and a lazy sentence for the register.
    also_revealed_by: Callable | None = None
    also_revealed_by_text: str = ""
    # The setting that holds the retention period in days, and what it counts from (lazy).
    retention_setting: str = ""
    retention_basis: str = ""
    # Retention: (now) -> queryset of what would be anonymised now; (now, batch_size) -> rows anonymised.
    expired: Callable | None = None
    anonymise: Callable | None = None
    # (record) -> {"district_id": …, "street_id": …, "community_id": …, "grid_id": …}
    path_of: Callable | None = None
    # (record) -> a label for the log (a case number, a tracking code)
    label_of: Callable | None = None
    # Looked up by the value (a blind index): fields with one.
    indexed: tuple[str, ...] = ()
    # The masked copy of a field, where it is not "<field>_masked" (residents: id_number → id_masked).
    masked_as: dict = field(default_factory=dict)
    legal_basis: str = ""  # lazy
    # The app reveals and logs these values itself (the residents' AccessLog), not personal_reveal.
    own_reveal: bool = False

    @property
    def model_class(self):
        return apps.get_model(self.model)

    @property
    def retention_days(self):
        return getattr(settings, self.retention_setting, None) if self.retention_setting else None

    def path(self, record):
        if self.path_of is not None:
            return self.path_of(record)
        return {k: getattr(record, k) for k in ("district_id", "street_id", "community_id", "grid_id")}

    def label(self, record):
        return str(self.label_of(record) if self.label_of else record.pk)[:40]

    def verbose(self, name):
        return self.model_class._meta.get_field(name).verbose_name


_ACTIVITIES: dict[str, Activity] = {}


def register(activity: Activity):
    """Declare an activity (idempotent: AppConfig.ready() may run twice in tests)."""
    _ACTIVITIES[activity.key] = activity
    return activity


def activities():
    return list(_ACTIVITIES.values())


def activity(key):
    return _ACTIVITIES.get(key)


def activity_for(record, field_name):
    """The activity declaring `field_name` of `record`'s model as revealable, or None."""
    label = record._meta.label
    for act in _ACTIVITIES.values():
        if act.model == label and field_name in act.reveal_roles and not act.own_reveal:
            return act
    return None
