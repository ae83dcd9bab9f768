"""The diagnostic service running against the real broker (helpers: running_diagnostic)."""
import pytest

from diagnostic.service import DiagnosticService


@pytest.fixture
def diagnostic(running_service):
    return running_service(DiagnosticService)
