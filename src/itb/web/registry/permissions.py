"""Who may do what: one table of roles and actions, read by every view and command."""

from __future__ import annotations

from enum import StrEnum

from itb.web.registry.models import Role


class Action(StrEnum):
    VIEW_PATIENTS = "view_patients"        # clinical record (pseudonymous)
    EDIT_PATIENTS = "edit_patients"
    VIEW_IDENTITY = "view_identity"        # names and personal codes
    VIEW_FOLLOW_UP = "view_follow_up"
    VIEW_REPORT = "view_report"            # the study report (aggregates)
    IMPORT_EXPORT = "import_export"        # registry CSV in and out, identity included
    EXPORT_DEIDENTIFIED = "export_deidentified"
    VIEW_QUALITY = "view_quality"          # the data-quality page
    VIEW_AUDIT = "view_audit"              # the audit trail
    MANAGE_USERS = "manage_users"          # users, roles, sites (Django admin)


ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.CLINICIAN: frozenset({Action.VIEW_PATIENTS, Action.EDIT_PATIENTS, Action.VIEW_IDENTITY,
                               Action.VIEW_FOLLOW_UP, Action.VIEW_REPORT}),
    Role.COORDINATOR: frozenset({Action.VIEW_PATIENTS, Action.EDIT_PATIENTS,
                                 Action.VIEW_IDENTITY, Action.VIEW_FOLLOW_UP,
                                 Action.VIEW_REPORT, Action.IMPORT_EXPORT,
                                 Action.EXPORT_DEIDENTIFIED, Action.VIEW_QUALITY,
                                 Action.VIEW_AUDIT}),
    Role.RESEARCHER: frozenset({Action.VIEW_REPORT, Action.EXPORT_DEIDENTIFIED}),
    Role.ADMINISTRATOR: frozenset({Action.MANAGE_USERS}),
}

# Roles whose scope is every site; a clinician sees the sites they are a member of.
ALL_SITES_ROLES = frozenset({Role.COORDINATOR, Role.RESEARCHER})
