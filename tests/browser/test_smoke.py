"""The live hub serves the sign-in page and a cadre can sign in, at both sizes."""
import pytest

from tests.browser.conftest import settle, sign_in, visit

pytestmark = pytest.mark.browser


def test_sign_in_page_then_home(page):
    visit(page, "/auth/login", "login")
    sign_in(page, "330802100202.sj")
    assert page.get_by_role("navigation", name="主导航").is_visible()
    settle(page, "home")
