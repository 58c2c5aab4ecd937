"""The administrator's pages: users, their roles and sites, and sites."""

from __future__ import annotations

from typing import Any

from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.http import HttpRequest
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from itb.web.registry.audit import present
from itb.web.registry.models import Site, UserProfile
from itb.web.registry.permissions import Action
from itb.web.registry.selectors import can


class ProfileInline(admin.StackedInline):
    model = UserProfile
    can_delete = False
    filter_horizontal = ["sites"]


admin.site.unregister(User)


@admin.register(User)
class RegistryUserAdmin(UserAdmin):
    inlines = [ProfileInline]
    list_display = ["username", "first_name", "last_name", "is_active", "role"]

    @admin.display(description="role")
    def role(self, user: User) -> str:
        profile = getattr(user, "profile", None)
        return profile.role if profile else ""


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


# The audit trail is evidence: nobody changes or deletes an entry, superusers included, and
# only those who may read the trail (VIEW_AUDIT) see it here, identity values masked as on
# the audit pages.
admin.site.unregister(LogEntry)


@admin.register(LogEntry)
class ReadOnlyLogEntryAdmin(LogEntryAdmin):
    # Searching the stored changes would tell whether a given name or code was ever entered.
    search_fields = ["object_repr", "actor__username"]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can(request.user, Action.VIEW_AUDIT)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can(request.user, Action.VIEW_AUDIT)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("Changes"))
    def msg(self, obj: LogEntry) -> str:
        row = present([obj])[0]
        return format_html_join("", "<div>{}: {} → {}</div>",
                                ((c.field, c.old, c.new) for c in row.changes))

    @admin.display(description=_("Changes"))
    def msg_short(self, obj: LogEntry) -> str:
        # Field names only (never values), without resolving keys: one line per entry.
        return ", ".join(name for name in (obj.changes_dict or {}) if name != "id")
