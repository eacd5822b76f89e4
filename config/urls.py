from django.contrib.auth.views import LogoutView
from django.urls import include, path

from config.api import api
from liveops.shell.views import healthz
from liveops.workspaces import views as ws_views

urlpatterns = [
    path("", ws_views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("accounts/login/", ws_views.SignInView.as_view(), name="login"),
    path("accounts/logout/", LogoutView.as_view(), name="logout"),
    path("me/", ws_views.profile, name="profile"),
    path("i18n/setlang/", ws_views.language_set, name="language_set"),
    path("workspaces/new/", ws_views.workspace_create, name="workspace_create"),
    path("invite/<str:token>/", ws_views.invite_accept, name="invite_accept"),
    path("w/<slug:ws>/", include("liveops.shell.urls")),
    path("w/<slug:ws>/plan/", include("liveops.planning.urls")),
    path("w/<slug:ws>/analyze/", include("liveops.events.urls")),
    path("w/<slug:ws>/reports/", include("liveops.reports.urls")),
    path("w/<slug:ws>/settings/", include("liveops.workspaces.urls")),
    path("api/", api.urls),
]
