from . import (
    test_allocation,
    test_allocation_method,
    test_allocation_pool,
    test_concurrency,
    test_install,
    test_isolation,
    test_isolation_probes,
    test_sheets,
    test_tours,
    test_webhook,
    test_webhook_allocation_method,
)
