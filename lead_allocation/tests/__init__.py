from . import test_install, test_isolation, test_sheets, test_webhook
