from django.urls import path

from accord.scoring import views

urlpatterns = [
    path("scoring/rules/", views.rules_page, name="scoring-rules"),
    path("scoring/rules/diff/", views.rules_diff, name="scoring-rules-diff"),
    path("scoring/rules/activate/", views.rules_activate, name="scoring-rules-activate"),
    path("scoring/rescore/", views.rescore_now, name="scoring-rescore"),
    path("scoring/model/", views.model_page, name="scoring-model"),
    path("scoring/model/compare/", views.model_compare, name="scoring-model-compare"),
    path("scoring/model/train/", views.model_train, name="scoring-model-train"),
    path("scoring/model/activate/", views.model_activate, name="scoring-model-activate"),
    path("scoring/model/<int:version>/", views.model_card, name="scoring-model-card"),
]
