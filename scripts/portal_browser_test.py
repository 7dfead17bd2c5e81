"""The vendor portal in headless Chromium (called by scripts/portal-browser-test).

Uses the system chromedriver only (SE_OFFLINE=true: Selenium Manager never
downloads a driver or a browser). Every check raises on failure.
"""

import json
import os
import sys
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

BASE = os.environ["ZW_BASE"]
OUT = os.environ["ZW_OUT"]
PORTAL_TOKEN = os.environ["ZW_PORTAL_TOKEN"]
STAFF_TOKEN = os.environ["ZW_STAFF_TOKEN"]
KEY1 = os.environ["ZW_KEY1"]
KEY2 = os.environ["ZW_KEY2"]

COUNTS = {"hosted_zones": 12, "record_sets": 340, "certificates": 27, "health_checks": 4, "findings_critical": 1,
          "findings_high": 2, "findings_medium": 3, "findings_low": 5, "findings_info": 8}

failures = []


def check(condition, what):
    if condition:
        print(f"  ok   {what}")
    else:
        print(f"  FAIL {what}")
        failures.append(what)


def validate(key):
    # The counts the seeding validation sent: a validation overwrites the
    # last report, and the screenshot should still show them.
    body = json.dumps({"license_key": key, "product_version": "0.1.0", **COUNTS}).encode()
    req = urllib.request.Request(
        f"{BASE}/v1/licenses/validate", data=body, headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


# Relative luminance and contrast ratio (WCAG 2).
def luminance(rgb):
    def channel(c):
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b):
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


# Text colour and effective background of every element with its own text.
COLOURS_JS = """
const parse = s => { const m = s.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
  const p = m[1].split(',').map(Number); return {rgb: p.slice(0, 3), a: p.length > 3 ? p[3] : 1}; };
const bg = el => { for (; el; el = el.parentElement) { const c = parse(getComputedStyle(el).backgroundColor);
  if (c && c.a > 0) return c.rgb; } return [255, 255, 255]; };
const out = [];
for (const el of document.querySelectorAll('body *')) {
  const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
  if (!own || el.offsetParent === null) continue;
  out.push({tag: el.tagName, text: el.textContent.trim().slice(0, 30),
            fg: parse(getComputedStyle(el).color).rgb, bg: bg(el)});
}
return out;
"""


def accessibility(driver, page):
    html = driver.find_element(By.TAG_NAME, "html")
    check(html.get_attribute("lang") == "en", f"{page}: <html lang=en>")
    check(len(driver.find_elements(By.TAG_NAME, "h1")) == 1, f"{page}: exactly one h1")
    for el in driver.find_elements(By.CSS_SELECTOR, "input:not([type=hidden]), select, textarea"):
        el_id = el.get_attribute("id")
        labelled = bool(el_id) and len(driver.find_elements(By.CSS_SELECTOR, f'label[for="{el_id}"]')) == 1
        check(labelled or el.get_attribute("aria-label"), f"{page}: input {el.get_attribute('name')} has a label")
    for table in driver.find_elements(By.TAG_NAME, "table"):
        headers = table.find_elements(By.TAG_NAME, "th")
        check(len(headers) > 0, f"{page}: table {table.get_attribute('id')} has th headers")
        check(all(th.get_attribute("scope") in ("col", "row") for th in headers), f"{page}: every th has a scope")
    for button in driver.find_elements(By.TAG_NAME, "button"):
        check(bool(button.text.strip() or button.get_attribute("aria-label")), f"{page}: button has a name")
    low = [
        (c["tag"], c["text"], round(contrast(c["fg"], c["bg"]), 2))
        for c in driver.execute_script(COLOURS_JS)
        if contrast(c["fg"], c["bg"]) < 4.5
    ]
    check(not low, f"{page}: text contrast at least 4.5:1 {low if low else ''}")
    # A visible focus ring on the first button reached by the keyboard.
    buttons = driver.find_elements(By.TAG_NAME, "button")
    if buttons:
        driver.execute_script("arguments[0].focus()", buttons[0])
        style = driver.execute_script(
            "const s = getComputedStyle(arguments[0]); return [s.outlineStyle, s.outlineWidth];", buttons[0]
        )
        check(style[0] != "none" and style[1] != "0px", f"{page}: focused button shows an outline {style}")
        driver.execute_script("arguments[0].blur()", buttons[0])
    check(not driver.find_elements(By.TAG_NAME, "script"), f"{page}: no script")
    srcs = driver.execute_script(
        "return Array.from(document.querySelectorAll('[src],link[href]')).map(e => e.src || e.href)"
    )
    check(not srcs, f"{page}: no external assets")


