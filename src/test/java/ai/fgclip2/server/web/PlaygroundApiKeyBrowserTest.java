package ai.fgclip2.server.web;

import static org.assertj.core.api.Assertions.assertThat;

import ai.fgclip2.server.E2eServerTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.springframework.test.context.TestPropertySource;

/**
 * The playground of a service that requires API keys: the page is served without one, its first API call is
 * refused, it then asks for the key, and with the key entered the same page loads the model and classifies.
 */
@EnabledIf(value = "ai.fgclip2.server.web.PlaygroundBrowserTest#chromiumInstalled", disabledReason = PlaygroundBrowserTest.NO_CHROMIUM)
@TestPropertySource(properties = "fgclip2.security.api-keys=playground-key-8642")
class PlaygroundApiKeyBrowserTest extends E2eServerTest {

    @Test
    void thePageAsksForTheKeyAndWorksOnceItIsEntered() throws IOException {
        Path profile = Files.createTempDirectory("fgclip2-chromium-profile");
        ChromeDriver browser = PlaygroundBrowserTest.headlessChromium(profile);
        try {
            WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(60));
            browser.get("http://127.0.0.1:" + port + "/");
            wait.until(driver -> driver.findElement(By.id("error")).isDisplayed());
            assertThat(browser.findElement(By.id("error")).getText()).contains("needs an API key");
            assertThat(browser.findElement(By.id("api-key-field")).isDisplayed()).isTrue();
            assertThat(browser.findElement(By.id("model-line")).getText()).as("nothing of the model shown without the key").isEmpty();

            browser.findElement(By.id("api-key")).sendKeys("playground-key-8642", Keys.ENTER);
            assertThat(get("/v1/models").status()).as("the API itself still refuses a call without the key").isEqualTo(401);
            wait.until(driver -> !driver.findElement(By.id("model-line")).getText().isEmpty());
            assertThat(browser.findElement(By.id("error")).isDisplayed()).isFalse();

            browser.findElement(By.id("file")).sendKeys(FIXTURE.directory().resolve("images").resolve("kitchen_640x427.png").toAbsolutePath().toString());
            wait.until(driver -> !driver.findElements(By.cssSelector("#label-results li")).isEmpty());
            assertThat(browser.findElement(By.id("error")).isDisplayed()).as("classification with the key: no error").isFalse();
        } finally {
            browser.quit();
            try (var files = Files.walk(profile)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
