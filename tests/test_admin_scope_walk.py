"""Every admin, walked as community staff with foreign ids (issue #20 item 1): no
out-of-scope label, choice or object appears, and none is accepted.

The admins are found at run time in `admin.site._registry`, so an admin added later
is walked too. The world is the demo city (`seed_city --scale demo`, every app's
seeder), signed in as its community staff account: every other community's rows
are foreign. "In scope" for a model is what its registered scoped admin
(`ScopedAdminMixin.get_queryset`, the app's scoping selector) shows the user; a
model without a scoped admin (city-wide reference data) has no foreign rows.

For each admin the user may open, the walk takes

- the add form with a foreign id for every relation in the query string (the
  name oracle: an id box or select that labels any id it is given),
- the add form POSTed with those foreign ids, which must refuse each one beside
  its field and write nothing,
- the change form of an object in scope, GET and POSTed the same way,
- the changelist with each related filter set to a foreign id, and its filters'
  choices,
- every autocomplete the admin's forms use, with and without a search term,

and on every form on those pages (inlines included) every choice field may offer
in-scope rows only, and no widget may look a label up by itself (raw-id widgets).
"""

import io
import re
from collections import Counter

import pytest
from django.contrib import admin
from django.contrib.admin.widgets import ForeignKeyRawIdWidget, ManyToManyRawIdWidget
from django.core.management import call_command
from django.db import models
from django.forms import ModelChoiceField, ModelMultipleChoiceField
from django.test import RequestFactory
from django.urls import reverse

from grid.admin import ScopedAdminMixin
from grid.models import User

pytestmark = pytest.mark.clock("2026-03-02T10:00:00+08:00")

FOREIGN_PER_MODEL = 2


class World:
    def __init__(self, user):
        self.user = user
        self.request = RequestFactory().get("/admin/")
        self.request.user = user
        self._in_scope, self._foreign = {}, {}

    def scoped_admin(self, model):
        model_admin = admin.site._registry.get(model)
        return model_admin if isinstance(model_admin, ScopedAdminMixin) else None

    def in_scope(self, model):
        """pks of `model` the user may see, or None where the model is not scoped (reference data)."""
        if model not in self._in_scope:
            model_admin = self.scoped_admin(model)
            self._in_scope[model] = (
                None if model_admin is None
                else set(model_admin.get_queryset(self.request).values_list("pk", flat=True)))
        return self._in_scope[model]

    def foreign(self, model):
        """A few rows of `model` outside the user's scope (none where the model is not scoped)."""
        if model not in self._foreign:
            visible = self.in_scope(model)
            self._foreign[model] = [] if visible is None else list(
                model._default_manager.exclude(pk__in=visible).order_by("pk")[:FOREIGN_PER_MODEL])
        return self._foreign[model]


def relations(model):
    """The model's editable relation fields (what an admin form may offer choices for)."""
    return [f for f in model._meta.get_fields()
            if isinstance(f, (models.ForeignKey, models.OneToOneField, models.ManyToManyField))
            and f.editable and not f.auto_created]


def forms_on(response):
    """Every form on an admin change page: the main form, each inline's forms and empty form."""
    context = response.context
    if context is None or "adminform" not in context:
        return []
    found = [context["adminform"].form]
    for inline in context.get("inline_admin_formsets", []):
        found += list(inline.formset.forms) + [inline.formset.empty_form]
    return found


