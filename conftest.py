"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client

from liveops.workspaces.models import Membership, User, Workspace
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path_factory: pytest.TempPathFactory, settings: Any) -> Iterator[None]:
    """Each test gets its own LIVEOPS data folder (event store, uploads)."""
    from liveops.events import api as events_api
    from liveops.events.runtime import reset_event_store
    from liveops.workspaces.api import forget_cached_keys

    settings.DATA_DIR = tmp_path_factory.mktemp("data")
    reset_event_store()
    events_api._sessions.clear()  # ids are reused across tests
    forget_cached_keys()
    yield
    reset_event_store()


@pytest.fixture(autouse=True)
def _english_messages() -> Iterator[None]:
    """Service messages in English when called directly (pages pick their language per request)."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def workspace(db: None) -> Workspace:
    return WorkspaceFactory()


@pytest.fixture
def member_factory(db: None) -> Callable[..., Membership]:
    def make(workspace: Workspace, role: str = "owner", **user_kwargs: object) -> Membership:
        return MembershipFactory(workspace=workspace, role=role, user=UserFactory(**user_kwargs))

    return make


@pytest.fixture
def owner(workspace: Workspace, member_factory: Callable[..., Membership]) -> User:
    return member_factory(workspace, "owner").user


@pytest.fixture
def login() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make
