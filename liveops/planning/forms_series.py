"""Forms for series, the calendar, frequency targets and feeds."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from liveops.core.forms import datetime_field
from liveops.planning import calendar
from liveops.planning.kpi import add_kpi_fields
from liveops.planning.models import RunOfShowTemplate, SeriesFormat
from liveops.workspaces.models import PlatformAccount, User, Workspace
from liveops.workspaces.selectors import account_list


class SeriesForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    accounts: forms.ModelMultipleChoiceField[PlatformAccount] = forms.ModelMultipleChoiceField(
        label=_("Platform accounts"),
        queryset=PlatformAccount.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    dtstart = datetime_field(_("First start"), required=True)
    rrule = forms.CharField(
        label=_("Recurrence (RRULE)"),
        max_length=500,
        required=False,
        help_text=_(
            "RFC 5545 rule, e.g. FREQ=WEEKLY;BYDAY=TU,TH;COUNT=16 (every Tuesday and "
            "Thursday for 8 weeks). Days: MO TU WE TH FR SA SU. Leave empty for one session."
        ),
        widget=forms.TextInput(attrs={"placeholder": "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=16"}),
    )
    default_duration_min = forms.IntegerField(
        label=_("Duration (minutes)"), min_value=1, max_value=1440, initial=120
    )
    hosts: forms.ModelMultipleChoiceField[User] = forms.ModelMultipleChoiceField(
        label=_("Hosts"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    field_controller: forms.ModelChoiceField[User] = forms.ModelChoiceField(
        label=_("Field controller"), queryset=User.objects.none(), required=False
    )
    room = forms.ModelChoiceField(label=_("Room"), queryset=None, required=False)  # type: ignore[var-annotated]
    format = forms.ChoiceField(label=_("Format"), choices=SeriesFormat.choices)
    theme = forms.CharField(
        label=_("Theme"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    template: forms.ModelChoiceField[RunOfShowTemplate] = forms.ModelChoiceField(
        label=_("Default run-of-show template"),
        queryset=RunOfShowTemplate.objects.none(),
        required=False,
        help_text=_("Applied to every session the series creates."),
    )
    generate = forms.BooleanField(label=_("Create the sessions now"), required=False, initial=True)

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        add_kpi_fields(self)
        template_field = self.fields["template"]
        assert isinstance(template_field, forms.ModelChoiceField)
        template_field.queryset = RunOfShowTemplate.objects.filter(workspace=workspace)
        people = calendar.people_list(workspace=workspace)
        for name, queryset in (
            ("accounts", account_list(workspace=workspace)),
            ("hosts", people),
            ("field_controller", people),
            ("room", calendar.room_list(workspace=workspace)),
        ):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = queryset


class RescheduleForm(forms.Form):
    session = forms.IntegerField()
    start = datetime_field(_("New start"), required=True)


class FrequencyTargetForm(forms.Form):
    account = forms.IntegerField()
    lives_per_week = forms.IntegerField(
        label=_("Lives per week"), min_value=0, max_value=100, required=False
    )


class PlanningSettingsForm(forms.Form):
    min_gap_minutes = forms.IntegerField(
        label=_("Minimum gap between sessions on an account (minutes)"),
        min_value=0,
        max_value=1440,
    )


class RoomForm(forms.Form):
    name = forms.CharField(label=_("New room"), max_length=80)


class FeedCreateForm(forms.Form):
    user: forms.ModelChoiceField[User] = forms.ModelChoiceField(
        label=_("Host"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Whole workspace"),
    )

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["user"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = calendar.people_list(workspace=workspace)
