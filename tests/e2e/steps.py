"""Steps that several browser journeys take the same way: the enterprise's figures, the rest of an application
form, an objection to a public notice."""

from __future__ import annotations

import re
import time
from datetime import date

from playwright.sync_api import expect

EVIDENCE = b"%PDF-1.4\n% evidence of the objection\n%%EOF\n"


def enter_three_years_of_figures(page) -> int:
    """The signed-in enterprise enters three years of annual figures (revenue growing, R&D 5 % in the last
    year). Returns the last complete fiscal year."""
    y1 = date.today().year - 1
    for year, revenue, rd, employees in (
        (y1 - 2, "3000", "120", "120"),
        (y1 - 1, "3600", "150", "130"),
        (y1, "4500", "225", "140"),
    ):
        page.goto(f"/gz/enterprise/figures/?year={year}")
        page.get_by_label("营业收入（万元）").fill(revenue)
        page.get_by_label("主营业务收入（万元）").fill(str(int(revenue) - 200))
        page.get_by_label("研发费用（万元）").fill(rd)
        page.get_by_label("资产总额（万元）").fill("5000")
        page.get_by_label("负债总额（万元）").fill("2000")
        page.get_by_label("年末从业人员").fill(employees)
        page.get_by_label("研发人员").fill("25")
        with page.expect_navigation():
            page.get_by_role("button", name="保存").click()
        expect(page.get_by_role("status")).to_contain_text(str(year))
    return y1


def complete_application(page) -> None:
    """On an application form whose products section is filled: the R&D institution, the signed commitment
    (saved), and the enterprise's first document attached to each slot."""
    page.locator("#f-innovation-rd_institution").select_option("provincial")
    page.locator("#f-commitment-signer_name").fill("张三")
    page.locator("#f-commitment-signer_position").fill("董事长")
    page.locator("#f-commitment-agreed").check()
    with page.expect_navigation():
        page.locator("[data-testid=save-draft]").click()
    for slot in ("licence", "financials", "ip"):
        page.locator(f"#attach-{slot}").select_option(index=0)
        with page.expect_navigation():
            page.locator(f"#slot-{slot} .attach-form button").click()


def file_objection(page) -> None:
    """On a public notice, as an anonymous visitor: file an objection to its first entry, with evidence,
    answering the sum and waiting as long as a person would (the form refuses faster posts)."""
    form = page.locator("[data-testid=objection-form]")
    form.locator("input[name=filer_name]").fill("王五")
    form.locator("input[name=filer_phone]").fill("13812345678")
    form.locator("select[name=entry]").select_option(index=1)
    form.locator("textarea[name=grounds]").fill("该企业主导产品市场占有率数据与实际不符。")
    form.locator("input[name=evidence]").set_input_files(
        files=[{"name": "行业协会统计.pdf", "mimeType": "application/pdf", "buffer": EVIDENCE}]
    )
    label = form.locator(f"label[for={form.locator('input[name=answer]').get_attribute('id')}]").inner_text()
    a, b = (int(x) for x in re.findall(r"\d+", label)[:2])
    form.locator("input[name=answer]").fill(str(a + b))
    time.sleep(3.2)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
