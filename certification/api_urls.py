from django.urls import path

from certification import api, api_applications
from certification.transitions import ALL_ACTIONS

T = "<slug:tenant_code>/"
A = api_applications

urlpatterns = [
    path("<slug:tenant_code>/programs/", api.ProgramListApi.as_view(), name="api-programs"),
    path("<slug:tenant_code>/programs/<slug:code>/evaluate/", api.EvaluateApi.as_view(), name="api-evaluate"),
    # Rounds, applications and their review (certification.api_applications).
    path(f"{T}rounds/", A.RoundListApi.as_view(), name="api-rounds"),
    path(f"{T}rounds/<int:pk>/", A.RoundDetailApi.as_view(), name="api-round"),
    path(f"{T}applications/", A.ApplicationListApi.as_view(), name="api-applications"),
    path(
        f"{T}applications/recommend/",
        A.ApplicationBulkRecommendApi.as_view(),
        name="api-applications-recommend",
    ),
    path(f"{T}applications/<int:pk>/", A.ApplicationDetailApi.as_view(), name="api-application"),
    path(
        f"{T}applications/<int:pk>/attachments/",
        A.ApplicationAttachmentsApi.as_view(),
        name="api-application-attachments",
    ),
    path(
        f"{T}applications/<int:pk>/attachments/<int:attachment_id>/",
        A.ApplicationAttachmentApi.as_view(),
        name="api-application-attachment",
    ),
    path(
        f"{T}applications/<int:pk>/history/",
        A.ApplicationHistoryApi.as_view(),
        name="api-application-history",
    ),
    path(
        f"{T}applications/<int:pk>/experts/",
        A.ApplicationExpertsApi.as_view(),
        name="api-application-experts",
    ),
    path(
        f"{T}applications/<int:pk>/experts/<int:assignment_id>/",
        A.ApplicationExpertApi.as_view(),
        name="api-application-expert",
    ),
    # One route per workflow action (transitions.ALL_ACTIONS): an unknown action is simply not found.
    *(
        path(
            f"{T}applications/<int:pk>/{action}/",
            A.ApplicationActApi.as_view(workflow_action=action),
            name=f"api-application-{action}",
        )
        for action in ALL_ACTIONS
    ),
    path(f"{T}expert/assignments/", A.ExpertAssignmentListApi.as_view(), name="api-expert-assignments"),
    path(f"{T}expert/assignments/<int:pk>/score/", A.ExpertScoreApi.as_view(), name="api-expert-score"),
]
