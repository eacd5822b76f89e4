from django.urls import include, path

from liveops.planning import views

app_name = "planning"

# Mounted under /w/<ws>/plan/. Each area of planning keeps its own URL module.
urlpatterns = [
    path("sessions/", views.session_list, name="session_list"),
    path("sessions/new/", views.session_create, name="session_create"),
    path("sessions/<int:pk>/", views.session_edit, name="session_edit"),
    path("", include("liveops.planning.urls_series")),
    path("", include("liveops.planning.urls_runofshow")),
]
