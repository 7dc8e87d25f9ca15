"""Design from words on the studio page (/studio) in Debian's Chromium against the real server: issue 26's own
sentence ("rose gold halo ring with a 7 mm oval sapphire, thin band") becomes a priced ring shown with what the
words were read as, its thumbnail and a link that puts it on; a piece that cannot be made is refused with the
server's reason and nothing shown; on a phone nothing runs off the side. Screenshots go to /tmp/sketchpage."""

from __future__ import annotations

import re

from test_sketch_browser import MAKE_TIMEOUT_MS, OVERFLOW_JS, SHOTS, SIZES, TOKEN, browser, open_studio  # noqa: F401

SENTENCE = "rose gold halo ring with a 7 mm oval sapphire, thin band"


def words_page(browser, size):  # noqa: F811 (the fixture, imported above)
    page = open_studio(browser, size)
    page.wait_for_function("window.studio.words", timeout=30_000)
    page.locator("#words").scroll_into_view_if_needed()
    page.get_by_label("Admin token").fill(TOKEN)
    return page


def test_the_issues_own_sentence_becomes_an_oval_halo_ring(browser):  # noqa: F811
    page = words_page(browser, SIZES["laptop"])
    page.get_by_label("The piece in words").fill(SENTENCE)
    page.get_by_role("button", name="Design it").click()
    page.wait_for_function("window.studio.words.made.length > 0 || window.studio.words.error !== ''",
                           timeout=MAKE_TIMEOUT_MS)
    assert page.locator("#words-error").is_hidden(), page.inner_text("#words-error")
    understood = page.inner_text("#words-understood")
    for said in ("ring", "style halo", "metal rose gold", "stone sapphire", "stone 7", "cut oval", "band width 2"):
        assert said in understood, understood
    card = page.locator("#words-cards .design-card")
    assert card.count() == 1
    card.locator("img.design-thumb").evaluate("img => img.decode()")
    assert card.locator("img.design-thumb").evaluate("img => img.naturalWidth") > 0
    assert "oval" in card.locator(".design-name").inner_text()
    assert re.search(r"\d", card.locator(".design-price").inner_text())
    (item_id,) = page.evaluate("window.studio.words.made")
    assert card.get_by_role("link", name="Try it on").get_attribute("href") == f"/?items={item_id}"
    listed = {i["id"]: i for i in page.request.get(f"{browser[1]}/api/items").json()["items"]}
    assert listed[item_id]["metal"] == "rose_gold" and listed[item_id]["stone"] == "sapphire"
    card.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "words-1366x768.png"), full_page=True)
    assert page.evaluate(OVERFLOW_JS) <= 0
    page.context.close()


def test_what_cannot_be_made_is_refused_with_the_reason_on_a_phone(browser):  # noqa: F811
    page = words_page(browser, SIZES["phone"])
    assert page.evaluate(OVERFLOW_JS) <= 0
    page.get_by_role("button", name="Design it").click()
    assert "Describe the piece first" in page.inner_text("#words-error")  # said without asking the server
    page.get_by_label("The piece in words").fill("a princess cut diamond ring in titanium")
    page.get_by_role("button", name="Design it").click()
    page.wait_for_function("window.studio.words.error !== '' && !window.studio.words.busy", timeout=MAKE_TIMEOUT_MS)
    error = page.inner_text("#words-error")
    assert "princess cut" in error or "titanium" in error, error
    assert page.locator("#words-cards .design-card").count() == 0
    assert page.inner_text("#words-status") == "Nothing was made."
    page.screenshot(path=str(SHOTS / "words-390x844.png"), full_page=True)
    assert page.evaluate(OVERFLOW_JS) <= 0
    page.context.close()
