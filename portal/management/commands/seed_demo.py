"""Demo data for a living portal: `python manage.py seed_demo`.

Idempotent: a second run finds everything in place and changes nothing. Refuses
to run on a production configuration (DEBUG off) unless --force is given, since
it creates accounts with published passwords.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings

from portal.audit import audit_record
from portal.auth.demo import demo_key_base32, seed_second_factor
from portal.demo import SEEDERS
from portal.models import Post, Region, Tenant, User
from portal.notifications import notification_send
from portal.regions import regions_load

DEMO_PASSWORD = "Demo-srdi-2026"  # printed below; demo accounts only
SUPERUSER = ("platform_admin", "平台管理员")


@dataclass(frozen=True)
class DemoTenant:
    code: str
    name: str
    root: str
    authority: str
    county: str  # representative county, its prefecture is derived from the tree
    neighbour_county: str  # a county of the same prefecture, to show subtree scoping
    phone: str


TENANTS = [
    DemoTenant("gz", "贵州省", "520000", "贵州省工业和信息化厅", "520102", "520103", "0851-12345678"),
    DemoTenant("xz", "西藏自治区", "540000", "西藏自治区经济和信息化厅", "540102", "540103", "0891-12345678"),
    # Bortala (seed 004): 博乐市 and 精河县 under 博尔塔拉蒙古自治州.
    DemoTenant(
        "xj",
        "新疆维吾尔自治区",
        "650000",
        "新疆维吾尔自治区工业和信息化厅",
        "652701",
        "652722",
        "0991-12345678",
    ),
]

# (username suffix, role, where: county | neighbour | prefecture | province, display name)
OFFICIALS = [
    ("county", Post.Role.COUNTY_REVIEWER, "county", "县区审核员"),
    ("county2", Post.Role.COUNTY_REVIEWER, "neighbour", "邻县审核员"),
    ("prefecture", Post.Role.PREFECTURE_REVIEWER, "prefecture", "市州审核员"),
    ("province", Post.Role.PROVINCIAL_REVIEWER, "province", "省级审核员"),
    ("approver", Post.Role.PROVINCIAL_APPROVER, "province", "省级审批人"),
    ("expert", Post.Role.EXPERT, "province", "评审专家"),
    ("funding", Post.Role.FUNDING_OFFICER, "province", "资金管理员"),
    ("commissioner", Post.Role.SERVICE_COMMISSIONER, "county", "服务专员"),
    ("admin", Post.Role.TENANT_ADMIN, "province", "租户管理员"),
]


class Command(BaseCommand):
    help = (
        "Create the demo tenants, regions and accounts (idempotent). Prints every account with its password."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="run even when DEBUG is off")
        parser.add_argument("--quiet-accounts", action="store_true", help="do not print the account table")
        parser.add_argument(
            "--tenant",
            action="append",
            dest="tenants",
            metavar="CODE",
            help="seed only this tenant (repeatable); all of them by default",
        )

    def handle(self, *args, force=False, quiet_accounts=False, tenants=None, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates accounts with published passwords and refuses to run with DEBUG off. "
                "Use --force if you really mean it."
            )
        accounts: list[tuple[str, str, str]] = []
        # One hash for every demo account: hashing is deliberately slow, and the password is the same.
        self.password_hash = make_password(DEMO_PASSWORD)
        # The demo applications notify hundreds of people; their e-mails would flood the console of `make run`
        # (the inbox rows are still written).
        with (
            override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"),
            transaction.atomic(),
        ):
            admin, created = User.objects.get_or_create(
                username=SUPERUSER[0],
                defaults={
                    "display_name": SUPERUSER[1],
                    "is_staff": True,
                    "is_superuser": True,
                    "email": "platform@srdi.example.cn",
                },
            )
            if created:
                admin.password = self.password_hash
                admin.save(update_fields=["password"])
            accounts.append((admin.username, "-", "platform superuser"))
            specs = [spec for spec in TENANTS if not tenants or spec.code in tenants]
            if tenants and len(specs) != len(set(tenants)):
                raise CommandError(f"Unknown tenant code in {tenants}; known: {[s.code for s in TENANTS]}")
            for spec in specs:
                accounts += self._tenant(spec)
            for spec in specs:
                tenant = Tenant.objects.get(code=spec.code)
                for seeder in SEEDERS:
                    accounts += seeder(tenant, password_hash=self.password_hash, log=self.stdout.write)
            # Accounts that need a second factor get the demo authenticator key (reliability.md A9).
            seed_second_factor()
        if not quiet_accounts:
            self.stdout.write(self.style.SUCCESS(f"Demo accounts (password for all: {DEMO_PASSWORD})"))
            self.stdout.write(f"{'username':<20} {'tenant':<6} role / region")
            for username, tenant, what in accounts:
                self.stdout.write(f"{username:<20} {tenant:<6} {what}")
            self.stdout.write(
                "Provincial reviewers and approvers, funding officers, tenant admins and platform_admin also need a "
                f"one-time code: authenticator key {demo_key_base32()} (TOTP, 6 digits, 30 s), "
                "or `DEBUG=true python manage.py demo_otp <username>`."
            )

    def _tenant(self, spec: DemoTenant) -> list[tuple[str, str, str]]:
        tenant, created = Tenant.objects.get_or_create(
            code=spec.code,
            defaults={
                "name": spec.name,
                "authority_name": spec.authority,
                "contact_phone": spec.phone,
                "short_name": spec.name[:2],
            },
        )
        loaded = regions_load(tenant=tenant, root_code=spec.root)
        if created or loaded:
            self.stdout.write(f"{spec.code}: {tenant.name}, {loaded} regions loaded")
        tenant.refresh_from_db()
        county = Region.objects.get(tenant=tenant, code=spec.county)
        places = {
            "county": county,
            "neighbour": Region.objects.get(tenant=tenant, code=spec.neighbour_county),
            "prefecture": county.parent,
            "province": tenant.root_region,
        }
        rows = []
        for suffix, role, where, label in OFFICIALS:
            region = places[where]
            username = f"{spec.code}_{suffix}"
            user, user_created = User.objects.get_or_create(
                username=username,
                defaults={"display_name": f"{region.name}{label}", "email": f"{username}@srdi.example.cn"},
            )
            if user_created:
                user.password = self.password_hash
                user.save(update_fields=["password"])
            post, post_created = Post.objects.get_or_create(
                tenant=tenant, user=user, region=region, role=role
            )
            if post_created:
                audit_record(
                    action="post.created", tenant=tenant, obj=post, summary=str(post), actor_label="seed_demo"
                )
                notification_send(
                    recipient=user,
                    tenant=tenant,
                    subject=f"欢迎使用{tenant.name}专精特新中小企业服务平台",
                    body=f"您的岗位：{region.name} · {post.get_role_display()}。",
                    link=f"/{tenant.code}/me/",
                )
            rows.append((username, spec.code, f"{post.get_role_display()} · {region.name} ({region.code})"))
        return rows
