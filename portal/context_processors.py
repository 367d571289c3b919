from django.conf import settings

from portal.models import Notification
from portal.navigation import nav_links


def portal(request):
    tenant = getattr(request, "tenant", None)
    unread = 0
    links = []
    user = getattr(request, "user", None)
    if tenant is not None and user is not None and user.is_authenticated:
        unread = Notification.objects.for_tenant(tenant).filter(recipient=user, read_at=None).count()
    if tenant is not None:
        links = nav_links(request)
    return {
        "tenant": tenant,
        "unread_count": unread,
        "nav_links": links,
        "portal_name": settings.PORTAL_NAME,
    }
