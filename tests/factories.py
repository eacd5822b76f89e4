"""factory_boy factories for tests. They create rows directly; tests of behaviour call services."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from liveops.core.tokens import new_token, token_hash
from liveops.planning.models import LiveSession
from liveops.workspaces.models import (
    ApiKey,
    Invite,
    Membership,
    PlatformAccount,
    User,
    Workspace,
)

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    display_name = factory.Sequence(lambda n: f"用户{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj: User, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            obj.save()


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace

    slug = factory.Sequence(lambda n: f"ws-{n}")
    name = factory.Sequence(lambda n: f"品牌 {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    workspace = factory.SubFactory(WorkspaceFactory)
    user = factory.SubFactory(UserFactory)
    role = "owner"


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlatformAccount

    workspace = factory.SubFactory(WorkspaceFactory)
    platform = "douyin"
    name = factory.Sequence(lambda n: f"抖音账号{n}")


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LiveSession

    workspace = factory.SubFactory(WorkspaceFactory)
    account = factory.SubFactory(AccountFactory, workspace=factory.SelfAttribute("..workspace"))
    title = factory.Sequence(lambda n: f"直播 {n}")
    scheduled_start = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
    scheduled_end = factory.LazyAttribute(lambda o: o.scheduled_start + timedelta(hours=2))
    status = "planned"


class InviteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invite

    workspace = factory.SubFactory(WorkspaceFactory)
    role = "viewer"
    token_hash = factory.LazyFunction(lambda: token_hash(new_token("inv")))
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))


class ApiKeyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApiKey

    workspace = factory.SubFactory(WorkspaceFactory)
    name = "test key"
    prefix = "lo_test"
    key_hash = factory.LazyFunction(lambda: token_hash(new_token("lo")))
