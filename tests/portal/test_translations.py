from pathlib import Path

import polib
from django.utils import translation

ROOT = Path(__file__).resolve().parents[2]


def test_every_string_has_a_chinese_translation():
    po = polib.pofile(str(ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    missing = [e.msgid for e in po if not e.translated() and not e.obsolete]
    assert missing == []


def test_switching_language_switches_the_page(client, gz):
    assert "登录" in client.get("/gz/").content.decode()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/gz/"})
    assert response.status_code == 302
    html = client.get("/gz/").content.decode()
    assert "Sign in" in html and "登录" not in html
    translation.activate("zh-hans")
