"""The vendor portal in headless Chromium (called by scripts/portal-browser-test).

Uses the system chromedriver only (SE_OFFLINE=true: Selenium Manager never
downloads a driver or a browser). Every check raises on failure.
"""

import base64
import hashlib
import hmac
import json
import os
import struct
import sys
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from browser_checks import COLOURS_JS, contrast

BASE = os.environ["ZW_BASE"]
OUT = os.environ["ZW_OUT"]
PORTAL_TOKEN = os.environ["ZW_PORTAL_TOKEN"]
STAFF_EMAIL = os.environ["ZW_STAFF_EMAIL"]
STAFF_TEMPORARY_PASSWORD = os.environ["ZW_STAFF_TEMPORARY_PASSWORD"]
STAFF_PASSWORD = "Browser-Test-Passw0rd!"
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


def totp(secret):
    """RFC 6238 (SHA-1, 6 digits, 30 s), as an authenticator app computes it.

    moto checks the code against its own clock with no tolerance: near the
    end of a 30 s step, wait for the next one."""
    if time.time() % 30 >= 27:
        time.sleep(4)
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def submit(driver, form_action):
    driver.find_element(By.CSS_SELECTOR, f"form[action='{form_action}'] button[type=submit]").click()


def staff_sign_in(driver):
    """The first staff sign-in: temporary password, new password, authenticator."""
    driver.get(f"{BASE}/portal/login")
    driver.find_element(By.LINK_TEXT, "sign in with your staff account").click()
    check(wait_for(driver, lambda d: d.current_url.endswith("/portal/staff/login")), "the staff sign-in page")
    accessibility(driver, "staff sign-in")
    driver.find_element(By.ID, "email").send_keys(STAFF_EMAIL)
    driver.find_element(By.ID, "password").send_keys(STAFF_TEMPORARY_PASSWORD)
    submit(driver, "/portal/staff/login")
    check(wait_for(driver, lambda d: d.find_elements(By.ID, "new_password")), "first sign-in asks for a new password")
    accessibility(driver, "new password")
    driver.find_element(By.ID, "new_password").send_keys(STAFF_PASSWORD)
    driver.find_element(By.ID, "confirm_password").send_keys(STAFF_PASSWORD)
    submit(driver, "/portal/staff/step")
    check(wait_for(driver, lambda d: d.find_elements(By.ID, "mfa-secret")), "then the authenticator set-up")
    accessibility(driver, "authenticator set-up")
    secret = driver.find_element(By.ID, "mfa-secret").text.strip()
    uri = driver.find_element(By.ID, "mfa-uri").text
    check(uri.startswith("otpauth://totp/") and f"secret={secret}" in uri, "an otpauth:// key URI with the secret")
    driver.find_element(By.ID, "code").send_keys(totp(secret))
    submit(driver, "/portal/staff/step")
    arrived = wait_for(driver, lambda d: d.current_url.endswith("/portal") and d.find_elements(By.TAG_NAME, "h1"))
    check(arrived, "signed in as staff with a password and an authenticator code")
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
    staff_sign_in(driver)
    check(driver.find_element(By.TAG_NAME, "h1").text == "All customers", "staff h1")
    check(f"Signed in as {STAFF_EMAIL}" in driver.find_element(By.TAG_NAME, "nav").text, "the staff member is named")
    names = [th.text for th in driver.find_elements(By.CSS_SELECTOR, "#customer-table tbody th")]
    check(sorted(names) == ["Acme Corp", "Globex <Labs>", "Initech"], f"every customer listed {names}")
    rows = {th.text: th.find_element(By.XPATH, "..").text for th in driver.find_elements(By.CSS_SELECTOR, "#customer-table tbody th")}
    check("past_due" in rows.get("Initech", "") and "2026-12-20" in rows.get("Initech", ""), "Initech past due (subscription set)")
    check("0 of 1" in rows.get("Globex <Labs>", ""), "Globex's key revoked (key revoke --last4)")
    check("1 of 2" in rows.get("Acme Corp", ""), "Acme: one of two keys active")
    check(KEY1 not in driver.page_source, "no key in the staff view")
    accessibility(driver, "staff view")

    print("staff re-issue a portal token; the audit log names them")
    driver.find_element(By.LINK_TEXT, "Acme Corp").click()
    check(wait_for(driver, lambda d: "/portal/customers/" in d.current_url), "the customer's staff page")
    accessibility(driver, "staff customer page")
    check("2 of at most 5 keys active" not in driver.page_source and "1 of at most 5 keys active" in driver.page_source,
          "the active key count and the cap")
    submit(driver, "/portal/staff/portal-token/reissue")
    check(wait_for(driver, lambda d: d.find_elements(By.ID, "new-secret")), "the new portal token, shown once")
    new_token = driver.find_element(By.ID, "new-secret").get_attribute("value")
    check(new_token.startswith("zwp_") and new_token != PORTAL_TOKEN, "a new zwp_ token")
    accessibility(driver, "new portal token")
    driver.get(f"{BASE}/portal/audit")
    accessibility(driver, "audit log")
    rows = [tr.text for tr in driver.find_elements(By.CSS_SELECTOR, "#audit-table tbody tr")]
    check(any("portal_token_reissued" in r and STAFF_EMAIL in r and "127.0.0.1" in r for r in rows),
          "the re-issue is in the audit log under the staff member and their address")
    check(any("sign_in" in r and STAFF_EMAIL in r for r in rows), "the staff sign-in is in the audit log")
    check(any("key_revoked" in r and "customer" in r for r in rows), "the customer's revocation is in the audit log")
    check(new_token not in driver.page_source, "no token in the audit log")
    driver.get(f"{BASE}/portal")
    screenshot(driver, "portal-staff.png")

    print("the old portal token no longer signs in; the new one does")
    driver.find_element(By.XPATH, "//button[text()='Sign out']").click()
    check(wait_for(driver, lambda d: d.current_url.endswith("/portal/staff/login")), "staff signed out")
    driver.get(f"{BASE}/portal/login")
    driver.find_element(By.ID, "token").send_keys(PORTAL_TOKEN)
    submit(driver, "/portal/login")
    check(wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "p.error")), "the old token is refused")
    sign_in(driver, new_token)
    check(driver.find_element(By.TAG_NAME, "h1").text == "Acme Corp", "the new token signs in")


if __name__ == "__main__":
    main()
