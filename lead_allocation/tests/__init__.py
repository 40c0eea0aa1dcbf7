from . import (
    test_allocation,
    test_install,
    test_isolation,
    test_isolation_probes,
    test_sheets,
    test_webhook,
)
