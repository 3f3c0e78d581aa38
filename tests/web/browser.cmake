# The web client in a real browser: Debian's chromium driven by
# puppeteer-core (tests/web/browser/), against a real sbd. Skipped (77)
# with the reason where chromium, node or puppeteer-core is missing.
# Screenshots of each screen: build/web-shots/.
add_test(NAME test_web_browser
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/browser/run_browser.sh)
set_tests_properties(test_web_browser PROPERTIES TIMEOUT 300
  SKIP_RETURN_CODE 77
  ENVIRONMENT "SB_BIN_DIR=${CMAKE_BINARY_DIR}/bin;SB_WEB_SHOTS=${CMAKE_BINARY_DIR}/web-shots")
