"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from liveops.workspaces.models import Membership, User, Workspace
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory


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
