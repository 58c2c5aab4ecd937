"""The administrator's pages: users, their roles and sites, and sites."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User

from itb.web.registry.models import Site, UserProfile


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
