from django.urls import path

from liveops.shell import views

app_name = "shell"

# Mounted under /w/<ws>/.
urlpatterns = [
    path("", views.workspace_home, name="workspace_home"),
    path("promote/", views.module_promote, name="module_promote"),
    path("live/", views.module_live, name="module_live"),
    path("audience/", views.module_audience, name="module_audience"),
    path("projects/", views.module_projects, name="module_projects"),
]
