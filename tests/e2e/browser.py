"""A person at the IDE, in headless Chromium: opens the UI, signs in, creates a flow and saves it
under a new name. Run by the Selenium virtualenv of scripts/e2e-browser.sh (not by pytest's
Python), inside a client network namespace of the e2e's pod network; reads its job as JSON on
stdin ({"url", "username", "password", "flow_name"}) and prints what it saw as JSON on stdout."""

from __future__ import annotations

import json
import re
import sys
import tempfile
import time
from typing import Any
from urllib.parse import urlsplit

from selenium import webdriver
from selenium.common.exceptions import (
    ElementClickInterceptedException,
    ElementNotInteractableException,
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

FLOW_URL = re.compile(r"/flow/([0-9a-f-]{36})")
WAIT_SECONDS = 90  # a busy 2-core machine; every wait ends as soon as its condition holds


def browser(target_host: str, profile: str) -> webdriver.Chrome:
    """Debian's Chromium as root: no sandbox, nothing fetched in the background, and every host
    name but the target's unresolvable, so no request can leave the pod network."""
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1400,900", f"--user-data-dir={profile}",
                 f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {target_host}"):
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))


def rename(driver: webdriver.Chrome, name: str) -> int:
    """Flow settings (the name in the header) -> new name -> Save, until the header shows it. The
    editor keeps re-rendering while it loads (which closes an open dialog or swaps its fields), so
    an attempt that loses its dialog starts over; returns the attempts it took."""
    field = (By.CSS_SELECTOR, "[data-testid=input-flow-name]")
    header = (By.CSS_SELECTOR, "[data-testid=flow_name]")
    deadline = time.monotonic() + WAIT_SECONDS
    attempt = 0
    while True:
        attempt += 1
        short = WebDriverWait(driver, 15, ignored_exceptions=[StaleElementReferenceException])
        try:
            driver.find_element(By.CSS_SELECTOR, "[data-testid=menu_bar_display]").click()
            # The dialog fills in the current name after it opens: typing earlier would be overwritten.
            short.until(lambda d: d.find_element(*field).get_attribute("value"))
            box = driver.find_element(*field)
            box.click()
            box.send_keys(Keys.CONTROL, "a")
            box.send_keys(Keys.DELETE)
            box.send_keys(name)
            short.until(lambda d: d.find_element(*field).get_attribute("value") == name)
            driver.find_element(By.CSS_SELECTOR, "[data-testid=save-flow-settings]").click()
            short.until(ready.text_to_be_present_in_element(header, name))
            return attempt
        except WebDriverException:
            if time.monotonic() > deadline:
                raise
            webdriver.ActionChains(driver).send_keys(Keys.ESCAPE).perform()
            time.sleep(1)


def session(job: dict[str, str], profile: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    driver = browser(urlsplit(job["url"]).hostname or "", profile)
    # React re-renders and animates elements under the driver's feet: a stale, covered or not yet
    # interactable one is looked up and tried again until the wait runs out.
    wait = WebDriverWait(driver, WAIT_SECONDS, ignored_exceptions=[
        StaleElementReferenceException, ElementNotInteractableException, ElementClickInterceptedException])

    def click(by: str, selector: str) -> None:
        wait.until(lambda d: d.find_element(by, selector).click() or True)

    step = "open the UI"
    try:
        driver.get(job["url"])
        username = wait.until(ready.visibility_of_element_located((By.NAME, "username")))
        seen["login_page"] = urlsplit(driver.current_url).path
        step = "sign in"
        username.send_keys(job["username"])
        driver.find_element(By.CSS_SELECTOR, "input[type=password]").send_keys(job["password"])
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait.until(ready.element_to_be_clickable((By.ID, "new-project-btn")))
        seen["signed_in_at"] = urlsplit(driver.current_url).path
        step = "create a flow"
        click(By.ID, "new-project-btn")
        wait.until(ready.url_matches(FLOW_URL.pattern))
        match = FLOW_URL.search(driver.current_url)
        seen["flow_id"] = match.group(1) if match else None
        step = "rename and save the flow"
        wait.until(ready.visibility_of_element_located((By.CSS_SELECTOR, ".react-flow__pane")))
        seen["rename_attempts"] = rename(driver, job["flow_name"])
        seen["shown_name"] = driver.find_element(By.CSS_SELECTOR, "[data-testid=flow_name]").text
    except WebDriverException as error:
        seen["failed_step"] = f"{step}: {error.msg or type(error).__name__}"
        seen["stuck_at"] = driver.current_url
        seen["page_text"] = driver.find_element(By.TAG_NAME, "body").text[:500]
    finally:
        driver.quit()
    return seen


if __name__ == "__main__":
    job = json.load(sys.stdin)
    with tempfile.TemporaryDirectory(prefix="lfe2e-chromium-") as profile:
        print(json.dumps(session(job, profile)))
