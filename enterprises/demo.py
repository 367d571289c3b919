"""Demo enterprises for `seed_demo`: registered, verified or not, with three years of figures, IP and titles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from stdnum.cn import uscc as stdnum_uscc

from enterprises.documents import document_upload
from enterprises.models import (
    AnnualFigures,
    Document,
    Enterprise,
    Industry,
    IPItem,
    Membership,
    Qualification,
)
from enterprises.services import enterprise_refresh_facts
from portal.audit import audit_record
from portal.models import Region, Tenant, User

ORG_ALPHA = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
W9 = [3, 7, 9, 10, 5, 8, 4, 2]


def demo_uscc(county_code: str, serial: int) -> str:
    """A checksum-valid code: 9/1 (enterprise), the county's division code, an organisation code (GB 11714)."""
    org8 = f"MA{serial:06d}"
    c9 = 11 - sum(ORG_ALPHA.index(c) * w for c, w in zip(org8, W9, strict=True)) % 11
    body = "91" + county_code + org8 + {10: "X", 11: "0"}.get(c9, str(c9))
    return body + stdnum_uscc.calc_check_digit(body)


def demo_pdf() -> bytes:
    """A minimal one-page PDF (ASCII content only: the demo needs a valid file, not a pretty one)."""
    text = "Business licence (demo)"
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


@dataclass(frozen=True)
class DemoEnterprise:
    key: str  # username suffix of its administrator
    county: str
    name: str
    industry: str
    product: str
    revenue: int  # 万元, last complete year; earlier years shrink by `growth`
    growth: str
    rd_share: str
    employees: int
    verified: bool = True
    invention_patents: int = 2
    high_tech: bool = True


GZ = [
    DemoEnterprise(
        "ent1",
        "520102",
        "贵州黔芯精密机械有限公司",
        "C3484",
        "高精度齿轮箱零部件",
        8600,
        "0.18",
        "0.052",
        186,
    ),
    DemoEnterprise(
        "ent2", "520102", "贵阳云端数智科技有限公司", "I6513", "工业互联网平台软件", 3200, "0.32", "0.118", 95
    ),
    DemoEnterprise(
        "ent3",
        "520102",
        "贵州苗绣民族工艺品有限公司",
        "C2439",
        "苗绣工艺品",
        1450,
        "0.09",
        "0.031",
        62,
        invention_patents=0,
        high_tech=False,
    ),
    DemoEnterprise(
        "ent4",
        "520102",
        "贵州新能锂电材料有限公司",
        "C3841",
        "锂电池正极材料",
        21800,
        "0.41",
        "0.046",
        420,
        verified=False,
    ),
    DemoEnterprise(
        "ent5", "520103", "贵州山地装备制造有限公司", "C3511", "山地矿山机械", 5400, "0.12", "0.038", 240
    ),
    DemoEnterprise(
        "ent6",
        "520103",
        "贵州磷化工集团股份有限公司",
        "C2612",
        "磷酸一铵",
        52000,
        "0.05",
        "0.021",
        1350,
        invention_patents=6,
    ),
    DemoEnterprise(
        "ent7", "520302", "遵义赤水竹业科技有限公司", "C2041", "竹制建材", 2900, "0.15", "0.034", 130
    ),
]
XZ = [
    DemoEnterprise(
        "ent1", "540102", "西藏高原藏药制药有限公司", "C2740", "藏药制剂", 6200, "0.11", "0.061", 210
    ),
    DemoEnterprise(
        "ent2", "540102", "拉萨雪域信息技术有限公司", "I6513", "藏汉双语办公软件", 980, "0.27", "0.15", 38
    ),
    DemoEnterprise(
        "ent3",
        "540103",
        "西藏牦牛乳业有限公司",
        "C1441",
        "牦牛乳制品",
        4300,
        "0.08",
        "0.022",
        156,
        invention_patents=1,
        high_tech=False,
    ),
]
XJ = [
    DemoEnterprise(
        "ent1", "652701", "博乐市天山精细化工有限公司", "C2662", "专用化学助剂", 7800, "0.14", "0.041", 230
    ),
    DemoEnterprise(
        "ent2",
        "652701",
        "博尔塔拉赛里木农业科技有限公司",
        "A0141",
        "枸杞良种繁育",
        1900,
        "0.21",
        "0.035",
        85,
        invention_patents=1,
    ),
    DemoEnterprise(
        "ent3", "652722", "精河县枸杞生物科技有限公司", "C1492", "枸杞提取物", 3600, "0.16", "0.039", 120
    ),
    DemoEnterprise(
        "ent4",
        "652702",
        "阿拉山口口岸物流装备有限公司",
        "C3433",
        "口岸换装设备",
        2500,
        "0.10",
        "0.033",
        140,
        verified=False,
    ),
]
BY_TENANT = {"gz": GZ, "xz": XZ, "xj": XJ}


def seed_enterprises(tenant: Tenant, *, password_hash: str, log) -> list[tuple[str, str, str]]:
    rows = []
    today = timezone.localdate()
    for serial, spec in enumerate(BY_TENANT.get(tenant.code, []), start=1):
        username = f"{tenant.code}_{spec.key}"
        county = Region.objects.get(tenant=tenant, code=spec.county)
        code = demo_uscc(spec.county, serial + 100 * list(BY_TENANT).index(tenant.code))
        enterprise = Enterprise.objects.filter(tenant=tenant, uscc=code).first()
        if enterprise is None:
            enterprise = demo_enterprise_create(tenant, spec, county, code, username, password_hash, today)
        rows.append((username, tenant.code, f"enterprise admin · {enterprise.name} ({county.name})"))
    return rows


