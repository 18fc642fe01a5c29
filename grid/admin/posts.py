"""The admin of posts (岗位): who holds which role on which place, and ending them."""

from functools import partial

from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .. import services
from ..admin_forms import PostGrantForm
from ..models import Post
from ..selectors import is_manager, posts_visible_to
from .scoped import BOTH_LOCATIONS, ScopedAdminMixin, adopt, post_area


# --- posts ------------------------------------------------------------------------------

class PostStatusFilter(admin.SimpleListFilter):
    title = gettext_lazy("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("active", _("active")), ("ended", _("ended"))]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(ended_at__isnull=True)
        if self.value() == "ended":
            return queryset.filter(ended_at__isnull=False)
        return queryset


POST_RELATED = ("user", "area", "building__grid", "unit__building__grid", "organisation__seat")


@admin.register(Post)
class PostAdmin(ScopedAdminMixin, admin.ModelAdmin):
    selector = staticmethod(posts_visible_to)
    list_display = ("user", "role", "place", "started_at", "ended_at")
    list_filter = ("role", PostStatusFilter)
    list_select_related = POST_RELATED
    search_fields = ("user__username", "user__full_name", "user__phone", "area__name", "^area__code")
    autocomplete_fields = ("user", "area", "building", "unit", "organisation")
    ordering = ("-id",)
    form = PostGrantForm
    actions = ("end_posts",)
    refusal_fields = {"bad_role": "role", "duplicate": "user"}

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*POST_RELATED)

    def place_of(self, obj):
        return post_area(obj)

    def has_view_permission(self, request, obj=None):
        # posts_visible_to lists one's own posts wherever they are; they open too.
        if obj is not None and obj.user_id == request.user.pk and is_manager(request.user):
            return True
        return super().has_view_permission(request, obj)

    # A post is granted and ended, never edited or deleted: its history is the record.
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_end_permission(self, request, obj=None):
        return self.may_manage(request, obj)

    def get_fields(self, request, obj=None):
        fields = ("user", "role", "area", "building", "unit", "organisation")
        return fields if obj is None else (*fields, "started_at", "ended_at")

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        post = services.post_grant(user=data["user"], role=data["role"], place=form.place, acting_user=request.user)
        adopt(obj, post)

    @admin.action(permissions=["end"], description=gettext_lazy("End selected posts"), location=BOTH_LOCATIONS)
    def end_posts(self, request, queryset):
        if self.bulk_refused(request, queryset):
            return None
        posts = list(queryset.filter(ended_at__isnull=True))
        if not posts:
            self.message_user(request, _("None of the selected posts is active."), messages.WARNING)
            return None
        writes = [partial(services.post_end, post=post, acting_user=request.user) for post in posts]
        if self.write_all(request, writes) is not None:
            count = len(posts)
            self.message_user(
                request,
                ngettext("Ended %(count)d post.", "Ended %(count)d posts.", count) % {"count": count},
                messages.SUCCESS,
            )
        return None
