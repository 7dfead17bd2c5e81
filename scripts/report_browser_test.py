"""The HTML report in headless Chromium (called by scripts/report-browser-test).

Opens the file from file://, checks what it says against the table's own
answers (findings, calendar), that opening it makes no network request, and
its accessibility. Every failed check is listed; any failure exits 1.
"""

import json
import os
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from browser_checks import COLOURS_JS, contrast

OUT = os.environ["ZW_OUT"]
REPORT = os.path.join(OUT, "report.html")
failures = []


def check(condition, what):
    print(f"  {'ok  ' if condition else 'FAIL'} {what}")
    if not condition:
        failures.append(what)


findings = json.load(open(os.path.join(OUT, "findings.json")))["findings"]
calendar = json.load(open(os.path.join(OUT, "calendar.json")))
open_findings = [f for f in findings if f["state"] == "open"]
suppressed = [f for f in findings if f["state"] == "suppressed"]
acknowledged = [f for f in open_findings if f.get("acknowledged")]

options = webdriver.ChromeOptions()
options.binary_location = os.environ["ZW_CHROMIUM"]
for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,2400",
            "--disable-background-networking", "--disable-component-update", "--no-first-run"):
    options.add_argument(arg)
options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
driver = webdriver.Chrome(service=Service(os.environ["ZW_CHROMEDRIVER"]), options=options)
try:
    url = "file://" + REPORT
    driver.get(url)
    body = driver.find_element(By.TAG_NAME, "body").text

    # Content: what the table holds, as the CLI reports it.
    check(driver.title.startswith("zonewarden report: this deployment"), f"title {driver.title!r}")
    headings = [h.text for h in driver.find_elements(By.TAG_NAME, "h2")]
    check(headings == ["Are we OK?", "Open findings", "Suppressed findings and suppressions",
                       "Certificates ending in the next 180 days", "Zones and health checks",
                       "Last scans and their errors"], f"sections in order {headings}")
    serious = [f for f in open_findings if f["severity"] in ("critical", "high")]
    verdict = driver.find_element(By.CSS_SELECTOR, ".verdict").text
    check(verdict.startswith("Not OK" if serious else "OK"), f"verdict {verdict!r} ({len(serious)} serious)")
    for f in open_findings:
        check(f["resource"]["name"] in body and f["code"] in body, f"open finding {f['code']} {f['resource']['name']}")
    for f in suppressed:
        check(f["suppression"]["reason"] in body and f["suppression"]["id"] in body,
              f"suppressed {f['code']} with its suppression's id and reason")
    for f in acknowledged:
        check(f["acknowledged"]["reason"] in body, f"acknowledgement of {f['code']} shown")
    check(len(suppressed) >= 1 and len(acknowledged) == 1, "the test estate has suppressed and acknowledged findings")
    markers = driver.find_elements(By.CSS_SELECTOR, "svg circle")
    check(len(markers) == len(calendar) and len(calendar) > 0,
          f"one timeline marker per end date in 180 days ({len(markers)} vs {len(calendar)})")
    check(bool(driver.find_elements(By.CSS_SELECTOR, "svg[role=img] title")), "the timeline has a title for screen readers")
    check("How to fix:" in body, "open findings say how to fix them")

    # No request: the page itself is the only thing Chrome loaded.
    requests = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            requests.append(message["params"]["request"]["url"])
    others = [r for r in requests if r != url and not r.startswith("data:")]
    check(not others, f"no network request when opened {others}")
    csp = driver.find_element(By.CSS_SELECTOR, "meta[http-equiv=Content-Security-Policy]").get_attribute("content")
    check("default-src 'none'" in csp, f"CSP forbids every fetch ({csp})")

    # Accessibility.
    check(driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en", "<html lang=en>")
    check(len(driver.find_elements(By.TAG_NAME, "h1")) == 1, "exactly one h1")
    tables = driver.find_elements(By.TAG_NAME, "table")
    check(len(tables) >= 3, f"{len(tables)} tables")
    for table in tables:
        headers = table.find_elements(By.TAG_NAME, "th")
        check(headers and all(th.get_attribute("scope") in ("col", "row") for th in headers),
              "a table with th headers, each with a scope")
    low = [(c["tag"], c["text"], round(contrast(c["fg"], c["bg"]), 2))
           for c in driver.execute_script(COLOURS_JS) if contrast(c["fg"], c["bg"]) < 4.5]
    check(not low, f"text contrast at least 4.5:1 {low if low else ''}")
    check(not driver.find_elements(By.TAG_NAME, "script"), "no script")
    srcs = driver.execute_script("return Array.from(document.querySelectorAll('[src],link[href]')).map(e => e.src || e.href)")
    check(not srcs, f"no external assets {srcs}")

    driver.set_window_size(1280, max(900, driver.execute_script("return document.body.scrollHeight") + 40))
    driver.save_screenshot(os.path.join(OUT, "report.png"))
finally:
    driver.quit()

if failures:
    print(f"report-browser-test: {len(failures)} check(s) failed", file=sys.stderr)
    sys.exit(1)
print("report-browser-test: ok")
