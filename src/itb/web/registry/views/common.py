"""What the views share: role names, saving a form through a service, the stale message."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from django import forms
from django.http import HttpRequest
from django.utils import formats
from django.utils.functional import Promise
from django.utils.timezone import localtime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from itb.web.registry.forms import apply_field_problem, apply_problems
from itb.web.registry.models import Role
from itb.web.registry.services.records import FieldProblem, RecordInvalid, StaleRecord

T = TypeVar("T")

ROLE_LABELS: dict[Role, Promise] = {
    Role.CLINICIAN: _("clinician"),
    Role.COORDINATOR: _("coordinator"),
    Role.RESEARCHER: _("researcher"),
    Role.ADMINISTRATOR: _("administrator"),
}


def stale_message(error: StaleRecord) -> str:
    if error.changed_at is None:
        return gettext("Someone else deleted this record in the meantime; your changes were "
                       "not saved.")
    when = formats.date_format(localtime(error.changed_at), "Y-m-d H:i:s")
    return gettext("Someone else changed this record at %(time)s; your changes were not "
                   "saved. The form now shows the record as it is stored: enter your changes "
                   "again if they are still needed.") % {"time": when}


def attempt(save: Callable[[], T], forms_by_table: Mapping[str, forms.Form],
            main: forms.Form) -> tuple[T | None, str | None]:
    """Run a service write: its result, or None with the problems put on the forms.

    The second value is the message of a refused stale edit (the caller shows the stored
    record again): such a refusal is about the whole record, not about any field.
    """
    try:
        return save(), None
    except StaleRecord as error:
        return None, stale_message(error)
    except RecordInvalid as error:
        apply_problems(forms_by_table, error, main)
    except FieldProblem as error:
        target = next((form for form in forms_by_table.values()
                       if error.field in form.fields), main)
        apply_field_problem(target, error)
    return None, None


def posted(request: HttpRequest) -> bool:
    return request.method == "POST"
