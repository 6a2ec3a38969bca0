package ai.fgclip2.server.web;

import org.springframework.context.annotation.Configuration;
import org.springframework.web.servlet.config.annotation.ViewControllerRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/**
 * The pages under {@code static/}: the playground is the welcome page at {@code /}; {@code /docs} is the
 * interactive API reference over {@code /openapi.yaml}, which the build copies from the repository's one
 * openapi.yaml.
 */
@Configuration(proxyBeanMethods = false)
public class StaticPages implements WebMvcConfigurer {

    @Override
    public void addViewControllers(ViewControllerRegistry registry) {
        registry.addViewController("/docs").setViewName("forward:/docs.html");
    }
}
