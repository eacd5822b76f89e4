from django.urls import path

from liveops.planning import views

app_name = "planning"

urlpatterns = [
    path("sessions/", views.session_list, name="session_list"),
    path("sessions/new/", views.session_create, name="session_create"),
    path("sessions/<int:pk>/", views.session_edit, name="session_edit"),
]
