from django.urls import path

from accord.deals import views

urlpatterns = [
    path("deals/", views.deal_list, name="deals"),
    path("deals/<int:deal_id>/", views.deal_detail, name="deal"),
]
