from django.urls import path

from accord.notifications import views

urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/badge/", views.unread_badge, name="inbox-badge"),
    path("inbox/read-all/", views.mark_all_read, name="inbox-read-all"),
    path("inbox/<int:notification_id>/read/", views.mark_read, name="inbox-read"),
    path("settings/notifications/", views.preferences, name="notification-preferences"),
    path("notifications/slack/", views.slack_settings, name="notification-slack"),
    path("notifications/webhooks/", views.webhook_list, name="notification-webhooks"),
    path("notifications/webhooks/<int:subscription_id>/", views.webhook_detail,
         name="notification-webhook"),
    path("notifications/deliveries/", views.delivery_log, name="notification-deliveries"),
    path("notifications/deliveries/<int:delivery_id>/", views.delivery_detail,
         name="notification-delivery"),
    path("notifications/dead-letters/", views.dead_letters, name="notification-dead-letters"),
    path("notifications/replay/", views.replay, name="notification-replay"),
]
