"""Every Slack test fails on an error the app logged (the fixtures: tests/slackfixtures.py)."""

import pytest


@pytest.fixture(autouse=True)
def _no_app_errors(no_listener_errors: None) -> None:
    return None
