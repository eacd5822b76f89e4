"""Services of planning: live sessions are validated, scoped and audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from liveops.planning import services
from liveops.planning.models import LiveSession
from liveops.workspaces.models import AuditEntry
from tests.factories import AccountFactory, SessionFactory, UserFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db
START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_session_create_stores_and_audits() -> None:
    account = AccountFactory()
    user = UserFactory()
    session = services.session_create(
        workspace=account.workspace,
        by=user,
        account=account,
        title=" 双12 预热 ",
        scheduled_start=START,
        scheduled_end=START + timedelta(hours=2),
        status="planned",
    )
    assert session.title == "双12 预热" and session.status == "planned"
    entry = AuditEntry.objects.get(action="session.create", target_id=str(session.pk))
    assert entry.actor == user and entry.after["title"] == "双12 预热"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"title": "  "}, "title"),
        ({"scheduled_end": START - timedelta(minutes=1)}, "scheduled_end"),
        ({"status": "planned", "scheduled_start": None, "scheduled_end": None}, "scheduled_start"),
        ({"status": "cancelled"}, "status"),
    ],
)
def test_session_create_rejects_bad_input_with_the_field(kwargs: dict, field: str) -> None:
    account = AccountFactory()
    args = {
        "title": "ok",
        "scheduled_start": START,
        "scheduled_end": START + timedelta(hours=1),
        "status": "draft",
    } | kwargs
    with pytest.raises(ValidationError) as exc:
        services.session_create(workspace=account.workspace, by=None, account=account, **args)
    assert field in exc.value.message_dict
    assert not LiveSession.objects.exists()


def test_session_cannot_use_another_workspaces_account() -> None:
    foreign = AccountFactory()
    with pytest.raises(ValidationError) as exc:
        services.session_create(workspace=WorkspaceFactory(), by=None, account=foreign, title="x")
    assert "account" in exc.value.message_dict


def test_session_update_records_actuals_and_only_changes() -> None:
    session = SessionFactory(status="planned")
    services.session_update(
        session=session,
        by=None,
        account=session.account,
        title=session.title,
        scheduled_start=session.scheduled_start,
        scheduled_end=session.scheduled_end,
        actual_start=START,
        actual_end=START + timedelta(hours=3),
        status="ended",
    )
    entry = AuditEntry.objects.get(action="session.update")
    assert set(entry.after) == {"actual_start", "actual_end", "status"}
    assert entry.before["status"] == "planned" and entry.after["status"] == "ended"
    with pytest.raises(ValidationError) as exc:
        services.session_update(
            session=session,
            by=None,
            account=session.account,
            title=session.title,
            scheduled_start=None,
            scheduled_end=None,
            actual_start=START,
            actual_end=START - timedelta(seconds=1),
            status="ended",
        )
    assert "actual_end" in exc.value.message_dict
