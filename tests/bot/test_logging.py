import logging

from bot.logging_setup import MaskingFilter, mask_pii


def test_phone_numbers_are_masked():
    assert mask_pii("手机 13812345678 已登记") == "手机 138****5678 已登记"


def test_id_numbers_are_masked():
    masked = mask_pii("身份证 35010219900101123X")
    assert "19900101" not in masked and masked.startswith("身份证 350102")


def test_other_numbers_are_left_alone():
    assert mask_pii("订单 EN20261124-0001，价格 6280 元") == "订单 EN20261124-0001，价格 6280 元"


def test_log_records_with_args_are_masked(caplog):
    logger = logging.getLogger("test.masking")
    logger.addFilter(MaskingFilter())
    with caplog.at_level(logging.INFO, logger="test.masking"):
        logger.info("enrollment for %s", "13912345678")
    assert "13912345678" not in caplog.text and "139****5678" in caplog.text
