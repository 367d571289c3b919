"""Certificate and published-list PDFs: being written (helper-owned)."""


def certificate_generate(*, certification_id: int) -> bool:
    return False


def published_list_render(*, published_id: int) -> bool:
    return False
