from rest_framework import serializers

from portal.models import AuditEvent, Notification, Post, Region


class RegionSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True)
    level_display = serializers.CharField(source="get_level_display", read_only=True)

    class Meta:
        model = Region
        fields = ["code", "name", "level", "level_display", "parent"]
        read_only_fields = fields


class PostSerializer(serializers.ModelSerializer):
    region = RegionSerializer(read_only=True)
    role_display = serializers.CharField(source="get_role_display", read_only=True)

    class Meta:
        model = Post
        fields = ["id", "role", "role_display", "region"]
        read_only_fields = fields


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.CharField()
    email = serializers.EmailField()
    posts = PostSerializer(many=True)


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "occurred_at",
            "actor_label",
            "action",
            "object_type",
            "object_id",
            "summary",
            "changes",
            "ip_address",
            "outcome",
        ]
        read_only_fields = fields


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "subject", "body", "link", "created_at", "read_at"]
        read_only_fields = fields
