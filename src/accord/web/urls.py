from django.contrib.auth import views as auth_views
from django.urls import path

from accord.web import quality, views

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="web/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("jobs/", views.job_list, name="jobs"),
    path("jobs/<int:job_id>/", views.job_detail, name="job"),
    path("jobs/<int:job_id>/progress/", views.job_progress, name="job_progress"),
    path("jobs/<int:job_id>/files/<slug:name>/", views.job_download, name="job_download"),
    path("exports/<slug:list_name>/", views.export_list, name="export-list"),
    path("tokens/", views.token_list, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("quality/", quality.quality_page, name="quality"),
    path("quality/feedback/", quality.feedback_list, name="quality-feedback"),
    path("quality/handovers/", quality.handover_list, name="quality-handovers"),
    path("quality/feedback/<int:feedback_id>/", quality.feedback_detail, name="quality-feedback-detail"),
    path("quality/feedback/<int:feedback_id>/reply/", quality.feedback_reply, name="quality-feedback-reply"),
    path("settings/rejection-reasons/", quality.reasons_page, name="rejection-reasons"),
    path("settings/rejection-reasons/<int:reason_id>/", quality.reason_edit, name="rejection-reason"),
]