def sign_in(driver, token):
    driver.get(f"{BASE}/portal")
    check(driver.current_url.endswith("/portal/login"), "signed out: /portal goes to the sign-in page")
    accessibility(driver, "sign-in")
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "form[action='/portal/login'] button[type=submit]").click()
    arrived = wait_for(driver, lambda d: d.current_url.endswith("/portal") and d.find_elements(By.TAG_NAME, "h1"))
    check(arrived, "signed in: on /portal")
    if not arrived:
        print(f"       at {driver.current_url}: {driver.find_element(By.TAG_NAME, 'body').text[:300]!r}")


def wait_for(driver, condition, seconds=10):
    """A click on a submit button returns before the next page has loaded."""
    try:
        WebDriverWait(driver, seconds).until(condition)
        return True
    except Exception:  # noqa: BLE001 - a timeout is a failed check, reported by the caller
        return False


def screenshot(driver, name):
    # The whole page in one image: a headless window cannot grow past its
    # virtual screen, the emulated viewport can.
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1280, "height": max(720, min(height, 2400)), "deviceScaleFactor": 1, "mobile": False},
    )
    path = os.path.join(OUT, name)
    driver.save_screenshot(path)
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    print(f"  saved {path}")


def main():
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ["ZW_CHROMIUM"]
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,900", "--force-device-scale-factor=1"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=os.environ["ZW_CHROMEDRIVER"]), options=options)
    try:
        run(driver)
    finally:
        driver.quit()
    if failures:
        print(f"portal browser test: {len(failures)} check(s) failed:", *failures, sep="\n  - ")
        sys.exit(1)


def run(driver):
    print("customer view")
    sign_in(driver, PORTAL_TOKEN)
    check(driver.find_element(By.TAG_NAME, "h1").text == "Acme Corp", "h1 names the customer")
    check(driver.find_element(By.ID, "plan").text == "team", "plan shown")
    check(driver.find_element(By.ID, "status").text == "active", "status shown")
    check(driver.find_element(By.ID, "renews").text == "2027-03-01", "renewal date shown")
    check("50 hosted zones, 500 certificates, 5 AWS accounts" in driver.find_element(By.ID, "limits").text, "limits shown")
    source = driver.page_source
    for key in (KEY1, KEY2):
        check(f"****{key[-4:]}" in source, f"key ****{key[-4:]} shown masked")
        check(key not in source and key[4:20] not in source, f"full key ****{key[-4:]} never in the page source")
    report = driver.find_element(By.ID, "report-table").text
    check("12 340 27 4" in " ".join(report.split()), "the last reported counts, exactly")
    check("1 critical, 2 high, 3 medium, 5 low, 8 info" in report, "the reported finding counts")
    check("0.1.0" in report, "the reported product version")
    accessibility(driver, "customer view")

    print("revoke a key through the form")
    check(validate(KEY2)[0] == 200, "the second key validates before")
    row = driver.find_element(By.XPATH, f"//table[@id='key-table']//tr[.//code[text()='****{KEY2[-4:]}']]")
    row.find_element(By.XPATH, ".//button[text()='Revoke']").click()
    wait_for(driver, lambda d: d.find_elements(By.XPATH, f"//tr[.//code[text()='****{KEY2[-4:]}']][contains(., 'revoked')]"))
    row = driver.find_element(By.XPATH, f"//table[@id='key-table']//tr[.//code[text()='****{KEY2[-4:]}']]")
    check("revoked" in row.text, "the revoked key shows revoked")
    status, body = validate(KEY2)
    check(status == 403 and body.get("error") == "revoked_key", f"validation with the revoked key: 403 revoked_key ({status})")
    check(validate(KEY1)[0] == 200, "the other key still validates")
    driver.refresh()
    screenshot(driver, "portal-customer.png")

    print("staff view")
    driver.find_element(By.XPATH, "//button[text()='Sign out']").click()
    check(wait_for(driver, lambda d: d.current_url.endswith("/portal/login")), "signed out")
    sign_in(driver, STAFF_TOKEN)
    check(driver.find_element(By.TAG_NAME, "h1").text == "All customers", "staff h1")
    names = [th.text for th in driver.find_elements(By.CSS_SELECTOR, "#customer-table tbody th")]
    check(sorted(names) == ["Acme Corp", "Globex <Labs>", "Initech"], f"every customer listed {names}")
    rows = {th.text: th.find_element(By.XPATH, "..").text for th in driver.find_elements(By.CSS_SELECTOR, "#customer-table tbody th")}
    check("past_due" in rows.get("Initech", "") and "2026-12-20" in rows.get("Initech", ""), "Initech past due (subscription set)")
    check("0 of 1" in rows.get("Globex <Labs>", ""), "Globex's key revoked (key revoke --last4)")
    check("1 of 2" in rows.get("Acme Corp", ""), "Acme: one of two keys active")
    check(KEY1 not in driver.page_source, "no key in the staff view")
    accessibility(driver, "staff view")
    screenshot(driver, "portal-staff.png")


if __name__ == "__main__":
    main()
