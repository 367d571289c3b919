"""Display of the criteria's citations.

The shipped criteria cite the policy documents by the short keys the team uses ("seed 002 四、2"), which
keeps each rule traceable to the file it came from. People reading a result see the documents' names.
"""

from django import template

register = template.Library()

DOCUMENTS = {
    "seed 000": "《西藏自治区促进中小企业“专精特新”发展的工作方案》",
    "seed 001": "《为中小企业办实事清单》（西藏自治区）",
    "seed 002": "《贵州省推动中小企业“专精特新”发展实施方案》",
    "seed 003": "《“专精特新”中小企业高质量发展方案》",
    "seed 004": "《自治州专精特新中小企业倍增培育行动计划（2023—2025年）》（博州政办发〔2023〕62号）",
    "domain.md": "平台认定规则说明",
}


@register.filter
def cite(text: str) -> str:
    text = str(text or "")
    for key, name in DOCUMENTS.items():
        text = text.replace(key, name)
    return text