def demo_enterprise_create(
    tenant, spec: DemoEnterprise, county: Region, code: str, username: str, password_hash: str, today: date
) -> Enterprise:
    user, _ = User.objects.get_or_create(
        username=username,
        defaults={
            "display_name": f"{spec.name[:6]}管理员",
            "email": f"{username}@example.cn",
            "password": password_hash,
        },
    )
    enterprise = Enterprise.objects.create(
        tenant=tenant,
        uscc=code,
        name=spec.name,
        county=county,
        address=f"{county.name}创新大道{len(spec.name)}号",
        industry=Industry.objects.get(pk=spec.industry),
        legal_representative="张" + spec.name[2:4],
        contact_person="李" + spec.name[4:6],
        contact_phone=f"139{int(code[2:8]) % 10**4:04d}{ord(code[-1]) % 10**4:04d}",
        contact_email=f"{username}@example.cn",
        established_date=today.replace(year=today.year - 9, month=3, day=15),
        email_verified_at=timezone.now() if spec.verified else None,
        main_product=spec.product,
        niche_years=6,
        market_share=Decimal("0.012"),
        main_product_field="key_chain",
        strategic_emerging_industry=True,
        digital_level=2,
        own_brand=True,
        standards_participation=spec.high_tech,
        ethnic_crafts="民族" in spec.name,
        negative_false_info=False,
        negative_major_accident_3y=False,
        negative_tax_or_dishonest=False,
        negative_abnormal_list=False,
    )
    Membership.objects.create(enterprise=enterprise, user=user, role=Membership.Role.ADMIN)
    revenue = Decimal(spec.revenue)
    growth, rd_share = Decimal(spec.growth), Decimal(spec.rd_share)
    for back in range(1, 4):
        year = today.year - back
        assets = (revenue * Decimal("1.3")).quantize(Decimal("0.01"))
        AnnualFigures.objects.create(
            enterprise=enterprise,
            fiscal_year=year,
            revenue=revenue.quantize(Decimal("0.01")),
            main_business_revenue=(revenue * Decimal("0.92")).quantize(Decimal("0.01")),
            rd_expense=(revenue * rd_share).quantize(Decimal("0.01")),
            net_profit=(revenue * Decimal("0.08")).quantize(Decimal("0.01")),
            total_assets=assets,
            total_liabilities=(assets * Decimal("0.48")).quantize(Decimal("0.01")),
            employees=max(10, spec.employees - 12 * (back - 1)),
            rd_staff=max(2, spec.employees // 6),
            equity_financing=Decimal("500.00") if back == 1 and growth > Decimal("0.2") else Decimal("0"),
        )
        revenue = revenue / (1 + growth)
    for n in range(spec.invention_patents):
        IPItem.objects.create(
            enterprise=enterprise,
            ip_type=IPItem.Type.INVENTION,
            number=f"ZL20{19 + n}1{code[-6:]}{n}.X",
            title=f"一种{spec.product}的制备方法（{n + 1}）",
            grant_date=today - timedelta(days=400 + 200 * n),
            high_value=n == 0,
        )
    IPItem.objects.create(
        enterprise=enterprise,
        ip_type=IPItem.Type.UTILITY_MODEL,
        number=f"ZL2020U{code[-6:]}",
        title=f"{spec.product}用检测装置",
        grant_date=today - timedelta(days=1100),
    )
    IPItem.objects.create(
        enterprise=enterprise,
        ip_type=IPItem.Type.SOFTWARE,
        number=f"2023SR{code[-6:]}",
        title=f"{spec.product}生产管理系统V1.0",
        grant_date=today - timedelta(days=500),
    )
    if spec.high_tech:
        Qualification.objects.create(
            enterprise=enterprise,
            kind=Qualification.Kind.HIGH_TECH,
            title="高新技术企业",
            certificate_number=f"GR20{today.year % 100 - 1}52{code[-6:]}",
            issued_on=today - timedelta(days=300),
            valid_until=today + timedelta(days=800),
        )
    Qualification.objects.create(
        enterprise=enterprise,
        kind=Qualification.Kind.QUALITY_SYSTEM,
        title="ISO 9001 质量管理体系认证",
        certificate_number=f"QMS-{code[-8:]}",
        issued_on=today - timedelta(days=600),
        valid_until=today + timedelta(days=500),
    )
    # A business licence, through the same checks and scan as a real upload (files land in MEDIA_ROOT,
    # never in the repository).
    document_upload(
        enterprise=enterprise,
        by=user,
        doc_type=Document.Type.BUSINESS_LICENCE,
        uploaded_file=SimpleUploadedFile("营业执照.pdf", demo_pdf(), "application/pdf"),
    )
    enterprise_refresh_facts(enterprise=enterprise)
    audit_record(
        action="enterprise.registered",
        tenant=tenant,
        obj=enterprise,
        actor_label="seed_demo",
        summary=f"{enterprise.name} {enterprise.uscc}",
    )
    return enterprise
