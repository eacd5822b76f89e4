from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from liveops.workspaces.models import Language, Platform
from liveops.workspaces.roles import Role

TIME_ZONES = sorted(zoneinfo.available_timezones())
COMMON_TIME_ZONES = [
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Tokyo",
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
]


def time_zone_field(label: Any = None) -> forms.ChoiceField:
    choices = [(tz, tz) for tz in COMMON_TIME_ZONES] + [
        (tz, tz) for tz in TIME_ZONES if tz not in COMMON_TIME_ZONES
    ]
    return forms.ChoiceField(
        label=label or _("Time zone"), choices=choices, initial="Asia/Shanghai"
    )


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )


class SignupForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    display_name = forms.CharField(label=_("Display name"), max_length=80)
    password = forms.CharField(
        label=_("Password"),
        widget=forms.PasswordInput,
        help_text=_("At least 8 characters, not only digits."),
    )

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        validate_password(password)
        return password


class ProfileForm(forms.Form):
    display_name = forms.CharField(label=_("Display name"), max_length=80)
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    time_zone = time_zone_field()


class WorkspaceForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=120, help_text=_("A brand or an MCN account group.")
    )
    time_zone = time_zone_field()
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="CNY")


class InviteForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.OPERATOR)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class AccountForm(forms.Form):
    platform = forms.ChoiceField(label=_("Platform"), choices=Platform.choices)
    name = forms.CharField(label=_("Account name"), max_length=120)
    external_id = forms.CharField(label=_("Account id"), max_length=120, required=False)
    time_zone = time_zone_field()
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="CNY")


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=80,
        help_text=_("What will use this key, e.g. “OBS chat relay”."),
    )
