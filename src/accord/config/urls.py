from django.contrib import admin
from django.urls import include, path

from accord.config.api import api

admin.site.site_header = "Accord administration"
admin.site.site_title = "Accord admin"
admin.site.index_title = "Revenue operations"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("accord.capture.urls")),
    path("", include("accord.deals.urls")),
    path("", include("accord.handoff.urls")),
    path("", include("accord.imports.urls")),
    path("", include("accord.scoring.urls")),
    path("", include("accord.sla.urls")),
    path("", include("accord.notifications.urls")),
    path("", include("accord.privacy.urls")),
    path("", include("accord.web.urls")),
]
