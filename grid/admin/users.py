"""The admin of people: invite, their posts inline, what they may see."""


from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy

from .. import services
from ..admin_forms import UserInviteForm
from ..models import MANAGING_ROLES, Post, User
from ..selectors import (
    active_posts,
    areas_visible_to,
    buildings_visible_to,
    is_manager,
    posts_visible_to,
    scope_of,
    units_visible_to,
    users_visible_to,
)
from .posts import POST_RELATED
from .scoped import ReadOnlyInline, ScopedAdminMixin, adopt, post_area


# --- people ------------------------------------------------------------------------------

class PostInline(ReadOnlyInline):
    """A person's posts on their page, read-only: posts change through grant and end."""

    model = Post
    fk_name = "user"
    fields = ("role", "place", "started_at", "ended_at")
    readonly_fields = fields
    show_change_link = True

    def get_queryset(self, request):
        if not is_manager(request.user):
            return Post.objects.none()
        return posts_visible_to(request.user, managing=True).select_related(*POST_RELATED).order_by("-id")

    def has_view_permission(self, request, obj=None):
        return is_manager(request.user)


@admin.register(User)
class UserAdmin(ScopedAdminMixin, DjangoUserAdmin):
    selector = staticmethod(users_visible_to)
    list_display = ("username", "full_name", "phone", "is_active", "is_staff")
    list_filter = ("is_active", "is_staff")
    search_fields = ("username", "full_name", "phone", "email")
    ordering = ("username",)
    inlines = (PostInline,)
    actions = ()
    # Administrators add accounts with Django's own form (any account, with or
    # without a post); staff invite someone onto a place they manage.
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "full_name", "phone", "usable_password", "password1", "password2")}),
    )
    invite_fieldsets = (
        (None, {"fields": ("username", "full_name", "phone")}),
        (gettext_lazy("First post"), {
            "fields": ("role", "area", "building", "unit"),
            "description": gettext_lazy(
                "Choose one place: a district, street, community or grid for the roles held on places, "
                "a building for a building chief, a unit for a unit chief."
            ),
        }),
    )
    invite_form_template = "admin/grid/user/invite_form.html"
    refusal_fields = {
        "no_username": "username", "bad_username": "username", "taken": "username",
        "no_full_name": "full_name", "bad_role": "role", "bad_place": "role",
    }
    superuser_fieldsets = (
        (None, {"fields": ("username", "password")}),
        (gettext_lazy("Personal info"), {"fields": ("full_name", "phone", "email")}),
        (gettext_lazy("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (gettext_lazy("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    # Staff edit contact details; rights come from posts, never from these flags.
    staff_fieldsets = (
        (None, {"fields": ("username", "password")}),
        (gettext_lazy("Personal info"), {"fields": ("full_name", "phone", "email")}),
        (gettext_lazy("Important dates"), {"fields": ("last_login", "date_joined")}),
    )

    def get_inline_instances(self, request, obj=None):
        # A new account has no posts to list yet (the invite's first post is in the form).
        return [] if obj is None else super().get_inline_instances(request, obj)

    def invites(self, request):
        """Does the add page invite through user_invite (staff) or use Django's form (administrators)?"""
        return not request.user.is_superuser

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.invite_fieldsets if self.invites(request) else self.add_fieldsets
        return self.superuser_fieldsets if request.user.is_superuser else self.staff_fieldsets

    def get_form(self, request, obj=None, **kwargs):
        if obj is None and self.invites(request):
            user = request.user
            kwargs["form"] = UserInviteForm.for_places(
                areas=areas_visible_to(user, managing=True).filter(is_active=True),
                buildings=buildings_visible_to(user, managing=True),
                units=units_visible_to(user, managing=True),
                admin_site=self.admin_site,
            )
        return super().get_form(request, obj, **kwargs)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        response = super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)
        if add and self.invites(request):
            response.template_name = self.invite_form_template
        return response

    def save_model(self, request, obj, form, change):
        if change or not self.invites(request):
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        user = services.user_invite(
            username=data["username"], full_name=data["full_name"], phone=data["phone"],
            role=data["role"], place=form.place, acting_user=request.user,
        )
        # Django's UserAdmin goes on to the new account's page, where its
        # password is set through the (scoped) password page.
        adopt(obj, user)

    def get_readonly_fields(self, request, obj=None):
        if obj is None or request.user.is_superuser:
            return ()
        return ("username", "last_login", "date_joined")

    def has_view_permission(self, request, obj=None):
        return is_manager(request.user)  # the selector decides which people

    def has_add_permission(self, request):
        # Staff invite people onto places they manage (user_invite checks the place).
        return is_manager(request.user)

    def has_change_permission(self, request, obj=None):
        if obj is None or request.user.is_superuser:
            return is_manager(request.user)
        return is_manager(request.user) and self.may_change_person(request, obj)

    def has_delete_permission(self, request, obj=None):
        # People hold posts and history; an account is switched off, not deleted.
        return False

    def may_change_person(self, request, person):
        """Staff may edit (and reset the password of) someone only if every
        active post of that person lies under the staff member's managing posts,
        and a managing post of theirs strictly below: a colleague on the same
        community, or anyone above it, is not theirs to take over."""
        cached = getattr(person, "_admin_may_change", None)
        if cached is not None:
            return cached
        user = request.user
        if person.pk == user.pk:
            allowed = True
        elif person.is_superuser:
            allowed = False
        else:
            spans = scope_of(user).managing().spans
            posts = active_posts(person).select_related(*POST_RELATED[1:])
            allowed = all(
                any(
                    span.contains(area) and (post.role not in MANAGING_ROLES or span.area_id != area.pk)
                    for span in spans
                )
                for post in posts
                for area in [post_area(post)]
            )
        person._admin_may_change = allowed
        return allowed
