package com.zitadel.sdk

import com.zitadel.sdk.ffi.BrowserLauncher
import org.openqa.selenium.By
import org.openqa.selenium.WebElement
import org.openqa.selenium.chrome.ChromeDriver
import org.openqa.selenium.chrome.ChromeDriverService
import org.openqa.selenium.chrome.ChromeOptions
import org.openqa.selenium.support.ui.ExpectedConditions
import org.openqa.selenium.support.ui.WebDriverWait
import java.io.File
import java.time.Duration
import kotlin.concurrent.thread

/**
 * A [BrowserLauncher] written in Kotlin: headless Chromium (Debian's
 * chromium and chromedriver, driven by Selenium) that opens the login URL
 * and fills the emulator's hosted login form (login name, then password)
 * until the browser reaches the app's loopback redirect.
 */
class HostedLoginBrowser(
    private val login: String = Emulator.USER,
    private val password: String = Emulator.PASSWORD,
) : BrowserLauncher, AutoCloseable {
    @Volatile
    var failure: Throwable? = null
        private set

    @Volatile
    var openedUrls = 0
        private set

    private var driver: ChromeDriver? = null
    private var worker: Thread? = null

    override fun openUrl(url: String) {
        openedUrls++
        // The SDK expects a quick return; the user "types" on another thread.
        worker = thread(name = "hosted-login-browser") {
            try {
                signIn(url)
            } catch (e: Throwable) {
                failure = e
            }
        }
    }

    private fun signIn(url: String) {
        val driver = start()
        driver.get(url)
        val deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos()
        while (System.nanoTime() < deadline) {
            if (driver.currentUrl.orEmpty().startsWith("http://127.0.0.1")) return // the app's loopback page
            val field = driver.findElements(By.id("loginName")).firstOrNull()?.let { it to login }
                ?: driver.findElements(By.id("password")).firstOrNull()?.let { it to password }
            if (field == null) {
                Thread.sleep(100)
                continue
            }
            type(driver, field.first, field.second)
        }
        error("no redirect to the app within 30 s; last page: ${driver.currentUrl}")
    }

    private fun type(driver: ChromeDriver, input: WebElement, value: String) {
        input.clear()
        input.sendKeys(value)
        input.findElement(By.xpath("./ancestor::form//button[@type='submit']")).click()
        WebDriverWait(driver, Duration.ofSeconds(10)).until(ExpectedConditions.stalenessOf(input))
    }

    @Synchronized
    private fun start(): ChromeDriver {
        driver?.let { return it }
        val service = ChromeDriverService.Builder()
            .usingDriverExecutable(File(System.getProperty("zitadel.chromedriver", "/usr/bin/chromedriver")))
            .usingAnyFreePort()
            .build()
        val options = ChromeOptions()
            .setBinary(System.getProperty("zitadel.chromium", "/usr/bin/chromium"))
            .addArguments(CHROMIUM_ARGS)
        return ChromeDriver(service, options).also { driver = it }
    }

    override fun close() {
        worker?.join(10_000)
        driver?.quit()
    }

    companion object {
        /** The flags the Rust browser harness starts Chromium with (tests/chromium-flags.txt). */
        val CHROMIUM_ARGS: List<String> by lazy {
            val file = File(System.getProperty("zitadel.chromiumFlags") ?: error("zitadel.chromiumFlags is not set"))
            file.readLines().filter { it.isNotBlank() }
        }
    }
}
