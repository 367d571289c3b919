"""POST /api/v1/auth/token/: an API token for username + password (+ one-time code where required).

Replaces DRF's obtain_auth_token, which neither passes `request` to authenticate() (so django-axes could not
count or refuse, reliability.md A4) nor knows of the second factor (A9).
"""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.audit import audit_record
from portal.auth import lockout, otp
from portal.auth.policy import requires_second_factor


class LockedOut(APIException):
    status_code = 429
    default_code = "locked_out"

    def __init__(self):
        super().__init__(detail=lockout.lockout_message(), code=self.default_code)


class TokenInputSerializer(serializers.Serializer):
    username = serializers.CharField(label=gettext_lazy("username"), max_length=150)
    password = serializers.CharField(
        label=gettext_lazy("password"),
        style={"input_type": "password"},
        trim_whitespace=False,
        max_length=4096,
    )
    otp = serializers.CharField(
        label=gettext_lazy("one-time code"),
        required=False,
        allow_blank=True,
        max_length=16,
        help_text="The current code of the user's authenticator app; required for users who need a second factor.",
    )


class TokenOutputSerializer(serializers.Serializer):
    token = serializers.CharField()


# The API's one error format (portal.api.errors), by reference to its schema component.
API_ERROR = OpenApiResponse(
    response={"$ref": "#/components/schemas/APIError"}, description="The error format."
)


class TokenObtainApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=TokenInputSerializer,
        responses={200: TokenOutputSerializer, 400: API_ERROR, 429: API_ERROR},
        auth=[],
        summary="Obtain an API token",
    )
    def post(self, request):
        data = TokenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        username, password = data.validated_data["username"], data.validated_data["password"]
        django_request = request._request  # axes keeps its state on the Django request its middleware sees
        user = authenticate(request=django_request, username=username, password=password)
        if user is None:
            if getattr(django_request, "axes_locked_out", False):
                raise LockedOut()
            raise ValidationError({"non_field_errors": [_("Unable to log in with provided credentials.")]})
        summary = "API token"
        if requires_second_factor(user):
            if lockout.is_locked(django_request, user.get_username()):
                raise LockedOut()
            if not otp.confirmed_devices_exist(user):
                raise ValidationError(
                    {"otp": [_("Set up your authenticator app by signing in on the web first.")]}
                )
            code = data.validated_data.get("otp", "")
            if not code:
                raise ValidationError({"otp": [_("This account needs the code of its authenticator app.")]})
            if otp.second_factor_verify(request=django_request, user=user, token=code) is None:
                if getattr(django_request, "axes_locked_out", False):
                    raise LockedOut()
                raise ValidationError({"otp": [_("This code is not valid.")]})
            summary = "API token, second factor verified"
        with transaction.atomic():
            token, _created = Token.objects.get_or_create(user=user)
            audit_record(action="auth.login", actor=user, request=django_request, summary=summary)
        return Response({"token": token.key})
