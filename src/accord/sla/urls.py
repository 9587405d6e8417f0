from django.urls import path

from accord.sla import compliance_views, views

urlpatterns = [
    path("sla/", views.sla_page, name="sla"),
    path("sla/versions/<int:number>/", views.sla_version, name="sla-version"),
    path("sla/compliance/", compliance_views.compliance_page, name="sla-compliance"),
    path("sla/compliance/clocks/", compliance_views.compliance_clocks, name="sla-compliance-clocks"),
    path("sla/compliance/marketing/", compliance_views.marketing_page, name="sla-compliance-marketing"),
]
