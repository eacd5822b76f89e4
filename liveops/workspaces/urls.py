from django.urls import path

from liveops.workspaces import views

app_name = "workspaces"

# Mounted under /w/<ws>/settings/.
urlpatterns = [
    path("", views.settings_members, name="settings"),
    path("members/<int:pk>/role/", views.member_role, name="member_role"),
    path("members/<int:pk>/remove/", views.member_remove, name="member_remove"),
    path("invites/new/", views.invite_create, name="invite_create"),
    path("invites/<int:pk>/revoke/", views.invite_revoke, name="invite_revoke"),
    path("workspace/", views.settings_workspace, name="settings_workspace"),
    path("accounts/", views.account_list, name="account_list"),
    path("accounts/new/", views.account_create, name="account_create"),
    path("accounts/<int:pk>/", views.account_edit, name="account_edit"),
    path("api-keys/", views.api_key_list, name="api_key_list"),
    path("api-keys/new/", views.api_key_create, name="api_key_create"),
    path("api-keys/<int:pk>/revoke/", views.api_key_revoke, name="api_key_revoke"),
    path("audit/", views.audit_log, name="audit_log"),
]