def check_forms(world, response, where, problems, walked):
    for form in forms_on(response):
        walked["forms checked (main and inline)"] += 1
        pk_name = form._meta.model._meta.pk.name if hasattr(form, "_meta") else None
        for name, field in form.fields.items():
            if name == pk_name and field.widget.is_hidden:
                # A formset's own row id: a hidden input with no label, matched against the
                # parent's rows only (BaseInlineFormSet._existing_object).
                continue
            widget = getattr(field.widget, "widget", field.widget)  # RelatedFieldWidgetWrapper
            if isinstance(widget, (ForeignKeyRawIdWidget, ManyToManyRawIdWidget)):
                problems.append(f"{where}: {type(form).__name__}.{name} is a raw-id widget (unscoped label lookup)")
            if isinstance(field, (ModelChoiceField, ModelMultipleChoiceField)):
                visible = world.in_scope(field.queryset.model)
                if visible is None:
                    continue
                offered = set(field.queryset.values_list("pk", flat=True))
                outside = offered - visible
                if outside:
                    problems.append(f"{where}: {type(form).__name__}.{name} offers {len(outside)} "
                                    f"out-of-scope {field.queryset.model._meta.label} rows")


def echoes(body, name, obj):
    """Does the page show `obj` as the chosen value of the field `name` (a selected option, an id box)?"""
    pk = re.escape(str(obj.pk))
    for select in re.findall(rf'<select[^>]*name="{re.escape(name)}"[^>]*>(.*?)</select>', body, re.DOTALL):
        if re.search(rf'<option value="{pk}"', select):
            return True
    for tag in re.findall(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', body):
        if re.search(rf'value="{pk}"', tag) and 'type="hidden"' not in tag:
            return True
    return False


def post_refused(world, client, url, model, fields, where, problems):
    """POST foreign ids into every relation at once: each must be refused beside its field, nothing written."""
    data, expected = {}, []
    for field in fields:
        foreign = world.foreign(field.related_model)
        if foreign:
            data[field.name] = str(foreign[0].pk)
            expected.append((field, foreign[0]))
    if not expected:
        return 0
    before = model._default_manager.count()
    response = client.post(url, data)
    if response.status_code >= 500:
        problems.append(f"{where}: POST with foreign ids answered {response.status_code}")
        return 1
    if model._default_manager.count() != before:
        problems.append(f"{where}: POST with foreign ids wrote a row")
    if response.status_code == 200 and "adminform" in (response.context or {}):
        errors = response.context["adminform"].form.errors
        for field, foreign in expected:
            if field.name in response.context["adminform"].form.fields and field.name not in errors:
                problems.append(f"{where}: foreign {field.related_model._meta.label} #{foreign.pk} "
                                f"accepted in {field.name}")
    return 1


@pytest.mark.django_db(transaction=False)
def test_every_admin_form_filter_and_autocomplete_keeps_to_the_community(client):
    call_command("seed_city", "--scale", "demo", stdout=io.StringIO())
    user = User.objects.get(username="community")
    world = World(user)
    client.force_login(user)
    problems, walked = [], Counter()
    autocompletes = set()

    for model, model_admin in sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label):
        opts = model._meta
        label = opts.label
        if not model_admin.has_module_permission(world.request):
            walked["admins the user cannot open"] += 1
            continue
        walked["admins"] += 1
        fields = relations(model)
        info = (opts.app_label, opts.model_name)

        # Add form, with a foreign id for every relation in the query string.
        if model_admin.has_add_permission(world.request):
            url = reverse("admin:%s_%s_add" % info)
            query = {f.name: world.foreign(f.related_model)[0].pk for f in fields if world.foreign(f.related_model)}
            response = client.get(url, query)
            walked["add forms"] += 1
            walked["URL requests"] += 1
            if response.status_code >= 500:
                problems.append(f"{label} add: GET answered {response.status_code}")
            else:
                body = response.content.decode()
                for field in fields:
                    for foreign in world.foreign(field.related_model):
                        if echoes(body, field.name, foreign):
                            problems.append(f"{label} add: shows foreign {field.related_model._meta.label} "
                                            f"#{foreign.pk} ({field.name}) given in the URL")
                check_forms(world, response, f"{label} add", problems, walked)
            walked["URL requests"] += post_refused(world, client, url, model, fields, f"{label} add", problems)

        # Change form of a row in scope.
        obj = model_admin.get_queryset(world.request).order_by("pk").first()
        if obj is not None:
            url = reverse("admin:%s_%s_change" % info, args=[obj.pk])
            response = client.get(url, {f.name: world.foreign(f.related_model)[0].pk
                                        for f in fields if world.foreign(f.related_model)})
            walked["change forms"] += 1
            walked["URL requests"] += 1
            if response.status_code >= 500:
                problems.append(f"{label} change: GET answered {response.status_code}")
            else:
                check_forms(world, response, f"{label} change", problems, walked)
            if model_admin.has_change_permission(world.request, obj):
                walked["URL requests"] += post_refused(world, client, url, model, fields, f"{label} change",
                                                       problems)

        # Changelist: its related filters' choices, and each set to a foreign id.
        changelist = reverse("admin:%s_%s_changelist" % info)
        response = client.get(changelist)
        walked["changelists"] += 1
        walked["URL requests"] += 1
        if response.status_code >= 500:
            problems.append(f"{label} changelist: answered {response.status_code}")
        elif response.context is not None and "cl" in response.context:
            for spec in response.context["cl"].filter_specs:
                field = getattr(spec, "field", None)
                if field is None or not field.is_relation or not hasattr(spec, "lookup_choices"):
                    continue
                walked["related filters"] += 1
                visible = world.in_scope(field.related_model)
                if visible is None:
                    continue
                outside = {pk for pk, _label in spec.lookup_choices} - visible
                if outside:
                    problems.append(f"{label} changelist: filter {field.name} lists {len(outside)} "
                                    f"out-of-scope {field.related_model._meta.label} rows")
                for foreign in world.foreign(field.related_model):
                    filtered = client.get(changelist, {f"{field.name}__id__exact": foreign.pk})
                    walked["URL requests"] += 1
                    if filtered.status_code >= 500:
                        problems.append(f"{label} changelist: filter {field.name}={foreign.pk} answered "
                                        f"{filtered.status_code}")
                    elif filtered.context is not None and "cl" in filtered.context:
                        rows = {row.pk for row in filtered.context["cl"].result_list}
                        if rows - (world.in_scope(model) or rows):
                            problems.append(f"{label} changelist: filter {field.name}={foreign.pk} lists "
                                            f"out-of-scope rows")

        for field in fields:
            if field.name in model_admin.get_autocomplete_fields(world.request):
                autocompletes.add((model, field))
        for inline_class in model_admin.inlines:
            inline = inline_class(model, admin.site)
            for field in relations(inline.model):
                if field.name in inline.get_autocomplete_fields(world.request):
                    autocompletes.add((inline.model, field))

    # Every autocomplete those forms use, with no term and with a foreign row's label as the term.
    for model, field in sorted(autocompletes, key=lambda item: (item[0]._meta.label, item[1].name)):
        visible = world.in_scope(field.related_model)
        terms = [""] + [str(obj)[:20] for obj in world.foreign(field.related_model)]
        for term in terms:
            response = client.get(reverse("admin:autocomplete"), {
                "app_label": model._meta.app_label, "model_name": model._meta.model_name,
                "field_name": field.name, "term": term})
            walked["autocomplete requests"] += 1
            walked["URL requests"] += 1
            if response.status_code >= 500:
                problems.append(f"autocomplete {model._meta.label}.{field.name}: answered {response.status_code}")
                continue
            if response.status_code != 200 or visible is None:
                continue
            ids = {int(row["id"]) for row in response.json()["results"] if str(row["id"]).isdigit()}
            if ids - visible:
                problems.append(f"autocomplete {model._meta.label}.{field.name} (term {term!r}) lists "
                                f"{len(ids - visible)} out-of-scope rows")
    walked["autocomplete fields"] = len(autocompletes)

    print("\nadmin scope walk:", dict(walked))
    assert walked["admins"] >= 20 and walked["add forms"] >= 10 and walked["autocomplete fields"] >= 10, walked
    assert problems == [], "\n".join(problems)

