from django.urls import path

from certification import api

urlpatterns = [
    path("<slug:tenant_code>/programs/", api.ProgramListApi.as_view(), name="api-programs"),
    path("<slug:tenant_code>/programs/<slug:code>/evaluate/", api.EvaluateApi.as_view(), name="api-evaluate"),
]
