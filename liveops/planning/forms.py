from __future__ import annotations

from typing import Any

from django import forms
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from liveops.core.forms import datetime_field
from liveops.planning.kpi import add_kpi_fields, split_kpi
from liveops.planning.models import LiveSession, Room, SessionStatus
from liveops.planning.selectors import room_list
from liveops.planning.services import Staffing
from liveops.workspaces.models import PlatformAccount, User, Workspace
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
    hosts: forms.ModelMultipleChoiceField[User] = forms.ModelMultipleChoiceField(
        label=_("Hosts"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    field_controller: forms.ModelChoiceField[User] = forms.ModelChoiceField(
        label=_("Field controller"), queryset=User.objects.none(), required=False
    )
    room: forms.ModelChoiceField[Room] = forms.ModelChoiceField(
        label=_("Room"), queryset=Room.objects.none(), required=False
    )
    simulcast_of: forms.ModelChoiceField[LiveSession] = forms.ModelChoiceField(
        label=_("Simulcast of"),
        help_text=_(
            "The same event streamed on another platform account: the reviews combine them, "
            "with a breakdown per platform."
        ),
        queryset=LiveSession.objects.none(),
        required=False,
    )

    def __init__(
        self,
        *args: Any,
        workspace: Workspace,
        creating: bool,
        session: LiveSession | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["account"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = account_list(workspace=workspace)
        members = User.objects.filter(memberships__workspace=workspace).order_by("display_name")
        self.fields["hosts"].queryset = members  # type: ignore[attr-defined]
        self.fields["field_controller"].queryset = members  # type: ignore[attr-defined]
        self.fields["room"].queryset = room_list(workspace=workspace)  # type: ignore[attr-defined]
        add_kpi_fields(self)
        if creating:
            del self.fields["actual_start"]
            del self.fields["actual_end"]
            del self.fields["simulcast_of"]
        else:
            mains = LiveSession.objects.filter(workspace=workspace, simulcast_of__isnull=True)
            if session is not None:
                mains = mains.exclude(pk=session.pk)
            field = self.fields["simulcast_of"]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = mains.select_related("account").order_by("-scheduled_start", "-pk")
            field.label_from_instance = _session_choice  # type: ignore[method-assign, assignment]


def _session_choice(session: LiveSession) -> str:
    start = session.scheduled_start
    when = localtime(start).strftime("%Y-%m-%d %H:%M") if start is not None else "—"
    return f"{session.title} · {session.account.get_platform_display()} · {when}"


def split_people(data: dict[str, Any]) -> tuple[dict[str, Any], Staffing]:
    """The form's data for the session fields (KPI targets as ``kpi_targets``), and its
    staffing apart."""
    data, targets = split_kpi(data)
    rest = {
        k: v
        for k, v in data.items()
        if k not in {"hosts", "field_controller", "room", "simulcast_of"}
    }
    rest["kpi_targets"] = targets
    return rest, Staffing(
        hosts=tuple(data.get("hosts") or ()),
        field_controller=data.get("field_controller"),
        room=data.get("room"),
    )
