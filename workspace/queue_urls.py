"""The staff queues under /staff/ (namespace "workspace", from workspace.urls)."""

from django.urls import path, re_path

from . import queue_views as views

urlpatterns = [
    path("queue/", views.QueueListView.as_view(), name="queue"),
    path("inbox/", views.InboxView.as_view(), name="inbox"),
    path("team/", views.TeamView.as_view(), name="team"),
    path("archive/", views.ArchiveView.as_view(), name="archive"),
    re_path(
        r"^(?P<list_name>queue|inbox|team|archive)/find-person/$",
        views.FindPersonView.as_view(),
        name="queue-find-person",
    ),
    path("tasks/<int:pk>/claim/", views.ClaimView.as_view(), name="queue-claim"),
    path("tasks/<int:pk>/release/", views.ReleaseView.as_view(), name="queue-release"),
    path("tasks/assign/", views.AssignView.as_view(), name="queue-assign"),
]
