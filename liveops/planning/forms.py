from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from liveops.core.forms import datetime_field
from liveops.planning.models import SessionStatus
from liveops.workspaces.models import PlatformAccount, Workspace
from liveops.workspaces.selectors import account_list


class SessionForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    account: forms.ModelChoiceField[PlatformAccount] = forms.ModelChoiceField(
        label=_("Platform account"), queryset=PlatformAccount.objects.none()
    )
    status = forms.ChoiceField(label=_("Status"), choices=SessionStatus.choices)
    scheduled_start = datetime_field(_("Scheduled start"))
    scheduled_end = datetime_field(_("Scheduled end"))
    actual_start = datetime_field(_("Actual start"))
    actual_end = datetime_field(_("Actual end"))

    def __init__(self, *args: Any, workspace: Workspace, creating: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["account"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = account_list(workspace=workspace)
        if creating:
            del self.fields["actual_start"]
            del self.fields["actual_end"]
