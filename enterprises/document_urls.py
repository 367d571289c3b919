"""Document pages, included under the tenant prefix next to enterprises/urls.py."""

from django.urls import path

from enterprises import document_views

urlpatterns = [
    path("enterprise/documents/", document_views.documents, name="enterprise_documents"),
    # Not ".../<pk>/delete/": enterprises.urls has "enterprise/<str:kind>/<int:pk>/delete/", which would
    # take it whichever urlconf is included first.
    path("enterprise/documents/<int:pk>/remove/", document_views.delete, name="enterprise_document_delete"),
    # Outside enterprise/: officials download through it too.
    path("documents/<int:pk>/download/", document_views.download, name="enterprise_document_download"),
]
