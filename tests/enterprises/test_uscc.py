import pytest
from django.core.exceptions import ValidationError
from stdnum.cn import uscc as stdnum_uscc

from enterprises.validators import normalize_uscc, validate_mobile, validate_uscc

VALID = [
    "91110000600037341L",
    "91540100MA6T00012D",
    "91652701MA7A8B2C3J",
    "914403001922038216",
    "9144030071526726XG",
    "91330100716105852F",
    "91350100M000100Y43",
]


@pytest.mark.parametrize("code", VALID)
def test_valid_codes_agree_with_python_stdnum(code):
    assert stdnum_uscc.is_valid(code)
    assert validate_uscc(code) == code


@pytest.mark.parametrize("code", VALID)
def test_every_single_character_corruption_is_refused_like_python_stdnum(code):
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    for position in range(18):
        for replacement in "0A9X":
            if replacement == code[position]:
                continue
            corrupted = code[:position] + replacement + code[position + 1 :]
            ours_ok = True
            try:
                validate_uscc(corrupted)
            except ValidationError:
                ours_ok = False
            assert ours_ok == stdnum_uscc.is_valid(corrupted), corrupted
            assert replacement in alphabet


def test_full_width_lower_case_and_spaces_are_normalised():
    assert normalize_uscc("９１１１ ００００-６０００３７３４１ｌ") == "91110000600037341L"
    assert validate_uscc(" 91110000600037341l ") == "91110000600037341L"


@pytest.mark.parametrize(
    ("code", "error_code", "fragment"),
    [
        ("", "required", "Enter the unified social credit code"),
        ("9111000060003734", "length", "this one has 16"),
        ("91110000600037341LX", "length", "this one has 19"),
        ("91110000600O37341L", "alphabet", "Character 12"),
        ("9111000I600037341L", "alphabet", "Character 8"),
        ("91AB0000600037341L", "region", "Characters 3 to 8"),
        ("91110000600037341M", "checksum", "check character"),
    ],
)
def test_a_wrong_code_says_what_is_wrong(code, error_code, fragment, settings):
    from django.utils import translation

    with translation.override("en"), pytest.raises(ValidationError) as info:
        validate_uscc(code)
    assert info.value.code == error_code
    assert fragment in info.value.messages[0]


def test_the_messages_are_in_chinese_by_default():
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(ValidationError) as info:
        validate_uscc("91110000600037341M")
    assert "校验" in info.value.messages[0]


@pytest.mark.parametrize(
    "raw", ["13800000000", "+86 138-0000-0000", "１３８００００００００", "008613800000000"]
)
def test_mobile_numbers_are_normalised(raw):
    assert validate_mobile(raw) == "13800000000"


@pytest.mark.parametrize("raw", ["12800000000", "1380000000", "138000000001", "0851-12345678", "abc"])
def test_bad_mobile_numbers_are_refused(raw):
    with pytest.raises(ValidationError):
        validate_mobile(raw)
