from . import (
    test_allocation,
    test_install,
    test_isolation,
    test_multi_company,
    test_sheets,
    test_webhook,
    test_webhook_faults,
)
