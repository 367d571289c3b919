"""Officials' pages: rounds, the review queue, the application file, experts (views_review)."""

from django.urls import path

from certification import views_review as views

urlpatterns = [
    path("rounds/", views.round_list, name="round_list"),
    path("rounds/new/", views.round_edit, name="round_create"),
    path("rounds/<int:pk>/", views.round_detail, name="round_detail"),
    path("rounds/<int:pk>/edit/", views.round_edit, name="round_edit"),
    path("review/", views.review_queue, name="review_queue"),
    path("review/export.xlsx", views.review_queue_export, name="review_queue_export"),
    path("review/bulk/", views.review_bulk, name="review_bulk"),
    path("review/<int:pk>/", views.review_detail, name="review_detail"),
    path("review/<int:pk>/act/", views.review_act, name="review_act"),
    path("review/<int:pk>/experts/", views.review_experts, name="review_experts"),
    path("review/<int:pk>/application.pdf", views.review_pdf, name="review_pdf"),
    path("expert/", views.expert_home, name="expert_home"),
    path("expert/<int:pk>/", views.expert_review, name="expert_review"),
]
