"""Who must present a second factor (reliability.md A9; 等保 level 3 身份鉴别 d, ASVS 4.3.1 admin MFA).

The posts that decide on certifications and money, or administer a tenant, and everyone who can reach the
Django admin. The rest (county and prefecture reviewers, experts, commissioners, enterprises) sign in with a
password, as issue 10 scopes it.
"""

from __future__ import annotations

from portal.models import Post, User

SECOND_FACTOR_ROLES = frozenset(
    {
        Post.Role.PROVINCIAL_REVIEWER,
        Post.Role.PROVINCIAL_APPROVER,
        Post.Role.FUNDING_OFFICER,
        Post.Role.TENANT_ADMIN,
    }
)


def requires_second_factor(user: User) -> bool:
    if user.is_staff or user.is_superuser:
        return True
    return Post.objects.filter(user=user, is_active=True, role__in=SECOND_FACTOR_ROLES).exists()
