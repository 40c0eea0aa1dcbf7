from . import (
    test_allocation,
    test_allocation_pool,
    test_concurrency,
    test_install,
    test_isolation,
    test_isolation_probes,
    test_multi_company,
    test_sheets,
    test_tours,
    test_webhook,
    test_webhook_batch,
    test_webhook_faults,
)
