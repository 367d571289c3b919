from django.conf import settings

from portal.models import Notification


def portal(request):
    tenant = getattr(request, "tenant", None)
    unread = 0
    user = getattr(request, "user", None)
    if tenant is not None and user is not None and user.is_authenticated:
        unread = Notification.objects.for_tenant(tenant).filter(recipient=user, read_at=None).count()
    return {
        "tenant": tenant,
        "unread_count": unread,
        "portal_name": settings.PORTAL_NAME,
    }
