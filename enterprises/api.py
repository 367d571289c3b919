"""API of the enterprises app, under /api/v1/<tenant_code>/. Every lookup starts from enterprises_visible_to."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from enterprises import services
from enterprises.derived import derived_values
from enterprises.facts import enterprise_facts
from enterprises.models import AnnualFigures, Enterprise, Industry, IPItem
from enterprises.permissions import enterprises_visible_to, is_member
from enterprises.validators import normalize_uscc, validate_mobile, validate_uscc
from portal.api.views import TENANT_PARAM, TenantAPIMixin
from portal.models import Region


def _drf(exc: DjangoValidationError) -> serializers.ValidationError:
    return serializers.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)


class IndustrySerializer(serializers.ModelSerializer):
    class Meta:
        model = Industry
        fields = ["code", "name", "level", "parent"]


class IndustryViewSet(viewsets.ReadOnlyModelViewSet):
    """GB/T 4754-2017 industry classification (reference data, public). `?q=` searches code or name."""

    # Only tells the schema generator the model (the path parameter is the `code` primary key);
    # get_queryset below builds the real queryset.
    queryset = Industry.objects.none()
    serializer_class = IndustrySerializer
    permission_classes = [permissions.AllowAny]
    filterset_fields = ["level", "parent"]

    def get_queryset(self):
        qs = Industry.objects.order_by("code")
        q = self.request.query_params.get("q", "").strip()
        if q:
            qs = qs.filter(Q(code__icontains=q) | Q(name__icontains=q))
        return qs


class RegistrationSerializer(serializers.Serializer):
    username = serializers.RegexField(r"^[A-Za-z0-9_.@-]{3,40}$", max_length=40)
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    uscc = serializers.CharField(max_length=40)
    name = serializers.CharField(max_length=200)
    county = serializers.CharField(max_length=6, help_text="GB/T 2260 code of a county of this tenant")
    address = serializers.CharField(max_length=300)
    industry = serializers.CharField(max_length=5, help_text="GB/T 4754-2017 class code, e.g. C3484")
    legal_representative = serializers.CharField(max_length=60)
    contact_person = serializers.CharField(max_length=60)
    contact_phone = serializers.CharField(max_length=20)
    contact_email = serializers.EmailField()

    def validate_uscc(self, value):
        try:
            return validate_uscc(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None

    def validate_contact_phone(self, value):
        try:
            return validate_mobile(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None

    def validate_county(self, value):
        county = (
            Region.objects.for_tenant(self.context["tenant"])
            .filter(code=value, level=Region.Level.COUNTY)
            .first()
        )
        if county is None:
            raise serializers.ValidationError(_("Choose a county of this province."))
        return county

    def validate_industry(self, value):
        industry = Industry.objects.filter(pk=value.strip().upper(), level=Industry.Level.CLASS).first()
        if industry is None:
            raise serializers.ValidationError(
                _("Choose an industry from the list (a 4-digit class of GB/T 4754-2017, e.g. C3484).")
            )
        return industry

    def validate_password(self, value):
        from django.contrib.auth.password_validation import validate_password

        try:
            validate_password(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
        return value


class EnterpriseSerializer(serializers.ModelSerializer):
    county = serializers.SlugRelatedField(slug_field="code", read_only=True)
    county_name = serializers.CharField(source="county.name", read_only=True)
    industry = serializers.PrimaryKeyRelatedField(read_only=True)
    email_verified = serializers.BooleanField(read_only=True)

    class Meta:
        model = Enterprise
        fields = [
            "id",
            "uscc",
            "name",
            "county",
            "county_name",
            "address",
            "industry",
            "legal_representative",
            "contact_person",
            "contact_phone",
            "contact_email",
            "email_verified",
            "established_date",
            "main_product",
            "size_class",
            "created_at",
        ]
        read_only_fields = fields


@extend_schema(parameters=[TENANT_PARAM])
class RegisterApi(TenantAPIMixin, APIView):
    """Self-registration: creates the account, the enterprise and its administrator membership."""

    permission_classes = [permissions.AllowAny]
    authentication_classes = []  # anonymous by design; no session means no CSRF exposure

    @extend_schema(request=RegistrationSerializer, responses={201: EnterpriseSerializer})
    def post(self, request, tenant_code):
        serializer = RegistrationSerializer(data=request.data, context={"tenant": self.tenant})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        username, password = data.pop("username"), data.pop("password")
        try:
            _user, enterprise = services.enterprise_register(
                tenant=self.tenant, username=username, password=password, request=request, **data
            )
        except DjangoValidationError as exc:
            raise _drf(exc) from None
        return Response(EnterpriseSerializer(enterprise).data, status=status.HTTP_201_CREATED)


class FiguresSerializer(serializers.ModelSerializer):
    class Meta:
        model = AnnualFigures
        fields = ["fiscal_year", *AnnualFigures.FIELDS]

    def validate(self, attrs):
        errors, _warnings = services.figures_check(attrs)
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def get_unique_together_validators(self):
        return []  # a year's row is updated in place by the service


class IPItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = IPItem
        fields = ["id", *services.IP_FIELDS]
        read_only_fields = ["id"]

    def get_unique_together_validators(self):
        return []


def _jsonable(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


@extend_schema(parameters=[TENANT_PARAM])
class EnterpriseViewSet(TenantAPIMixin, viewsets.ReadOnlyModelViewSet):
    """Enterprises the caller may see: officials their region's, enterprise users their own."""

    serializer_class = EnterpriseSerializer
    filterset_fields = ["size_class"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request.tenant
            return Enterprise.objects.none()
        qs = enterprises_visible_to(self.request.user, self.tenant).select_related("county", "industry")
        params = self.request.query_params
        if params.get("q"):
            q = params["q"].strip()
            qs = qs.filter(Q(name__icontains=q) | Q(uscc=normalize_uscc(q)))
        if params.get("county"):
            qs = qs.filter(county__code=params["county"])
        if params.get("industry"):
            qs = qs.filter(industry__code__startswith=params["industry"].strip().upper())
        return qs.order_by("name", "pk")

    def _member_or_403(self, enterprise: Enterprise) -> None:
        if not is_member(self.request.user, enterprise):
            raise PermissionDenied(_("Only the enterprise's members can change its data."))

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def facts(self, request, tenant_code, pk=None):
        """The facts dictionary and the derived values (growth, ratios, size class) of the enterprise."""
        enterprise = self.get_object()
        enterprise = Enterprise.objects.prefetch_related("figures", "ip_items", "qualifications").get(
            pk=enterprise.pk
        )
        facts = enterprise_facts(enterprise, as_of=timezone.localdate())
        derived = derived_values(facts)
        size = derived.pop("size_class_result")
        return Response(
            {
                "facts": {k: _jsonable(v) for k, v in facts.items()},
                "derived": {k: _jsonable(v) for k, v in derived.items()},
                "size_class_explanation": [str(line) for line in size.explanation],
            }
        )

    @extend_schema(methods=["get"], responses=FiguresSerializer(many=True))
    @extend_schema(methods=["post"], request=FiguresSerializer, responses=FiguresSerializer)
    @action(detail=True, methods=["get", "post"], pagination_class=None)  # all years, never paginated
    def figures(self, request, tenant_code, pk=None):
        """GET: all years. POST: create or replace one year's figures (members only)."""
        enterprise = self.get_object()
        if request.method == "GET":
            return Response(FiguresSerializer(enterprise.figures.order_by("fiscal_year"), many=True).data)
        self._member_or_403(enterprise)
        serializer = FiguresSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        year = data.pop("fiscal_year")
        try:
            row = services.figures_save(
                enterprise=enterprise,
                by=request.user,
                fiscal_year=year,
                values={n: data.get(n) for n in AnnualFigures.FIELDS},
                request=request,
            )
        except DjangoValidationError as exc:
            raise _drf(exc) from None
        return Response(FiguresSerializer(row).data, status=status.HTTP_200_OK)


@extend_schema(parameters=[TENANT_PARAM])
class IPItemViewSet(
    TenantAPIMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """IP items of one enterprise: officials read, members write."""

    serializer_class = IPItemSerializer

    def enterprise(self) -> Enterprise:
        if not hasattr(self, "_enterprise"):
            self._enterprise = get_object_or_404(
                enterprises_visible_to(self.request.user, self.tenant), pk=self.kwargs["enterprise_pk"]
            )
        return self._enterprise

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request.tenant
            return IPItem.objects.none()
        return IPItem.objects.filter(enterprise=self.enterprise())

    def _check_member(self):
        if not is_member(self.request.user, self.enterprise()):
            raise PermissionDenied(_("Only the enterprise's members can change its data."))

    def perform_create(self, serializer):
        self._check_member()
        try:
            serializer.instance = services.ip_item_save(
                item=IPItem(enterprise=self.enterprise(), **serializer.validated_data),
                by=self.request.user,
                request=self.request,
            )
        except DjangoValidationError as exc:
            raise _drf(exc) from None

    def perform_update(self, serializer):
        self._check_member()
        item = serializer.instance
        for k, v in serializer.validated_data.items():
            setattr(item, k, v)
        try:
            services.ip_item_save(item=item, by=self.request.user, request=self.request)
        except DjangoValidationError as exc:
            raise _drf(exc) from None

    def perform_destroy(self, instance):
        self._check_member()
        services.child_delete(obj=instance, by=self.request.user, request=self.request)
