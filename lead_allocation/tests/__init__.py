from . import test_allocation, test_install, test_isolation, test_sheets, test_tours, test_webhook
